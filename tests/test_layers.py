"""Every layer's backward against central differences in float64."""

import numpy as np
import pytest

from playground.engine.errors import ShapeError, SpecError
from playground.engine.nn.gradcheck import gradient_check
from playground.engine.nn.conv import col2im, im2col
from playground.engine.nn.network import Network

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


@pytest.mark.parametrize("variant,train_scale,test_scale", [("inverted", 1 / 0.75, 1.0), ("book", 1.0, 0.75)])
def test_dropout_variants_scale_in_training_or_at_inference(variant, train_scale, test_scale):
    spec = {"input_shape": [4], "layers": [{"type": "Dropout", "rate": 0.25, "variant": variant},
                                           {"type": "Dense", "units": 2}]}
    drop = Network(spec, dtype=np.float64).layers[0]
    x = np.array([[1.0, -2.0, 3.0, 4.0], [0.5, 0.0, -1.0, 2.0]])
    keep = np.array([[True, False, True, True], [False, True, True, False]])
    drop.preset_keep = keep
    np.testing.assert_allclose(drop.forward(x, training=True), x * keep * train_scale)
    g = np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(drop.backward(g), g * keep * train_scale)
    np.testing.assert_allclose(drop.forward(x, training=False), x * test_scale)
    np.testing.assert_allclose(drop.backward(g), g * test_scale)  # the saliency map's gradient


def test_book_dropout_backward_matches_central_differences_with_a_fixed_mask():
    spec = {"input_shape": [6], "layers": [{"type": "Dense", "units": 8, "activation": "tanh"},
                                           {"type": "Dropout", "rate": 0.3, "variant": "book"},
                                           {"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    res = check(spec, (5, 6))
    assert res.checked["dense1.W"] == (48, 48)


def test_dropout_variant_must_be_known():
    with pytest.raises(SpecError, match="'variant' must be one of inverted, book, got 'paper'"):
        Network({"input_shape": [3], "layers": [{"type": "Dropout", "variant": "paper"}, {"type": "Dense", "units": 2}]})


def test_gradient_check_reports_entries_checked_and_both_timings():
    spec = {"input_shape": [30], "layers": [{"type": "Dense", "units": 4}, {"type": "Softmax"}]}
    net = Network(spec, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 30))
    res = gradient_check(net, x, np.array([0, 3]), max_entries=50)
    assert res.checked == {"dense1.W": (50, 120), "dense1.b": (4, 4), "input": (50, 60)}
    assert res.seconds_backprop > 0 and res.seconds_numerical > 0


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
                                      ({"type": "normal", "std": 1.0}, 1.0), ({"type": "normal", "std": 0.3}, 0.3),
                                      ("he_uniform", np.sqrt(2 / 400)), ("xavier_uniform", np.sqrt(2 / 500))])
def test_initializer_scales(init, std):
    net = Network({"input_shape": [400], "layers": [{"type": "Dense", "units": 100, "init": init}]}, seed=1)
    w = net.layers[0].params["W"]
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(std, rel=0.03)
    assert np.all(net.layers[0].params["b"] == 0)


# ---------------------------------------------------------------- fast paths and layouts

