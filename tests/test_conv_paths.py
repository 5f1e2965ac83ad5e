"""Every fast way of computing a convolution's gradients gives the direct im2col way's numbers.

The reference is the book's: the input gradient as the column matrix
``g · Wᵀ`` scattered back with col2im, for every shape, stride and padding.
"""

import numpy as np
import pytest

from playground.engine.nn.conv import Conv2D, col2im, im2col, input_grad_costs
from playground.engine.nn.fused import FUSE_MAX_PATCH, ConvReluMaxPool, plan_steps
from playground.engine.nn.network import Network


def conv_layer(c, f, k, stride, pad, hw, dtype=np.float64):
    spec = {"input_shape": [c, *hw], "layers": [
        {"type": "Conv2D", "filters": f, "kernel": k, "stride": stride, "padding": pad},
        {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
    net = Network(spec, dtype=dtype)
    conv = net.layers[0]
    conv.need_input_grad = True
    return conv


def reference_input_grad(conv, x, g):
    n = x.shape[0]
    gm = g.transpose(0, 2, 3, 1).reshape(-1, conv.filters)
    return col2im(gm @ conv.params["W"].reshape(conv.filters, -1), x.shape, conv.kh, conv.kw, conv.stride, conv.pad)


CASES = [  # (C, F, kernel, stride, padding, (H, W))
    (3, 4, 3, 1, 1, (8, 8)), (2, 5, 3, 1, 0, (7, 9)), (4, 3, 3, 1, 2, (6, 5)),   # 3×3, the padding 0 to 2
    (2, 3, 5, 1, 2, (9, 8)), (2, 3, 5, 1, 4, (5, 6)), (1, 2, 1, 1, 0, (4, 4)),   # 5×5, 1×1
    (3, 4, 3, 2, 1, (9, 8)), (2, 3, 2, 3, 1, (8, 7)), (2, 2, 5, 1, 5, (4, 4)),   # strides > 1, padding > k − 1
    (16, 16, 3, 1, 1, (12, 12)), (32, 64, 3, 1, 1, (8, 8)),                      # deep-convnet's shapes
]


@pytest.mark.parametrize("c,f,k,stride,pad,hw", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_input_gradient_equals_col2im(c, f, k, stride, pad, hw, dtype):
    conv = conv_layer(c, f, k, stride, pad, hw, dtype)
    rng = np.random.default_rng(c * 100 + f * 10 + k)
    x = rng.standard_normal((3, c, *hw)).astype(dtype)
    out = conv.forward(x, training=True)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = conv.backward(g)
    assert dx.shape == x.shape and dx.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(dx, reference_input_grad(conv, x, g), rtol=tol, atol=tol)
    # the weight gradient is the book's too: colᵀ · g
    gm = g.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (im2col(x, k, k, stride, pad).T @ gm).T.reshape(conv.params["W"].shape)
    np.testing.assert_allclose(conv.grads["W"], dw, rtol=tol * 10, atol=tol * 10)


def test_both_input_gradient_paths_are_exercised():
    """The cases above run the transposed path and the fold path alike, so both are compared."""
    paths = {conv_layer(c, f, k, s, p, hw).transposed_path for c, f, k, s, p, hw in CASES}
    assert paths == {True, False}
    # the transposed way is only taken where it is possible: stride 1, padding <= k - 1
    assert not conv_layer(3, 4, 3, 2, 1, (9, 8)).transposed_path
    assert not conv_layer(2, 2, 5, 1, 5, (4, 4)).transposed_path
    # deep-convnet's 3×3 padding-1 layers take it; LeNet's unpadded 5×5 (which would multiply a ring of zeros
    # twice the output's size) does not
    assert conv_layer(16, 16, 3, 1, 1, (28, 28)).transposed_path
    assert not conv_layer(6, 16, 5, 1, 0, (14, 14)).transposed_path


def test_input_gradient_costs_by_hand():
    # C=16, F=16, 3×3 over 784 pixels in and out: 16·9·784·(0.42 + 16·0.05) against 16·9·784·(1.33 + 16·0.05)
    t, f = input_grad_costs(16, 16, 3, 784, 784)
    assert t == pytest.approx(16 * 9 * 784 * 1.22) and f == pytest.approx(16 * 9 * 784 * 2.13)


def test_long_patches_are_not_fused():
    spec = {"input_shape": [8, 12, 12], "layers": [
        {"type": "Conv2D", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},   # 72 > 64
        {"type": "MaxPool2D", "pool": 2},
        {"type": "Conv2D", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},   # 36 <= 64
        {"type": "MaxPool2D", "pool": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
    net = Network(spec)
    assert net.layers[0].k > FUSE_MAX_PATCH >= net.layers[3].k
    steps = plan_steps(net.train_layers)
    assert [type(s).__name__ for s in steps] == ["Conv2D", "ReLU", "MaxPool2D", "ConvReluMaxPool", "Flatten",
                                                 "Dense"]
    assert isinstance(steps[3], ConvReluMaxPool) and isinstance(steps[3].conv, Conv2D)
