"""Convolution and pooling on (N, C, H, W) images, with vectorised im2col/col2im (unfold/fold)."""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from playground.engine.errors import SpecError
from playground.engine.nn.initializers import initialize, normalize_init
from playground.engine.nn.base import Layer, Shape, int_option, float_option


def conv_output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def _offset_slice(start: int, count: int, stride: int) -> slice:
    """``count`` positions from ``start`` ``stride`` apart (stops exactly after the last one)."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def pad_hw(x: np.ndarray, pad: int, fill: float = 0.0) -> np.ndarray:
    """``x`` (N, C, H, W) with ``pad`` rows and columns of ``fill`` around each image (``x`` itself for 0).

    What ``np.pad`` does, without its bookkeeping: for one image that costs
    more than the copy (45 µs against 7 µs), and a forward pass pads six times.
    """
    if not pad:
        return x
    n, c, h, w = x.shape
    out = np.empty((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    out[:, :, :pad] = fill
    out[:, :, h + pad:] = fill
    out[:, :, pad:h + pad, :pad] = fill
    out[:, :, pad:h + pad, w + pad:] = fill
    out[:, :, pad:h + pad, pad:w + pad] = x
    return out


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
    x = pad_hw(x, pad)
    sn, sc, sh, sw = x.strides
    # (N, C, kh, kw, OH, OW): the window at (i, j) starts at row i·stride, column j·stride
    win = as_strided(x, shape=(n, c, kh, kw, oh, ow), strides=(sn, sc, sh, sw, stride * sh, stride * sw),
                     writeable=False)
    if out is None:
        out = np.empty((n, c * kh * kw, oh * ow), dtype=x.dtype)
    elif out.shape != (n, c * kh * kw, oh * ow):
        raise ValueError(f"unfold: out must have shape {(n, c * kh * kw, oh * ow)}, got {out.shape}")
    # splitting axes never copies, so this is a view into ``out`` whatever its strides
    np.copyto(out.reshape(n, c, kh, kw, oh, ow), win)
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


#: rough costs per element on one core, in ns (measured with benchmarks/profile_layers.py on a 2-core AMD EPYC):
#: writing an unfolded matrix, scattering one back with :func:`fold`, and one multiply-add in a product
UNFOLD_NS, FOLD_NS, MULT_ADD_NS = 0.42, 1.33, 0.05


def input_grad_costs(c: int, f: int, k: int, in_pixels: int, out_pixels: int) -> tuple[float, float]:
    """Estimated ns per sample of a stride-1 k×k convolution's input gradient, (transposed, folded):
    unfolding the output gradient (F·k² rows over the input's pixels) and one product with C rows, against
    one product with F rows into the C·k² rows over the output's pixels and folding them back. Padding
    below (k − 1) / 2 makes the transposed way multiply the zeros around the output; more makes folding do so.
    """
    transposed = f * k * k * in_pixels * (UNFOLD_NS + c * MULT_ADD_NS)
    folded = c * k * k * out_pixels * (FOLD_NS + f * MULT_ADD_NS)
    return transposed, folded


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
        self.filters = int_option(self.cfg, "filters", owner)
        k = self.cfg.get("kernel", 3)
        if isinstance(k, (list, tuple)) and len(k) == 2:
            self.kh = int_option({"kernel": k[0]}, "kernel", owner)
            self.kw = int_option({"kernel": k[1]}, "kernel", owner)
        else:
            self.kh = self.kw = int_option(self.cfg, "kernel", owner, default=3)
        self.stride = int_option(self.cfg, "stride", owner, default=1)
        self.pad = int_option(self.cfg, "padding", owner, minimum=0, default=0)
        self.l1 = float_option(self.cfg, "l1", owner, 0.0)
        self.l2 = float_option(self.cfg, "l2", owner, 0.0)
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
        self._gcol: np.ndarray | None = None
        self.transposed_path = self._choose_input_grad_path()
        return (self.filters, self.oh, self.ow)

    def _forget_buffers(self) -> None:
        self._col = None
        self._gcol = None

    def _choose_input_grad_path(self) -> bool:
        """Whether :meth:`input_grad` convolves the output gradient instead of folding columns back
        (:attr:`transposed_path`, fixed when the layer is built).

        Possible at stride 1 with a square kernel and padding of at most kernel − 1;
        chosen when it is the cheaper of the two by :func:`input_grad_costs`.
        """
        if not (self.stride == 1 and self.kh == self.kw and self.pad <= self.kh - 1):
            return False
        c, h, w = self.input_shape
        transposed, folded = input_grad_costs(c, self.filters, self.kh, h * w, self.oh * self.ow)
        return transposed < folded

    def input_grad(self, g: np.ndarray) -> np.ndarray:
        """d loss / d input from the output gradient ``g`` (N, F, OH, OW).

        With stride 1 the input gradient is the "full" correlation of ``g`` with
        the kernel turned by 180° and its in/out channels swapped:
        dx[n, c, y, x] = Σ_f Σ_i,j g[n, f, y + p − i, x + p − j] · W[f, c, i, j],
        which is a convolution of ``g`` padded by kernel − 1 − p. So it is one
        unfold of ``g`` and one product, and its output is already laid out as
        (N, C, H, W): no column matrix is scattered back window by window (the
        adjoint :func:`fold`, which other strides still use, costs 2-3 times as much).
        """
        n = g.shape[0]
        w = self.params["W"]
        if not self.transposed_path:
            dcol = np.matmul(w.reshape(self.filters, self.k).T, g.reshape(n, self.filters, -1))  # (N, K, P)
            return fold(dcol, self.x_shape, self.kh, self.kw, self.stride, self.pad)
        c, h, wd = self.x_shape[1:]
        k = self.kh
        cols = self.filters * k * k
        if self._gcol is None or self._gcol.shape != (n, cols, h * wd) or self._gcol.dtype != g.dtype:
            self._gcol = np.empty((n, cols, h * wd), dtype=g.dtype)
        unfold(g, k, k, 1, k - 1 - self.pad, out=self._gcol)
        turned = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, cols).astype(g.dtype, copy=False)
        return np.matmul(turned, self._gcol).reshape(n, c, h, wd)

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
        return self.input_grad(grad)

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
        self.pool = int_option(self.cfg, "pool", owner, default=2)
        self.stride = int_option(self.cfg, "stride", owner, default=self.pool)
        self.pad = int_option(self.cfg, "padding", owner, minimum=0, default=0)
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
        return pad_hw(x, self.pad, fill)

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
