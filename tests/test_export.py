"""Export to ONNX, NumPy and PyTorch: each exported model gives our probabilities, within 1e-5, on 100 inputs."""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from playground.assets import preset_names
from playground.engine.errors import ExportError
from playground.engine.export.files import export_network, write_all
from playground.engine.nn.base import Layer
from playground.engine.nn.network import Network
from playground.engine.project import load_preset, save_model

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5
FORMATS = ("onnx", "numpy", "pytorch")
MNIST_PRESETS = [n for n in preset_names() if load_preset(n)["dataset"]["name"] == "mnist"]
RECURRENT = {"SimpleRNN", "LSTM", "GRU"}
SEQUENCE_PRESETS = [n for n in preset_names()
                    if any(layer["type"] in RECURRENT for layer in load_preset(n)["network"]["layers"])]


def with_trained_look(net: Network, seed: int = 7) -> Network:
    """``net`` with biases that are not zero and batch-norm statistics that are not 0 and 1, as after training."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        for key, p in layer.params.items():
            if key in ("b", "beta"):
                p[...] = rng.normal(0, 0.1, p.shape)
            elif key == "gamma":
                p[...] = rng.uniform(0.5, 1.5, p.shape)
        if "running_mean" in layer.state:
            layer.state["running_mean"][...] = rng.normal(0, 0.5, layer.state["running_mean"].shape)
            layer.state["running_var"][...] = rng.uniform(0.3, 2.0, layer.state["running_var"].shape)
    return net


def inputs(net: Network, n: int = 100, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *net.input_shape), dtype=np.float32)


def ours(net: Network, x: np.ndarray) -> np.ndarray:
    """Our probabilities by the rule the exports follow: the network's output when it ends in Softmax or
    Sigmoid, else the loss's output function applied to the last layer."""
    out = net.predict(x)
    if not net.fused_tail and net.layers[-1].type_name not in ("Softmax", "Sigmoid"):
        out = net.loss.output(out)
    return out


def import_file(path: Path, monkeypatch):
    """Import a generated .py file under a fresh module name."""
    name = f"exported_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def onnx_session(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_exported(fmt: str, net: Network, x: np.ndarray, folder: Path, monkeypatch) -> np.ndarray:
    """Export ``net`` to ``folder`` and run the exported model on ``x`` as its users would."""
    if fmt == "onnx":
        path = export_network(net, "onnx", folder / "model.onnx")[0]
        return onnx_session(path).run(["probabilities"], {"input": x})[0]
    if fmt == "numpy":
        export_network(net, "numpy", folder / "model_np.py")
        return import_file(folder / "model_np.py", monkeypatch).predict(x)
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch (the CPU wheel)")
    torch.set_num_threads(1)  # the tests share two cores; more threads only wait for each other
    export_network(net, "pytorch", folder / "model_torch.py")
    module = import_file(folder / "model_torch.py", monkeypatch)
    with torch.no_grad():
        return module.load_model().eval()(torch.from_numpy(x)).numpy()


