"""Optimizer paths over a 2-D function: one optimizer at a time, several side by side, or headless.

The paths are made by the very optimizer classes that train networks
(:mod:`playground.engine.nn.optimizers`), each given one parameter
``{"w": array([x, y])}`` and the function's gradient there, so a path seen in
the lab is what that optimizer does in training.

- :class:`OptimizerPath` is one optimizer's path, one step at a time;
- :class:`PathLab` runs several side by side for the GUI (live settings,
  toggles, the gradient and the next step at each current point);
- :func:`run_paths` is the headless run behind ``playground paths``.

No Qt here: the GUI (``playground/ui/optimizer_lab``) only draws this.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from playground.engine.checks import brief
from playground.engine.errors import SpecError
from playground.engine.nn.optimizers import Optimizer, get_optimizer
from playground.engine.lab.functions import LabFunction, get_function


__all__ = [
    "LAB_OPTIMIZERS", "MAX_STEPS", "DIVERGENCE_BOUND", "DEFAULT_TOLERANCE", "OPTIMIZER_INFO", "StepResult",
    "OptimizerPath", "PathLab", "run_paths", "parse_lr_assignments", "parse_optimizer_list", "start_problem",
]

#: the optimizers the lab races, in the order they are shown
LAB_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")

#: the most steps ``playground paths`` runs per optimizer (each step is kept, for six optimizers)
MAX_STEPS = 100_000

#: a path whose |x| or |y| passes this has diverged and stops
DIVERGENCE_BOUND = 1e6

#: a path has reached a minimum when it is this close to it (Euclidean distance)
DEFAULT_TOLERANCE = 1e-3

#: what each optimizer does, with its update rule as the book writes it (g = ∇f at w)
OPTIMIZER_INFO: dict[str, tuple[str, str]] = {
    "sgd": ("SGD", "w ← w − lr·g\nSteps straight down the slope; zig-zags across narrow valleys."),
    "momentum": ("Momentum", "v ← μ·v − lr·g;  w ← w + v\nA ball rolling downhill: it gathers speed "
                             "and overshoots."),
    "nesterov": ("Nesterov", "v ← μ·v − lr·g;  w ← w + μ·v − lr·g\nMomentum that looks ahead: it brakes "
                             "earlier, so it overshoots less."),
    "adagrad": ("AdaGrad", "h ← h + g⊙g;  w ← w − lr·g / (√h + 1e-7)\nEach coordinate's step shrinks as its "
                           "squared gradients add up."),
    "rmsprop": ("RMSProp", "h ← ρ·h + (1 − ρ)·g⊙g;  w ← w − lr·g / (√h + ε)\nAdaGrad that forgets old "
                           "gradients, so steps do not die out."),
    "adam": ("Adam", "m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g⊙g\n"
                     "w ← w − lr·m̂ / (√v̂ + ε)  (m̂, v̂ bias-corrected)\nMomentum plus per-coordinate scaling."),
}


def _start_point(start: Sequence[float] | None, function: LabFunction) -> np.ndarray:
    if start is None:
        return np.array(function.start, dtype=np.float64)
    try:
        pt = np.array([float(v) for v in start], dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError(f"start must be two numbers x y, got {brief(start)}") from None
    if pt.shape != (2,) or not np.all(np.isfinite(pt)):
        raise SpecError(f"start must be two finite numbers x y, got {brief(list(start))}")
    return pt


def start_problem(function: LabFunction, start: Sequence[float]) -> str | None:
    """Why no optimizer can leave ``start``: f or its gradient is not finite there; None when both are."""
    x, y = float(start[0]), float(start[1])
    where = f"at the start ({x:.3g}, {y:.3g})"
    if not math.isfinite(float(function.value(x, y))):
        return f"f is not defined {where}"
    if not np.all(np.isfinite(function.gradient(x, y))):
        return f"the gradient of f is not finite {where}"
    return None


def _lab_optimizer_name(name: str) -> str:
    key = str(name).strip().lower()
    if key not in LAB_OPTIMIZERS:
        raise SpecError(f"unknown optimizer {brief(name)}; the lab has: {', '.join(LAB_OPTIMIZERS)}")
    return key


@dataclass
class StepResult:
    """One optimizer step: the gradient at the point it left and the step it actually took."""

    name: str
    step: int                 # the step number (1 = the first step)
    before: np.ndarray        # the point stepped from
    gradient: np.ndarray      # ∇f there
    delta: np.ndarray         # the actual step: after − before (NaN if it diverged to non-finite)
    after: np.ndarray         # the new point
    value: float              # f(after)
    diverged: str | None = None  # why the path stopped at this step, if it did


class OptimizerPath:
    """One optimizer descending one function from one start, a step at a time.

    The optimizer is a real :class:`~playground.engine.nn.optimizers.Optimizer`
    updating ``{"w": array([x, y])}``. A step whose gradient or new point is
    not finite, whose new point lies beyond ``bound`` in |x| or |y|, or where f
    is not defined, stops the path (``diverged_at``, ``diverged_reason``); the
    point that left is not kept. Points and values live in doubling arrays.
    """

    def __init__(self, name: str, function: LabFunction, start: Sequence[float],
                 config: Mapping[str, Any] | None = None, bound: float = DIVERGENCE_BOUND):
        self.name = _lab_optimizer_name(name)
        self.function = function
        self.bound = float(bound)
        cfg = {"lr": function.lrs[self.name]}
        cfg.update(config or {})
        cfg["type"] = self.name
        self.optimizer: Optimizer = get_optimizer(cfg)
        self.reset(start)

    # ---- state
    def reset(self, start: Sequence[float] | None = None) -> None:
        """Back to the start (optionally a new one), forgetting the optimizer's state, keeping its settings."""
        if start is not None:
            self.start = _start_point(start, self.function)
        self.optimizer.reset()
        self.params = {"w": self.start.copy()}
        self._pts = np.empty((64, 2), dtype=np.float64)
        self._vals = np.empty(64, dtype=np.float64)
        self._n = 0
        self.diverged_at: int | None = None
        self.diverged_reason: str | None = None
        self._append(self.start, float(self.function.value(*self.start)))

    def _append(self, point: np.ndarray, value: float) -> None:
        if self._n == len(self._vals):
            self._pts = np.concatenate([self._pts, np.empty_like(self._pts)])
            self._vals = np.concatenate([self._vals, np.empty_like(self._vals)])
        self._pts[self._n] = point
        self._vals[self._n] = value
        self._n += 1

    @property
    def points(self) -> np.ndarray:
        """(n, 2) points so far, the start first (a view: copy it to keep it)."""
        return self._pts[:self._n]

    @property
    def values(self) -> np.ndarray:
        """f at each point."""
        return self._vals[:self._n]

    @property
    def steps(self) -> int:
        """Steps taken (the number of points after the start)."""
        return self._n - 1

    @property
    def position(self) -> np.ndarray:
        return self._pts[self._n - 1].copy()

    @property
    def stopped(self) -> bool:
        return self.diverged_at is not None

    # ---- settings, changed live
    @property
    def settings(self) -> dict[str, Any]:
        """The optimizer's config: ``{"type": "momentum", "lr": 0.1, "momentum": 0.9}``."""
        return self.optimizer.get_config()

    def set(self, attr: str, value: float) -> None:
        """Change one setting now, keeping the optimizer's state (velocities, sums).

        The value is checked by building the optimizer with it, so a bad value
        raises the optimizer's own :class:`SpecError`.
        """
        checked = get_optimizer({**self.optimizer.get_config(), attr: value})
        setattr(self.optimizer, attr, getattr(checked, attr))

    # ---- stepping
    def _step_from(self, optimizer: Optimizer, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = self.function.gradient(w[0], w[1])
        params = {"w": w.copy()}
        if np.all(np.isfinite(g)):
            with np.errstate(all="ignore"):
                optimizer.update(params, {"w": g.copy()})
        else:
            params["w"][:] = np.nan
        return g, params["w"], params["w"] - w

    def preview(self) -> tuple[np.ndarray, np.ndarray]:
        """(gradient, step) at the current point: the step the next :meth:`step` would take, taken by a copy."""
        w = self.position
        if self.stopped:
            return self.function.gradient(*w), np.zeros(2)
        g, _, delta = self._step_from(copy.deepcopy(self.optimizer), w)
        return g, delta

    def step(self) -> StepResult | None:
        """Take one step; None if the path has stopped."""
        if self.stopped:
            return None
        before = self.position
        g, after, delta = self._step_from(self.optimizer, before)
        self.params["w"] = after
        step = self._n
        value = float(self.function.value(after[0], after[1])) if np.all(np.isfinite(after)) else math.nan
        reason = None
        if not np.all(np.isfinite(g)):
            reason = "the gradient is not finite"
        elif not np.all(np.isfinite(after)):
            reason = "the point is not finite"
        elif np.any(np.abs(after) > self.bound):
            reason = f"|x| or |y| passed {self.bound:g}"
        elif not math.isfinite(value):
            reason = "f is not defined there"
        if reason is None:
            self._append(after, value)
        else:
            self.diverged_at = step
            self.diverged_reason = reason
        return StepResult(self.name, step, before, g, delta, after, value, reason)

    def reached_at(self, tolerance: float = DEFAULT_TOLERANCE, first: int = 0) -> int | None:
        """The first step (from step ``first`` on) at which the path is within ``tolerance`` of a known minimum.

        None if it has not got there (yet) or no minimum is known.
        """
        if not self.function.minima or first >= self._n:
            return None
        pts = self.points[first:]
        mins = np.asarray(self.function.minima, dtype=np.float64)
        d = np.min(np.hypot(pts[:, None, 0] - mins[None, :, 0], pts[:, None, 1] - mins[None, :, 1]), axis=1)
        hit = np.flatnonzero(d <= tolerance)
        return first + int(hit[0]) if hit.size else None


class PathLab:
    """Several optimizers racing on one function from one start, for the GUI.

    All of :data:`LAB_OPTIMIZERS` have a path; ``enabled`` says which ones step.
    Turning one on again replays it to the current step count with its current
    settings, so every enabled path has the same number of steps (unless it
    diverged). ``settings`` maps an optimizer to config overrides, e.g.
    ``{"momentum": {"lr": 0.05, "momentum": 0.8}}``.
    """

    def __init__(self, function: str | LabFunction = "book", start: Sequence[float] | None = None,
                 settings: Mapping[str, Mapping[str, Any]] | None = None, bound: float = DIVERGENCE_BOUND):
        self.function = get_function(function)
        self.start = _start_point(start, self.function)
        self.bound = float(bound)
        settings = settings or {}
        unknown = [k for k in settings if str(k).lower() not in LAB_OPTIMIZERS]
        if unknown:
            raise SpecError(f"settings for unknown optimizer(s) {', '.join(map(repr, unknown))}; "
                            f"the lab has: {', '.join(LAB_OPTIMIZERS)}")
        self.paths: dict[str, OptimizerPath] = {
            n: OptimizerPath(n, self.function, self.start, settings.get(n), self.bound) for n in LAB_OPTIMIZERS}
        self.enabled: dict[str, bool] = {n: True for n in LAB_OPTIMIZERS}
        self.step_count = 0

    def set_function(self, function: str | LabFunction, start: Sequence[float] | None = None) -> None:
        """A new function: each optimizer gets the function's learning rate (other settings stay), and a reset."""
        self.function = get_function(function)
        self.start = _start_point(start, self.function)
        for name, path in list(self.paths.items()):
            cfg = path.settings
            cfg["lr"] = self.function.lrs[name]
            cfg.pop("type")
            self.paths[name] = OptimizerPath(name, self.function, self.start, cfg, self.bound)
        self.step_count = 0

    def reset(self, start: Sequence[float] | None = None) -> None:
        """Every path back to the start (or a new start), optimizer state cleared, settings kept."""
        if start is not None:
            self.start = _start_point(start, self.function)
        for path in self.paths.values():
            path.reset(self.start)
        self.step_count = 0

    def set_setting(self, name: str, attr: str, value: float) -> None:
        self.paths[_lab_optimizer_name(name)].set(attr, value)

    def set_enabled(self, name: str, on: bool) -> None:
        name = _lab_optimizer_name(name)
        if on and not self.enabled[name]:
            path = self.paths[name]
            path.reset()
            while path.steps < self.step_count and path.step() is not None and not path.stopped:
                pass
        self.enabled[name] = bool(on)

    @property
    def running(self) -> list[str]:
        """Enabled paths that have not stopped."""
        return [n for n in LAB_OPTIMIZERS if self.enabled[n] and not self.paths[n].stopped]

    def step(self, n: int = 1) -> dict[str, list[StepResult]]:
        """``n`` steps of every enabled, running path; returns each path's results."""
        out: dict[str, list[StepResult]] = {}
        for _ in range(int(n)):
            names = self.running
            if not names:
                break
            for name in names:
                res = self.paths[name].step()
                if res is not None:
                    out.setdefault(name, []).append(res)
            self.step_count += 1
        return out

    @property
    def start_problem(self) -> str | None:
        """Why no path can leave the start (f or its gradient not finite there), or None."""
        return start_problem(self.function, self.start)

    def preview(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(gradient, next step) at each enabled path's current point."""
        return {n: self.paths[n].preview() for n in LAB_OPTIMIZERS if self.enabled[n]}


def parse_optimizer_list(text: str | Iterable[str] | None) -> list[str]:
    """``"sgd,adam"`` (or a list) → ``["sgd", "adam"]``, checked; None → all six."""
    if text is None:
        return list(LAB_OPTIMIZERS)
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [_lab_optimizer_name(s) for s in (str(i).strip() for i in items) if s]
    if not names:
        raise SpecError(f"expected a comma-separated list of optimizers from {', '.join(LAB_OPTIMIZERS)}, "
                        f"got {brief(text)}")
    seen: list[str] = []
    for n in names:
        if n in seen:
            raise SpecError(f"optimizer {n!r} is listed twice in {brief(text)}")
        seen.append(n)
    return seen


def parse_lr_assignments(items: Iterable[str] | None) -> dict[str, float]:
    """``["sgd=0.5", "adam=0.1"]`` → ``{"sgd": 0.5, "adam": 0.1}``, each name and number checked."""
    out: dict[str, float] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SpecError(f"--lr expects NAME=VALUE such as adam=0.3, got {brief(item)}")
        key = _lab_optimizer_name(name)
        try:
            lr = float(value)
        except ValueError:
            raise SpecError(f"--lr {key}: expected a number, got {brief(value.strip())}") from None
        if not math.isfinite(lr) or lr <= 0:
            raise SpecError(f"--lr {key}: the learning rate must be a finite number > 0, got {brief(value.strip())}")
        if key in out:
            raise SpecError(f"--lr gives {key} twice")
        out[key] = lr
    return out


def run_paths(function: str | LabFunction = "book", steps: int = 30, start: Sequence[float] | None = None,
              optimizers: Sequence[str] | str | None = None, lrs: Mapping[str, float] | None = None,
              tolerance: float = DEFAULT_TOLERANCE, bound: float = DIVERGENCE_BOUND) -> dict[str, Any]:
    """Run each optimizer ``steps`` steps and return the ``playground paths`` JSON object.

    Keys: ``function`` (its name or the typed expression), ``start`` [x, y],
    ``paths`` {optimizer: [[x, y], ...] with the start first}, and also ``lr``
    {optimizer: rate used}, ``diverged`` {optimizer: step at which it stopped}
    (only those that did), ``minima`` (known minima), ``tolerance`` and
    ``reached`` {optimizer: first step within ``tolerance`` of a minimum, or
    None}. A path that diverges stops; the others go on.
    """
    fn = get_function(function)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= MAX_STEPS:
        raise SpecError(f"steps must be a whole number from 0 to {MAX_STEPS:,}, got {brief(steps)}; "
                        f"a path that has not settled by then will not")
    names = parse_optimizer_list(optimizers)
    rates = {_lab_optimizer_name(k): v for k, v in (lrs or {}).items()}
    stray = [k for k in rates if k not in names]
    if stray:
        raise SpecError(f"a learning rate is given for {', '.join(stray)}, which is not among the optimizers "
                        f"run ({', '.join(names)})")
    pt = _start_point(start, fn)
    paths = {n: OptimizerPath(n, fn, pt, {"lr": rates[n]} if n in rates else None, bound) for n in names}
    for path in paths.values():
        for _ in range(int(steps)):
            if path.step() is None or path.stopped:
                break
    return {
        "function": fn.name,
        "start": [float(pt[0]), float(pt[1])],
        "paths": {n: p.points.tolist() for n, p in paths.items()},
        "lr": {n: p.optimizer.lr for n, p in paths.items()},
        "diverged": {n: p.diverged_at for n, p in paths.items() if p.stopped},
        "minima": [list(m) for m in fn.minima],
        "tolerance": tolerance,
        "reached": {n: p.reached_at(tolerance) for n, p in paths.items()},
    }
