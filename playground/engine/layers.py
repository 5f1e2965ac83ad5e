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

import copy
import math
from typing import Any, ClassVar, Iterable, Iterator

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

    def replicate(self) -> "Layer":
        """A twin for another shard of the batch: the same parameters (shared, not copied),
        gradients and per-batch buffers of its own."""
        twin = copy.copy(self)
        twin.grads = {k: np.zeros_like(v) for k, v in self.grads.items()}
        twin._forget_buffers()
        return twin

    def _forget_buffers(self) -> None:
        """Drop references to buffers a layer reuses from batch to batch (see :meth:`replicate`)."""

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


def _offset_slice(start: int, count: int, stride: int) -> slice:
    """``count`` positions from ``start`` ``stride`` apart (stops exactly after the last one)."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def unfold(x: np.ndarray, kh: int, kw: int, stride: int = 1, pad: int = 0,
           out: np.ndarray | None = None) -> np.ndarray:
    """Unfold image patches into columns, sample by sample.

    ``x``: (N, C, H, W) → (N, C·kh·kw, OH·OW). Column ``p = i·OW + j`` of sample
    ``n`` holds the patch whose top-left corner is at ``(i·stride − pad,
    j·stride − pad)``, its rows ordered (C, kh, kw) like the filter weights, so
    ``W.reshape(F, -1) @ unfold(x)`` is the convolution, already laid out as
    (N, F, OH, OW). One strided view, one copy. ``out`` may be any
    (N, C·kh·kw, OH·OW) array, contiguous or a slice of a larger one.
    """
    n, c, h, w = x.shape
    oh = conv_output_size(h, kh, stride, pad)
    ow = conv_output_size(w, kw, stride, pad)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    if out is None:
        out = np.empty((n, c * kh * kw, oh * ow), dtype=x.dtype)
    elif out.shape != (n, c * kh * kw, oh * ow):
        raise ValueError(f"unfold: out must have shape {(n, c * kh * kw, oh * ow)}, got {out.shape}")
    # splitting axes never copies, so this is a view into ``out`` whatever its strides
    np.copyto(out.reshape(n, c, kh, kw, oh, ow), win.transpose(0, 1, 4, 5, 2, 3))
    return out


def fold(cols: np.ndarray, x_shape: Shape, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The adjoint of :func:`unfold`: scatter-add (N, C·kh·kw, OH·OW) columns back into (N, C, H, W).

    Loops over the kh·kw kernel offsets only; each iteration is one vectorised
    add over every sample, channel and output position.
    """
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, stride, pad)
    ow = conv_output_size(w, kw, stride, pad)
    d = cols.reshape(n, c, kh, kw, oh, ow)
    dx = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, _offset_slice(i, oh, stride), _offset_slice(j, ow, stride)] += d[:, :, i, j]
    if pad:
        return dx[:, :, pad:h + pad, pad:w + pad]
    return dx


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, pad: int = 0,
           out: np.ndarray | None = None) -> np.ndarray:
    """Unfold image patches into rows (the book's layout).

    ``x``: (N, C, H, W) → (N·OH·OW, C·kh·kw); row ``(n, i, j)`` holds the patch
    whose top-left corner is at ``(i·stride − pad, j·stride − pad)``, its columns
    ordered (C, kh, kw) like the filter weights. The transpose of
    :func:`unfold`'s per-sample columns, which :class:`Conv2D` uses.
    """
    n, c, h, w = x.shape
    p = conv_output_size(h, kh, stride, pad) * conv_output_size(w, kw, stride, pad)
    k = c * kh * kw
    if out is None or out.shape != (n * p, k) or out.dtype != x.dtype:
        out = np.empty((n * p, k), dtype=x.dtype)
    unfold(x, kh, kw, stride, pad, out=out.reshape(n, p, k).transpose(0, 2, 1))
    return out


