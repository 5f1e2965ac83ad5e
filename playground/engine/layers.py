"""Layers. One contract for all of them.

A layer is declared with what a user chooses (units, kernel, stride, ...).
``build(input_shape, rng, dtype)`` receives the per-sample input shape from the
previous layer, checks that it fits, creates parameters and returns the
output shape. Then:

- ``forward(x, training)`` returns the output and caches only what
  ``backward`` needs;
- ``backward(grad)`` returns the gradient with respect to the input as a new
  array (the incoming one is never modified) and leaves parameter gradients in
  ``self.grads`` under the same keys as ``self.params``.

Shapes are ``(N, features)`` for flat data and ``(N, C, H, W)`` for images.
``self.decay[key]`` is 1 for weights and 0 for biases and batch-norm
parameters: L1/L2 regularization and weight decay apply only where it is 1.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import ShapeError, SpecError
from .initializers import initialize, normalize_init

Shape = tuple[int, ...]


def _int(cfg: dict, key: str, owner: str, minimum: int = 1, default: Any = None) -> int:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or value != int(value):
        raise SpecError(f"{owner}: '{key}' must be a whole number >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise SpecError(f"{owner}: '{key}' must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _float(cfg: dict, key: str, owner: str, default: float, lo: float = 0.0, hi: float = math.inf,
           hi_open: bool = False) -> float:
    value = cfg.get(key, default)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{owner}: '{key}' must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < lo or v > hi or (hi_open and v >= hi):
        bound = f"in [{lo}, {hi})" if hi_open else (f"in [{lo}, {hi}]" if math.isfinite(hi) else f">= {lo}")
        raise SpecError(f"{owner}: '{key}' must be {bound}, got {value!r}")
    return v


class Layer:
    """Base class: bookkeeping shared by all layers."""

    type_name: ClassVar[str] = "Layer"
    #: config keys a spec may set (besides type and name)
    options: ClassVar[tuple[str, ...]] = ()
    has_params: ClassVar[bool] = False

    def __init__(self, name: str | None = None, **cfg: Any):
        unknown = set(cfg) - set(self.options) - {"activation", "spec_index"}
        if unknown:
            raise SpecError(f"{self.type_name} has no setting {', '.join(sorted(unknown))}; "
                            f"its settings are: {', '.join(self.options) or 'none'}")
        self.name = name or self.type_name.lower()
        self.cfg = cfg
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.decay: dict[str, float] = {}
        self.state: dict[str, np.ndarray] = {}   # non-trainable (BN running stats)
        self.input_shape: Shape = ()
        self.output_shape: Shape = ()
        self.need_input_grad = True  # the first layer skips computing d/dx
        self.l1 = 0.0
        self.l2 = 0.0
        self.spec_index = cfg.get("spec_index")

    # -- building -------------------------------------------------------
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype=np.float32,
              source: str = "input") -> Shape:
        self.input_shape = tuple(int(s) for s in input_shape)
        self.dtype = np.dtype(dtype)
        self.output_shape = self._build(self.input_shape, rng, source)
        return self.output_shape

    def _build(self, input_shape: Shape, rng: np.random.Generator, source: str) -> Shape:
        return input_shape

    def _add_param(self, key: str, value: np.ndarray, decay: float) -> None:
        self.params[key] = value
        self.grads[key] = np.zeros_like(value)
        self.decay[key] = decay

    def _shape_error(self, expected: str, source: str, fix: dict | None = None, hint: str = "") -> ShapeError:
        msg = (f"{self.type_name} '{self.name}' needs {expected}, got {self.input_shape} from '{source}'"
               + (f"; {hint}" if hint else ""))
        return ShapeError(msg, layer_index=self.spec_index, layer_name=self.name, fix=fix)

    # -- running ----------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- description -------------------------------------------------------
    def param_count(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def mult_adds(self) -> int:
        """Multiply-adds of one forward pass for one sample."""
        return 0

    def get_config(self) -> dict[str, Any]:
        cfg = {"type": self.type_name, "name": self.name}
        cfg.update({k: v for k, v in self.cfg.items() if k in self.options})
        return cfg


# ============================================================== core layers

class Dense(Layer):
    """Fully connected (Affine): y = x·W + b, with W of shape (in, units)."""

    type_name = "Dense"
    options = ("units", "init", "l1", "l2", "use_bias")
    has_params = True

    def _build(self, input_shape, rng, source):
        self.units = _int(self.cfg, "units", f"Dense '{self.name}'")
        if len(input_shape) != 1:
            raise self._shape_error("a flat (features,) input", source,
                                    fix={"insert": {"type": "Flatten"}, "at": self.spec_index},
                                    hint="insert a Flatten before it")
        self.l1 = _float(self.cfg, "l1", f"Dense '{self.name}'", 0.0)
        self.l2 = _float(self.cfg, "l2", f"Dense '{self.name}'", 0.0)
        normalize_init(self.cfg.get("init"))
        fan_in = input_shape[0]
        w = initialize(self.cfg.get("init"), (fan_in, self.units), fan_in, self.units, rng, self.dtype,
                       activation=self.cfg.get("activation"))
        self._add_param("W", w, 1.0)
        if self.cfg.get("use_bias", True):
            self._add_param("b", np.zeros(self.units, dtype=self.dtype), 0.0)
        return (self.units,)

    def forward(self, x, training=False):
        self.x = x
        out = x @ self.params["W"]
        if "b" in self.params:
            out += self.params["b"]
        return out

    def backward(self, grad):
        np.matmul(self.x.T, grad, out=self.grads["W"])
        if "b" in self.params:
            np.sum(grad, axis=0, out=self.grads["b"])
        if not self.need_input_grad:
            return None
        return grad @ self.params["W"].T

    def mult_adds(self):
        return self.input_shape[0] * self.units


class Flatten(Layer):
    """Flatten (C, H, W) into C·H·W features; no parameters."""

    type_name = "Flatten"

    def _build(self, input_shape, rng, source):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad):
        return grad.reshape(self.x_shape)


# ============================================================== convolution

def conv_output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, pad: int = 0,
           out: np.ndarray | None = None) -> np.ndarray:
    """Unfold image patches into rows.

    ``x``: (N, C, H, W) → (N·OH·OW, C·kh·kw); row ``(n, i, j)`` holds the patch
    whose top-left corner is at ``(i·stride − pad, j·stride − pad)``, its columns
    ordered (C, kh, kw) like the filter weights. One strided view, one copy.
    """
    n, c, h, w = x.shape
    oh = conv_output_size(h, kh, stride, pad)
    ow = conv_output_size(w, kw, stride, pad)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    if out is None or out.shape != (n * oh * ow, c * kh * kw) or out.dtype != x.dtype:
        out = np.empty((n * oh * ow, c * kh * kw), dtype=x.dtype)
    np.copyto(out.reshape(n, oh, ow, c, kh, kw), win.transpose(0, 2, 3, 1, 4, 5))
    return out


def col2im(col: np.ndarray, x_shape: Shape, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The adjoint of :func:`im2col`: scatter-add rows back into (N, C, H, W).

    Loops over the kh·kw kernel offsets only; each iteration is one vectorised
    add over every sample, channel and output position.
    """
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, stride, pad)
    ow = conv_output_size(w, kw, stride, pad)
    d = col.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, OH, OW)
    dx = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += d[:, :, i, j]
    if pad:
        return dx[:, :, pad:h + pad, pad:w + pad]
    return dx


