"""Recurrent layers: backpropagation through time against central differences, gate by gate, and their numbers."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.nn.network import Network
from playground.engine.nn.recurrent import GRU, LSTM, SimpleRNN, orthogonal

GATES = {"SimpleRNN": ("candidate",), "LSTM": ("input", "forget", "cell", "output"),
         "GRU": ("update", "reset", "candidate")}
T, F, H = 5, 3, 4


def sequence_net(kind: str, return_sequences: bool, seed: int = 0) -> Network:
    layers = [{"type": kind, "units": H, "return_sequences": return_sequences, "name": "rec"}]
    layers.append({"type": "TimeDistributed" if return_sequences else "Dense", "units": 2, "name": "out"})
    return Network({"input_shape": [T, F], "layers": layers, "loss": "mse"}, seed=seed, dtype=np.float64)


def numeric_grad(net: Network, x: np.ndarray, y: np.ndarray, arr: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    out = np.empty(arr.size)
    flat = arr.reshape(-1)
    for i in range(arr.size):
        old = flat[i]
        flat[i] = old + eps
        lp = net.loss(net.forward(x, True), y)[0]
        flat[i] = old - eps
        lm = net.loss(net.forward(x, True), y)[0]
        flat[i] = old
        out[i] = (lp - lm) / (2 * eps)
    return out.reshape(arr.shape)


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-state", "sequence"])
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_backprop_through_time_matches_central_differences_per_gate(kind, return_sequences):
    net = sequence_net(kind, return_sequences)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, T, F))
    y = rng.standard_normal((6, *net.output_shape))
    net.need_input_grads(True)
    _, g = net.loss(net.forward(x, True), y)
    dx = net.backward(g)
    layer = net.layers[0]
    failures = []
    for key in ("Wx", "Wh", "b"):
        analytic = layer.grads[key].copy()
        numeric = numeric_grad(net, x, y, layer.params[key])
        for k, gate in enumerate(GATES[kind]):
            cols = slice(k * H, (k + 1) * H)
            err = rel(analytic[..., cols], numeric[..., cols])
            if not err < 1e-6:
                failures.append(f"{kind} {gate} gate {key}: relative error {err:.2e}")
    err = rel(dx, numeric_grad(net, x, y, x))
    if not err < 1e-6:
        failures.append(f"{kind} input: relative error {err:.2e}")
    assert not failures, "\n".join(failures)


def test_simple_rnn_forward_is_the_recurrence_written_out():
    net = sequence_net("SimpleRNN", True)
    layer = net.layers[0]
    x = np.random.default_rng(2).standard_normal((2, T, F))
    out = layer.forward(x)
    wx, wh, b = layer.params["Wx"], layer.params["Wh"], layer.params["b"]
    h = np.zeros((2, H))
    for t in range(T):
        h = np.tanh(x[:, t] @ wx + h @ wh + b)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-12)


def test_lstm_forward_on_numbers_worked_by_hand():
    """One unit, one feature, all weights 0.5, forget bias 1: two steps computed on paper."""
    net = Network({"input_shape": [2, 1], "layers": [{"type": "LSTM", "units": 1, "name": "l"}],
                   "loss": "mse"}, dtype=np.float64)
    layer = net.layers[0]
    layer.params["Wx"][:] = 0.5
    layer.params["Wh"][:] = 0.5
    x = np.array([[[1.0], [2.0]]])
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    # step 1: z = 0.5 (+1 for f); c = i·g; h = o·tanh(c)
    i, f, g, o = sig(0.5), sig(1.5), np.tanh(0.5), sig(0.5)
    c1 = i * g
    h1 = o * np.tanh(c1)
    z = 1.0 + 0.5 * h1
    i, f, g, o = sig(z), sig(z + 1), np.tanh(z), sig(z)
    c2 = f * c1 + i * g
    h2 = o * np.tanh(c2)
    assert layer.params["b"].tolist() == [0.0, 1.0, 0.0, 0.0]
    np.testing.assert_allclose(layer.forward(x), [[h2]], rtol=1e-12)


def test_gru_keeps_its_state_when_the_update_gate_is_open():
    """z → 1 copies hₜ₋₁ forward: with a huge update bias the state stays at its first value."""
    net = sequence_net("GRU", True)
    layer = net.layers[0]
    layer.params["b"][:H] = 50.0
    out = layer.forward(np.random.default_rng(3).standard_normal((3, T, F)))
    np.testing.assert_allclose(out, 0.0, atol=1e-12)  # h₀ = 0 is kept


def test_orthogonal_recurrent_weights_and_shapes():
    rng = np.random.default_rng(0)
    q = orthogonal((6, 6), rng, np.float64)
    np.testing.assert_allclose(q.T @ q, np.eye(6), atol=1e-12)
    net = sequence_net("LSTM", False)
    layer = net.layers[0]
    assert layer.params["Wx"].shape == (F, 4 * H) and layer.params["Wh"].shape == (H, 4 * H)
    for k in range(4):
        block = layer.params["Wh"][:, k * H:(k + 1) * H]
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-12)
    assert net.output_shape == (2,) and layer.param_count() == 4 * H * (F + H + 1)
    assert sequence_net("GRU", True).output_shape == (T, 2)


def test_the_plain_rnn_forgets_where_the_lstm_remembers():
    """The gradient reaching early steps from the last output: vanishing for tanh RNN, not for LSTM."""
    steps = 60
    norms = {}
    for kind in ("SimpleRNN", "LSTM"):
        net = Network({"input_shape": [steps, 1], "layers": [{"type": kind, "units": 16, "name": "r"},
                                                             {"type": "Dense", "units": 1}], "loss": "mse"},
                      seed=0, dtype=np.float64)
        x = np.random.default_rng(0).standard_normal((32, steps, 1))
        _, g = net.loss(net.forward(x, True), np.zeros((32, 1)))
        net.backward(g)
        n = net.layers[0].step_grad_norms
        norms[kind] = n[0] / n[-1]
    assert norms["SimpleRNN"] < 1e-3 < norms["LSTM"], norms


def test_recurrent_layers_refuse_flat_input_and_name_the_fix():
    from playground.engine.errors import ShapeError

    for cls in (SimpleRNN, LSTM, GRU):
        with pytest.raises(ShapeError, match=r"needs a sequence input \(time steps, features\)"):
            Network({"input_shape": [4], "layers": [{"type": cls.type_name, "units": 3}, {"type": "Dense", "units": 1}],
                     "loss": "mse"})


# ---------------------------------------------------------------- sequence data and presets

def test_sequence_sets_have_their_shapes_and_targets():
    from playground.engine.data.datasets import make_dataset
    from playground.engine.data.sequences import ALPHABET, COUNTING_WORDS

    add = make_dataset({"name": "adding", "n_samples": 50, "steps": 10})
    x, y = add.x_train, add.y_train
    assert x.shape == (40, 10, 2) and y.shape == (40, 1)
    assert (x[:, :, 1].sum(axis=1) == 2).all()
    np.testing.assert_allclose((x[:, :, 0] * x[:, :, 1]).sum(axis=1, keepdims=True), y, rtol=1e-6)
    assert (x[:, :5, 1].sum(axis=1) == 1).all()  # one mark in each half

    wave = make_dataset({"name": "sine-wave", "n_samples": 30, "steps": 8, "noise": 0.0})
    assert wave.input_shape == (8, 1)
    text = make_dataset({"name": "counting-text", "n_samples": 20, "steps": 6})
    assert text.n_classes == len(ALPHABET) and text.input_shape == (6, len(ALPHABET))
    for window, label in zip(text.x_train, text.y_train):
        chars = "".join(ALPHABET[i] for i in window.argmax(axis=1)) + ALPHABET[label]
        assert chars in COUNTING_WORDS * 2


def test_sequence_lengths_are_checked():
    from playground.engine.data.datasets import make_dataset
    from playground.engine.errors import SpecError

    with pytest.raises(SpecError, match="steps must be a whole number from 2 to 1,000"):
        make_dataset({"name": "adding", "steps": 10**6})
    with pytest.raises(SpecError, match="steps must be a whole number"):
        make_dataset({"name": "adding", "steps": 1.5})


def test_sample_text_feeds_the_networks_own_output_back():
    """An oracle that always knows the next character continues the counting text exactly."""
    from playground.engine.data.sequences import ALPHABET, COUNTING_WORDS, sample_text

    text = COUNTING_WORDS * 3

    class Oracle:
        input_shape = (5, len(ALPHABET))

        def predict(self, x):
            window = "".join(ALPHABET[i] for i in x[0].argmax(axis=1))
            nxt = text[text.index(window) + 5]
            p = np.full((1, len(ALPHABET)), 0.01)
            p[0, ALPHABET.index(nxt)] = 1.0
            return p / p.sum()

    assert sample_text(Oracle(), "one t", 20) == text[5:25]


def _train_adding(preset: str, target: float = 0.01) -> float:
    """Train a preset, stopping as soon as the validation MSE is under ``target``; the best MSE seen."""
    from playground.engine.data.datasets import make_dataset
    from playground.engine.project import load_preset
    from playground.engine.train.trainer import TrainConfig, TrainControl, Trainer

    project = load_preset(preset)
    net = Network(project["network"], seed=0)
    control = TrainControl()
    best = [np.inf]

    class Stop:
        def on_epoch_end(self, epoch, logs):
            best[0] = min(best[0], logs["val_loss"])
            if best[0] < target:
                control.cancel()

    Trainer(net, make_dataset(project["dataset"]), TrainConfig.from_dict(project["training"]),
            callbacks=[Stop()], control=control).run()
    return best[0]


@pytest.mark.parametrize("preset, learns", [("adding-lstm", True), ("adding-rnn", False)])
def test_the_adding_problem_at_length_50_is_learnt_by_the_lstm_not_by_the_plain_rnn(preset, learns):
    best = _train_adding(preset)
    assert (best < 0.01) == learns, f"{preset}: best validation MSE {best:.4f}"


def test_a_gru_learns_the_adding_problem_too():
    from playground.engine.project import load_preset

    project = load_preset("adding-lstm")
    project["network"]["layers"][0]["type"] = "GRU"
    from playground.engine.data.datasets import make_dataset
    from playground.engine.train.trainer import TrainConfig, Trainer

    net = Network(project["network"], seed=0)
    history = Trainer(net, make_dataset(project["dataset"]), TrainConfig.from_dict({**project["training"],
                                                                                    "epochs": 5})).run()
    assert min(h["val_loss"] for h in history) < 0.01


def test_the_builder_follows_a_sequence_sets_length(qtbot):
    """Changing the adding problem's steps changes the network's input shape, and the output check counts classes."""
    from playground.engine.project import load_preset
    from playground.ui.builder.commands import SetDataset
    from playground.ui.builder.document import ProjectDocument, dataset_outputs

    doc = ProjectDocument(load_preset("adding-lstm"))
    assert doc.summary_or_error().ok
    doc.push(SetDataset(doc, {**doc.dataset(), "steps": 30}))
    assert doc.project()["network"]["input_shape"] == [30, 2]
    assert doc.summary_or_error().ok
    assert dataset_outputs({"name": "counting-text"}, "softmax_cross_entropy") == 17
    assert dataset_outputs({"name": "adding"}, "mse") == 1


def test_block_summaries_of_recurrent_layers_and_singular_units():
    from playground.ui.builder.scene import layer_details

    assert layer_details({"type": "LSTM", "units": 16}) == "16 units · last state"
    assert layer_details({"type": "GRU", "units": 1, "return_sequences": True}) == "1 unit · every step"
    assert layer_details({"type": "Dense", "units": 1}) == "1 unit"
    assert layer_details({"type": "TimeDistributed", "units": 3}) == "3 units per step"


def test_the_lstm_benchmark_reports_steps_per_second(capsys, monkeypatch):
    from playground.cli import main
    from playground.engine import bench_lstm

    monkeypatch.setattr(bench_lstm, "CASES", (("adding-lstm", 4, 5, 2, 3), ("wide", 4, 5, 3, 4)))
    assert main(["bench", "--lstm", "--seconds", "0.05"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert set(out["cases"]) == {"adding-lstm", "wide"}
    assert all(c["ours_steps_per_s"] > 0 for c in out["cases"].values())
