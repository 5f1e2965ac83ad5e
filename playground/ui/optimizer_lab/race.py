"""The state the optimizer lab keeps about its race: the PathLab, the tolerance, readouts and curves (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from playground.engine.lab.functions import LabFunction
from playground.engine.lab.paths import DEFAULT_TOLERANCE, PathLab
from playground.ui.optimizer_lab.drawing import symlog

__all__ = ["RaceModel", "RowStatus", "MAX_STEPS", "F_FLOOR", "SYMLOG_ABOVE"]

#: Play stops by itself after this many steps
MAX_STEPS = 20000
F_FLOOR = 1e-20     # f − f* is drawn no lower than this on the log plot
SYMLOG_ABOVE = 1e3  # without a known minimum, f is drawn as sign(f)·log10(1 + |f|) once |f| passes this


@dataclass(frozen=True)
class RowStatus:
    """What an optimizer's "reached" cell says: its text, a kind the view styles, and a tooltip."""

    text: str
    kind: str     # "off", "undefined", "diverged", "none", "waiting" or "reached"
    tooltip: str


class RaceModel:
    """Six optimizers racing on one function: :class:`PathLab` plus what the lab shows about it.

    It remembers, per optimizer, the first step within the tolerance of a
    minimum (looking only at the points added since the last look), and picks
    the scale of the f plot: f − f* when the minimum is known, else f, or
    sign(f)·log₁₀(1 + |f|) once |f| passes :data:`SYMLOG_ABOVE`.
    """

    def __init__(self, function: str | LabFunction = "book"):
        self.lab = PathLab(function)
        self.tolerance = DEFAULT_TOLERANCE
        self.symlog = False
        self._reached: dict[str, tuple[int, int | None]] = {}  # name → (points checked, first step within tol)
        self._problem_key: tuple | None = None  # (function, (x, y)) the start problem was worked out for
        self._problem: str | None = None

    @property
    def function(self) -> LabFunction:
        return self.lab.function

    @property
    def step_count(self) -> int:
        return self.lab.step_count

    @property
    def start_problem(self) -> str | None:
        """Why no path can leave the start (f or its gradient is not finite there), or None.

        Worked out once per function and start: every readout asks.
        """
        fn, start = self.lab.function, (float(self.lab.start[0]), float(self.lab.start[1]))
        if self._problem_key is None or self._problem_key[0] is not fn or self._problem_key[1] != start:
            self._problem_key, self._problem = (fn, start), self.lab.start_problem
        return self._problem

    @property
    def can_step(self) -> bool:
        """Some enabled path can still take a step, and Play has not hit :data:`MAX_STEPS`."""
        return bool(self.lab.running) and self.lab.step_count < MAX_STEPS and self.start_problem is None

    # ------------------------------------------------------------ changes
    def step(self, n: int = 1) -> int:
        """Up to ``n`` steps of every enabled path, never past :data:`MAX_STEPS`; the steps taken.

        None (0) when f or its gradient is not finite at the start: no path could leave it.
        """
        if self.start_problem is not None:
            return 0
        before = self.lab.step_count
        self.lab.step(max(0, min(int(n), MAX_STEPS - before)))
        return self.lab.step_count - before

    def reset(self, start: Sequence[float] | None = None) -> None:
        """Every path back to the start (or a new one), optimizer state forgotten, settings kept."""
        self.lab.reset(start)
        self._reached.clear()

    def set_function(self, function: LabFunction) -> None:
        self.lab.set_function(function)
        self._reached.clear()

    def set_tolerance(self, tolerance: float) -> None:
        self.tolerance = float(tolerance)
        self._reached.clear()

    def set_enabled(self, name: str, on: bool) -> None:
        self.lab.set_enabled(name, on)
        self._reached.pop(name, None)

    def stop_message(self, refused: bool = False) -> str:
        """Why Play stopped (or, ``refused``, would not start), said so that the next thing to do is clear."""
        problem = self.start_problem
        if problem is not None:
            return f"Nothing to run: {problem}. Click the map where f is defined (the coloured area)."
        if refused:
            return "Nothing left to run: every path has stopped. Reset or click a new start."
        done = "Every path has stopped." if not self.lab.running else f"Stopped after {MAX_STEPS} steps."
        return done + " Reset or click a new start to run again."

    # ------------------------------------------------------------ readouts
    def reached_step(self, name: str) -> int | None:
        """The first step within the tolerance, looking only at the points added since the last look."""
        path = self.lab.paths[name]
        checked, hit = self._reached.get(name, (0, None))
        if hit is None:
            hit = path.reached_at(self.tolerance, first=checked)
            self._reached[name] = (len(path.points), hit)
        return hit

    def status(self, name: str) -> RowStatus:
        """The "reached" cell of one optimizer."""
        path = self.lab.paths[name]
        if not self.lab.enabled[name]:
            return RowStatus("off", "off", "")
        problem = self.start_problem
        if problem is not None:
            return RowStatus("undefined at start", "undefined",
                             f"No step can be taken: {problem}. Click the map where f is defined.")
        if path.stopped:
            return RowStatus(f"diverged at {path.diverged_at}", "diverged",
                             f"Stopped at step {path.diverged_at}: {path.diverged_reason}. The others go on.")
        if not self.function.minima:
            return RowStatus("no known min", "none", "This function has no known minimum to reach")
        hit = self.reached_step(name)
        return RowStatus("—" if hit is None else f"step {hit}", "waiting" if hit is None else "reached",
                         f"The first step within {self.tolerance:g} of a minimum")

    def value_label(self) -> str:
        """The f plot's value axis: f − f* (log) when the minimum is known, else f or its symlog (chosen here)."""
        if self.function.f_min is not None:
            return "f − f*  (log scale)"
        big = max((float(np.max(np.abs(p.values))) for n, p in self.lab.paths.items() if self.lab.enabled[n]),
                  default=0.0)
        self.symlog = big > SYMLOG_ABOVE
        return "sign(f)·log₁₀(1 + |f|)" if self.symlog else "f"

    def curve(self, name: str) -> np.ndarray:
        """One optimizer's values as the f plot draws them, in the scale :meth:`value_label` chose."""
        vals = self.lab.paths[name].values
        f_min = self.function.f_min
        if f_min is not None:
            return np.maximum(vals - f_min, F_FLOOR)
        return symlog(vals) if self.symlog else vals