class Conv2D(Layer):
    """2-D convolution by im2col: out = col(x) · W + b.

    Weights have shape (filters, C, kh, kw); output (filters, OH, OW) with
    OH = (H + 2·padding − kernel) // stride + 1.
    """

    type_name = "Conv2D"
    options = ("filters", "kernel", "stride", "padding", "init", "l1", "l2")
    has_params = True

    def _build(self, input_shape, rng, source):
        owner = f"Conv2D '{self.name}'"
        self.filters = _int(self.cfg, "filters", owner)
        k = self.cfg.get("kernel", 3)
        if isinstance(k, (list, tuple)) and len(k) == 2:
            self.kh = _int({"kernel": k[0]}, "kernel", owner)
            self.kw = _int({"kernel": k[1]}, "kernel", owner)
        else:
            self.kh = self.kw = _int(self.cfg, "kernel", owner, default=3)
        self.stride = _int(self.cfg, "stride", owner, default=1)
        self.pad = _int(self.cfg, "padding", owner, minimum=0, default=0)
        self.l1 = _float(self.cfg, "l1", owner, 0.0)
        self.l2 = _float(self.cfg, "l2", owner, 0.0)
        if len(input_shape) != 3:
            raise self._shape_error("a (C, H, W) input", source,
                                    hint="convolutions need images; put them before any Flatten or Dense")
        c, h, w = input_shape
        if h + 2 * self.pad < self.kh or w + 2 * self.pad < self.kw:
            raise self._shape_error(
                f"an input of at least {self.kh - 2 * self.pad}×{self.kw - 2 * self.pad} for a "
                f"{self.kh}×{self.kw} kernel with padding {self.pad}", source,
                hint="use a smaller kernel, more padding, or fewer pooling layers before it")
        normalize_init(self.cfg.get("init"))
        fan_in = c * self.kh * self.kw
        fan_out = self.filters * self.kh * self.kw
        wt = initialize(self.cfg.get("init"), (self.filters, c, self.kh, self.kw), fan_in, fan_out, rng,
                        self.dtype, activation=self.cfg.get("activation"))
        self._add_param("W", wt, 1.0)
        self._add_param("b", np.zeros(self.filters, dtype=self.dtype), 0.0)
        self.oh = conv_output_size(h, self.kh, self.stride, self.pad)
        self.ow = conv_output_size(w, self.kw, self.stride, self.pad)
        self._col = None
        return (self.filters, self.oh, self.ow)

    def forward(self, x, training=False):
        n = x.shape[0]
        self.x_shape = x.shape
        col = im2col(x, self.kh, self.kw, self.stride, self.pad, out=self._col)
        self._col = col  # reused next batch: no page faults for a fresh buffer
        wmat = self.params["W"].reshape(self.filters, -1).T
        out = col @ wmat
        out += self.params["b"]
        # (N·OH·OW, F) viewed as (N, F, OH, OW) without a copy
        return out.reshape(n, self.oh, self.ow, self.filters).transpose(0, 3, 1, 2)

    def backward(self, grad):
        gm = grad.transpose(0, 2, 3, 1).reshape(-1, self.filters)
        dw = self._col.T @ gm  # (C·kh·kw, F)
        self.grads["W"][...] = dw.T.reshape(self.params["W"].shape)
        np.sum(gm, axis=0, out=self.grads["b"])
        if not self.need_input_grad:
            return None
        dcol = gm @ self.params["W"].reshape(self.filters, -1)
        return col2im(dcol, self.x_shape, self.kh, self.kw, self.stride, self.pad)

    def mult_adds(self):
        return self.oh * self.ow * self.filters * self.input_shape[0] * self.kh * self.kw


