"""The NumPy format: one .py file that needs only NumPy, with the forward pass written the book's way.

The file holds ``predict(x) -> probabilities`` and a ``forward`` that reads
layer by layer; convolutions and pooling unfold patches into rows with
``im2col``, as "Deep Learning from Scratch" does. The weights sit in
``<name>_weights.npz`` beside it, or in the file itself for networks of at
most :data:`~.source.EMBED_LIMIT` parameters. Run as a script it reads digit
images with the preprocessing of ``playground predict`` (copied into the
file; reading image files needs Pillow) or, for other networks, samples
given as comma-separated numbers.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np

from playground.engine.export.plan import Plan, Step
from playground.engine.export.source import (EMBED_LIMIT, array_literal, image_reading_source, is_digit_model,
                                             safe_text, weights_path)

_IM2COL = '''
def im2col(x, kh, kw, stride=1, pad=0, fill=0.0):
    """Unfold (N, C, H, W) images into rows: one row per output position, (N·OH·OW, C·kh·kw).

    Row (n, i, j) holds the kh×kw patch of every channel whose top-left corner is at
    (i·stride − pad, j·stride − pad), in the order (C, kh, kw) of a filter's weights.
    Padding is filled with ``fill``.
    """
    n, c, h, w = x.shape
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (w + 2 * pad - kw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=fill)
    col = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for y in range(kh):
        y_max = y + stride * oh
        for z in range(kw):
            z_max = z + stride * ow
            col[:, :, y, z, :, :] = img[:, :, y:y_max:stride, z:z_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)
'''

_HELPERS = {
    "dense": '''
def dense(x, W, b=None):
    """Affine: x · W + b, with W of shape (inputs, units) (on the last axis: every time step of (N, T, inputs))."""
    out = x @ W
    return out if b is None else out + b
''',
    "conv": '''
def conv2d(x, W, b, stride, pad):
    """Convolution: every patch (a row of im2col) times every filter (a row of W), plus the bias."""
    n, _, h, w = x.shape
    filters, _, kh, kw = W.shape
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (w + 2 * pad - kw) // stride + 1
    col = im2col(x, kh, kw, stride, pad)           # (N·OH·OW, C·kh·kw)
    out = col @ W.reshape(filters, -1).T + b       # (N·OH·OW, filters)
    return out.reshape(n, oh, ow, filters).transpose(0, 3, 1, 2)
''',
    "maxpool": '''
def max_pool(x, pool, stride, pad):
    """Max pooling: the largest value of each pool×pool window of each channel (padding never wins)."""
    n, c, h, w = x.shape
    oh = (h + 2 * pad - pool) // stride + 1
    ow = (w + 2 * pad - pool) // stride + 1
    col = im2col(x, pool, pool, stride, pad, fill=-np.inf).reshape(-1, pool * pool)
    return col.max(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
''',
    "avgpool": '''
def avg_pool(x, pool, stride, pad):
    """Average pooling: the mean of each pool×pool window of each channel (padding counts as zeros)."""
    n, c, h, w = x.shape
    oh = (h + 2 * pad - pool) // stride + 1
    ow = (w + 2 * pad - pool) // stride + 1
    col = im2col(x, pool, pool, stride, pad).reshape(-1, pool * pool)
    return col.mean(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
''',
    "rnn": '''
def simple_rnn(x, Wx, Wh, b, return_sequences):
    """Plain RNN over x (N, T, features): hₜ = tanh(xₜ·Wx + b + hₜ₋₁·Wh), from h₀ = 0.

    Every state (N, T, units) with return_sequences, else the last one (N, units).
    """
    n, steps, _ = x.shape
    h = np.zeros((n, Wh.shape[0]), dtype=x.dtype)
    states = []
    for t in range(steps):
        h = np.tanh(x[:, t] @ Wx + b + h @ Wh)
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h
''',
    "lstm": '''
def lstm(x, Wx, Wh, b, return_sequences):
    """LSTM over x (N, T, features); the gates i, f, g, o are side by side in the columns of Wx, Wh, b:

    z = xₜ·Wx + b + hₜ₋₁·Wh;  i, f, o = σ(zᵢ), σ(z_f), σ(zₒ);  g = tanh(z_g)
    cₜ = f ⊙ cₜ₋₁ + i ⊙ g;  hₜ = o ⊙ tanh(cₜ), from h₀ = c₀ = 0.
    """
    n, steps, _ = x.shape
    H = Wh.shape[0]
    h = np.zeros((n, H), dtype=x.dtype)
    c = np.zeros((n, H), dtype=x.dtype)
    states = []
    for t in range(steps):
        z = x[:, t] @ Wx + b + h @ Wh
        i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h
''',
    "gru": '''
def gru(x, Wx, Wh, b, return_sequences):
    """GRU over x (N, T, features); the gates z (update), r (reset), n (candidate) side by side in the
    columns of Wx, Wh, b:

    z = σ(xₜWx_z + b_z + hₜ₋₁Wh_z);  r = σ(xₜWx_r + b_r + hₜ₋₁Wh_r)
    n = tanh(xₜWx_n + b_n + r ⊙ (hₜ₋₁Wh_n));  hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁, from h₀ = 0.
    """
    n, steps, _ = x.shape
    H = Wh.shape[0]
    h = np.zeros((n, H), dtype=x.dtype)
    states = []
    for t in range(steps):
        zx = x[:, t] @ Wx + b      # the input's part of every gate
        zh = h @ Wh                # the previous state's part
        z = sigmoid(zx[:, :H] + zh[:, :H])
        r = sigmoid(zx[:, H:2 * H] + zh[:, H:2 * H])
        candidate = np.tanh(zx[:, 2 * H:] + r * zh[:, 2 * H:])
        h = (1 - z) * candidate + z * h
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h
''',
    "batchnorm": '''
def batch_norm(x, gamma, beta, mean, var, eps):
    """Batch normalization at inference: the running mean and variance of training, per feature of
    (N, D) inputs or per channel of (N, C, H, W) inputs, then scale γ and shift β."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x_hat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)
