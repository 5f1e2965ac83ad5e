"""One trial of a search: the data it trains on (training samples only) and the run that makes its record.

The search's data are the project's *training* samples: for MNIST the train
files (the t10k files are never read), for a generated set its training part
(its validation part stays out, as a test set would). A validation split is
cut from them at random, from the search's seed, the same for every trial.
The test data are for the one model chosen at the end, never for choosing.
Every trial starts from the same weights and batch order (the project's
seed), so two trials differ only in the values drawn for them.

A trial's record (what the search streams, one per trial, JSON-able)::

    {"trial": 7, "params": {"lr": ..., "weight_decay": ...},
     "val_accuracy": 0.81, "val_loss": 0.62, "train_accuracy": 0.93, "train_loss": 0.31,
     "epochs": [{"epoch": 1, "loss", "accuracy", "val_loss", "val_accuracy"}, ...],
     "seconds": 1.9, "worker": "local:4242", "status": "finished", "message": ""}

``status`` is ``"finished"``, ``"diverged"`` (the loss overflowed: the epochs
before it are kept) or ``"failed"`` (the trial could not run; ``message``
says why). Numbers that are not finite are written as null.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from playground.engine.data.datasets import CLASSIFICATION, Dataset, make_dataset
from playground.engine.data.mnist import N_CLASSES, load_mnist
from playground.engine.errors import DataError, SpecError
from playground.engine.nn.network import Network
from playground.engine.search.space import apply_params
from playground.engine.train.parallel import THREAD_ENV
from playground.engine.train.trainer import TrainConfig, Trainer

#: the per-epoch numbers a record keeps
EPOCH_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")


def search_data(dataset: Mapping[str, Any], samples: int | None = None, val_split: float = 0.2, seed: int = 0,
                data_dir: str | None = None) -> Dataset:
    """The training samples of the project's data set (the first ``samples`` of them), split into
    training and validation at random from ``seed``."""
    if isinstance(val_split, bool) or not isinstance(val_split, (int, float)) or not 0 < val_split < 1:
        raise SpecError(f"the validation split must be a fraction between 0 and 1 (e.g. 0.2), got {val_split!r}")
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 2):
        raise SpecError(f"the number of samples must be a whole number >= 2, got {samples!r}")
    spec = dict(dataset)
    if spec.get("name") == "mnist":
        # the dataset's limit is the project's choice of samples; the t10k files stay closed
        limit = samples if samples is not None else spec.get("limit")
        x, y = load_mnist(data_dir or spec.get("data_dir") or None, "train", limit=limit)
        base = {"kind": CLASSIFICATION, "n_classes": N_CLASSES, "input_shape": x.shape[1:],
                "class_names": tuple(str(d) for d in range(N_CLASSES))}
    else:
        full = make_dataset(spec)
        x, y = full.x_train, full.y_train
        if samples is not None:
            if samples > len(x):
                raise DataError(f"{samples} samples asked for, but data set {spec['name']!r} has {len(x)} training "
                                f"samples; ask for fewer or raise its n_samples")
            x, y = x[:samples], y[:samples]
        base = {"kind": full.kind, "n_classes": full.n_classes, "input_shape": full.input_shape,
                "class_names": full.class_names}
    n = len(x)
    n_val = round(n * val_split)
    if not 1 <= n_val <= n - 1:
        raise DataError(f"a validation split of {val_split:g} of {n} samples leaves {n_val} for validation and "
                        f"{n - n_val} for training; use more samples or another split")
    order = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1 << 32,))).permutation(n)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return Dataset(x[train], y[train], x[val], y[val], name=spec["name"],
                   spec={**spec, "samples": n, "val_split": val_split, "split_seed": int(seed)}, **base)


@dataclass(frozen=True)
class TrialJob:
    """What every trial of a search shares: the project, the epochs, and (optionally) a hook called
    in the worker with the trial number before the trial trains."""

    project: dict
    epochs: int
    hook: Callable[[int], None] | None = None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """OpenBLAS on one thread, and the trainer told so: one trial per core, the same numbers everywhere."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def set_one_thread_env() -> None:
    """For a worker process before NumPy loads: OpenBLAS starts with one thread instead of one per core."""
    for key in THREAD_ENV:
        os.environ[key] = "1"


class _Curves:
    def __init__(self) -> None:
        self.epochs: list[dict[str, Any]] = []

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any]) -> None:
        self.epochs.append({k: _finite(logs.get(k)) for k in EPOCH_KEYS})


def run_trial(job: TrialJob, data: Dataset, index: int, params: Mapping[str, Any], worker: str) -> dict[str, Any]:
    """Train the project with trial ``index``'s values for ``job.epochs`` epochs; its record."""
    t0 = time.perf_counter()
    if job.hook is not None:
        job.hook(index)
    project = apply_params(job.project, params)
    config = TrainConfig.from_dict({**project["training"], "epochs": job.epochs})
    net = Network(project["network"], seed=config.seed, input_shape=data.input_shape)
    curves = _Curves()
    with one_thread():
        trainer = Trainer(net, data, config, callbacks=[curves], threads=1)
        trainer.run()
    last = curves.epochs[-1] if curves.epochs else {}
    return {"trial": int(index), "params": dict(params), "val_accuracy": last.get("val_accuracy"),
            "val_loss": last.get("val_loss"), "train_accuracy": last.get("accuracy"),
            "train_loss": last.get("loss"), "epochs": curves.epochs, "seconds": time.perf_counter() - t0,
            "worker": worker, "status": trainer.status["status"], "message": trainer.status["message"]}


def failed_record(index: int, params: Mapping[str, Any], worker: str, message: str,
                  seconds: float = 0.0) -> dict[str, Any]:
    """The record of a trial that could not run."""
    return {"trial": int(index), "params": dict(params), "val_accuracy": None, "val_loss": None,
            "train_accuracy": None, "train_loss": None, "epochs": [], "seconds": seconds, "worker": worker,
            "status": "failed", "message": message}


def _finite(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v