class _Pool(Layer):
    """Shared by max and average pooling: windows of pool×pool moved by stride."""

    options = ("pool", "stride", "padding")

    def _build(self, input_shape, rng, source):
        owner = f"{self.type_name} '{self.name}'"
        self.pool = _int(self.cfg, "pool", owner, default=2)
        self.stride = _int(self.cfg, "stride", owner, default=self.pool)
        self.pad = _int(self.cfg, "padding", owner, minimum=0, default=0)
        if len(input_shape) != 3:
            raise self._shape_error("a (C, H, W) input", source,
                                    hint="pooling works on images; put it before any Flatten or Dense")
        c, h, w = input_shape
        if self.pad * 2 > self.pool:
            raise SpecError(f"{owner}: padding {self.pad} is more than half the pool size {self.pool}")
        if h + 2 * self.pad < self.pool or w + 2 * self.pad < self.pool:
            raise self._shape_error(f"an input of at least {self.pool}×{self.pool}", source,
                                    hint="use a smaller pool or fewer pooling layers")
        self.oh = conv_output_size(h, self.pool, self.stride, self.pad)
        self.ow = conv_output_size(w, self.pool, self.stride, self.pad)
        return (c, self.oh, self.ow)

    def _windows(self):
        """(i, j, rows slice, cols slice) for each offset inside the window."""
        s, oh, ow = self.stride, self.oh, self.ow
        for i in range(self.pool):
            for j in range(self.pool):
                yield i, j, slice(i, i + s * oh, s), slice(j, j + s * ow, s)

    def _padded(self, x, fill):
        if not self.pad:
            return x
        p = self.pad
        return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)

    def _unpad(self, dx):
        if not self.pad:
            return dx
        p = self.pad
        return dx[:, :, p:dx.shape[2] - p, p:dx.shape[3] - p]

    def mult_adds(self):
        return self.input_shape[0] * self.oh * self.ow * self.pool * self.pool


