"""Every layer's backward against central differences in float64."""

import numpy as np
import pytest

from playground.engine.errors import ShapeError, SpecError
from playground.engine.gradcheck import gradient_check
from playground.engine.layers import col2im, im2col
from playground.engine.model import Network

TOL = 1e-6


def check(spec, x_shape, y=None, seed=0, training=True, max_entries=60):
    net = Network(spec, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal(x_shape)
    if y is None:
        k = net.output_shape[0]
        y = rng.integers(0, max(k, 2), x_shape[0])
    res = gradient_check(net, x, y, training=training, max_entries=max_entries)
    bad = res.failures(TOL)
    assert not bad, f"backprop disagrees with central differences: {bad} (all: {res})"
    # every parameter and the input were checked
    assert set(res.errors) == set(net.params()) | {"input"}
    return res


def dense_head(k=3):
    return [{"type": "Flatten"}, {"type": "Dense", "units": k}, {"type": "Softmax"}]


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu", "sigmoid", "tanh", "identity"])
def test_dense_with_each_activation(act):
    spec = {"input_shape": [5], "layers": [{"type": "Dense", "units": 6, "activation": act},
                                           {"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    check(spec, (7, 5))


@pytest.mark.parametrize("stride,padding,kernel", [(1, 0, 3), (2, 1, 3), (1, 2, 5), (3, 1, 2)])
def test_conv2d_stride_padding(stride, padding, kernel):
    spec = {"input_shape": [2, 8, 7], "layers": [
        {"type": "Conv2D", "filters": 3, "kernel": kernel, "stride": stride, "padding": padding}] + dense_head()}
    check(spec, (3, 2, 8, 7))


@pytest.mark.parametrize("pool_type", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("pool,stride,padding", [(2, 2, 0), (3, 2, 1), (2, 1, 1), (3, 3, 0)])
def test_pooling_stride_padding(pool_type, pool, stride, padding):
    spec = {"input_shape": [2, 7, 8], "layers": [
        {"type": "Conv2D", "filters": 2, "kernel": 2, "padding": 1},
        {"type": pool_type, "pool": pool, "stride": stride, "padding": padding}] + dense_head()}
    check(spec, (3, 2, 7, 8))


def test_maxpool_ties_send_gradient_to_one_input():
    spec = {"input_shape": [1, 4, 4], "layers": [{"type": "MaxPool2D", "pool": 2}] + dense_head(2)}
    net = Network(spec, dtype=np.float64)
    pool = net.layers[0]
    x = np.zeros((1, 1, 4, 4))
    pool.forward(x)
    dx = pool.backward(np.ones((1, 1, 2, 2)))
    assert dx.sum() == 4 and dx.max() == 1  # one unit of gradient per window, not four


@pytest.mark.parametrize("input_shape", [[6], [3, 5, 4]])
def test_batchnorm_dense_and_conv(input_shape):
    head = dense_head() if len(input_shape) == 3 else [{"type": "Dense", "units": 3}, {"type": "Softmax"}]
    spec = {"input_shape": input_shape, "layers": [{"type": "BatchNorm"}, {"type": "Tanh"}] + head}
    check(spec, (5, *input_shape))


def test_batchnorm_uses_running_statistics_at_inference():
    spec = {"input_shape": [3], "layers": [{"type": "BatchNorm", "momentum": 0.0}, {"type": "Dense", "units": 2}]}
    net = Network(spec, dtype=np.float64)
    bn = net.layers[0]
    x = np.random.default_rng(0).normal(5.0, 2.0, (200, 3))
    bn.forward(x, training=True)
    np.testing.assert_allclose(bn.state["running_mean"], x.mean(0))
    np.testing.assert_allclose(bn.state["running_var"], x.var(0))
    y = bn.forward(x[:1], training=False)  # one sample: batch statistics would be degenerate
    np.testing.assert_allclose(y, (x[:1] - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-6)


def test_dropout_is_inverted_seeded_and_checked():
    spec = {"input_shape": [6], "layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                                           {"type": "Dropout", "rate": 0.4}, {"type": "Dense", "units": 3},
                                           {"type": "Softmax"}]}
    check(spec, (5, 6))
    a, b = Network(spec, seed=3), Network(spec, seed=3)
    x = np.ones((1000, 8), dtype=np.float32)
    ma = a.layers[2].forward(x, training=True)
    mb = b.layers[2].forward(x, training=True)
    assert np.array_equal(ma, mb)
    assert abs(ma.mean() - 1.0) < 0.05          # inverted: the expectation is kept
    assert set(np.unique(ma)) == {0.0, np.float32(1 / 0.6)}
    assert np.array_equal(a.layers[2].forward(x, training=False), x)


@pytest.mark.parametrize("loss,k", [("softmax_cross_entropy", 4), ("mse", 3), ("sigmoid_bce", 1), ("sigmoid_bce", 3)])
def test_losses(loss, k):
    spec = {"input_shape": [4], "layers": [{"type": "Dense", "units": 5, "activation": "tanh"},
                                           {"type": "Dense", "units": k}], "loss": loss}
    rng = np.random.default_rng(0)
    y = rng.integers(0, max(k, 2), 6)
    check(spec, (6, 4), y=y)


def test_one_hot_labels_equal_index_labels():
    spec = {"input_shape": [4], "layers": [{"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    net = Network(spec, dtype=np.float64)
    out = np.random.default_rng(0).standard_normal((5, 3))
    y = np.array([0, 2, 1, 1, 0])
    l1, g1 = net.loss(out.copy(), y)
    l2, g2 = net.loss(out.copy(), np.eye(3)[y])
    assert l1 == pytest.approx(l2)
    np.testing.assert_allclose(g1, g2)


def test_softmax_layer_alone_and_l1_l2_regularization():
    spec = {"input_shape": [4], "layers": [{"type": "Dense", "units": 3, "l1": 0.05, "l2": 0.1},
                                           {"type": "Softmax"}], "loss": "mse"}
    check(spec, (5, 4))


def test_step_passes_no_gradient():
    spec = {"input_shape": [3], "layers": [{"type": "Dense", "units": 4}, {"type": "Step"},
                                           {"type": "Dense", "units": 2}, {"type": "Softmax"}]}
    net = Network(spec, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 3))
    net.loss_and_grads(x, np.array([0, 1, 0, 1]))
    assert np.all(net.layers[0].grads["W"] == 0)
    assert net.zero_gradient_layers() == ["step1"]


def test_im2col_col2im_are_adjoint():
    """<im2col(x), c> == <x, col2im(c)> for any x, c: col2im is the exact transpose."""
    rng = np.random.default_rng(0)
    for stride, pad in [(1, 0), (2, 1), (3, 2)]:
        x = rng.standard_normal((2, 3, 9, 8))
        col = im2col(x, 3, 3, stride, pad)
        c = rng.standard_normal(col.shape)
        lhs = float(np.vdot(col, c))
        rhs = float(np.vdot(x, col2im(c, x.shape, 3, 3, stride, pad)))
        assert lhs == pytest.approx(rhs, rel=1e-10)


def test_conv_matches_direct_convolution():
    rng = np.random.default_rng(0)
    spec = {"input_shape": [2, 6, 6], "layers": [{"type": "Conv2D", "filters": 3, "kernel": 3, "stride": 2,
                                                  "padding": 1}, {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
    net = Network(spec, dtype=np.float64)
    conv = net.layers[0]
    conv.params["b"][:] = rng.standard_normal(3)
    x = rng.standard_normal((2, 2, 6, 6))
    out = conv.forward(x)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    w = conv.params["W"]
    ref = np.zeros((2, 3, 3, 3))
    for n in range(2):
        for f in range(3):
            for i in range(3):
                for j in range(3):
                    ref[n, f, i, j] = np.sum(xp[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * w[f]) + conv.params["b"][f]
    np.testing.assert_allclose(out, ref, rtol=1e-10)


def test_shape_errors_name_the_layer_and_both_shapes():
    spec = {"input_shape": [1, 28, 28], "layers": [{"type": "Conv2D", "filters": 4, "kernel": 3},
                                                   {"type": "Dense", "units": 10}]}
    with pytest.raises(ShapeError) as e:
        Network(spec)
    msg = str(e.value)
    assert "Dense 'dense1'" in msg and "(4, 26, 26)" in msg and "conv1" in msg and "Flatten" in msg
    assert e.value.fix == {"insert": {"type": "Flatten"}, "at": 1}
    spec = {"input_shape": [784], "layers": [{"type": "Conv2D", "filters": 4, "kernel": 3}]}
    with pytest.raises(ShapeError, match=r"Conv2D 'conv1' needs a \(C, H, W\) input, got \(784,\) from 'input'"):
        Network(spec)
    spec = {"input_shape": [1, 4, 4], "layers": [{"type": "Conv2D", "filters": 4, "kernel": 5}, {"type": "Flatten"}]}
    with pytest.raises(ShapeError, match="kernel"):
        Network(spec)


@pytest.mark.parametrize("bad,match", [
    ({"type": "Dense", "units": 0}, "units"),
    ({"type": "Dense", "units": 2.5}, "units"),
    ({"type": "Dense", "units": 3, "activation": "swish"}, "unknown activation"),
    ({"type": "Conv2d", "filters": 2, "kernal": 3}, "no setting kernal"),
    ({"type": "Dropout", "rate": 1.0}, "rate"),
    ({"type": "Transformer"}, "unknown layer type 'Transformer'; known: Dense"),
    ({"type": "Dense", "units": 3, "init": "magic"}, "unknown initializer"),
])
def test_bad_layer_settings_say_what_was_expected(bad, match):
    with pytest.raises(SpecError, match=match):
        Network({"input_shape": [1, 5, 5], "layers": [{"type": "Flatten"}, bad] if bad["type"] != "Conv2d"
                 else [bad, {"type": "Flatten"}]})


def test_summary_counts_parameters_and_mult_adds():
    spec = {"input_shape": [1, 28, 28], "layers": [
        {"type": "Conv2D", "filters": 30, "kernel": 5, "activation": "relu"}, {"type": "MaxPool2D", "pool": 2},
        {"type": "Flatten"}, {"type": "Dense", "units": 100, "activation": "relu"}, {"type": "Dense", "units": 10},
        {"type": "Softmax"}]}
    s = {row["name"]: row for row in Network(spec).summary()}
    assert s["conv1"]["output_shape"] == [30, 24, 24] and s["conv1"]["params"] == 30 * 25 + 30
    assert s["conv1"]["mult_adds"] == 24 * 24 * 30 * 25
    assert s["maxpool1"]["output_shape"] == [30, 12, 12]
    assert s["dense1"]["params"] == 4320 * 100 + 100 and s["dense1"]["mult_adds"] == 432000
    assert s["conv1_relu"]["spec_index"] == 0


@pytest.mark.parametrize("init,std", [("he_normal", np.sqrt(2 / 400)), ("xavier_normal", np.sqrt(2 / 500)),
                                      ("lecun_normal", np.sqrt(1 / 400)), ({"type": "normal", "std": 0.01}, 0.01),
                                      ("he_uniform", np.sqrt(2 / 400)), ("xavier_uniform", np.sqrt(2 / 500))])
def test_initializer_scales(init, std):
    net = Network({"input_shape": [400], "layers": [{"type": "Dense", "units": 100, "init": init}]}, seed=1)
    w = net.layers[0].params["W"]
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(std, rel=0.03)
    assert np.all(net.layers[0].params["b"] == 0)
