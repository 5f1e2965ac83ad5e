"""Batch normalization and dropout: layers that behave differently in training and inference."""

from __future__ import annotations


import numpy as np

from playground.engine.errors import SpecError
from playground.engine.nn.base import Layer, float_option


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015).

    x̂ = (x − μ_B) / √(σ²_B + ε);  y = γ·x̂ + β. Statistics are per feature for
    (N, D) inputs and per channel for (N, C, H, W) inputs. At inference the
    running averages μ ← m·μ + (1 − m)·μ_B (m = momentum) are used instead.
    There μ and σ² are constants, so the input gradient is g·γ/√(σ² + ε); in
    training they depend on the whole batch, which the full formula accounts for.
    """

    type_name = "BatchNorm"
    options = ("momentum", "eps")
    has_params = True

    def _build(self, input_shape, rng, source):
        owner = f"BatchNorm '{self.name}'"
        self.momentum = float_option(self.cfg, "momentum", owner, 0.9, 0.0, 1.0, hi_open=True)
        self.eps = float_option(self.cfg, "eps", owner, 1e-5, 0.0)
        if len(input_shape) not in (1, 3):
            raise self._shape_error("a (features,) or (C, H, W) input", source)
        c = input_shape[0]
        self.axes = (0,) if len(input_shape) == 1 else (0, 2, 3)
        self.batch_stats = True  # whether the last forward pass normalized with the batch's statistics
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
        self.batch_stats = bool(training)
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        self.xhat = (x - mu.reshape(self.bshape)) * self.inv_std.reshape(self.bshape)
        return self.xhat * self.params["gamma"].reshape(self.bshape) + self.params["beta"].reshape(self.bshape)

    def backward(self, grad):
        b = self.bshape
        self.grads["beta"][...] = grad.sum(axis=self.axes)
        self.grads["gamma"][...] = (grad * self.xhat).sum(axis=self.axes)
        if not self.need_input_grad:
            return None
        dxhat = grad * self.params["gamma"].reshape(b)
        if not self.batch_stats:  # running statistics: a per-feature affine map
            return dxhat * self.inv_std.reshape(b)
        m = grad.size // grad.shape[1]
        s1 = dxhat.sum(axis=self.axes).reshape(b)
        s2 = (dxhat * self.xhat).sum(axis=self.axes).reshape(b)
        return (self.inv_std.reshape(b) / m) * (m * dxhat - s1 - self.xhat * s2)

    def mult_adds(self):
        return 2 * int(np.prod(self.input_shape))


class Dropout(Layer):
    """Dropout, in one of two variants (``variant``), with mask ~ Bernoulli(1 − rate):

    - ``"inverted"`` (the default): training y = x·mask / (1 − rate), inference y = x;
    - ``"book"`` (the book's, and the original paper's): training y = x·mask, inference
      y = x·(1 − rate).

    Both keep a unit's expected output the same in training and inference. The
    mask comes from the network's seeded Generator."""

    type_name = "Dropout"
    options = ("rate", "variant")
    VARIANTS = ("inverted", "book")

    def _build(self, input_shape, rng, source):
        self.rate = float_option(self.cfg, "rate", f"Dropout '{self.name}'", 0.5, 0.0, 1.0, hi_open=True)
        self.variant = self.cfg.get("variant", "inverted")
        if self.variant not in self.VARIANTS:
            raise SpecError(f"Dropout '{self.name}': 'variant' must be one of {', '.join(self.VARIANTS)}, "
                            f"got {self.variant!r}")
        self.rng = np.random.default_rng(0)  # the network replaces it with its dropout stream
        #: kept units drawn ahead for the next training forward pass (see :meth:`draw_keep`)
        self.preset_keep: np.ndarray | None = None
        return input_shape

    def draw_keep(self, n: int) -> np.ndarray:
        """The kept-unit mask for a batch of ``n``, drawn from the dropout stream."""
        return self.rng.random((n, *self.input_shape), dtype=np.float32) >= self.rate

    def forward(self, x, training=False):
        keep, self.preset_keep = self.preset_keep, None
        book = self.variant == "book"
        if not training or self.rate == 0:
            # the book's variant scales at inference, so its gradient (for saliency maps) scales too
            self.mask = x.dtype.type(1.0 - self.rate) if book and self.rate else None
            return x if self.mask is None else x * self.mask
        if keep is None or keep.shape != x.shape:
            keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate
        self.mask = keep.astype(x.dtype)
        if not book:
            self.mask *= 1.0 / (1.0 - self.rate)
        return x * self.mask

    def backward(self, grad):
        return grad if self.mask is None else grad * self.mask
