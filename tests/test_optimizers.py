"""Optimizers' first steps against numbers computed by hand, schedules, clipping."""

import math

import numpy as np
import pytest

from playground.engine.errors import SpecError
from playground.engine.nn.optimizers import (Cosine, StepDecay, clip_by_global_norm, get_optimizer, get_schedule)

W0 = np.array([1.0, -2.0])
G1 = np.array([0.5, -1.0])
G2 = np.array([-0.25, 2.0])


def two_steps(cfg):
    opt = get_optimizer(cfg)
    p = {"w": W0.copy()}
    opt.update(p, {"w": G1})
    w1 = p["w"].copy()
    opt.update(p, {"w": G2})
    return w1, p["w"].copy()


def test_sgd():
    w1, w2 = two_steps({"type": "sgd", "lr": 0.1})
    np.testing.assert_allclose(w1, [0.95, -1.9])           # 1 - 0.1·0.5, −2 + 0.1·1
    np.testing.assert_allclose(w2, [0.975, -2.1])          # 0.95 + 0.025, −1.9 − 0.2


def test_momentum():
    w1, w2 = two_steps({"type": "momentum", "lr": 0.1, "momentum": 0.9})
    # v1 = −0.1·g1 = [−0.05, 0.1]; w1 = [0.95, −1.9]
    np.testing.assert_allclose(w1, [0.95, -1.9])
    # v2 = 0.9·v1 − 0.1·g2 = [−0.045 + 0.025, 0.09 − 0.2] = [−0.02, −0.11]
    np.testing.assert_allclose(w2, [0.93, -2.01])


def test_nesterov():
    w1, w2 = two_steps({"type": "nesterov", "lr": 0.1, "momentum": 0.9})
    # v1 = [−0.05, 0.1]; w1 = w0 + 0.9·v1 − 0.1·g1 = [1 − 0.045 − 0.05, −2 + 0.09 + 0.1]
    np.testing.assert_allclose(w1, [0.905, -1.81])
    # v2 = [−0.02, −0.11]; w2 = w1 + 0.9·v2 − 0.1·g2 = [0.905 − 0.018 + 0.025, −1.81 − 0.099 − 0.2]
    np.testing.assert_allclose(w2, [0.912, -2.109])


def test_adagrad():
    w1, w2 = two_steps({"type": "adagrad", "lr": 0.1})
    # h1 = g1² = [0.25, 1]; step = 0.1·g1/(√h1 + 1e-7) = [0.1, −0.1] (up to 1e-7)
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-6)
    # h2 = [0.3125, 5]; step = 0.1·[−0.25/0.5590170, 2/2.2360680] = [−0.0447214, 0.0894427]
    np.testing.assert_allclose(w2, [0.9 + 0.0447214, -1.9 - 0.0894427], atol=1e-6)


def test_rmsprop():
    w1, _ = two_steps({"type": "rmsprop", "lr": 0.01, "rho": 0.99})
    # h1 = 0.01·g1² → √h1 = 0.1·|g1|; step = 0.01·g1/(0.1|g1|) = 0.1·sign(g1)
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-5)


def test_adam_bias_correction():
    w1, w2 = two_steps({"type": "adam", "lr": 0.1})
    # t=1: m̂ = g1, v̂ = g1² → step = 0.1·sign(g1)
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-6)
    # t=2: m = 0.9·0.1·g1 + 0.1·g2 = [0.02, 0.11]; m̂ = m/0.19 = [0.1052632, 0.5789474]
    #      v = 0.999·0.001·g1² + 0.001·g2² = [0.00031225, 0.004999]; v̂ = v/0.001999 = [0.1562031, 2.5007504]
    #      step = 0.1·m̂/√v̂ = [0.0266334, 0.0366104]
    np.testing.assert_allclose(w2, [0.9 - 0.0266334, -1.9 - 0.0366104], atol=1e-6)


def test_adamw_decays_weights_only_where_allowed():
    opt = get_optimizer({"type": "adamw", "lr": 0.1, "weight_decay": 0.5})
    p = {"W": np.array([2.0]), "b": np.array([2.0])}
    opt.update(p, {"W": np.array([1.0]), "b": np.array([1.0])}, decay={"W": 1.0, "b": 0.0})
    # Adam's first step is lr·sign(g) = 0.1; W also loses lr·λ·W = 0.1·0.5·2 = 0.1
    np.testing.assert_allclose(p["W"], [1.8], atol=1e-6)
    np.testing.assert_allclose(p["b"], [1.9], atol=1e-6)


def test_state_follows_parameter_dtype():
    opt = get_optimizer("adam")
    p = {"w": np.ones(3, dtype=np.float32)}
    opt.update(p, {"w": np.ones(3, dtype=np.float32)})
    assert p["w"].dtype == np.float32 and all(v.dtype == np.float32 for v in opt.state["w"].values())


