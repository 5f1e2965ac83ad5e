"""Losses. Each computes a mean loss over the batch and its gradient w.r.t. the
network's last output. Labels may be class indices (N,) or one-hot (N, K).

- softmax_cross_entropy:  p = softmax(z);  L = −(1/N) Σₙ Σₖ tₙₖ log pₙₖ;  ∂L/∂z = (p − t) / N
- mse:                    L = (1/(N·K)) Σ (y − t)²;                        ∂L/∂y = 2(y − t) / (N·K)
- sigmoid_bce:            p = σ(z);  L = −mean(t log p + (1 − t) log(1 − p));  ∂L/∂z = (p − t) / (N·K)

The fused forms take logits, so a final Softmax (or Sigmoid) layer is folded
into the loss while training and applied again for predictions.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.nn.activations import sigmoid, softmax


def to_one_hot(y: np.ndarray, k: int, dtype) -> np.ndarray:
    out = np.zeros((y.shape[0], k), dtype=dtype)
    out[np.arange(y.shape[0]), y.astype(np.int64)] = 1
    return out


class Loss:
    name: ClassVar[str] = ""
    #: the output layer this loss absorbs (its activation is applied by predict)
    fused_output: ClassVar[str | None] = None
    formula: ClassVar[str] = ""

    def __call__(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Return (mean loss, d loss / d out)."""
        raise NotImplementedError

    def output(self, out: np.ndarray) -> np.ndarray:
        """What the network predicts from its last layer's values."""
        return out

    def _targets(self, out: np.ndarray, y: np.ndarray) -> np.ndarray:
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and out.shape[1] > 1):
            idx = y.reshape(-1)
            if out.shape[1] == 1:
                return idx.reshape(-1, 1).astype(out.dtype)
            if idx.size and (idx.min() < 0 or idx.max() >= out.shape[1]):
                raise SpecError(f"labels run from {int(idx.min())} to {int(idx.max())} but the network has "
                                f"{out.shape[1]} outputs; make the last Dense layer's units match the classes")
            return to_one_hot(idx, out.shape[1], out.dtype)
        if y.shape != out.shape:
            raise SpecError(f"targets of shape {y.shape[1:]} do not match the network's output {out.shape[1:]}")
        return y.astype(out.dtype, copy=False)


_ROWS = np.arange(1024)


def _rows(n: int) -> np.ndarray:
    """0, 1, …, n − 1 (a view of a cached array for batch-sized n)."""
    return _ROWS[:n] if n <= _ROWS.size else np.arange(n)


class SoftmaxCrossEntropy(Loss):
    name, fused_output = "softmax_cross_entropy", "Softmax"
    formula = "L = −Σ t log softmax(z)"

    def __call__(self, out, y):
        p = softmax(out)
        n = out.shape[0]
        if y.ndim == 1:
            idx = y.astype(np.int64, copy=False)
            if idx.size and (idx.min() < 0 or idx.max() >= out.shape[1]):
                raise SpecError(f"labels run from {int(idx.min())} to {int(idx.max())} but the network has "
                                f"{out.shape[1]} outputs; make the last Dense layer's units match the classes")
            rows = _rows(n)
            picked = p[rows, idx]
            picked += 1e-12
            loss = -float(np.log(picked, out=picked).sum()) / max(n, 1)
            grad = p
            grad[rows, idx] -= 1
        else:
            t = self._targets(out, y)
            loss = -float(np.sum(t * np.log(p + 1e-12)) / n)
            grad = p - t
        grad *= 1.0 / n
        return loss, grad

    def output(self, out):
        return softmax(out)


class MeanSquaredError(Loss):
    name = "mse"
    formula = "L = mean((y − t)²)"

    def __call__(self, out, y):
        t = self._targets(out, y)
        diff = out - t
        loss = float(np.mean(diff * diff))
        return loss, diff * (2.0 / diff.size)


class SigmoidBinaryCrossEntropy(Loss):
    name, fused_output = "sigmoid_bce", "Sigmoid"
    formula = "L = −mean(t log σ(z) + (1 − t) log(1 − σ(z)))"

    def __call__(self, out, y):
        t = self._targets(out, y)
        # log(1 + e^{−|z|}) + max(z, 0) − z·t, stable for any z
        loss = float(np.mean(np.maximum(out, 0) - out * t + np.log1p(np.exp(-np.abs(out)))))
        return loss, (sigmoid(out) - t) * (1.0 / out.size)

    def output(self, out):
        return sigmoid(out)


LOSSES: dict[str, type[Loss]] = {c.name: c for c in (SoftmaxCrossEntropy, MeanSquaredError, SigmoidBinaryCrossEntropy)}
_ALIASES = {"cross_entropy": "softmax_cross_entropy", "categorical_crossentropy": "softmax_cross_entropy",
            "bce": "sigmoid_bce", "binary_cross_entropy": "sigmoid_bce", "mean_squared_error": "mse"}


def get_loss(name: str) -> Loss:
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    cls = LOSSES.get(key)
    if cls is None:
        raise SpecError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    return cls()