def test_unfold_fold_are_adjoint_and_im2col_is_the_transposed_unfold():
    from playground.engine.nn.conv import fold, unfold
    rng = np.random.default_rng(0)
    for c, kh, kw, stride, pad in [(1, 5, 5, 1, 0), (3, 3, 2, 2, 1), (2, 2, 3, 3, 2)]:
        x = rng.standard_normal((2, c, 9, 8))
        cols = unfold(x, kh, kw, stride, pad)
        n, k, p = cols.shape
        assert k == c * kh * kw
        np.testing.assert_array_equal(im2col(x, kh, kw, stride, pad), cols.transpose(0, 2, 1).reshape(n * p, k))
        d = rng.standard_normal(cols.shape)
        assert float(np.vdot(cols, d)) == pytest.approx(float(np.vdot(x, fold(d, x.shape, kh, kw, stride, pad))),
                                                        rel=1e-10)
        # unfolding into a slice of a larger buffer writes that buffer, not a copy
        big = np.full((n, k + 1, p), 7.0)
        unfold(x, kh, kw, stride, pad, out=big[:, :k])
        np.testing.assert_array_equal(big[:, :k], cols)
        assert np.all(big[:, k] == 7.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_forward_backward_keep_dtype_and_match_im2col(dtype):
    spec = {"input_shape": [3, 9, 8], "layers": [{"type": "Conv2D", "filters": 4, "kernel": 3, "stride": 2,
                                                  "padding": 1}, {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
    net = Network(spec, dtype=dtype)
    conv = net.layers[0]
    conv.need_input_grad = True
    rng = np.random.default_rng(1)
    conv.params["b"][:] = rng.standard_normal(4)
    x = rng.standard_normal((5, 3, 9, 8)).astype(dtype)
    out = conv.forward(x, training=True)
    assert out.dtype == dtype and out.shape == (5, 4, 5, 4) and out.flags.c_contiguous
    col = im2col(x, 3, 3, 2, 1)
    ref = (col @ conv.params["W"].reshape(4, -1).T + conv.params["b"]).reshape(5, 5, 4, 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
    g = rng.standard_normal(out.shape).astype(dtype)
    g_t = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # same values, other layout
    dx = conv.backward(g)
    dw, db = conv.grads["W"].copy(), conv.grads["b"].copy()
    dx_t = conv.backward(g_t)
    assert dx.dtype == dtype and conv.grads["W"].dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx_t, dx, rtol=tol, atol=tol)
    np.testing.assert_allclose(conv.grads["W"], dw, rtol=tol, atol=tol)
    gm = g.transpose(0, 2, 3, 1).reshape(-1, 4)
    np.testing.assert_allclose(dw, (col.T @ gm).T.reshape(dw.shape), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(db, gm.sum(0), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(dx, col2im(gm @ conv.params["W"].reshape(4, -1), x.shape, 3, 3, 2, 1),
                               rtol=tol * 10, atol=tol * 10)


def _pool_pair(pool_type, pool, shape, dtype=np.float64):
    """Two copies of one pooling layer: the tiled fast path and the general path."""
    spec = {"input_shape": list(shape), "layers": [{"type": pool_type, "pool": pool}] + dense_head(2)}
    fast = Network(spec, dtype=dtype).layers[0]
    general = Network(spec, dtype=dtype).layers[0]
    assert fast.tiled
    general.tiled = False
    return fast, general


@pytest.mark.parametrize("pool_type", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("pool,shape", [(2, (3, 8, 6)), (2, (3, 7, 9)), (3, (2, 8, 7)), (1, (2, 3, 4))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_pooling_equals_the_general_path(pool_type, pool, shape, dtype):
    fast, general = _pool_pair(pool_type, pool, shape, dtype)
    rng = np.random.default_rng(2)
    # few distinct values (and many zeros, as after a ReLU): plenty of ties inside windows
    x = np.maximum(rng.integers(-3, 3, (4, *shape)), 0).astype(dtype)
    g = rng.standard_normal((4, *fast.output_shape)).astype(dtype)
    g_before = g.copy()
    out_f, out_g = fast.forward(x, True), general.forward(x, True)
    assert out_f.dtype == dtype
    np.testing.assert_array_equal(out_f, out_g)
    dx_f, dx_g = fast.backward(g), general.backward(g)
    assert dx_f.dtype == dtype and dx_f.shape == x.shape
    np.testing.assert_array_equal(dx_f, dx_g)
    np.testing.assert_array_equal(g, g_before)
    if pool_type == "MaxPool2D":  # each window passes its whole gradient to exactly one input
        np.testing.assert_allclose(dx_f.sum(), g.sum(), rtol=1e-5)
        assert np.count_nonzero(dx_f) <= g.size


@pytest.mark.parametrize("pool_type", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("pool", [2, 3])
def test_tiled_pooling_gradient_check_with_leftover_rows(pool_type, pool):
    # after the ReLU many windows tie at 0; 9×7 leaves rows and columns outside every window
    spec = {"input_shape": [2, 10, 8], "layers": [
        {"type": "Conv2D", "filters": 2, "kernel": 2, "activation": "relu"},
        {"type": pool_type, "pool": pool}] + dense_head()}
    assert Network(spec).layers[2].tiled
    check(spec, (3, 2, 10, 8))


@pytest.mark.parametrize("layer_spec", [
    {"type": "ReLU"}, {"type": "LeakyReLU", "alpha": 0.1}, {"type": "ELU"}, {"type": "Sigmoid"}, {"type": "Tanh"},
    {"type": "MaxPool2D", "pool": 2}, {"type": "MaxPool2D", "pool": 3, "stride": 2, "padding": 1},
    {"type": "AvgPool2D", "pool": 2}, {"type": "AvgPool2D", "pool": 2, "stride": 1},
    {"type": "Conv2D", "filters": 3, "kernel": 3, "padding": 1}])
def test_backward_returns_a_new_array_and_leaves_the_gradient_alone(layer_spec):
    spec = {"input_shape": [2, 6, 6], "layers": [{"type": "Conv2D", "filters": 2, "kernel": 1}, layer_spec,
                                                  {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
    net = Network(spec)
    layer = net.layers[1]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 6, 6)).astype(np.float32)
    x_before = x.copy()
    out = layer.forward(x, training=True)
    assert out.dtype == np.float32
    g = rng.standard_normal(out.shape).astype(np.float32)
    g_before = g.copy()
    dx = layer.backward(g)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert not np.shares_memory(dx, g) and not np.shares_memory(dx, x) and not np.shares_memory(dx, out)
    np.testing.assert_array_equal(g, g_before)
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_piecewise_activations_are_exact(dtype):
    from playground.engine.nn.activations import ELU, LeakyReLU, ReLU
    x = np.array([-3.0, -1e-3, -0.0, 0.0, 1e-3, 2.5, 1e30], dtype=dtype)
    g = np.linspace(-1, 1, x.size).astype(dtype)
    for cls, alpha in ((ReLU, None), (LeakyReLU, 0.01), (LeakyReLU, 2.0), (ELU, 0.7)):
        layer = cls(**({} if alpha is None else {"alpha": alpha}))
        layer.build((x.size,), np.random.default_rng(0), dtype)
        y = layer.forward(x.reshape(1, -1), training=True).ravel()
        dx = layer.backward(g.reshape(1, -1)).ravel()
        pos = x > 0
        np.testing.assert_array_equal(y[pos], x[pos])       # the identity part is exact
        np.testing.assert_array_equal(dx[pos], g[pos])
        if cls is ReLU:
            assert np.all(y[~pos] == 0) and np.all(dx[~pos] == 0)
        elif cls is LeakyReLU:
            np.testing.assert_array_equal(y[~pos], dtype(alpha) * x[~pos])
            np.testing.assert_array_equal(dx[~pos], dtype(alpha) * g[~pos])
        else:
            np.testing.assert_allclose(y[~pos], alpha * np.expm1(x[~pos]), rtol=1e-6)
            np.testing.assert_allclose(dx[~pos], g[~pos] * alpha * np.exp(x[~pos]), rtol=1e-6)
        assert y.dtype == dtype and dx.dtype == dtype



def test_nothing_computes_the_input_gradient_in_training_but_a_saliency_map_gets_it():
    """Behind a Flatten the first Dense layer's input gradient would be thrown away: training skips
    that product (as big as the layer's own), input_gradient still gets it right."""
    net = Network({"input_shape": [1, 4, 4], "layers": [
        {"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "tanh"}, {"type": "Dense", "units": 3},
        {"type": "Softmax"}], "loss": "softmax_cross_entropy"}, dtype=np.float64)
    assert [l.need_input_grad for l in net.layers[:3]] == [False, False, True]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 1, 4, 4))
    out = net.forward(x, training=True)
    _, g = net.loss(out, np.array([0, 2]))
    assert net.backward(g) is None
    dx, scores = net.input_gradient(x, np.array([1, 1]))
    assert [l.need_input_grad for l in net.layers[:3]] == [False, False, True]
    eps = 1e-6
    for i in [(0, 0, 1, 2), (1, 0, 3, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        numeric = (net.forward(xp)[i[0], 1] - net.forward(xm)[i[0], 1]) / (2 * eps)
        assert dx[i] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    report = gradient_check(net, x, np.array([0, 2]), check_input=True)
    assert "input" in " ".join(report.errors) and not report.failures(1e-6), str(report)