@pytest.mark.parametrize("cfg,match", [
    ({"type": "adamm"}, "unknown optimizer 'adamm'; known: sgd"),
    ({"type": "sgd", "lr": -1}, "lr must be a finite number > 0"),
    ({"type": "momentum", "momentum": 1.5}, r"momentum must be in \[0, 1\)"),
    ({"type": "sgd", "beta1": 0.9}, "has no setting beta1"),
])
def test_bad_settings(cfg, match):
    with pytest.raises(SpecError, match=match):
        get_optimizer(cfg)


def test_config_round_trip():
    for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"):
        opt = get_optimizer({"type": name, "lr": 0.123})
        again = get_optimizer(opt.get_config())
        assert again.get_config() == opt.get_config()


def test_schedules():
    assert isinstance(get_schedule({"type": "step", "step": 2, "gamma": 0.1}, 1.0), StepDecay)
    s = get_schedule({"type": "step", "step": 2, "gamma": 0.1}, 1.0)
    assert [s.lr_at(e, 10) for e in (0, 1.9, 2, 4.5)] == pytest.approx([1.0, 1.0, 0.1, 0.01])
    c = get_schedule({"type": "cosine", "min_lr": 0.0}, 1.0)
    assert isinstance(c, Cosine)
    assert [c.lr_at(e, 4) for e in (0, 2, 4)] == pytest.approx([1.0, 0.5, 0.0])
    assert get_schedule(None, 0.3).lr_at(7, 10) == 0.3
    with pytest.raises(SpecError, match="unknown learning-rate schedule"):
        get_schedule("exp", 0.1)


def test_clip_by_global_norm():
    g = {"a": np.array([3.0]), "b": np.array([4.0])}
    norm = clip_by_global_norm(g, 1.0)
    assert norm == pytest.approx(5.0)
    assert math.hypot(g["a"][0], g["b"][0]) == pytest.approx(1.0)
    np.testing.assert_allclose(g["a"] / g["b"], [0.75])
    g = {"a": np.array([0.3])}
    clip_by_global_norm(g, 1.0)
    assert g["a"][0] == 0.3


# ---------------------------------------------------------------- one flat array, in two pieces

def _net():
    from playground.engine.nn.network import Network
    spec = {"input_shape": [300], "layers": [{"type": "Dense", "units": 500, "activation": "relu"},
                                             {"type": "Dense", "units": 5}, {"type": "Softmax"}]}
    return Network(spec, seed=1)


def test_network_parameters_live_in_one_array_in_two_pieces():
    net = _net()
    params, grads, decay = net.optimizer_arrays()
    assert list(params) == list(grads) == list(decay) == ["all@0", "all@1"]
    assert sum(p.size for p in params.values()) == net.param_count()
    for key, arr in net.params().items():  # each layer's arrays are views into the pieces
        assert any(np.shares_memory(arr, p) for p in params.values()), key
    for key, arr in net.grads().items():
        assert any(np.shares_memory(arr, g) for g in grads.values()), key
    # the decay mask covers the weights and not the biases
    mask = np.concatenate(list(decay.values()))
    assert mask.sum() == net.params()["dense1.W"].size + net.params()["dense2.W"].size
    small = {"input_shape": [3], "layers": [{"type": "Dense", "units": 2}]}
    from playground.engine.nn.network import Network
    assert list(Network(small).optimizer_arrays()[0]) == ["all"]


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw"])
def test_flat_pieces_on_two_threads_give_the_per_layer_numbers(name):
    from concurrent.futures import ThreadPoolExecutor
    cfg = {"type": name, "lr": 0.01, **({"weight_decay": 0.1} if name == "adamw" else {})}
    rng = np.random.default_rng(0)
    a, b = _net(), _net()
    opt_a, opt_b = get_optimizer(cfg), get_optimizer(cfg)
    with ThreadPoolExecutor(1) as pool:
        for _ in range(3):
            g = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in a.grads().items()}
            for net in (a, b):
                for k, v in net.grads().items():
                    v[...] = g[k]
            opt_a.update(a.params(), a.grads(), a.decay())
            opt_b.update(*b.optimizer_arrays(), pool=pool)
    for key, w in a.params().items():
        np.testing.assert_array_equal(b.params()[key], w, err_msg=key)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_follows_the_textbook_rule_over_many_steps(name):
    """The state is kept scaled (fewer passes); the weights must still be the paper's, step for step."""
    rng = np.random.default_rng(0)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    opt = get_optimizer({"type": name, "lr": lr, **({"weight_decay": wd} if name == "adamw" else {})})
    w = rng.normal(size=20)
    p = {"w": w.copy()}
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, 60):
        g = rng.normal(size=20) * (10.0 ** rng.integers(-4, 2))
        opt.update(p, {"w": g}, {"w": 1.0})
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        w = (w * (1 - lr * wd) if name == "adamw" else w) - step
        np.testing.assert_allclose(p["w"], w, rtol=1e-12, atol=1e-15, err_msg=f"step {t}")
