"""Compare backpropagation with central differences, parameter by parameter.

    ∂L/∂θᵢ ≈ (L(θ + εeᵢ) − L(θ − εeᵢ)) / 2ε

Run it on a float64 network: in float32 the differences drown in rounding.
The relative error of each tensor is ‖g_bp − g_num‖ / max(‖g_bp‖ + ‖g_num‖, 1e-6).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from playground.engine.nn.normalization import Dropout
from playground.engine.nn.network import Network


@dataclass
class GradCheckResult:
    errors: dict[str, float]          # tensor name -> relative error
    worst: tuple[str, float]
    #: tensor name -> (entries checked, entries in the tensor)
    checked: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: one forward and backward pass (the analytic gradient of every entry at once)
    seconds_backprop: float = 0.0
    #: the central differences of the entries checked (two forward passes each)
    seconds_numerical: float = 0.0

    def failures(self, tol: float) -> dict[str, float]:
        return {k: v for k, v in self.errors.items() if not v <= tol}

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v:.2e}" for k, v in self.errors.items())


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    # the floor keeps gradients that are truly zero (a bias before batch norm)
    # from turning float64 round-off into a large "relative" error
    num = float(np.linalg.norm(a - b))
    return num / max(float(np.linalg.norm(a) + np.linalg.norm(b)), 1e-6)


def gradient_check(net: Network, x: np.ndarray, y: np.ndarray, eps: float = 1e-5,
                   training: bool = True, max_entries: int | None = 60, check_input: bool = True,
                   seed: int = 0) -> GradCheckResult:
    """Check every parameter's gradient (and the input gradient) of ``net`` on (x, y).

    ``max_entries`` limits the entries perturbed per tensor (chosen at random with
    ``seed``); None checks every entry. Dropout masks are frozen by reseeding the
    dropout streams before each forward pass, so L is the same function throughout.
    """
    x = np.asarray(x, dtype=net.dtype)
    dropouts = [l for l in net.layers if isinstance(l, Dropout)]

    def loss_fn() -> float:
        for i, d in enumerate(dropouts):
            d.rng = np.random.default_rng(1000 + i)
        loss, _ = net.loss(net.forward(x_cur, training), y)
        return loss + net.regularization()

    # analytic
    x_cur = x
    net.need_input_grads(check_input)
    t0 = time.perf_counter()
    try:
        for i, d in enumerate(dropouts):
            d.rng = np.random.default_rng(1000 + i)
        out = net.forward(x, training)
        _, g = net.loss(out, y)
        dx = net.backward(g)
        net._add_regularization_grads()
    finally:
        net.need_input_grads(False)
    seconds_backprop = time.perf_counter() - t0
    analytic = {k: v.copy() for k, v in net.grads().items()}
    rng = np.random.default_rng(seed)
    errors: dict[str, float] = {}
    checked: dict[str, tuple[int, int]] = {}
    t0 = time.perf_counter()

    def numeric(arr: np.ndarray, idxs) -> np.ndarray:
        out = np.empty(len(idxs))
        flat = arr.reshape(-1)
        for n, i in enumerate(idxs):
            old = flat[i]
            flat[i] = old + eps
            lp = loss_fn()
            flat[i] = old - eps
            lm = loss_fn()
            flat[i] = old
            out[n] = (lp - lm) / (2 * eps)
        return out

    def pick(size: int):
        if max_entries is None or size <= max_entries:
            return np.arange(size)
        return np.sort(rng.choice(size, max_entries, replace=False))

    for key, arr in net.params().items():
        idxs = pick(arr.size)
        errors[key] = _rel_error(analytic[key].reshape(-1)[idxs], numeric(arr, idxs))
        checked[key] = (len(idxs), arr.size)
    if check_input and dx is not None:
        x_cur = x.copy()
        idxs = pick(x_cur.size)
        errors["input"] = _rel_error(dx.reshape(-1)[idxs], numeric(x_cur, idxs))
        checked["input"] = (len(idxs), x_cur.size)
    seconds_numerical = time.perf_counter() - t0
    worst = max(errors.items(), key=lambda kv: kv[1]) if errors else ("", 0.0)
    return GradCheckResult(errors, worst, checked, seconds_backprop, seconds_numerical)