def col2im(col: np.ndarray, x_shape: Shape, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The adjoint of :func:`im2col`: scatter-add (N·OH·OW, C·kh·kw) rows back into (N, C, H, W)."""
    n = x_shape[0]
    return fold(col.reshape(n, -1, col.shape[1]).transpose(0, 2, 1), x_shape, kh, kw, stride, pad)


def _sum_of_products(a: np.ndarray, b: np.ndarray, chunk_elements: int = 1 << 18) -> np.ndarray:
    """Σₙ aₙ · bₙ over the first axis, with the per-sample products made a few samples at a time."""
    n = a.shape[0]
    step = max(1, chunk_elements // (a.shape[1] * b.shape[2]))
    total = np.matmul(a[:step], b[:step]).sum(axis=0)
    for lo in range(step, n, step):
        total += np.matmul(a[lo:lo + step], b[lo:lo + step]).sum(axis=0)
    return total


class Conv2D(Layer):
    """2-D convolution by patch unfolding: out = W · unfold(x) + b, sample by sample.

    Weights have shape (filters, C, kh, kw); output (filters, OH, OW) with
    OH = (H + 2·padding − kernel) // stride + 1. The patch matrix carries an
    extra row of ones so the bias rides along in the same matrix product (and
    its gradient comes out of the weight-gradient product), and the output is
    laid out as (N, F, OH, OW) in memory, so the ReLU and pooling after it run
    over contiguous data.
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
        self.k = fan_in
        self._col: np.ndarray | None = None
        return (self.filters, self.oh, self.ow)

    def _forget_buffers(self) -> None:
        self._col = None

    def patch_buffer(self, cached: np.ndarray | None, n: int, columns: int, dtype) -> np.ndarray:
        """``cached`` if it is an (N, C·kh·kw + 1, columns) buffer of ``dtype``, else a new one;
        its last row is ones, so the bias rides along in the weight product.

        Reusing it spares the page faults of a fresh buffer every batch; it never
        leaves its owner.
        """
        shape = (n, self.k + 1, columns)
        if cached is None or cached.shape != shape or cached.dtype != dtype:
            cached = np.empty(shape, dtype=dtype)
            cached[:, self.k] = 1
        return cached

    def weights_with_bias(self, dtype) -> np.ndarray:
        """(F, C·kh·kw + 1): the filters as rows, the bias as the last column."""
        wb = np.empty((self.filters, self.k + 1), dtype=dtype)
        wb[:, :self.k] = self.params["W"].reshape(self.filters, self.k)
        wb[:, self.k] = self.params["b"]
        return wb

    def set_weight_grads(self, g: np.ndarray, col: np.ndarray) -> None:
        """Weight and bias gradients from output gradients ``g`` (N, F, P) and patches ``col`` (N, K+1, P)."""
        # Σₙ gₙ · colₙᵀ: (F, K+1), whose last column (against the row of ones) is the bias gradient
        dwb = _sum_of_products(g, col.transpose(0, 2, 1))
        self.grads["W"][...] = dwb[:, :self.k].reshape(self.params["W"].shape)
        self.grads["b"][...] = dwb[:, self.k]

    def forward(self, x, training=False):
        n = x.shape[0]
        self.x_shape = x.shape
        dtype = np.result_type(x.dtype, self.params["W"].dtype)
        col = self._col = self.patch_buffer(self._col, n, self.oh * self.ow, dtype)
        unfold(x, self.kh, self.kw, self.stride, self.pad, out=col[:, :self.k])
        out = np.matmul(self.weights_with_bias(dtype), col)  # (F, K+1) @ (N, K+1, P) → (N, F, P): per sample
        return out.reshape(n, self.filters, self.oh, self.ow)

    def backward(self, grad):
        n = grad.shape[0]
        g = grad.reshape(n, self.filters, self.oh * self.ow)
        self.set_weight_grads(g, self._col)
        if not self.need_input_grad:
            return None
        dcol = np.matmul(self.params["W"].reshape(self.filters, self.k).T, g)  # (N, K, P)
        return fold(dcol, self.x_shape, self.kh, self.kw, self.stride, self.pad)

    def mult_adds(self):
        return self.oh * self.ow * self.filters * self.input_shape[0] * self.kh * self.kw


class _Pool(Layer):
    """Shared by max and average pooling: windows of pool×pool moved by stride.

    When the windows tile the image (stride == pool, no padding) each input
    belongs to at most one window, and both poolings take a faster path: the
    backward pass assigns each window's gradient instead of zeroing and adding.
    Rows and columns left over at the bottom and right belong to no window.
    """

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
        #: windows tile the input without overlap or padding: the fast path
        self.tiled = self.stride == self.pool and self.pad == 0
        return (c, self.oh, self.ow)

    def _windows(self):
        """(i, j, rows slice, cols slice) for each offset inside the window."""
        s, oh, ow = self.stride, self.oh, self.ow
        for i in range(self.pool):
            for j in range(self.pool):
                yield i, j, _offset_slice(i, oh, s), _offset_slice(j, ow, s)

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

    def _tiled_dx(self, shape, dtype) -> np.ndarray:
        """An uninitialised input gradient whose rows and columns outside every window are 0."""
        dx = np.empty(shape, dtype=dtype)
        h, w = self.oh * self.pool, self.ow * self.pool
        if shape[2] > h:
            dx[:, :, h:] = 0
        if shape[3] > w:
            dx[:, :, :h, w:] = 0
        return dx

    def _reduce(self, x, ufunc, out):
        """``ufunc`` over each window of ``x`` (padded already) into ``out``: one pass per offset."""
        views = [x[:, :, rs, cs] for _, _, rs, cs in self._windows()]
        if len(views) == 1:
            out[...] = views[0]
            return
        ufunc(views[0], views[1], out=out)
        for v in views[2:]:
            ufunc(out, v, out=out)

    def _output(self, x):
        return np.empty((x.shape[0], x.shape[1], self.oh, self.ow), dtype=x.dtype)

    def mult_adds(self):
        return self.input_shape[0] * self.oh * self.ow * self.pool * self.pool


class MaxPool2D(_Pool):
    """Max pooling: each output is the largest input in its window.

    The gradient goes to the first maximum of each window (as argmax would),
    windows read row by row.
    """

    type_name = "MaxPool2D"

    def forward(self, x, training=False):
        self.xp = x if self.tiled else self._padded(x, -np.inf)
        self.out = self._output(self.xp)
        if self.tiled:
            self._tiled_max(self.xp, self.out)
        else:
            self._reduce(self.xp, np.maximum, self.out)
        return self.out

    def _tiled_max(self, x, out):
        """Window maxima in two passes when windows tile the input: along window rows, then down.

        Only the first pass reads every other element (which NumPy runs several
        times slower than contiguous data); per-offset maxima would need pool² such passes.
        """
        p, oh, ow = self.pool, self.oh, self.ow
        rows = x[:, :, :oh * p]
        cols = [rows[..., _offset_slice(j, ow, p)] for j in range(p)]
        if p == 1:
            out[...] = cols[0]
            return
        rowmax = np.maximum(cols[0], cols[1])
        for c in cols[2:]:
            np.maximum(rowmax, c, out=rowmax)
        np.maximum(rowmax[:, :, _offset_slice(0, oh, p)], rowmax[:, :, _offset_slice(1, oh, p)], out=out)
        for i in range(2, p):
            np.maximum(out, rowmax[:, :, _offset_slice(i, oh, p)], out=out)

    def _first_max(self):
        """(rows, cols, mask) per window offset: mask marks the windows whose first maximum sits there."""
        offsets = [(rs, cs) for _, _, rs, cs in self._windows()]
        values = (self.xp[:, :, rs, cs] for rs, cs in offsets)
        for (rs, cs), hit in zip(offsets, first_max_masks(values, self.out, len(offsets))):
            yield rs, cs, hit

    def backward(self, grad):
        if self.tiled:
            # every input is in at most one window: assign, no zeroing and adding
            dx = self._tiled_dx(self.xp.shape, grad.dtype)
            for rs, cs, hit in self._first_max():
                np.multiply(grad, hit, out=dx[:, :, rs, cs])
            return dx
        dx = np.zeros(self.xp.shape, dtype=grad.dtype)
        for rs, cs, hit in self._first_max():
            dx[:, :, rs, cs] += np.multiply(grad, hit)
        return self._unpad(dx)


def first_max_masks(values: Iterable[np.ndarray], maximum: np.ndarray, count: int) -> Iterator[np.ndarray]:
    """For ``count`` candidate arrays in window order, the mask of where each holds its window's first
    maximum (``maximum``): every window goes to exactly one candidate, the last one when none before
    it matched (the maximum must be there), so ties send the gradient to one place only."""
    free = None  # windows whose maximum is still unclaimed
    for k, v in enumerate(values):
        if k == count - 1 and free is not None:
            hit = free
        else:
            hit = np.equal(v, maximum)
            if free is None:
                free = ~hit
            else:
                hit &= free
                free ^= hit
        yield hit


class AvgPool2D(_Pool):
    """Average pooling: each output is the mean of its window (padding counts as zeros)."""

    type_name = "AvgPool2D"

    def forward(self, x, training=False):
        self.x_shape = x.shape
        xp = self._padded(x, 0)
        out = self._output(xp)
        self._reduce(xp, np.add, out)
        out *= 1.0 / (self.pool * self.pool)
        return out

    def backward(self, grad):
        g = grad * (1.0 / (self.pool * self.pool))
        if self.tiled:
            dx = self._tiled_dx(self.x_shape, g.dtype)
            for _, _, rs, cs in self._windows():
                dx[:, :, rs, cs] = g
            return dx
        n, c, h, w = self.x_shape
        dx = np.zeros((n, c, h + 2 * self.pad, w + 2 * self.pad), dtype=g.dtype)
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
        #: kept units drawn ahead for the next training forward pass (see :meth:`draw_keep`)
        self.preset_keep: np.ndarray | None = None
        return input_shape

    def draw_keep(self, n: int) -> np.ndarray:
        """The kept-unit mask for a batch of ``n``, drawn from the dropout stream."""
        return self.rng.random((n, *self.input_shape), dtype=np.float32) >= self.rate

    def forward(self, x, training=False):
        keep, self.preset_keep = self.preset_keep, None
        if not training or self.rate == 0:
            self.mask = None
            return x
        if keep is None or keep.shape != x.shape:
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
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, grad):
        # x > 0 exactly where the output is > 0; multiplying by the mask is a
        # vectorised pass, where np.where would branch on every element
        return np.multiply(grad, self.out > 0)


