"""A search over a project: draws each trial's values (at random, or by TPE), runs the trials, streams and ranks
their records.

Driving it (from a command line or a window's worker thread)::

    search = Search(project, trials=100, epochs=50, samples=500)
    for record in search:          # one record per trial, as trials finish
        show(record)
    search.summary()               # {"best", "trials_done", "failed", "diverged", "stopped",
                                   #  "startup_seconds", "wall_seconds"}

:meth:`Search.stop` (from any thread) ends the search soon: trials not
started are dropped, running ones abandoned, finished ones kept in
:attr:`Search.results`. Records are described in :mod:`.trial`; the search
adds ``"sampler"`` (``"random"`` or ``"tpe"``, see :mod:`.samplers`).

Time is reported in two parts that add up to the whole run: ``startup_seconds``
until every worker is ready (its process, or a Dask cluster, started; the data
set on it; the training code loaded) and ``wall_seconds`` from then until the
last record, the time the trials take.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from playground.engine.data.datasets import Dataset
from playground.engine.errors import SpecError
from playground.engine.nn.network import Network
from playground.engine.project import validate_project
from playground.engine.search.executors import LocalExecutor
from playground.engine.search.samplers import SAMPLERS, SamplerError, import_optuna, make_sampler
from playground.engine.search.space import SearchSpace, apply_params, check_fits
from playground.engine.search.trial import TrialJob, search_data
from playground.engine.train.trainer import TrainConfig


class Search:
    """``trials`` trials of ``project``, each trained ``epochs`` epochs (default: the project's) with values
    drawn from ``space`` (default: the book's ranges) by ``seed`` and ``sampler`` ("random", the book's, or
    "tpe"), on ``executor`` (default: this machine)."""

    def __init__(self, project: Mapping[str, Any], trials: int, epochs: int | None = None,
                 space: SearchSpace | None = None, *, samples: int | None = None, val_split: float = 0.2,
                 seed: int = 0, executor: Any = None, data_dir: str | None = None,
                 hook: Callable[[int], None] | None = None, sampler: str = "random"):
        if sampler not in SAMPLERS:
            raise SamplerError(f"expected a sampler 'random' or 'tpe', got {sampler!r}")
        if sampler == "tpe":
            import_optuna()  # no Optuna: say how to install it before anything is loaded
        self.sampler = sampler
        self.project = validate_project(project)
        for name, value, low in (("trials", trials, 1), ("epochs", epochs, 1), ("seed", seed, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
                raise SpecError(f"the search's {name} must be a whole number >= {low}, got {value!r}")
        self.trials = trials
        self.epochs = epochs if epochs is not None else int(self.project["training"]["epochs"])
        self.space = space if space is not None else SearchSpace()
        check_fits(self.space, self.project)
        self.samples, self.val_split, self.seed, self.data_dir = samples, val_split, seed, data_dir
        self.executor = executor if executor is not None else LocalExecutor()
        self.hook = hook
        self.results: list[dict[str, Any]] = []
        self.startup_seconds = 0.0
        self.wall_seconds = 0.0
        self._data: Dataset | None = None
        self._stop = threading.Event()

    def params(self, index: int) -> dict[str, Any]:
        """Random search's trial ``index``'s values (the same wherever and whenever it runs); TPE's trials
        come from the results, and take values from the same space."""
        return self.space.draw(self.seed, index)

    def data(self) -> Dataset:
        """The training and validation samples every trial uses (loaded once)."""
        if self._data is None:
            self._data = search_data(self.project["dataset"], self.samples, self.val_split, self.seed,
                                     self.data_dir)
        return self._data

    def check(self) -> None:
        """Raise the error every trial would meet (a network that does not fit the data, a bad setting),
        before any worker starts."""
        data = self.data()
        for index in range(self.trials):
            project = apply_params(self.project, self.params(index))
            TrainConfig.from_dict({**project["training"], "epochs": self.epochs})
            if index == 0:
                Network(project["network"], seed=0, input_shape=data.input_shape)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.run()

    def run(self) -> Iterator[dict[str, Any]]:
        """Run the trials; yield each one's record as it finishes."""
        self.check()
        trials = make_sampler(self.sampler, self.space, self.seed, self.trials,
                              maximize=self.data().kind == "classification")
        job = TrialJob(self.project, self.epochs, self.hook)
        start = time.perf_counter()
        ready_at: list[float] = []

        def ready() -> None:
            ready_at.append(time.perf_counter())
            self.startup_seconds = ready_at[0] - start

        def clock() -> None:
            t0 = ready_at[0] if ready_at else start
            self.startup_seconds, self.wall_seconds = t0 - start, time.perf_counter() - t0

        try:
            for record in self.executor.run(job, self.data(), trials, self._stop.is_set, ready):
                record["sampler"] = self.sampler
                trials.tell(record)
                self.results.append(record)
                clock()
                yield record
        finally:
            clock()

    def stop(self) -> None:
        """End the search soon, keeping the finished trials (safe from any thread)."""
        self._stop.set()
        self.executor.cancel()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def ranking(self) -> list[dict[str, Any]]:
        """The finished trials, best first: highest validation accuracy (lowest validation loss for a
        regression), the lower trial number first among equals."""
        done = [r for r in self.results if r["status"] == "finished"]
        if self.data().kind == "classification":
            return sorted(done, key=lambda r: (-(r["val_accuracy"] or 0.0), r["trial"]))
        return sorted(done, key=lambda r: (r["val_loss"] if r["val_loss"] is not None else float("inf"),
                                           r["trial"]))

    def summary(self) -> dict[str, Any]:
        ranked = self.ranking()
        return {"best": ranked[0] if ranked else None, "trials_done": len(self.results),
                "failed": sum(r["status"] == "failed" for r in self.results),
                "diverged": sum(r["status"] == "diverged" for r in self.results),
                "stopped": self.stopped, "startup_seconds": self.startup_seconds, "wall_seconds": self.wall_seconds}
