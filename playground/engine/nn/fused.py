"""Conv2D → [ReLU] → MaxPool2D run as one step, with the numbers of the three layers.

A convolution followed by a max-pool whose windows tile its output spends
most of its time moving the convolution's output through memory: the ReLU
reads and writes all of it, the pool reads it through strided views, and the
pool's backward pass scatters into it the same way. This step computes the
same numbers with less traffic:

- The patches are unfolded in *window order*: for each sample, the columns
  are grouped by the position (di, dj) inside the q×q pooling window, then by
  the window (pi, pj). The convolution's output for a sample is then q² blocks,
  one per window position, each a contiguous (filters, windows) slab, and the
  pool is q² − 1 element-wise maxima of contiguous blocks. Outputs the pool
  never reads (rows or columns left over below or right of the last window)
  are not computed at all.
- ReLU is monotonic, so max(relu(x)) = relu(max(x)): it runs on the pooled
  output, a q²-th of the size. The gradient is the same too: where the pooled
  value is positive the first maximum receives it through ReLU's slope 1, and
  where it is not, both orders give 0.

The gradient goes to each window's first maximum, windows read row by row,
as :class:`~.layers.MaxPool2D` does. The layers keep their parameters and
gradients (the step only borrows them), so optimizers, saving and the
per-layer statistics see the network as it is written.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from playground.engine.nn.conv import Conv2D, MaxPool2D, first_max_masks, pad_hw
from playground.engine.nn.base import Layer
from playground.engine.nn.activations import ReLU


class Recorder(list):
    """A record (see :meth:`Network.forward`) of only the layers named, for statistics.

    Values may come in any memory layout (the statistics do not depend on the
    order of units), and a two-shard batch records each half separately under
    the same name, so nothing large is copied or joined for them.
    """

    def __init__(self, names):
        super().__init__()
        self.names = frozenset(names)


def wants(record: list | None, name: str) -> bool:
    return record is not None and (not isinstance(record, Recorder) or name in record.names)


#: the longest patch (C·kh·kw) for which fusing pays: the window-order unfold reads its input with
#: stride q, which costs more than the ReLU and pooling passes it saves once patches are long (measured
#: with benchmarks/profile_layers.py --steps: simple-convnet's 25 gain 28 %, deep-convnet's 144-576 lose 10 %)
FUSE_MAX_PATCH = 64


def plan_steps(layers: list[Layer]) -> list:
    """The layers in order, with each Conv2D → [ReLU] → tiled MaxPool2D run whose patches are at most
    :data:`FUSE_MAX_PATCH` long replaced by one step."""
    steps: list = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        relu = None
        j = i + 1
        if isinstance(layer, Conv2D) and j < len(layers) and type(layers[j]) is ReLU:
            relu = layers[j]
            j += 1
        if (isinstance(layer, Conv2D) and layer.k <= FUSE_MAX_PATCH
                and j < len(layers) and isinstance(layers[j], MaxPool2D)
                and layers[j].tiled and layers[j].oh > 0 and layers[j].ow > 0):
            steps.append(ConvReluMaxPool(layer, relu, layers[j]))
            i = j + 1
        else:
            steps.append(layer)
            i += 1
    return steps


def unfold_windows(x: np.ndarray, conv: Conv2D, q: int, ph: int, pw: int, out: np.ndarray) -> None:
    """Write the patches of ``x`` (N, C, H, W) into ``out`` (N, C·kh·kw, q·q·ph·pw) in window order.

    Column ``((di·q + dj)·ph + pi)·pw + pj`` of sample ``n`` is the patch of
    output position (pi·q + di, pj·q + dj), rows ordered (C, kh, kw) like the weights.
    """
    n, c = x.shape[:2]
    s, p = conv.stride, conv.pad
    x = np.ascontiguousarray(pad_hw(x, p))
    sn, sc, sh, sw = x.strides
    view = as_strided(x, shape=(n, c, conv.kh, conv.kw, q, q, ph, pw),
                      strides=(sn, sc, sh, sw, s * sh, s * sw, q * s * sh, q * s * sw), writeable=False)
    np.copyto(out.reshape(n, c, conv.kh, conv.kw, q, q, ph, pw), view)


class ConvReluMaxPool:
    """One step for Conv2D, an optional ReLU, and a MaxPool2D whose windows tile the conv's output."""

    def __init__(self, conv: Conv2D, relu: ReLU | None, pool: MaxPool2D):
        self.conv, self.relu, self.pool = conv, relu, pool
        self.layers = [l for l in (conv, relu, pool) if l is not None]
        self.q = pool.pool
        self.ph, self.pw = pool.oh, pool.ow
        self.windows = self.ph * self.pw
        self._col: np.ndarray | None = None

    @property
    def need_input_grad(self) -> bool:
        return self.conv.need_input_grad

    def forward(self, x: np.ndarray, training: bool = False, record: list | None = None) -> np.ndarray:
        conv, q, f = self.conv, self.q, self.conv.filters
        n = x.shape[0]
        self.x_shape = conv.x_shape = x.shape  # the conv's input gradient takes this shape
        dtype = np.result_type(x.dtype, conv.params["W"].dtype)
        col = self._col = conv.patch_buffer(self._col, n, q * q * self.windows, dtype)
        unfold_windows(x, conv, q, self.ph, self.pw, col[:, :conv.k])
        # the conv output, window order
        blocks = np.matmul(conv.weights_with_bias(dtype), col).reshape(n, f, q * q, self.windows)
        pooled = np.maximum(blocks[:, :, 0], blocks[:, :, 1]) if q > 1 else blocks[:, :, 0].copy()
        for k in range(2, q * q):
            np.maximum(pooled, blocks[:, :, k], out=pooled)
        if wants(record, conv.name):
            record.append((conv.name, self._standard_layout(blocks)))
        if self.relu is not None and wants(record, self.relu.name):
            # for a Recorder, the window order will do: no transposed copy
            value = blocks if isinstance(record, Recorder) else self._standard_layout(blocks)
            record.append((self.relu.name, np.maximum(value, 0)))
        if self.relu is not None:
            np.maximum(pooled, 0, out=pooled)
        self.blocks, self.pooled = blocks, pooled
        out = pooled.reshape(n, f, self.ph, self.pw)
        if wants(record, self.pool.name):
            record.append((self.pool.name, out))
        return out

    def _standard_layout(self, blocks: np.ndarray) -> np.ndarray:
        """The conv output as (N, F, q·ph, q·pw) from its window-order blocks (for statistics only)."""
        n, f, q = blocks.shape[0], blocks.shape[1], self.q
        six = blocks.reshape(n, f, q, q, self.ph, self.pw).transpose(0, 1, 4, 2, 5, 3)
        return six.reshape(n, f, q * self.ph, q * self.pw)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        conv, q, f = self.conv, self.q, self.conv.filters
        n = grad.shape[0]
        g = grad.reshape(n, f, self.windows)
        if self.relu is not None:
            g = g * (self.pooled > 0)
        blocks, pooled = self.blocks, self.pooled
        dblocks = np.empty_like(blocks)
        candidates = (blocks[:, :, k] for k in range(q * q))
        for k, hit in enumerate(first_max_masks(candidates, pooled, q * q)):
            np.multiply(g, hit, out=dblocks[:, :, k])
        dout = dblocks.reshape(n, f, -1)
        conv.set_weight_grads(dout, self._col)
        if not conv.need_input_grad:
            return None
        # window order → the conv's (rows, cols) layout in one copy; only rows and columns outside
        # every window are zeroed (the pooling layer's own backward does the same)
        full = self.pool._tiled_dx((n, f, conv.oh, conv.ow), dout.dtype)
        six = full[:, :, :q * self.ph, :q * self.pw].reshape(n, f, self.ph, q, self.pw, q)
        np.copyto(six, dblocks.reshape(n, f, q, q, self.ph, self.pw).transpose(0, 1, 4, 2, 5, 3))
        return conv.input_grad(full)
