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
