"""Optimizers: one ``update(params, grads)`` contract for networks and the 2-D lab.

``params`` and ``grads`` are dicts of arrays with the same keys; ``update``
changes the parameters in place. State (velocities, squared-gradient sums) is
created lazily with ``zeros_like``, so it has each parameter's dtype: float32
when training a network, float64 in the optimizer lab. The rules are written
as in "Deep Learning from Scratch", with lr the learning rate and g the
gradient.

``decay`` (optional, for AdamW) maps a key to a weight-decay multiplier; keys
with multiplier 0 (biases, batch-norm parameters) are never decayed.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from typing import Any, Callable, Mapping

import numpy as np

from playground.engine.checks import brief
from playground.engine.errors import SpecError

Arrays = dict[str, np.ndarray]
#: state values below the smallest normal float are set to 0 every this many updates
FLUSH_EVERY = 16


class Optimizer:
    """Base class. Subclasses implement ``_step(key, w, g)``."""

    name = "optimizer"
    #: (attribute, description) of each setting a user may change
    settings: tuple[tuple[str, str], ...] = (("lr", "learning rate"),)

    def __init__(self, lr: float = 0.01):
        self.lr = _positive(lr, "lr", self.name)
        self.t = 0  # number of updates done
        self.state: dict[str, dict[str, np.ndarray]] = {}
        #: where a new state array comes from: ``slot_memory(key, slot, like)`` returns the array to use
        #: (memory shared with a helper process, see halfbatch.py) or None for a new zeroed one
        self.slot_memory: Callable[[str, str, np.ndarray], np.ndarray | None] | None = None

    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
               decay: Mapping[str, Any] | None = None, pool: Executor | None = None) -> None:
        """Apply one step to every parameter in place.

        ``decay`` maps a key to a multiplier (0 or 1) or to a boolean mask of
        the entries to decay. With ``pool`` (an executor with a free thread)
        the second half of the keys is updated there meanwhile; each entry is
        updated by the same operations either way, so the result is the same.
        A ``pool`` with an ``update_elsewhere`` method (a helper process, see
        halfbatch.py) is asked to update them instead, and may decline.
        """
        self.t += 1
        keys = list(params)

        def run(some: list[str]) -> None:
            for key in some:
                self._step(key, params[key], grads[key], 1.0 if decay is None else decay.get(key, 0.0))

        if pool is not None and len(keys) > 1:
            half = len(keys) // 2
            elsewhere = getattr(pool, "update_elsewhere", None)
            second = (elsewhere(self, keys[half:], run) if elsewhere is not None
                      else pool.submit(run, keys[half:]))
            if second is None:  # declined
                run(keys)
            else:
                try:
                    run(keys[:half])
                finally:
                    second.result()
        else:
            run(keys)
        if self.t % FLUSH_EVERY == 0:
            self._flush_subnormals()

    def _flush_subnormals(self) -> None:
        """Set state values smaller than the smallest normal float to 0.

        A velocity or first moment whose gradient has become 0 (a dead ReLU
        unit) decays geometrically through the subnormal floats, ~150 steps for
        m ← 0.9·m in float32, and every operation on a subnormal runs many times
        slower: it halved the speed of a long MLP run. Values that small move no
        weight, so they are dropped every few steps.
        """
        for slots in self.state.values():
            for name, buf in slots.items():
                if buf.dtype.kind == "f" and name != "tmp":  # "tmp" is scratch, written before each read
                    buf[np.abs(buf) < np.finfo(buf.dtype).tiny] = 0

    def _step(self, key: str, w: np.ndarray, g: np.ndarray, decay_mult: float) -> None:
        raise NotImplementedError

    def _slot(self, key: str, slot: str, like: np.ndarray) -> np.ndarray:
        per = self.state.setdefault(key, {})
        buf = per.get(slot)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = self.slot_memory(key, slot, like) if self.slot_memory is not None else None
            if buf is None:
                buf = np.zeros_like(like)
            per[slot] = buf
        return buf

    def reset(self) -> None:
        """Forget all state, as if no step had been taken."""
        self.t = 0
        self.state.clear()

    def get_config(self) -> dict[str, Any]:
        cfg = {"type": self.name}
        for attr, _ in self.settings:
            cfg[attr] = getattr(self, attr)
        return cfg

    def __repr__(self) -> str:
        args = ", ".join(f"{a}={getattr(self, a)!r}" for a, _ in self.settings)
        return f"{type(self).__name__}({args})"


def _positive(value: float, what: str, owner: str, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a whole number too big for a float
        raise SpecError(f"{owner}: {what} must be a number, got {brief(value)}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise SpecError(f"{owner}: {what} must be a finite number {bound}, got {brief(value)}")
    return v


def _fraction(value: float, what: str, owner: str) -> float:
    v = _positive(value, what, owner, allow_zero=True)
    if v >= 1:
        raise SpecError(f"{owner}: {what} must be in [0, 1), got {value!r}")
    return v


class SGD(Optimizer):
    """Stochastic gradient descent: W ← W − lr·g."""

    name = "sgd"

    def _step(self, key, w, g, decay_mult):
        w -= self.lr * g


class Momentum(Optimizer):
    """Momentum: v ← μ·v − lr·g;  W ← W + v  (μ = momentum, 0.9)."""

    name = "momentum"
    settings = (("lr", "learning rate"), ("momentum", "momentum μ"))

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _fraction(momentum, "momentum", self.name)

    def _step(self, key, w, g, decay_mult):
        v = self._slot(key, "v", w)
        v *= self.momentum
        v -= self.lr * g
        w += v


class Nesterov(Momentum):
    """Nesterov momentum: v ← μ·v − lr·g;  W ← W + μ·v − lr·g.

    The look-ahead form of Sutskever et al. (2013): the step uses the velocity
    after this update plus the current gradient.
    """

    name = "nesterov"

    def _step(self, key, w, g, decay_mult):
        v = self._slot(key, "v", w)
        v *= self.momentum
        v -= self.lr * g
        w += self.momentum * v
        w -= self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad: h ← h + g⊙g;  W ← W − lr·g / (√h + ε)  (ε = 1e-7)."""

    name = "adagrad"
    settings = (("lr", "learning rate"), ("eps", "ε added to √h"))

    def __init__(self, lr: float = 0.01, eps: float = 1e-7):
        super().__init__(lr)
        self.eps = _positive(eps, "eps", self.name)

    def _step(self, key, w, g, decay_mult):
        h = self._slot(key, "h", w)
        h += g * g
        w -= self.lr * g / (np.sqrt(h) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: h ← ρ·h + (1 − ρ)·g⊙g;  W ← W − lr·g / (√h + ε)  (ρ = 0.99)."""

    name = "rmsprop"
    settings = (("lr", "learning rate"), ("rho", "decay rate ρ"), ("eps", "ε added to √h"))

    def __init__(self, lr: float = 0.01, rho: float = 0.99, eps: float = 1e-7):
        super().__init__(lr)
        self.rho = _fraction(rho, "rho", self.name)
        self.eps = _positive(eps, "eps", self.name)

    def _step(self, key, w, g, decay_mult):
        h = self._slot(key, "h", w)
        h *= self.rho
        h += (1.0 - self.rho) * g * g
        w -= self.lr * g / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, 2015).

    m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g⊙g;
    m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  W ← W − lr·m̂ / (√v̂ + ε).
    (The state keeps m and v scaled, see :meth:`_adam_direction`.)
    """

    name = "adam"
    settings = (("lr", "learning rate"), ("beta1", "β₁"), ("beta2", "β₂"), ("eps", "ε"))

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1 = _fraction(beta1, "beta1", self.name)
        self.beta2 = _fraction(beta2, "beta2", self.name)
        self.eps = _positive(eps, "eps", self.name)

    def _adam_direction(self, key, w, g, scale=1.0):
        """``scale``·m̂ / (√v̂ + ε), computed in one reused buffer, in ten passes over the arrays.

        The state holds M = m / (1 − β₁) and V = v / (1 − β₂), which follow
        M ← β₁·M + g and V ← β₂·V + g⊙g: two multiplications fewer than m and v
        would need. With c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ the direction is then
        (scale·√c₂·(1 − β₁) / (c₁·√(1 − β₂)))·M / (√V + ε·√c₂ / √(1 − β₂)):
        the bias corrections and the scaling are two scalars.
        """
        m = self._slot(key, "m", w)
        v = self._slot(key, "v", w)
        d = self._slot(key, "tmp", w)
        m *= self.beta1
        m += g
        v *= self.beta2
        np.multiply(g, g, out=d)
        v += d
        c1 = 1.0 - self.beta1 ** self.t
        sc2 = math.sqrt(1.0 - self.beta2 ** self.t)
        sb2 = math.sqrt(1.0 - self.beta2)
        np.sqrt(v, out=d)
        d += self.eps * sc2 / sb2
        np.divide(m, d, out=d)
        d *= scale * sc2 * (1.0 - self.beta1) / (c1 * sb2)
        return d

    def _step(self, key, w, g, decay_mult):
        w -= self._adam_direction(key, w, g, self.lr)

    def reset(self):
        super().reset()


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    The Adam step, then W ← W − lr·λ·W for decayed parameters (λ = weight_decay;
    biases and batch-norm parameters are never decayed).
    """

    name = "adamw"
    settings = Adam.settings + (("weight_decay", "decoupled weight decay λ"),)

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = _positive(weight_decay, "weight_decay", self.name, allow_zero=True)

    def _step(self, key, w, g, decay_mult):
        d = self._adam_direction(key, w, g, self.lr)
        # W − lr·λ·W, from the W before the step
        if not self.weight_decay:
            pass
        elif isinstance(decay_mult, np.ndarray):  # a mask of the entries to decay
            np.multiply(w, 1.0 - self.lr * self.weight_decay, out=w, where=decay_mult)
        elif decay_mult:
            w *= 1.0 - self.lr * self.weight_decay * decay_mult
        w -= d


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW)
}


def get_optimizer(spec: str | Mapping[str, Any] | Optimizer) -> Optimizer:
    """Build an optimizer from a name or a config dict ``{"type": "adam", "lr": 0.001}``."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise SpecError(f"optimizer must be a name or a dict with 'type', got {type(spec).__name__}")
    cfg = dict(spec)
    name = str(cfg.pop("type", "")).lower()
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise SpecError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    allowed = {a for a, _ in cls.settings}
    extra = set(cfg) - allowed
    if extra:
        raise SpecError(f"optimizer {name!r} has no setting {', '.join(sorted(extra))}; "
                        f"its settings are: {', '.join(sorted(allowed))}")
    return cls(**cfg)


# ---------------------------------------------------------------- schedules

class Schedule:
    """A learning rate as a function of training progress measured in epochs."""

    name = "constant"

    def __init__(self, lr: float):
        self.base_lr = _positive(lr, "lr", "schedule")

    def lr_at(self, epoch: float, total_epochs: float) -> float:
        return self.base_lr

    def get_config(self) -> dict[str, Any]:
        return {"type": self.name}


class StepDecay(Schedule):
    """lr = lr₀ · γ^⌊epoch / step⌋."""

    name = "step"

    def __init__(self, lr: float, step: float = 1.0, gamma: float = 0.5):
        super().__init__(lr)
        self.step = _positive(step, "step", "step schedule")
        self.gamma = _positive(gamma, "gamma", "step schedule")
        if self.gamma > 1:
            raise SpecError(f"step schedule: gamma must be at most 1 (a decay), got {brief(gamma)}")

    def lr_at(self, epoch, total_epochs):
        # capped: a step of 1e-300 epochs would make the exponent infinite
        return self.base_lr * self.gamma ** math.floor(min(epoch / self.step + 1e-9, 1e12))

    def get_config(self):
        return {"type": self.name, "step": self.step, "gamma": self.gamma}


class Cosine(Schedule):
    """lr = lr_min + ½(lr₀ − lr_min)(1 + cos(π · epoch / total_epochs))."""

    name = "cosine"

    def __init__(self, lr: float, min_lr: float = 0.0):
        super().__init__(lr)
        self.min_lr = _positive(min_lr, "min_lr", "cosine schedule", allow_zero=True)

    def lr_at(self, epoch, total_epochs):
        frac = min(max(epoch / max(total_epochs, 1e-12), 0.0), 1.0)
        return self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1.0 + math.cos(math.pi * frac))

    def get_config(self):
        return {"type": self.name, "min_lr": self.min_lr}


SCHEDULES: dict[str, type[Schedule]] = {c.name: c for c in (Schedule, StepDecay, Cosine)}


def get_schedule(spec: str | Mapping[str, Any] | None, lr: float) -> Schedule:
    """Build a schedule from ``None``/a name/a dict ``{"type": "step", "step": 2, "gamma": 0.5}``."""
    if spec is None:
        return Schedule(lr)
    if isinstance(spec, str):
        spec = {"type": spec}
    cfg = dict(spec)
    name = str(cfg.pop("type", "constant")).lower()
    cls = SCHEDULES.get(name)
    if cls is None:
        raise SpecError(f"unknown learning-rate schedule {name!r}; known: {', '.join(SCHEDULES)}")
    try:
        return cls(lr, **cfg)
    except TypeError:
        raise SpecError(f"schedule {name!r} got unknown settings {sorted(cfg)}") from None


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping.
    """
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm > 0 and total > max_norm:
        scale = max_norm / (total + 1e-12)
        for g in grads.values():
            g *= scale
    return total