''',
    "relu": '''
def relu(x):
    return np.maximum(0, x)
''',
    "leaky_relu": '''
def leaky_relu(x, alpha):
    return np.where(x > 0, x, alpha * x)
''',
    "elu": '''
def elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
''',
    "sigmoid": '''
def sigmoid(x):
    """1 / (1 + exp(−x)), computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
''',
    "tanh": '''
def tanh(x):
    return np.tanh(x)
''',
    "step": '''
def step(x):
    """The perceptron's step: 1 where x > 0, else 0."""
    return (x > 0).astype(x.dtype)
''',
    "softmax": '''
def softmax(x):
    """exp(x) / Σ exp(x) over each row; subtracting the row's maximum keeps exp from overflowing."""
    x = x - x.max(axis=-1, keepdims=True)
    y = np.exp(x)
    return y / y.sum(axis=-1, keepdims=True)
''',
}
#: the helper each step kind calls, when its name differs from the kind
_FUNCTION = {"dense": "dense", "conv": "conv2d", "maxpool": "max_pool", "avgpool": "avg_pool",
             "batchnorm": "batch_norm", "rnn": "simple_rnn", "lstm": "lstm", "gru": "gru"}

_MAIN_DIGITS = '''
def main(argv):
    """Read each image file like `playground predict` and print one JSON line per image."""
    if not argv:
        print(f"usage: python {Path(__file__).name} IMAGE...", file=sys.stderr)
        return 2
    if Image is None:
        print("error: reading image files needs Pillow; install it with: pip install pillow", file=sys.stderr)
        return 2
    try:
        images = [load_image(path) for path in argv]
    except (DataError, FileFormatError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    batch = np.stack([preprocess_digit(image) for image in images]).reshape((len(images),) + INPUT_SHAPE)
    for path, p in zip(argv, predict(batch)):
        print(json.dumps({"file": path, "digit": int(p.argmax()),
                          "probabilities": [round(float(v), 6) for v in p]}))
    return 0
'''

_MAIN_NUMBERS = '''
def main(argv):
    """Each argument is one sample, its features comma-separated; print one JSON line per sample."""
    if not argv:
        print(f"usage: python {Path(__file__).name} X1,X2,... [X1,X2,... ...]", file=sys.stderr)
        return 2
    size = int(np.prod(INPUT_SHAPE))
    rows = []
    for text in argv:
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) != size:
            print(f"error: expected {size} comma-separated numbers per sample, got {text!r}", file=sys.stderr)
            return 2
        rows.append(values)
    x = np.array(rows, dtype=DTYPE).reshape((len(rows),) + INPUT_SHAPE)
    for values, p in zip(rows, predict(x)):
        print(json.dumps({"input": values, "probabilities": [round(float(v), 6) for v in p]}))
    return 0
