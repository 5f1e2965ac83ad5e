"""``playground paths``: the optimizer lab without a window, one JSON object on stdout.

    playground paths [--function NAME_OR_EXPRESSION] [--steps N] [--start X Y]
                     [--optimizers sgd,momentum,...] [--lr NAME=VALUE ...]

With no options: the book's x²/20 + y² from (−7, 2) with the book's learning
rates (SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3; Nesterov 0.1 and
RMSProp 0.1 are ours), 30 steps. A user's mistake raises
:class:`~playground.engine.errors.SpecError`; the caller prints it.
"""

from __future__ import annotations

import argparse

from playground.engine.lab.functions import FUNCTIONS
from playground.engine.lab.paths import LAB_OPTIMIZERS, MAX_STEPS, parse_lr_assignments, run_paths
from playground.jsonout import print_json

__all__ = ["add_paths_arguments", "run_paths_command"]


def _step_count(text: str) -> int:
    digits = text.strip()
    n = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else -1
    if not 0 <= n <= MAX_STEPS:
        shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text):,} characters)"
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_STEPS:,}, got {shown!r}")
    return n


def add_paths_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``paths`` options to ``parser``."""
    parser.add_argument("--function", default="book", metavar="NAME",
                        help=f"one of {', '.join(FUNCTIONS)}, or an expression in x and y such as "
                             "'x**2 + 3*sin(y)' (default: book, the book's x**2/20 + y**2)")
    parser.add_argument("--steps", type=_step_count, default=30, metavar="N", help="steps per optimizer (default: 30)")
    parser.add_argument("--start", nargs=2, type=float, metavar=("X", "Y"),
                        help="start point (default: the function's, (-7, 2) for book)")
    parser.add_argument("--optimizers", metavar="LIST",
                        help=f"comma-separated, from {','.join(LAB_OPTIMIZERS)} (default: all)")
    parser.add_argument("--lr", nargs="+", action="extend", metavar="NAME=VALUE",
                        help="learning rate of one optimizer, e.g. --lr adam=0.1 sgd=0.5 "
                             "(default: the function's rates)")


def run_paths_command(args: argparse.Namespace) -> int:
    """Run the paths and print one JSON line; raises SpecError on a user's mistake."""
    result = run_paths(function=args.function, steps=args.steps, start=args.start,
                       optimizers=args.optimizers, lrs=parse_lr_assignments(args.lr))
    print_json(result)
    return 0