class MaxPool2D(_Pool):
    """Max pooling: each output is the largest input in its window.

    The gradient goes to the first maximum of each window (as argmax would).
    """

    type_name = "MaxPool2D"

    def forward(self, x, training=False):
        xp = self._padded(x, -np.inf)
        self.xp_shape = xp.shape
        out = None
        for _, _, rs, cs in self._windows():
            v = xp[:, :, rs, cs]
            out = v.copy() if out is None else np.maximum(out, v, out=out)
        self.xp = xp
        self.out = out
        return out

    def backward(self, grad):
        dx = np.zeros(self.xp_shape, dtype=grad.dtype)
        taken = np.zeros(self.out.shape, dtype=bool)
        for _, _, rs, cs in self._windows():
            hit = self.xp[:, :, rs, cs] == self.out
            hit &= ~taken
            taken |= hit
            dx[:, :, rs, cs] += np.where(hit, grad, 0)
        return self._unpad(dx)


class AvgPool2D(_Pool):
    """Average pooling: each output is the mean of its window (padding counts as zeros)."""

    type_name = "AvgPool2D"

    def forward(self, x, training=False):
        xp = self._padded(x, 0)
        self.xp_shape = xp.shape
        out = None
        for _, _, rs, cs in self._windows():
            v = xp[:, :, rs, cs]
            out = v.copy() if out is None else np.add(out, v, out=out)
        out *= 1.0 / (self.pool * self.pool)
        return out

    def backward(self, grad):
        dx = np.zeros(self.xp_shape, dtype=grad.dtype)
        g = grad * (1.0 / (self.pool * self.pool))
        for _, _, rs, cs in self._windows():
            dx[:, :, rs, cs] += g
        return self._unpad(dx)


# ============================================================== normalization

