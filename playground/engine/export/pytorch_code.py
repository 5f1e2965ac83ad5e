"""The PyTorch format: one .py file with an ``nn.Module`` of the same layers and ``load_model()``.

Layers with weights, pooling, Flatten and Dropout become modules named after
our layers; activations are functions in ``forward``. The weights are written
beside the file as ``<name>_weights.npz`` under PyTorch's ``state_dict``
names, in PyTorch's layouts (a Linear's weight is our Dense ``W``
transposed), so ``load_model()`` is a ``load_state_dict``. Recurrent layers
become ``nn.RNN``/``nn.LSTM``/``nn.GRU`` with ``batch_first=True``, their gate
blocks in PyTorch's order and our one bias as ``bias_ih`` (``bias_hh`` zero).
Exporting needs no PyTorch; running the file does.
"""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import numpy as np

from playground.engine.export.plan import Plan, Step
from playground.engine.export.source import identifier, safe_text, weights_path

#: public attributes of nn.Module (torch 2.x): a submodule of that name would hide them
MODULE_ATTRIBUTES = frozenset("""
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches
    eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict
    modules mtia named_buffers named_children named_modules named_parameters parameters register_backward_hook
    register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
    register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad
""".split())
#: names the file itself defines or imports, which the class may not take
_FILE_NAMES = {"np", "torch", "nn", "F", "Path", "WEIGHTS", "load_model", "annotations"}
#: step kinds that are modules (the others are written in forward)
_MODULE_KINDS = {"dense", "conv", "maxpool", "avgpool", "flatten", "batchnorm", "dropout", "rnn", "lstm", "gru",
                 "time_dense"}
_FUNCTIONS = {"relu": "torch.relu(x)", "sigmoid": "torch.sigmoid(x)", "tanh": "torch.tanh(x)",
              "softmax": "torch.softmax(x, dim=-1)", "step": "(x > 0).to(x.dtype)"}
#: the recurrent modules, and where each of PyTorch's gate blocks is among ours
#: (ours: LSTM i, f, g, o and GRU z, r, n; PyTorch: LSTM i, f, g, o and GRU r, z, n)
_RECURRENT = {"rnn": ("nn.RNN", [0]), "lstm": ("nn.LSTM", [0, 1, 2, 3]), "gru": ("nn.GRU", [1, 0, 2])}


def render_pytorch(plan: Plan, out: Path) -> dict[Path, bytes]:
    """The files of the PyTorch format for ``out`` (a .py path): the weights and the code."""
    taken: set[str] = set()
    attrs = {s.name: identifier(s.name if not s.name.startswith("_") else f"layer{s.name}", taken,
                                MODULE_ATTRIBUTES)
             for s in plan.steps if s.kind in _MODULE_KINDS}
    state: dict[str, np.ndarray] = {}
    for step in plan.steps:
        if step.name in attrs:
            state.update({f"{attrs[step.name]}.{k}": v for k, v in _state(step).items()})
    buf = io.BytesIO()
    np.savez(buf, **state)
    return {weights_path(out): buf.getvalue(), out: _code(plan, out, attrs).encode("utf-8")}


def _state(step: Step) -> dict[str, np.ndarray]:
    """The step's arrays under PyTorch's names and in its layouts."""
    a = step.arrays
    if step.kind in _RECURRENT:
        h = step.settings["units"]
        order = _RECURRENT[step.kind][1]

        def blocks(m: np.ndarray) -> np.ndarray:
            """Our gate blocks (the last axis) in PyTorch's order."""
            return np.concatenate([m[..., k * h:(k + 1) * h] for k in order], axis=-1)

        # one bias in ours, two in PyTorch's (b_ih + b_hh; the GRU's b_hn inside r ⊙ (…)): ours goes to b_ih
        return {"weight_ih_l0": np.ascontiguousarray(blocks(a["Wx"]).T),
                "weight_hh_l0": np.ascontiguousarray(blocks(a["Wh"]).T),
                "bias_ih_l0": blocks(a["b"]), "bias_hh_l0": np.zeros_like(a["b"])}
    if step.kind in ("dense", "time_dense"):
        return {"weight": np.ascontiguousarray(a["W"].T), **({"bias": a["b"]} if "b" in a else {})}
    if step.kind == "conv":
        return {"weight": a["W"], "bias": a["b"]}
    if step.kind == "batchnorm":
        return {"weight": a["gamma"], "bias": a["beta"], "running_mean": a["running_mean"],
                "running_var": a["running_var"], "num_batches_tracked": np.array(0, dtype=np.int64)}
    return {}


