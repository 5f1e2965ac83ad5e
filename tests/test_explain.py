"""The CNN explainer's arithmetic: a convolution's window, kernel and dot product, a pooling window's maximum."""

import numpy as np
import pytest

from playground.engine.nn.explain import conv_step, pool_step, trace
from playground.engine.nn.network import Network


def small_cnn(stride: int, pad: int, kernel: int, pool: int, pool_stride: int, pool_pad: int,
              pool_type: str = "MaxPool2D", seed: int = 0) -> Network:
    spec = {"input_shape": [2, 9, 8],
            "layers": [{"type": "Conv2D", "filters": 3, "kernel": kernel, "stride": stride, "padding": pad,
                        "activation": "relu"},
                       {"type": pool_type, "pool": pool, "stride": pool_stride, "padding": pool_pad},
                       {"type": "Flatten"}, {"type": "Dense", "units": 4}, {"type": "Softmax"}],
            "loss": "softmax_cross_entropy"}
    net = Network(spec, seed=seed)
    for layer in net.layers:  # biases away from zero, so a missing bias is seen
        if "b" in layer.params:
            layer.params["b"][...] = np.random.default_rng(seed).normal(size=layer.params["b"].shape)
    return net


CONFIGS = [dict(stride=s, pad=p, kernel=k, pool=q, pool_stride=qs, pool_pad=qp)
           for s, p, k, q, qs, qp in [(1, 0, 3, 2, 2, 0), (2, 1, 3, 3, 2, 1), (1, 2, 5, 2, 1, 1),
                                      (3, 1, 2, 2, 2, 0), (2, 0, 4, 3, 1, 0)]]


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_the_dot_product_plus_bias_is_the_layer_output_at_every_position(config):
    rng = np.random.default_rng(7)
    net = small_cnn(**config, seed=3)
    x = rng.normal(size=(2, 9, 8)).astype(np.float32)
    rows = trace(net, x)
    conv, relu, pool = rows[0], rows[1], rows[2]
    assert conv["type"] == "Conv2D" and relu["type"] == "ReLU" and pool["type"] == "MaxPool2D"
    f_count, oh, ow = conv["output"].shape
    for f in range(f_count):
        for i in range(oh):
            for j in range(ow):
                step = conv_step(conv["layer"], x, f, i, j)
                assert step["z"] == pytest.approx(float(conv["output"][f, i, j]), rel=1e-4, abs=1e-4)
                assert step["relu"] == pytest.approx(float(relu["output"][f, i, j]), rel=1e-4, abs=1e-4)
                assert step["window"].shape == (2, config["kernel"], config["kernel"])
    c_count, ph, pw = pool["output"].shape
    for c in range(c_count):
        for i in range(ph):
            for j in range(pw):
                step = pool_step(pool["layer"], relu["output"], c, i, j)
                assert step["value"] == pytest.approx(float(pool["output"][c, i, j]), rel=1e-5, abs=1e-6)
                r, s = step["at"]
                assert step["window"][r, s] == step["value"] == step["window"].max()


def test_average_pooling_windows_count_padding_as_zero():
    net = small_cnn(1, 0, 3, 3, 2, 1, pool_type="AvgPool2D")
    x = np.random.default_rng(1).normal(size=(2, 9, 8)).astype(np.float32)
    rows = trace(net, x)
    pool = rows[2]
    step = pool_step(pool["layer"], rows[1]["output"], 1, 0, 0)
    assert step["at"] is None and step["window"][0, 0] == 0.0
    assert step["value"] == pytest.approx(float(pool["output"][1, 0, 0]), rel=1e-5, abs=1e-6)


def test_the_trace_ends_in_the_probabilities_the_network_predicts():
    net = small_cnn(1, 1, 3, 2, 2, 0)
    x = np.random.default_rng(2).normal(size=(2, 9, 8)).astype(np.float32)
    rows = trace(net, x)
    assert [r["type"] for r in rows] == ["Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "Softmax"]
    np.testing.assert_allclose(rows[-1]["output"], net.predict(x[None])[0], rtol=1e-6)
    assert rows[-1]["output"].sum() == pytest.approx(1.0)
    # each row's input is the previous row's output
    assert all(np.array_equal(a["output"], b["input"]) for a, b in zip(rows, rows[1:]))
