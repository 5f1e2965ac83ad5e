"""Fully connected layers: Dense (x @ W + b) and Flatten."""

from __future__ import annotations


import numpy as np

from playground.engine.nn.initializers import initialize, normalize_init
from playground.engine.nn.base import Layer, int_option, float_option


class Dense(Layer):
    """Fully connected (Affine): y = x·W + b, with W of shape (in, units)."""

    type_name = "Dense"
    options = ("units", "init", "l1", "l2", "use_bias")
    has_params = True

    def _build(self, input_shape, rng, source):
        self.units = int_option(self.cfg, "units", f"Dense '{self.name}'")
        if len(input_shape) != 1:
            raise self._shape_error("a flat (features,) input", source,
                                    fix={"insert": {"type": "Flatten"}, "at": self.spec_index},
                                    hint="insert a Flatten before it")
        self.l1 = float_option(self.cfg, "l1", f"Dense '{self.name}'", 0.0)
        self.l2 = float_option(self.cfg, "l2", f"Dense '{self.name}'", 0.0)
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
