"""Activation functions as layers (ReLU, LeakyReLU, ELU, sigmoid, tanh, step, identity, softmax)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.nn.base import Layer, float_option


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
        self.alpha = float_option(self.cfg, "alpha", f"LeakyReLU '{self.name}'", 0.01)
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
        self.alpha = float_option(self.cfg, "alpha", f"ELU '{self.name}'", 1.0)
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
    """Softmax output: yₖ = exp(xₖ) / Σⱼ exp(xⱼ) over the last axis.

    Followed by cross-entropy, it is fused with the loss (the gradient is then
    simply y − t); alone its backward is dx = y ⊙ (g − Σ g⊙y).
    """

    type_name, key, formula = "Softmax", "softmax", "exp(xₖ) / Σⱼ exp(xⱼ)"

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
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.key: cls for cls in (ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Step, Identity, Softmax)
}


def activation_class(name: str) -> type[Activation]:
    cls = ACTIVATIONS.get(str(name).lower())
    if cls is None:
        raise SpecError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return cls