'''


def render_numpy(plan: Plan, out: Path) -> dict[Path, bytes]:
    """The files of the NumPy format for ``out`` (a .py path): the code, and the weights beside it
    unless they are embedded."""
    embed = plan.parameter_count() <= EMBED_LIMIT
    weights = {f"{s.name}.{k}": a for s in plan.steps for k, a in s.arrays.items()}
    files: dict[Path, bytes] = {}
    if not embed:
        buf = io.BytesIO()
        np.savez(buf, **weights)
        files[weights_path(out)] = buf.getvalue()
    files[out] = _code(plan, out, weights, embed).encode("utf-8")
    return files


def _code(plan: Plan, out: Path, weights: dict[str, np.ndarray], embed: bool) -> str:
    digits = is_digit_model(plan.input_shape, plan.output_shape)
    std = ["import json", "import sys", "from pathlib import Path"]
    reading = ""
    if digits:
        extra, reading = image_reading_source()
        std += [line for line in extra if line not in std and "numpy" not in line]
    imports = sorted(l for l in std if l.startswith("import ")) + sorted(l for l in std if l.startswith("from "))
    imports += ["", "import numpy as np"]
    head = "\n\n".join([_docstring(plan, out, digits, embed), "from __future__ import annotations",
                         "\n".join(imports)])
    parts = [head, _constants(plan), _weights_section(plan, out, weights, embed)]
    kinds = {s.kind for s in plan.steps} | ({plan.output} if plan.output else set())
    kinds |= {"sigmoid"} if kinds & {"lstm", "gru"} else set()
    kinds |= {"dense"} if "time_dense" in kinds else set()
    helpers = ([_IM2COL.strip()] if kinds & {"conv", "maxpool", "avgpool"} else []) + \
              [_HELPERS[k].strip() for k in _HELPERS if k in kinds]
    parts += helpers
    parts += [_forward(plan), _predict(plan)]
    if digits:
        parts += ["# Reading digit images: the preprocessing of `playground predict`, copied from\n"
                  "# playground/engine/data/preprocess.py. Only this part needs Pillow.\n\n" + reading]
    parts += [(_MAIN_DIGITS if digits else _MAIN_NUMBERS).strip(),
              'if __name__ == "__main__":\n    sys.exit(main(sys.argv[1:]))']
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _docstring(plan: Plan, out: Path, digits: bool, embed: bool) -> str:
    stem = out.stem
    images = any(s.kind in ("conv", "maxpool", "avgpool") for s in plan.steps)
    shape = "(N, " + ", ".join(map(str, plan.input_shape)) + ")"
    where = ("are written in this file" if embed else f"are read from {weights_path(out).name} beside this file")
    usage = (f"    python {out.name} IMAGE...       read digits from image files (needs Pillow)" if digits else
             f"    python {out.name} X1,X2,...      one sample per argument, its features comma-separated")
    about = textwrap.fill(
        ("(For MNIST: 28×28 images in [0, 1], white ink on black.) " if digits else "")
        + "``forward`` runs the layers one by one as \"Deep Learning from Scratch\" writes them"
        + (": convolutions and pooling unfold image patches into rows with im2col. " if images else ". ")
        + plan.describe_output()
        + f" Only NumPy is needed; the weights {where}.", 100)
    return f'''"""{safe_text(plan.title)}: a network exported from the NumPy Neural Network Playground, in plain NumPy.

{usage}

From Python::

    from {stem} import predict
    probabilities = predict(x)          # x: {shape} floats, scaled like the training data

{about}
"""'''


def _constants(plan: Plan) -> str:
    return (f"#: one sample's shape; a batch is (N, {', '.join(map(str, plan.input_shape))})\n"
            f"INPUT_SHAPE = {tuple(plan.input_shape)!r}\n"
            f"DTYPE = np.{plan.dtype.name}")


def _weights_section(plan: Plan, out: Path, weights: dict[str, np.ndarray], embed: bool) -> str:
    if not embed:
        return (f"#: every layer's weights, by layer name and key (W, b, gamma, beta, running_mean, running_var)\n"
                f"with np.load(Path(__file__).with_name({weights_path(out).name!r})) as arrays:\n"
                f"    params = dict(arrays)")
    lines = ["#: every layer's weights, by layer name and key (W, b, gamma, beta, running_mean, running_var)",
             "params = {"]
    for key, a in weights.items():
        lines.append(f"    {key!r}: {array_literal(a, 8)},")
    lines.append("}")
    return "\n".join(lines)


def _forward(plan: Plan) -> str:
    shape = ", ".join(map(str, plan.input_shape))
    lines = ["def forward(x):",
             f'    """The last layer\'s output for a batch x of shape (N, {shape}), layer by layer."""']
    for step in plan.steps:
        lines.extend("    " + line for text in _call(step) for line in text.split("\n"))
    lines.append("    return x")
    return "\n".join(lines)


def _call(step: Step) -> list[str]:
    """The lines of ``forward`` for one step (a comment names the layer and its output shape)."""
    p = {k: f"params[{f'{step.name}.{k}'!r}]" for k in step.arrays}
    s = step.settings
    note = f"# {safe_text(step.name)}: {step.type_name} -> (N, {', '.join(map(str, step.output_shape))})"
    kind = step.kind
    if kind in ("dense", "time_dense"):
        call = f"dense(x, {p['W']}" + (f", {p['b']})" if "b" in p else ")")
        if kind == "time_dense":
            note += "; the same dense layer at every time step"
    elif kind in ("rnn", "lstm", "gru"):
        call = (f"{_FUNCTION[kind]}(x, {p['Wx']}, {p['Wh']}, {p['b']},\n"
                f"{' ' * (len(_FUNCTION[kind]) + 5)}return_sequences={s['return_sequences']})")
    elif kind == "conv":
        call = f"conv2d(x, {p['W']}, {p['b']}, stride={s['stride']}, pad={s['pad']})"
    elif kind in ("maxpool", "avgpool"):
        call = f"{_FUNCTION[kind]}(x, pool={s['pool']}, stride={s['stride']}, pad={s['pad']})"
    elif kind == "flatten":
        call = "x.reshape(len(x), -1)"
    elif kind == "batchnorm":
        call = (f"batch_norm(x, {p['gamma']}, {p['beta']},\n"
                f"               {p['running_mean']}, {p['running_var']}, eps={s['eps']!r})")
    elif kind == "dropout":
        if s["scale"] == 1.0:
            return [f"{note}; at inference inverted dropout passes x on unchanged"]
        call = f"x * {s['scale']!r}"
        note += f"; the book's dropout scales by 1 - rate ({s['rate']!r}) at inference"
    elif kind == "identity":
        return [f"{note}; passes x on unchanged"]
    elif kind in ("leaky_relu", "elu"):
        call = f"{kind}(x, alpha={s['alpha']!r})"
    else:
        call = f"{kind}(x)"
    return [note, f"x = {call}"]


def _predict(plan: Plan) -> str:
    result = f"{plan.output}(forward(x[i:i + batch_size]))" if plan.output else "forward(x[i:i + batch_size])"
    how = textwrap.fill(plan.describe_output(), 96, initial_indent="    ", subsequent_indent="    ")
    return f'''def predict(x, batch_size=500):
    """Probabilities (N, {", ".join(map(str, plan.output_shape))}) for a batch x of shape (N, {", ".join(map(str, plan.input_shape))}).

{how}
    """
    x = np.asarray(x, dtype=DTYPE)
    if x.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"expected inputs of shape (N, {{', '.join(map(str, INPUT_SHAPE))}}), got {{x.shape}}")
    outs = [{result} for i in range(0, len(x), batch_size)]
    return np.concatenate(outs) if outs else np.zeros((0, {", ".join(map(str, plan.output_shape))}), DTYPE)'''
