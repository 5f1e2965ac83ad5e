"""Checks of values read from files and command lines: types and ranges before anything is converted.

A value from a JSON file may be anything JSON can hold: a string, a list,
``1e308``, a whole number with 400 digits, or (as Python reads JSON) NaN and
Infinity. Converting first (``int(value)``) raises a ``ValueError`` or
``OverflowError`` or, worse, succeeds and asks for terabytes later. These
helpers look at the type, then the range, with Python numbers, and only then
convert; a value that does not pass raises :class:`SpecError` saying what was
expected and what was found.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from playground.engine.errors import SpecError

#: the most numbers (weights and biases) a network may have: 50 million float32 are 200 MB,
#: four times that with gradients and an optimizer's two moments
MAX_PARAMS = 50_000_000
#: the most numbers one sample may have at any layer (input, or any layer's output)
MAX_FEATURES = 1 << 24
#: the most multiply-adds one sample's forward pass may take (100 times deep-convnet's; a convnet's unfolded
#: patches of a batch grow with it)
MAX_MULT_ADDS = 10**9
#: the most levels of lists and objects inside each other a project or model file may hold
MAX_DEPTH = 64


def brief(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened to about ``limit`` characters for a one-line message."""
    if isinstance(value, (list, tuple, dict)) and len(value) > 8:
        text = f"{type(value).__name__} of {len(value)} items"
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        text = f"a whole number with {len(str(abs(value)))} digits" if value.bit_length() < 14000 \
            else "a whole number with thousands of digits"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def short_path(path: Any, limit: int = 100) -> str:
    """A path for a one-line message: whole when short, else its start and end and its length."""
    raw = str(path)
    return raw if len(raw) <= limit else f"{raw[:limit // 2]}…{raw[-limit // 3:]} ({len(raw):,} characters)"


def whole_number(value: Any, what: str, minimum: int = 0, maximum: int | None = None,
                 or_none: bool = False) -> int:
    """``value`` as an int when it is a whole number in [minimum, maximum]; raise SpecError otherwise.

    Whole-valued floats (``3.0``) pass; bools, strings, NaN, infinities and
    fractions do not. The range is checked before anything is converted.
    ``or_none`` only adds "or None" to the message (the caller lets None through).
    """
    number = None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        number = int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        number = float(value)
    if number is not None and maximum is not None and number > maximum:
        raise SpecError(f"{what} must be a whole number from {minimum:,} to {maximum:,}, got {brief(value)}")
    if number is None or number < minimum:
        raise SpecError(f"{what} must be a whole number >= {minimum}{' or None' if or_none else ''}, "
                        f"got {brief(value)}")
    return int(number)


def real_number(value: Any, what: str, low: float = -math.inf, high: float = math.inf,
                low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the given range; raise SpecError otherwise (never converts a string)."""
    v = math.nan
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        v = float(value) if abs(int(value)) < 1 << 1000 else math.inf
    elif isinstance(value, (float, np.floating)):
        v = float(value)
    ok = (math.isfinite(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high))
    if not ok:
        if math.isfinite(low) and math.isfinite(high):
            bound = f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif math.isfinite(low):
            bound = f" {'>' if low_open else '>='} {low:g}"
        elif math.isfinite(high):
            bound = f" {'<' if high_open else '<='} {high:g}"
        else:
            bound = ""
        raise SpecError(f"{what} must be a number{bound}, got {brief(value)}")
    return v


def text(value: Any, what: str, limit: int = 10_000) -> str:
    """``value`` when it is a string of at most ``limit`` characters; raise SpecError otherwise."""
    if not isinstance(value, str) or len(value) > limit:
        found = f"a string of {len(value):,} characters" if isinstance(value, str) else brief(value)
        raise SpecError(f"{what} must be a string of at most {limit:,} characters, got {found}")
    return value


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Levels of lists and dicts in ``value`` (0 for a plain value), counting at most ``limit`` + 1 deep.

    Iterative, so a structure nested a million deep is measured without
    recursion.
    """
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((v, depth) for v in (item.values() if isinstance(item, dict) else item))
    return deepest
