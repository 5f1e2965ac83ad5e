"""``playground lab`` and ``playground gradcheck``: the book's labs without a window, JSON on stdout.

    playground lab                                   one JSON line per lab: name, chapter, title, summary
    playground lab NAME [--quick] [--seed S] [--data-dir DIR] [--set KEY=VALUE ...]
    playground gradcheck PROJECT_OR_PRESET [--seed S] [--data-dir DIR] [--max-entries N]

A lab prints one JSON object: its result (the numbers its figure needs), the
``verdict``, the ``settings`` used and ``seconds``. ``gradcheck`` exits 1 when
backprop and central differences disagree by more than the tolerance (1e-5).
A user's mistake raises :class:`~playground.engine.errors.SpecError`; the
caller prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_lab_parsers", "run_lab_command", "run_gradcheck_command"]


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return n


def _assignment(text: str) -> tuple[str, Any]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (VALUE in JSON, e.g. epochs=5 or "
                                         f"init='\"he_normal\"'), got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a bare word is a string: init=he_normal


def add_lab_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``lab`` and ``gradcheck`` on the command line's subparsers."""
    lab = sub.add_parser("lab", help="the book's experiments, headless: list them, or run one and print JSON")
    lab.add_argument("name", nargs="?", metavar="NAME", help="the lab to run (without: list the labs)")
    lab.add_argument("--quick", action="store_true", help="small settings: a first look in seconds")
    lab.add_argument("--seed", type=_seed, default=0, help="seed for weights, data and batch order (default: 0)")
    lab.add_argument("--data-dir", help="folder with the MNIST IDX files")
    lab.add_argument("--set", type=_assignment, nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                     help="change one of the lab's settings (shown under 'settings' in its output), "
                          "VALUE in JSON, e.g. --set epochs=5 scales=8")
    g = sub.add_parser("gradcheck", help="backprop against central differences in float64, as JSON")
    g.add_argument("project", metavar="PROJECT_OR_PRESET", help="a project .json or a preset name")
    g.add_argument("--seed", type=_seed, default=0, help="seed for the weights and the entries sampled")
    g.add_argument("--data-dir", help="folder with the MNIST IDX files")
    g.add_argument("--max-entries", type=_seed, default=100, metavar="N",
                   help="entries checked per tensor, chosen at random (0: every entry; default: 100)")


def _print(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, allow_nan=False) + "\n")
    sys.stdout.flush()


class _Progress:
    """Progress on stderr, one rewritten line, only when stderr is a terminal."""

    def __init__(self, name: str):
        self.name = name
        self.shown = False

    def __call__(self, fraction: float, message: str) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{self.name}: {fraction:6.1%} {message[:60]:60s}")
            sys.stderr.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run_lab_command(args: argparse.Namespace) -> int:
    from playground.engine.lab.registry import LABS, run_lab

    if args.name is None:
        for info in LABS.values():
            _print({"name": info.name, "chapter": info.chapter, "title": info.title, "summary": info.summary})
        return 0
    progress = _Progress(args.name)
    try:
        result = run_lab(args.name, dict(args.set) or None, quick=args.quick, seed=args.seed, progress=progress,
                         data_dir=args.data_dir)
    finally:
        progress.done()
    _print(result)
    return 0


def run_gradcheck_command(args: argparse.Namespace) -> int:
    from playground.engine.lab.registry import run_lab

    result = run_lab("gradcheck", {"project": args.project, "max_entries": args.max_entries}, seed=args.seed,
                     data_dir=args.data_dir)
    _print(result)
    return 0 if result["passed"] else 1