SMALL_NETWORKS = {
    "conv-stride-padding-batchnorm-pools": {
        "input_shape": [2, 11, 9],
        "layers": [{"type": "Conv2D", "filters": 4, "kernel": 3, "stride": 2, "padding": 1},
                   {"type": "BatchNorm"}, {"type": "ReLU"},
                   {"type": "Conv2D", "filters": 3, "kernel": [3, 2], "stride": 1, "padding": 2},
                   {"type": "MaxPool2D", "pool": 3, "stride": 1, "padding": 1},
                   {"type": "AvgPool2D", "pool": 2, "stride": 1, "padding": 1},
                   {"type": "MaxPool2D", "pool": 2},
                   {"type": "Flatten"}, {"type": "Dense", "units": 6}, {"type": "BatchNorm", "momentum": 0.8},
                   {"type": "Dropout", "rate": 0.3}, {"type": "Dense", "units": 3}, {"type": "Softmax"}]},
    "every-activation": {
        "input_shape": [5],
        "layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                   {"type": "Dense", "units": 8}, {"type": "LeakyReLU", "alpha": 0.2},
                   {"type": "Dense", "units": 8}, {"type": "ELU", "alpha": 0.7},
                   {"type": "Dense", "units": 8, "activation": "tanh"},
                   {"type": "Dense", "units": 8, "activation": "sigmoid"},
                   {"type": "Dense", "units": 8}, {"type": "Identity"}, {"type": "Step"},
                   {"type": "Dense", "units": 4, "use_bias": False}, {"type": "Softmax"}]},
    "conv-activations": {
        "input_shape": [1, 6, 6],
        "layers": [{"type": "Conv2D", "filters": 2, "kernel": 3, "padding": 1, "activation": "leaky_relu"},
                   {"type": "Conv2D", "filters": 2, "kernel": 3, "activation": "elu"}, {"type": "Flatten"},
                   {"type": "Dense", "units": 2}, {"type": "Sigmoid"}],
        "loss": "sigmoid_bce"},
    "cross-entropy-without-softmax": {
        "input_shape": [3], "layers": [{"type": "Dense", "units": 4}], "loss": "softmax_cross_entropy"},
    "bce-without-sigmoid": {"input_shape": [3], "layers": [{"type": "Dense", "units": 2}], "loss": "sigmoid_bce"},
    "regression": {"input_shape": [3], "layers": [{"type": "Dense", "units": 5, "activation": "tanh"},
                                                  {"type": "Dense", "units": 2}], "loss": "mse"},
    # every step's state and the last one, for each recurrent layer; outputs (T, features) for every step
    "rnn-sequences-time-distributed": {
        "input_shape": [7, 3],
        "layers": [{"type": "SimpleRNN", "units": 5, "return_sequences": True},
                   {"type": "TimeDistributed", "units": 4}, {"type": "Tanh"},
                   {"type": "TimeDistributed", "units": 3, "use_bias": False}, {"type": "Sigmoid"}],
        "loss": "mse"},
    "lstm-both-ways": {
        "input_shape": [6, 2],
        "layers": [{"type": "LSTM", "units": 4, "return_sequences": True}, {"type": "LSTM", "units": 3},
                   {"type": "Dense", "units": 2}], "loss": "mse"},
    "gru-both-ways": {
        "input_shape": [5, 3],
        "layers": [{"type": "GRU", "units": 4, "return_sequences": True}, {"type": "GRU", "units": 3},
                   {"type": "Dense", "units": 3}, {"type": "Softmax"}]},
    "rnn-last-state": {"input_shape": [8, 1],
                       "layers": [{"type": "SimpleRNN", "units": 4}, {"type": "Dense", "units": 1}],
                       "loss": "sigmoid_bce"},
}
NETWORKS = ([("preset", n) for n in MNIST_PRESETS + SEQUENCE_PRESETS]
            + [("small", n) for n in SMALL_NETWORKS])


def build(kind: str, name: str) -> Network:
    spec = load_preset(name)["network"] if kind == "preset" else SMALL_NETWORKS[name]
    return with_trained_look(Network(spec, seed=3))


@functools.cache
def built(kind: str, name: str) -> tuple[Network, np.ndarray, np.ndarray]:
    """(network, 100 inputs, our probabilities): computed once for the three formats."""
    net = build(kind, name)
    x = inputs(net)
    return net, x, ours(net, x)


def test_the_sequence_presets_are_found():
    assert {"adding-lstm", "sine-rnn", "counting-gru"} <= set(SEQUENCE_PRESETS)