class LeakyReLU(Activation):
    """Leaky ReLU: y = x for x > 0, α·x otherwise (α = alpha, 0.01)."""

    type_name, key, formula = "LeakyReLU", "leaky_relu", "x if x > 0 else αx"
    options = ("alpha",)

    def _build(self, input_shape, rng, source):
        self.alpha = _float(self.cfg, "alpha", f"LeakyReLU '{self.name}'", 0.01)
        return input_shape

    def forward(self, x, training=False):
        self.mask = x > 0
        # max(x, 0) + α·min(x, 0): exactly x or αx, for any α ≥ 0
        neg = np.minimum(x, 0)
        neg *= self.alpha
        neg += np.maximum(x, 0)
        return neg

    def backward(self, grad):
        neg = np.multiply(grad, ~self.mask)
        neg *= self.alpha
        neg += np.multiply(grad, self.mask)
        return neg


class ELU(Activation):
    """ELU: y = x for x > 0, α·(eˣ − 1) otherwise."""

    type_name, key, formula = "ELU", "elu", "x if x > 0 else α(eˣ − 1)"
    options = ("alpha",)

    def _build(self, input_shape, rng, source):
        self.alpha = _float(self.cfg, "alpha", f"ELU '{self.name}'", 1.0)
        return input_shape

    def forward(self, x, training=False):
        self.mask = x > 0
        out = np.expm1(np.minimum(x, 0))
        out *= self.alpha
        out += np.maximum(x, 0)  # for x > 0: α·(e⁰ − 1) + x = x exactly
        self.out = out
        return out

    def backward(self, grad):
        # dy/dx = 1 for x > 0, y + α = α·eˣ otherwise
        slope = self.out + self.alpha
        np.copyto(slope, 1, where=self.mask)
        slope *= grad
        return slope


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