class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015).

    x̂ = (x − μ_B) / √(σ²_B + ε);  y = γ·x̂ + β. Statistics are per feature for
    (N, D) inputs and per channel for (N, C, H, W) inputs. At inference the
    running averages μ ← m·μ + (1 − m)·μ_B (m = momentum) are used instead.
    """

    type_name = "BatchNorm"
    options = ("momentum", "eps")
    has_params = True

    def _build(self, input_shape, rng, source):
        owner = f"BatchNorm '{self.name}'"
        self.momentum = _float(self.cfg, "momentum", owner, 0.9, 0.0, 1.0, hi_open=True)
        self.eps = _float(self.cfg, "eps", owner, 1e-5, 0.0)
        if len(input_shape) not in (1, 3):
            raise self._shape_error("a (features,) or (C, H, W) input", source)
        c = input_shape[0]
        self.axes = (0,) if len(input_shape) == 1 else (0, 2, 3)
        self.bshape = (1, c) if len(input_shape) == 1 else (1, c, 1, 1)
        self._add_param("gamma", np.ones(c, dtype=self.dtype), 0.0)
        self._add_param("beta", np.zeros(c, dtype=self.dtype), 0.0)
        self.state["running_mean"] = np.zeros(c, dtype=self.dtype)
        self.state["running_var"] = np.ones(c, dtype=self.dtype)
        return input_shape

    def forward(self, x, training=False):
        if training:
            mu = x.mean(axis=self.axes)
            var = x.var(axis=self.axes)
            m = self.momentum
            self.state["running_mean"] *= m
            self.state["running_mean"] += (1 - m) * mu
            self.state["running_var"] *= m
            self.state["running_var"] += (1 - m) * var
        else:
            mu, var = self.state["running_mean"], self.state["running_var"]
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        self.xhat = (x - mu.reshape(self.bshape)) * self.inv_std.reshape(self.bshape)
        return self.xhat * self.params["gamma"].reshape(self.bshape) + self.params["beta"].reshape(self.bshape)

    def backward(self, grad):
        b = self.bshape
        self.grads["beta"][...] = grad.sum(axis=self.axes)
        self.grads["gamma"][...] = (grad * self.xhat).sum(axis=self.axes)
        if not self.need_input_grad:
            return None
        m = grad.size // grad.shape[1]
        dxhat = grad * self.params["gamma"].reshape(b)
        s1 = dxhat.sum(axis=self.axes).reshape(b)
        s2 = (dxhat * self.xhat).sum(axis=self.axes).reshape(b)
        return (self.inv_std.reshape(b) / m) * (m * dxhat - s1 - self.xhat * s2)

    def mult_adds(self):
        return 2 * int(np.prod(self.input_shape))


class Dropout(Layer):
    """Inverted dropout: in training y = x·mask / (1 − rate), mask ~ Bernoulli(1 − rate);
    at inference y = x. The mask comes from the network's seeded Generator."""

    type_name = "Dropout"
    options = ("rate",)

    def _build(self, input_shape, rng, source):
        self.rate = _float(self.cfg, "rate", f"Dropout '{self.name}'", 0.5, 0.0, 1.0, hi_open=True)
        self.rng = np.random.default_rng(0)  # the network replaces it with its dropout stream
        return input_shape

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate
        self.mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.rate))
        return x * self.mask

    def backward(self, grad):
        return grad if self.mask is None else grad * self.mask


# ============================================================== activations

class Activation(Layer):
    """Element-wise activation; ``key`` is the name used in specs (``"relu"``)."""

    key: ClassVar[str] = ""
    formula: ClassVar[str] = ""

    def mult_adds(self):
        return 0


class ReLU(Activation):
    """ReLU: y = max(0, x); dy/dx = 1 where x > 0, else 0."""

    type_name, key, formula = "ReLU", "relu", "max(0, x)"

    def forward(self, x, training=False):
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad):
        return np.where(self.mask, grad, 0).astype(grad.dtype, copy=False)


class LeakyReLU(Activation):
    """Leaky ReLU: y = x for x > 0, α·x otherwise (α = alpha, 0.01)."""

    type_name, key, formula = "LeakyReLU", "leaky_relu", "x if x > 0 else αx"
    options = ("alpha",)

    def _build(self, input_shape, rng, source):
        self.alpha = _float(self.cfg, "alpha", f"LeakyReLU '{self.name}'", 0.01)
        return input_shape

    def forward(self, x, training=False):
        self.mask = x > 0
        return np.where(self.mask, x, self.alpha * x).astype(x.dtype, copy=False)

    def backward(self, grad):
        return np.where(self.mask, grad, self.alpha * grad).astype(grad.dtype, copy=False)


class ELU(Activation):
    """ELU: y = x for x > 0, α·(eˣ − 1) otherwise."""

    type_name, key, formula = "ELU", "elu", "x if x > 0 else α(eˣ − 1)"
    options = ("alpha",)

    def _build(self, input_shape, rng, source):
        self.alpha = _float(self.cfg, "alpha", f"ELU '{self.name}'", 1.0)
        return input_shape

    def forward(self, x, training=False):
        self.x = x
        neg = self.alpha * np.expm1(np.minimum(x, 0))
        self.out = np.where(x > 0, x, neg).astype(x.dtype, copy=False)
        return self.out

    def backward(self, grad):
        return np.where(self.x > 0, grad, grad * (self.out + self.alpha)).astype(grad.dtype, copy=False)


