"""The ``playground search`` command: a hyperparameter search (random or TPE), one JSON line per finished trial.

    playground search PROJECT_OR_PRESET [--trials N] [--epochs E] [--lr LO HI] [--weight-decay LO HI]
                      [--samples N] [--val-split F] [--seed S] [--workers K] [--scheduler ADDRESS|local]
                      [--sampler random|tpe] [--out RESULTS.jsonl] [--data-dir DIR]
                      [--batch-size B ...] [--dropout R ...] [--init NAME ...] [--optimizer NAME ...]

Each finished trial prints ``{"trial", "params", "val_accuracy", "val_loss",
"train_accuracy", "train_loss", "epochs", "seconds", "worker", "status",
"message", "sampler"}`` (``epochs``: the per-epoch curves); the last line is
``{"best": {...}, "trials_done", "failed", "diverged", "stopped", "startup_seconds",
"wall_seconds"}``: ``startup_seconds`` until every worker (a process here, or a
Dask worker) held the data, ``wall_seconds`` from then until the last trial.
``--out`` writes the same lines to a file as they come.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import IO, Any


def _number(kind: type, low: float, high: float | None = None):
    what = f"{'a whole number' if kind is int else 'a number'} >= {low:g}" + (f" and < {high:g}" if high else "")

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not math.isfinite(v) or v < low or (high is not None and v >= high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    parse.__name__ = what
    return parse


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1 (e.g. 0.2), got {text!r}")
    return v


_fraction.__name__ = "a fraction between 0 and 1"


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", metavar="PROJECT_OR_PRESET", help="a project .json or a preset name (e.g. book-search)")
    p.add_argument("--trials", type=_number(int, 1), default=100, help="number of trials (default 100)")
    p.add_argument("--epochs", type=_number(int, 1), help="epochs per trial (default: the project's)")
    p.add_argument("--lr", type=_number(float, 0), nargs=2, metavar=("LO", "HI"), default=(1e-6, 1e-2),
                   help="learning-rate range, drawn log-uniformly (default: the book's 1e-6 1e-2)")
    p.add_argument("--weight-decay", type=_number(float, 0), nargs=2, metavar=("LO", "HI"), default=(1e-8, 1e-4),
                   help="weight-decay range, drawn log-uniformly; 0 0 for none (default: the book's 1e-8 1e-4)")
    p.add_argument("--samples", type=_number(int, 2),
                   help="use the first N training samples (default: the project's MNIST limit, or all)")
    p.add_argument("--val-split", type=_fraction, default=0.2,
                   help="share of those samples held out for validation (default 0.2); the test set is never used")
    p.add_argument("--seed", type=_number(int, 0), default=0, help="seed of the draws and of the validation split")
    p.add_argument("--workers", type=_number(int, 1), help="processes on this machine, or workers of --scheduler "
                                                           "local (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run the trials on the Dask cluster at tcp://HOST:PORT, or on a local one ('local')")
    p.add_argument("--sampler", choices=("random", "tpe"), default="random",
                   help="random: the book's draws, trial i's values fixed by the seed; tpe: Bayesian search "
                        "(Optuna's TPE, the [cluster] extra) choosing each trial from the results so far. With a "
                        "seed TPE repeats its trials on one worker (--workers 1); with several, results arrive "
                        "in an order that may differ from run to run, and so may its later trials")
    p.add_argument("--out", metavar="RESULTS.jsonl", help="also write the JSON lines to this file")
    p.add_argument("--data-dir", help="folder with the MNIST IDX files")
    p.add_argument("--batch-size", type=_number(int, 1), nargs="+", metavar="B", help="batch sizes to choose from")
    p.add_argument("--dropout", type=_number(float, 0, 1), nargs="+", metavar="R",
                   help="dropout rates to choose from (for every Dropout layer)")
    p.add_argument("--init", nargs="+", metavar="NAME", help="initializers to choose from (e.g. he_normal)")
    p.add_argument("--optimizer", nargs="+", metavar="NAME", help="optimizers to choose from (e.g. sgd adam)")


def run_search_command(args: argparse.Namespace) -> int:
    from playground.engine.errors import PlaygroundError
    from playground.engine.project import resolve_project
    from playground.engine.search.executors import import_distributed, make_executor
    from playground.engine.search.runner import Search
    from playground.engine.search.space import SearchSpace

    if args.scheduler:
        import_distributed()  # no Dask: say how to install it before anything is loaded
    space = SearchSpace(lr=tuple(args.lr), weight_decay=tuple(args.weight_decay), optimizer=args.optimizer,
                        batch_size=args.batch_size, dropout=args.dropout, init=args.init)
    search = Search(resolve_project(args.project), args.trials, args.epochs, space, samples=args.samples,
                    val_split=args.val_split, seed=args.seed, executor=make_executor(args.scheduler, args.workers),
                    data_dir=args.data_dir, sampler=args.sampler)
    search.check()
    out = _open_out(args.out, PlaygroundError)
    try:
        try:
            for record in search:
                _emit(record, out)
        except (KeyboardInterrupt, PlaygroundError) as e:
            # Ctrl+C, or a search that could not go on (a cluster that lost its workers): the summary of the
            # trials so far, when there are any to sum up
            if isinstance(e, KeyboardInterrupt):
                search.stop()
            if search.results or isinstance(e, KeyboardInterrupt):
                _emit(search.summary(), out)
            raise
        _emit(search.summary(), out)
    finally:
        if out is not None:
            out.close()
    return 0 if search.ranking() else 1


def _open_out(path: str | None, error: type) -> IO[str] | None:
    if not path:
        return None
    target = Path(path)
    if not target.parent.is_dir():
        raise error(f"cannot write {target.name}: the folder {target.parent} does not exist; create it or choose "
                    f"another place")
    try:
        return open(target, "w", encoding="utf-8")
    except OSError as e:
        raise error(f"cannot write {target}: {e.strerror}") from None


def _emit(obj: Any, out: IO[str] | None) -> None:
    line = json.dumps(obj)
    print(line, flush=True)
    if out is not None:
        out.write(line + "\n")
        out.flush()