def test_the_mnist_presets_are_found():
    assert {"mlp-mnist", "simple-convnet", "deep-convnet"} <= set(MNIST_PRESETS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind,name", NETWORKS, ids=[n for _, n in NETWORKS])
def test_the_exported_model_gives_our_probabilities(fmt, kind, name, tmp_path, monkeypatch):
    net, x, expected = built(kind, name)
    theirs = run_exported(fmt, net, x, tmp_path, monkeypatch)
    assert theirs.shape == expected.shape == (100, *net.output_shape)
    np.testing.assert_allclose(theirs, expected, rtol=0, atol=TOLERANCE)


def test_a_network_without_softmax_gets_the_losss_output_function(tmp_path, monkeypatch):
    """The rule the exports follow, in numbers: softmax rows sum to 1, sigmoid is in (0, 1), mse is as is."""
    for name, check in (("cross-entropy-without-softmax", lambda p: np.allclose(p.sum(axis=1), 1, atol=1e-6)),
                        ("bce-without-sigmoid", lambda p: np.all((p > 0) & (p < 1)))):
        net = build("small", name)
        x = inputs(net) * 20 - 10
        p = run_exported("numpy", net, x, tmp_path, monkeypatch)
        assert check(p), name
        assert not np.allclose(p, net.predict(x))  # our predict gives the logits here
    net = build("small", "regression")
    x = inputs(net)
    np.testing.assert_allclose(run_exported("numpy", net, x, tmp_path, monkeypatch), net.predict(x), atol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_large_outputs_neither_overflow_nor_underflow(fmt, tmp_path, monkeypatch):
    """Logits in the hundreds, some rows far below others: softmax and sigmoid stay finite and exact."""
    for name in ("cross-entropy-without-softmax", "bce-without-sigmoid"):
        net = build("small", name)
        x = (inputs(net) - 0.5) * np.linspace(1, 400, 100, dtype=np.float32)[:, None]
        expected = ours(net, x)
        assert np.isfinite(expected).all() and expected.min() < 1e-30 < expected.max()
        with np.errstate(over="raise", invalid="raise"):
            theirs = run_exported(fmt, net, x, tmp_path, monkeypatch)
        np.testing.assert_allclose(theirs, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("fmt", FORMATS)
def test_batch_norm_uses_its_running_statistics(fmt, tmp_path, monkeypatch):
    """y = γ·(x − μ)/√(σ² + ε) + β with the running μ and σ², checked by hand on a one-feature network."""
    net = Network({"input_shape": [2], "layers": [{"type": "BatchNorm", "eps": 0.01}], "loss": "mse"})
    bn = net.layers[0]
    bn.params["gamma"][...] = [2.0, -1.0]
    bn.params["beta"][...] = [0.5, 3.0]
    bn.state["running_mean"][...] = [1.0, -2.0]
    bn.state["running_var"][...] = [3.99, 0.24]
    x = np.array([[1.0, 0.0], [3.0, -2.5]], dtype=np.float32)
    expected = np.array([[0.5, 3.0 - 2.0 / 0.5], [0.5 + 2 * 2.0 / 2.0, 3.0 + 0.5 / 0.5]])
    np.testing.assert_allclose(run_exported(fmt, net, x, tmp_path, monkeypatch), expected, rtol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_books_dropout_scales_by_one_minus_rate_at_inference(fmt, tmp_path, monkeypatch):
    def net(variant):
        return Network({"input_shape": [3], "layers": [{"type": "Dense", "units": 2},
                                                       {"type": "Dropout", "rate": 0.25, "variant": variant}],
                        "loss": "mse"}, seed=1)

    book, inverted = net("book"), net("inverted")
    x = inputs(book)
    np.testing.assert_allclose(book.predict(x), 0.75 * inverted.predict(x), rtol=1e-6)  # the same weights
    np.testing.assert_allclose(run_exported(fmt, book, x, tmp_path, monkeypatch), 0.75 * inverted.predict(x),
                               atol=1e-6)
    np.testing.assert_allclose(run_exported(fmt, inverted, x, tmp_path, monkeypatch), inverted.predict(x), atol=1e-6)


class Recurrent(Layer):
    """A layer no exporter knows."""

    type_name = "Recurrent"


def untranslatable() -> Network:
    net = Network({"input_shape": [3], "layers": [{"type": "Dense", "units": 2}, {"type": "Softmax"}]})
    mystery = Recurrent(name="lstm1")
    mystery.build((2,), np.random.default_rng(0))
    net.layers.insert(1, mystery)
    return net


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_layer_no_format_knows_is_named_and_nothing_is_written(fmt, tmp_path):
    out = tmp_path / ("model.onnx" if fmt == "onnx" else "model.py")
    with pytest.raises(ExportError, match=r"cannot export layer 'lstm1' \(Recurrent\)") as info:
        export_network(untranslatable(), fmt, out)
    assert len(str(info.value).splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_dropout_variant_is_named(tmp_path):
    net = Network({"input_shape": [3], "layers": [{"type": "Dense", "units": 2}, {"type": "Dropout", "name": "d"}]})
    net.layers[1].variant = "gaussian"  # a variant the engine would refuse to build; the exporter refuses it too
    with pytest.raises(ExportError, match="layer 'd' \\(Dropout\\): its variant 'gaussian'"):
        export_network(net, "numpy", tmp_path / "m.py")
    assert list(tmp_path.iterdir()) == []


def test_onnx_without_the_package_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ExportError, match=r"pip install 'numpy-nn-playground\[export\]'"):
        export_network(build("small", "regression"), "onnx", tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_bad_places_are_refused_before_writing(tmp_path):
    net = build("small", "regression")
    cases = [("onnx", tmp_path / "m.py", "writes a .onnx file"), ("numpy", tmp_path / "m.onnx", "writes a .py file"),
             ("numpy", tmp_path / "2nd.py", "cannot be imported"), ("pytorch", tmp_path / "torch.py", "would hide"),
             ("numpy", tmp_path / "missing" / "m.py", "does not exist"), ("keras", tmp_path / "m.py", "unknown export")]
    for fmt, out, message in cases:
        with pytest.raises(ExportError, match=message):
            export_network(net, fmt, out)
    model = tmp_path / "m_weights.npz"
    save_model(build("preset", "mlp-mnist"), model)
    before = model.read_bytes()
    with pytest.raises(ExportError, match="overwrite the model file itself"):
        export_network(build("preset", "mlp-mnist"), "numpy", tmp_path / "m.py", keep=(model,))
    assert model.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m_weights.npz"]


def test_written_files_get_the_usual_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        write_all({tmp_path / "m.py": b"x = 1\n"})
    finally:
        os.umask(mask)
    assert (tmp_path / "m.py").stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_folder_in_the_way_is_refused_before_any_file_is_written(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ExportError, match="not a file is in the way"):
        write_all({tmp_path / "first.npz": b"1", tmp_path / "taken": b"2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_rename_that_fails_removes_the_files_it_had_created(tmp_path, monkeypatch):
    import os

    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    (tmp_path / "old.py").write_text("kept")
    with pytest.raises(ExportError, match="cannot write .*second.py: Permission denied"):
        write_all({tmp_path / "first.npz": b"1", tmp_path / "second.py": b"2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.py"]


def test_small_networks_carry_their_weights_and_big_ones_put_them_beside(tmp_path, monkeypatch):
    small = build("small", "regression")
    assert export_network(small, "numpy", tmp_path / "small.py") == [tmp_path / "small.py"]
    assert "np.load" not in (tmp_path / "small.py").read_text()
    big = build("preset", "simple-convnet")
    assert export_network(big, "numpy", tmp_path / "big.py") == [tmp_path / "big_weights.npz", tmp_path / "big.py"]
    code = (tmp_path / "big.py").read_text()
    assert "def im2col(" in code and "conv2d(x, params['conv1.W'], params['conv1.b'], stride=1, pad=0)" in code
    assert "import playground" not in code and "from playground" not in code


# ------------------------------------------------------------------ the ONNX graph

def test_the_onnx_graph_reads_like_the_network(tmp_path):
    onnx = pytest.importorskip("onnx")
    from playground.engine.export.onnx import OPSET, describe_graph

    net = build("small", "conv-stride-padding-batchnorm-pools")
    model = onnx.load(str(export_network(net, "onnx", tmp_path / "m.onnx")[0]))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= OPSET >= 17
    graph = model.graph
    assert [i.name for i in graph.input] == ["input"] and [o.name for o in graph.output] == ["probabilities"]
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "N" and not batch.dim_value
    assert [n.name for n in graph.node] == [layer.name for layer in net.layers]
    assert {i.name for i in graph.initializer} == set(net.get_weights())
    shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(graph.value_info) + list(graph.output)}
    for node, layer in zip(graph.node, net.layers):
        assert shapes[node.output[0]] == ["N", *layer.output_shape], layer.name
    lines = describe_graph(model)
    assert lines[1] == "conv1: Conv(input, conv1.W, conv1.b) -> conv1 (N, 4, 6, 5)"
    assert lines[-1] == "softmax1: Softmax(dense2) -> probabilities (N, 3)"


def test_the_onnx_recurrent_layers_read_batch_major(tmp_path):
    """Each recurrent layer is ONNX's operator of its name between transposes, its states (N, T, H) or (N, H)."""
    onnx = pytest.importorskip("onnx")
    from playground.engine.export.onnx import describe_graph

    net = build("small", "gru-both-ways")
    model = onnx.load(str(export_network(net, "onnx", tmp_path / "m.onnx")[0]))
    gru = [n for n in model.graph.node if n.op_type == "GRU"]
    assert [n.name for n in gru] == ["gru1", "gru2"]
    assert all({a.name: a.i for a in n.attribute}["linear_before_reset"] == 1 for n in gru)
    lines = describe_graph(model)
    assert "gru1: GRU(gru1.time_major, gru1.W, gru1.R, gru1.B) -> gru1.Y (5, 1, N, 4)" in lines
    assert "gru1.to_batch_major: Transpose(gru1.states) -> gru1 (N, 5, 4)" in lines
    assert "gru2.last_state: Squeeze(gru2.Y_h, gru2.direction_axis) -> gru2 (N, 3)" in lines


def test_onnx_runs_any_batch_size(tmp_path):
    net = build("preset", "simple-convnet")
    session = onnx_session(export_network(net, "onnx", tmp_path / "m.onnx")[0])
    for n in (1, 7):
        x = inputs(net, n, seed=n)
        np.testing.assert_allclose(session.run(None, {"input": x})[0], net.predict(x), atol=TOLERANCE)


# ------------------------------------------------------------------ PyTorch names

def test_layer_names_that_python_or_torch_reserve_become_safe_attributes(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch (the CPU wheel)")
    from playground.engine.export.pytorch_code import MODULE_ATTRIBUTES

    public = {a for a in dir(torch.nn.Module()) if not a.startswith("_")}
    assert public <= MODULE_ATTRIBUTES, sorted(public - MODULE_ATTRIBUTES)
    spec = {"input_shape": [3], "layers": [{"type": "Dense", "units": 4, "name": "training"},
                                           {"type": "Dense", "units": 4, "name": "class"},
                                           {"type": "Dropout", "name": "2nd drop-out"},
                                           {"type": "Dense", "units": 2, "name": "_modules"}]}
    net = with_trained_look(Network(spec, seed=2))
    x = inputs(net)
    np.testing.assert_allclose(run_exported("pytorch", net, x, tmp_path, monkeypatch), ours(net, x), atol=TOLERANCE)
    model = import_file(tmp_path / "model_torch.py", monkeypatch).load_model()
    assert model.training is True and model.eval().training is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_any_layer_name_is_safe_in_every_format(fmt, tmp_path, monkeypatch):
    names = ["it's \"odd\"\n\\name", "class", "input", "probabilities", "dense.W"]
    spec = {"input_shape": [3], "layers": [{"type": "Dense", "units": 4, "name": n} for n in names]
            + [{"type": "Softmax", "name": "x"}]}
    net = with_trained_look(Network(spec, seed=2))
    x = inputs(net)
    np.testing.assert_allclose(run_exported(fmt, net, x, tmp_path, monkeypatch), ours(net, x), atol=TOLERANCE)


def test_pytorch_batch_norm_keeps_our_momentum_and_epsilon(tmp_path, monkeypatch):
    """Ours: running ← m·running + (1 − m)·batch; PyTorch's momentum weighs the batch, so it is 1 − m."""
    pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch (the CPU wheel)")
    net = Network({"input_shape": [2, 3, 3], "layers": [{"type": "BatchNorm", "momentum": 0.8, "eps": 0.001},
                                                        {"type": "Flatten"}, {"type": "BatchNorm"}],
                   "loss": "mse"})
    export_network(net, "pytorch", tmp_path / "bn.py")
    model = import_file(tmp_path / "bn.py", monkeypatch).load_model()
    assert type(model.bn1).__name__ == "BatchNorm2d" and type(model.bn2).__name__ == "BatchNorm1d"
    assert (model.bn1.momentum, model.bn1.eps) == (pytest.approx(0.2), pytest.approx(0.001))
    assert (model.bn2.momentum, model.bn2.eps) == (pytest.approx(0.1), pytest.approx(1e-5))


# ------------------------------------------------------------------ the NumPy file as a script

def digit_images(folder: Path) -> list[Path]:
    """Drawn digits: light and dark ink, grey and colour, PNG and JPEG."""
    files = []
    for i, (shape, size) in enumerate([("one", (60, 90)), ("ring", (200, 150)), ("seven", (64, 64)),
                                       ("cross", (120, 80))]):
        img = Image.new("L", size, 255 if i % 2 else 0)
        draw = ImageDraw.Draw(img)
        ink = 0 if i % 2 else 255
        w, h = size
        if shape == "one":
            draw.line([(w // 2, h // 8), (w // 2, 7 * h // 8)], fill=ink, width=max(2, w // 10))
        elif shape == "ring":
            draw.ellipse([w // 4, h // 6, 3 * w // 4, 5 * h // 6], outline=ink, width=12)
        elif shape == "seven":
            draw.line([(w // 5, h // 5), (4 * w // 5, h // 5), (2 * w // 5, 4 * h // 5)], fill=ink, width=5)
        else:
            draw.line([(0, 0), (w, h)], fill=ink, width=6)
            draw.line([(w, 0), (0, h)], fill=ink, width=6)
        path = folder / f"{shape}.{'jpg' if i == 3 else 'png'}"
        (img.convert("RGB") if i >= 2 else img).save(path)
        files.append(path)
    return files


def test_the_numpy_file_reads_images_as_playground_predict_does(tmp_path, capsys):
    from playground.cli import main

    net = build("preset", "simple-convnet")
    model = tmp_path / "digits.npz"
    save_model(net, model, dataset={"name": "mnist"})
    images = digit_images(tmp_path)
    assert main(["predict", str(model), *map(str, images)]) == 0
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["export", str(model), "--format", "numpy", "--out", str(tmp_path / "digits_np.py")]) == 0
    res = subprocess.run([sys.executable, str(tmp_path / "digits_np.py"), *map(str, images)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    got = [json.loads(line) for line in res.stdout.splitlines()]
    assert [g["file"] for g in got] == [e["file"] for e in expected]
    for g, e in zip(got, expected):
        assert g["digit"] == e["digit"]
        np.testing.assert_allclose(g["probabilities"], e["probabilities"], atol=2e-6)
    bad = subprocess.run([sys.executable, str(tmp_path / "digits_np.py"), str(tmp_path / "none.png")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == f"error: image file {tmp_path / 'none.png'} does not exist"
    no_pillow = ("import runpy, sys; sys.modules['PIL'] = None; sys.argv = ['digits_np.py', 'a.png']; "
                 "runpy.run_path('digits_np.py', run_name='__main__')")
    res = subprocess.run([sys.executable, "-c", no_pillow], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and res.stderr.strip() == ("error: reading image files needs Pillow; "
                                                          "install it with: pip install pillow")


def test_the_numpy_file_of_a_flat_network_reads_numbers(tmp_path):
    net = build("preset", "xor") if "xor" in preset_names() else build("small", "regression")
    path = export_network(net, "numpy", tmp_path / "flat.py")[-1]
    samples = ["0.25" + ",-1" * (net.input_shape[0] - 1), "1" + ",0.5" * (net.input_shape[0] - 1)]
    res = subprocess.run([sys.executable, str(path), *samples], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = np.array([json.loads(line)["probabilities"] for line in res.stdout.splitlines()])
    x = np.array([[float(v) for v in s.split(",")] for s in samples], dtype=np.float32)
    np.testing.assert_allclose(got, ours(net, x), atol=2e-6)
    bad = subprocess.run([sys.executable, str(path), "1,2,3,4,5,6"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "comma-separated numbers" in bad.stderr


# ------------------------------------------------------------------ the command line

def test_the_command_writes_each_format_beside_the_model(tmp_path, capsys):
    from playground.cli import main

    model = tmp_path / "sc.npz"
    save_model(build("preset", "simple-convnet"), model, dataset={"name": "mnist"})
    written = {}
    for fmt in FORMATS:
        assert main(["export", str(model), "--format", fmt]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["format"] == fmt and out["output"].startswith("probabilities: the output of the last layer")
        written[fmt] = [Path(f).name for f in out["files"]]
    assert written == {"onnx": ["sc.onnx"], "numpy": ["sc_weights.npz", "sc.py"],
                       "pytorch": ["sc_torch_weights.npz", "sc_torch.py"]}


def test_the_command_names_an_untranslatable_layer_in_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from playground.cli import main
    from playground.engine.nn.layers import LAYERS

    monkeypatch.setitem(LAYERS, "Recurrent", Recurrent)
    net = Network({"input_shape": [3], "layers": [{"type": "Dense", "units": 2}, {"type": "Recurrent"}]})
    model = tmp_path / "rnn.npz"
    save_model(net, model)
    for fmt in FORMATS:
        assert main(["export", str(model), "--format", fmt]) == 2
        err = capsys.readouterr().err.strip()
        assert err == ("playground: error: cannot export layer 'recurrent1' (Recurrent): the exporters do not know "
                       "this kind of layer; remove it or replace it with one of Dense, Conv2D, MaxPool2D, AvgPool2D, "
                       "Flatten, BatchNorm, Dropout, SimpleRNN, LSTM, GRU, TimeDistributed or an activation")
    assert [p.name for p in tmp_path.iterdir()] == ["rnn.npz"]


def test_the_export_package_imports_neither_onnx_nor_torch_nor_pillow():
    code = ("import sys, playground.engine.export.files, playground.engine.export.onnx, "
            "playground.engine.export.numpy_code, playground.engine.export.pytorch_code, playground.export_cli; "
            "print(sorted(m for m in ('onnx', 'torch', 'PIL') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