def class_name(title: str) -> str:
    """A CamelCase class name from the network's title (``simple-convnet`` → ``SimpleConvnet``)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name.isidentifier() or name in _FILE_NAMES:
        return "Network"
    return name


def _module(step: Step) -> str:
    """The constructor of the module for ``step``."""
    s, a = step.settings, step.arrays
    if step.kind in _RECURRENT:
        return f"{_RECURRENT[step.kind][0]}({a['Wx'].shape[0]}, {s['units']}, batch_first=True)"
    if step.kind in ("dense", "time_dense"):
        fan_in, units = a["W"].shape
        return f"nn.Linear({fan_in}, {units}" + (")" if "b" in a else ", bias=False)")
    if step.kind == "conv":
        filters, channels, kh, kw = a["W"].shape
        kernel = kh if kh == kw else (kh, kw)
        return f"nn.Conv2d({channels}, {filters}, kernel_size={kernel}, stride={s['stride']}, padding={s['pad']})"
    if step.kind == "maxpool":
        return f"nn.MaxPool2d(kernel_size={s['pool']}, stride={s['stride']}, padding={s['pad']})"
    if step.kind == "avgpool":
        return (f"nn.AvgPool2d(kernel_size={s['pool']}, stride={s['stride']}, padding={s['pad']}, "
                f"count_include_pad=True)")
    if step.kind == "flatten":
        return "nn.Flatten()"
    if step.kind == "batchnorm":
        dims = "1d" if len(step.input_shape) == 1 else "2d"
        # ours: running ← m·running + (1 − m)·batch; PyTorch's momentum is the weight of the batch
        return (f"nn.BatchNorm{dims}({step.input_shape[0]}, eps={s['eps']!r}, "
                f"momentum={round(1.0 - s['momentum'], 12)!r})")
    return f"nn.Dropout(p={s['rate']!r})"


def _forward_lines(plan: Plan, attrs: dict[str, str]) -> list[str]:
    lines = []
    for step in plan.steps:
        shape = f"(N, {', '.join(map(str, step.output_shape))})"
        label = safe_text(step.name)
        if step.name in attrs:
            call = f"self.{attrs[step.name]}(x)"
            if step.kind in _RECURRENT:
                lines.append(f"x, _ = self.{attrs[step.name]}(x)  # every step's state -> "
                             f"(N, {step.input_shape[0]}, {step.settings['units']})")
                if not step.settings["return_sequences"]:
                    lines.append(f"x = x[:, -1]  # the last step's state -> {shape}")
                continue
            if step.kind == "time_dense":
                lines.append(f"x = {call}  # at every time step -> {shape}")
                continue
            if step.kind == "dropout" and step.settings["scale"] != 1.0:
                call += f" * {step.settings['scale']!r}  # the book's dropout: × (1 − rate) at inference"
                lines.append(f"x = {call}")
                continue
            lines.append(f"x = {call}  # -> {shape}")
        elif step.kind == "identity":
            lines.append(f"# {label}: Identity passes x on unchanged")
        elif step.kind in ("leaky_relu", "elu"):
            arg = "negative_slope" if step.kind == "leaky_relu" else "alpha"
            lines.append(f"x = F.{step.kind}(x, {arg}={step.settings['alpha']!r})  # {label}")
        else:
            lines.append(f"x = {_FUNCTIONS[step.kind]}  # {label}")
    if plan.output:
        lines.append(f"x = {_FUNCTIONS[plan.output]}  # probabilities, as the {plan.loss} loss makes them")
    return lines


def _code(plan: Plan, out: Path, attrs: dict[str, str]) -> str:
    cls = class_name(plan.title)
    weights = weights_path(out).name
    shape = ", ".join(map(str, plan.input_shape))
    about = textwrap.fill(
        f"Each layer of the playground network is a module of {cls}, named as in the playground; activations "
        f"are functions in forward. {plan.describe_output()} The weights are read from {weights} beside this "
        f"file (under the names of {cls}().state_dict()).", 100)
    uses_f = any(s.kind in ("leaky_relu", "elu") for s in plan.steps)
    modules = "\n".join(f"        self.{attrs[s.name]} = {_module(s)}" for s in plan.steps if s.name in attrs)
    forward = "\n".join("        " + line for line in _forward_lines(plan, attrs))
    to_dtype = "" if plan.dtype == np.float32 else f"\n    model = model.to(torch.{plan.dtype.name})"
    return f'''"""{safe_text(plan.title)}: a network exported from the NumPy Neural Network Playground, in PyTorch.

    from {out.stem} import load_model
    model = load_model().eval()                        # eval(): dropout off, batch norm's running statistics
    probabilities = model(torch.from_numpy(x))         # x: (N, {shape}) {plan.dtype.name}, scaled like the training data

{about}
"""

from pathlib import Path

import numpy as np
import torch
{"import torch.nn.functional as F" + chr(10) if uses_f else ""}from torch import nn

WEIGHTS = Path(__file__).with_name({weights!r})


class {cls}(nn.Module):
    """{safe_text(plan.title)}: input (N, {shape}), output (N, {", ".join(map(str, plan.output_shape))})."""

    def __init__(self):
        super().__init__()
{modules or "        pass"}

    def forward(self, x):
{forward}
        return x


def load_model() -> nn.Module:
    """The network with its trained weights, read from {weights} beside this file."""
    model = {cls}(){to_dtype}
    with np.load(WEIGHTS) as arrays:
        model.load_state_dict({{key: torch.from_numpy(arrays[key]) for key in arrays.files}})
    return model


if __name__ == "__main__":
    print(load_model())
'''
