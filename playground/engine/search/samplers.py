"""Where a search's trials come from: seeded random draws, or Optuna's TPE asked as workers free up.

A sampler hands the executors one trial at a time (:meth:`Sampler.take`)
and hears each finished trial's record (:meth:`Sampler.tell`).

- :class:`RandomSampler`: trial ``i``'s values are ``space.draw(seed, i)``:
  known in advance, the same wherever and in whatever order trials run.
- :class:`TpeSampler`: Bayesian search by a Tree-structured Parzen
  Estimator (Optuna's ``TPESampler`` through its ask/tell interface). Trial
  ``i + 1`` is asked only when a worker is free, from the records told so
  far, so with one worker a seed gives the same trials every time; with
  several workers the order in which results arrive may differ from run to
  run, and so may the later trials. Optuna is optional (the ``[cluster]``
  extra) and imported only when this sampler is made.
"""

from __future__ import annotations

import collections
from typing import Any

from playground.engine.errors import PlaygroundError
from playground.engine.search.space import PARAM_KEYS, SearchSpace

SAMPLERS = ("random", "tpe")
INSTALL_OPTUNA = 'pip install -e ".[cluster]" (or pip install optuna)'


class SamplerError(PlaygroundError):
    """A sampler that cannot be made: an unknown name, or TPE without Optuna."""


class Sampler:
    """``total`` trials: :meth:`take` gives the next ``(index, params)`` (a trial to run again first)."""

    name = ""
    #: every trial's values are known before any runs (executors may send them all at once)
    in_advance = False

    def __init__(self, space: SearchSpace, seed: int, total: int):
        self.space, self.seed, self.total = space, seed, total
        self._next = 0
        self._again: collections.deque[tuple[int, dict]] = collections.deque()

    def __bool__(self) -> bool:
        """Whether trials are left to give."""
        return bool(self._again) or self._next < self.total

    def __len__(self) -> int:
        return len(self._again) + self.total - self._next

    def take(self) -> tuple[int, dict[str, Any]]:
        if self._again:
            return self._again.popleft()
        index = self._next
        self._next += 1
        return index, self.ask(index)

    def again(self, index: int, params: dict[str, Any]) -> None:
        """Give this trial again before any new one (its worker died)."""
        self._again.appendleft((index, params))

    def ask(self, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, record: dict[str, Any]) -> None:
        """A trial's final record (finished, diverged or failed)."""


class RandomSampler(Sampler):
    """The book's random search: each trial's values drawn from its own seeded stream."""

    name = "random"
    in_advance = True

    def ask(self, index: int) -> dict[str, Any]:
        return self.space.draw(self.seed, index)


def import_optuna():
    """The ``optuna`` module, or a SamplerError saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise SamplerError(f"the TPE sampler needs Optuna: {INSTALL_OPTUNA}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class TpeSampler(Sampler):
    """Optuna's TPE: the first trials at random, then values where good trials were likelier than bad ones.
    ``maximize``: the score told is the validation accuracy (else the validation loss, minimized)."""

    name = "tpe"

    def __init__(self, space: SearchSpace, seed: int, total: int, maximize: bool = True):
        super().__init__(space, seed, total)
        optuna = import_optuna()
        self._optuna = optuna
        self.maximize = maximize
        self.study = optuna.create_study(direction="maximize" if maximize else "minimize",
                                         sampler=optuna.samplers.TPESampler(seed=int(seed)))
        self._fixed: dict[str, Any] = {}
        self._distributions: dict[str, Any] = {}
        for key, bounds in (("lr", space.lr), ("weight_decay", space.weight_decay)):
            low, high = bounds
            if low == high:
                self._fixed[key] = float(low)
            else:
                self._distributions[key] = optuna.distributions.FloatDistribution(low, high, log=True)
        for key in PARAM_KEYS[2:]:
            values = getattr(space, key)
            if values is not None:
                self._distributions[key] = optuna.distributions.CategoricalDistribution(list(values))
        self._trials: dict[int, Any] = {}

    def ask(self, index: int) -> dict[str, Any]:
        trial = self.study.ask(self._distributions)
        self._trials[index] = trial
        drawn = {**self._fixed, **trial.params}
        out: dict[str, Any] = {k: drawn[k] for k in PARAM_KEYS if k in drawn}
        out["lr"], out["weight_decay"] = float(out["lr"]), float(out["weight_decay"])
        return out

    def tell(self, record: dict[str, Any]) -> None:
        trial = self._trials.pop(record["trial"], None)
        if trial is None:
            return
        state = self._optuna.trial.TrialState
        if record["status"] == "failed":
            self.study.tell(trial, state=state.FAIL)
            return
        value = record["val_accuracy"] if self.maximize else record["val_loss"]
        if value is None:  # diverged before its first epoch ended: the worst a trial can be
            value = 0.0 if self.maximize else float("inf")
        if not self.maximize and value == float("inf"):
            self.study.tell(trial, state=state.FAIL)
        else:
            self.study.tell(trial, float(value))


def make_sampler(name: str, space: SearchSpace, seed: int, total: int, maximize: bool = True) -> Sampler:
    """The sampler called ``name`` ("random" or "tpe")."""
    if name == "random":
        return RandomSampler(space, seed, total)
    if name == "tpe":
        return TpeSampler(space, seed, total, maximize)
    raise SamplerError(f"expected a sampler 'random' or 'tpe', got {name!r}")