class Sigmoid(Activation):
    """Sigmoid: y = 1 / (1 + e⁻ˣ); dy/dx = y·(1 − y)."""

    type_name, key, formula = "Sigmoid", "sigmoid", "1 / (1 + e⁻ˣ)"

    def forward(self, x, training=False):
        self.out = sigmoid(x)
        return self.out

    def backward(self, grad):
        return grad * self.out * (1.0 - self.out)


class Tanh(Activation):
    """Tanh: y = tanh(x); dy/dx = 1 − y²."""

    type_name, key, formula = "Tanh", "tanh", "tanh(x)"

    def forward(self, x, training=False):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1.0 - self.out * self.out)


class Step(Activation):
    """Step (the perceptron's): y = 1 if x > 0 else 0.

    Its derivative is 0 everywhere (and undefined at 0), so no gradient passes
    through it: layers before it cannot learn by backpropagation. Backward
    returns zeros and sets ``zero_gradient`` so the trainer can say so.
    """

    type_name, key, formula = "Step", "step", "1 if x > 0 else 0"

    def forward(self, x, training=False):
        return (x > 0).astype(x.dtype)

    def backward(self, grad):
        self.zero_gradient = True
        return np.zeros_like(grad)


class Identity(Activation):
    """Identity: y = x (a linear output, e.g. for regression)."""

    type_name, key, formula = "Identity", "identity", "x"

    def forward(self, x, training=False):
        return x

    def backward(self, grad):
        return grad


class Softmax(Activation):
    """Softmax output: yₖ = e^{xₖ} / Σⱼ e^{xⱼ} over the last axis.

    Followed by cross-entropy, it is fused with the loss (the gradient is then
    simply y − t); alone its backward is dx = y ⊙ (g − Σ g⊙y).
    """

    type_name, key, formula = "Softmax", "softmax", "e^{xₖ} / Σⱼ e^{xⱼ}"

    def _build(self, input_shape, rng, source):
        if len(input_shape) != 1:
            raise self._shape_error("a flat (classes,) input", source,
                                    fix={"insert": {"type": "Flatten"}, "at": self.spec_index},
                                    hint="insert Flatten and Dense layers before it")
        return input_shape

    def forward(self, x, training=False):
        self.out = softmax(x)
        return self.out

    def backward(self, grad):
        y = self.out
        return y * (grad - np.sum(grad * y, axis=-1, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable 1 / (1 + e⁻ˣ)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


# ============================================================== registry

LAYERS: dict[str, type[Layer]] = {
    cls.type_name: cls for cls in (
        Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, BatchNorm, Dropout,
        ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Step, Identity, Softmax)
}
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.key: cls for cls in LAYERS.values() if issubclass(cls, Activation)
}
_ALIASES = {"affine": "Dense", "linear": "Dense", "conv": "Conv2D", "conv2d": "Conv2D",
            "maxpool": "MaxPool2D", "pooling": "MaxPool2D", "avgpool": "AvgPool2D",
            "batchnormalization": "BatchNorm", "batchnorm": "BatchNorm"}


def layer_class(type_name: str) -> type[Layer]:
    """The class for a spec's ``type`` (case-insensitive); unknown names list the known ones."""
    if not isinstance(type_name, str):
        raise SpecError(f"a layer's 'type' must be a name, got {type_name!r}")
    by_lower = {k.lower(): v for k, v in LAYERS.items()}
    cls = by_lower.get(type_name.lower()) or LAYERS.get(_ALIASES.get(type_name.lower(), ""))
    if cls is None:
        act = ACTIVATIONS.get(type_name.lower())
        if act is not None:
            return act
        raise SpecError(f"unknown layer type {type_name!r}; known: {', '.join(LAYERS)}")
    return cls


def activation_class(name: str) -> type[Activation]:
    cls = ACTIVATIONS.get(str(name).lower())
    if cls is None:
        raise SpecError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return cls
