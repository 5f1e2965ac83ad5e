"""What each optimizer of the lab carries between steps, and its next update written out with numbers.

:func:`optimizer_state` reads an :class:`~.paths.OptimizerPath`'s optimizer:
Momentum's and Nesterov's velocity v, AdaGrad's and RMSProp's accumulated
squared gradient h (per axis), Adam's first moment m and second moment v with
their bias-corrected m̂ and v̂. :func:`update_lines` writes the rule of the
next step (the one Step takes) with the current numbers put in, from a copy of
the optimizer, so showing it changes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from playground.engine.lab.paths import OptimizerPath


def _pair(a: np.ndarray) -> str:
    return f"({a[0]:.4g}, {a[1]:.4g})"


def optimizer_state(path: OptimizerPath) -> dict[str, Any]:
    """The optimizer's state as the book writes it: ``{"name", "t", ...}`` with ``"v"`` (momentum,
    nesterov), ``"h"`` (adagrad, rmsprop) or ``"m", "v", "m_hat", "v_hat"`` (adam), each a (2,) array
    (zeros before the first step)."""
    opt = path.optimizer
    slots = opt.state.get("w", {})
    zero = np.zeros(2)
    out: dict[str, Any] = {"name": path.name, "t": int(opt.t)}
    if path.name in ("momentum", "nesterov"):
        out["v"] = np.array(slots.get("v", zero), dtype=np.float64)
    elif path.name in ("adagrad", "rmsprop"):
        out["h"] = np.array(slots.get("h", zero), dtype=np.float64)
    elif path.name == "adam":
        # the optimizer keeps M = m / (1 - β1) and V = v / (1 - β2) (see Adam._adam_direction)
        m = np.array(slots.get("m", zero), dtype=np.float64) * (1.0 - opt.beta1)
        v = np.array(slots.get("v", zero), dtype=np.float64) * (1.0 - opt.beta2)
        t = opt.t
        out.update(m=m, v=v, m_hat=m / (1.0 - opt.beta1 ** t) if t else zero.copy(),
                   v_hat=v / (1.0 - opt.beta2 ** t) if t else zero.copy())
    return out


def update_lines(path: OptimizerPath) -> list[str]:
    """The next step's rule with its numbers, one line per equation (the book's notation)."""
    if path.stopped:
        return [f"{path.name} stopped at step {path.diverged_at}: {path.diverged_reason}"]
    w = path.position
    g = path.function.gradient(w[0], w[1])
    ahead = copy.deepcopy(path)  # a copy takes the step: the lab's own path stays where it is
    result = ahead.step()
    before, after = optimizer_state(path), optimizer_state(ahead)
    opt = path.optimizer
    lr = opt.lr
    lines = [f"step {path.steps + 1} at W = {_pair(w)}", f"g = ∇f(W) = {_pair(g)}"]
    name = path.name
    if name == "sgd":
        lines.append(f"W ← W − lr·g = {_pair(w)} − {lr:g}·{_pair(g)}")
    elif name in ("momentum", "nesterov"):
        lines.append(f"v ← μ·v − lr·g = {opt.momentum:g}·{_pair(before['v'])} − {lr:g}·{_pair(g)} = "
                     f"{_pair(after['v'])}")
        lines.append("W ← W + v" if name == "momentum" else "W ← W + μ·v − lr·g")
    elif name == "adagrad":
        lines.append(f"h ← h + g⊙g = {_pair(before['h'])} + {_pair(g * g)} = {_pair(after['h'])}")
        lines.append(f"W ← W − lr·g / (√h + ε) = W − {lr:g}·{_pair(g)} / {_pair(np.sqrt(after['h']))}")
    elif name == "rmsprop":
        lines.append(f"h ← ρ·h + (1 − ρ)·g⊙g = {opt.rho:g}·{_pair(before['h'])} + {1 - opt.rho:.3g}·"
                     f"{_pair(g * g)} = {_pair(after['h'])}")
        lines.append(f"W ← W − lr·g / (√h + ε) = W − {lr:g}·{_pair(g)} / {_pair(np.sqrt(after['h']))}")
    elif name == "adam":
        t = after["t"]
        lines.append(f"m ← β₁·m + (1 − β₁)·g = {opt.beta1:g}·{_pair(before['m'])} + {1 - opt.beta1:.3g}·{_pair(g)}"
                     f" = {_pair(after['m'])}")
        lines.append(f"v ← β₂·v + (1 − β₂)·g⊙g = {_pair(after['v'])}")
        lines.append(f"m̂ = m / (1 − β₁^{t}) = {_pair(after['m_hat'])},  v̂ = v / (1 − β₂^{t}) = "
                     f"{_pair(after['v_hat'])}")
        lines.append(f"W ← W − lr·m̂ / (√v̂ + ε) = W − {lr:g}·{_pair(after['m_hat'])} / {_pair(np.sqrt(after['v_hat']))}")
    if result is not None and result.diverged is None:
        lines.append(f"step = {_pair(result.delta)}  →  W = {_pair(result.after)},  f = {result.value:.6g}")
    elif result is not None:
        lines.append(f"this step stops the path: {result.diverged}")
    return lines
