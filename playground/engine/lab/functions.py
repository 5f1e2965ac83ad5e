"""The optimizer lab's 2-D test functions: the book's ``x²/20 + y²``, Rosenbrock, Beale, Himmelblau, a saddle, Rastrigin, the six-hump camel.

Each :class:`LabFunction` has its formula, analytic gradient, known minima, a
start, a view and learning rates that suit it; :func:`get_function` also
accepts a typed expression.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.lab.expressions import ExpressionError, Expression, parse_expression, numeric_gradient


@dataclass(frozen=True)
class LabFunction:
    """A 2-D function to descend, with what the lab needs to show it."""

    name: str                                  # catalogue key, or the typed expression
    title: str                                 # shown in menus
    formula: str                               # for people: "x²/20 + y²"
    expression: Expression                     # the same function in the parser's syntax
    grad: Callable[[float, float], np.ndarray] | None  # analytic gradient; None → central differences
    minima: tuple[tuple[float, float], ...]    # known global minima (empty when unknown or none)
    f_min: float | None                        # f at the minima
    start: tuple[float, float]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    lrs: Mapping[str, float]                   # learning rates that suit it
    note: str = ""
    custom: bool = False

    def value(self, x, y):
        """f(x, y) for floats or arrays."""
        return self.expression(x, y)

    def gradient(self, x: float, y: float) -> np.ndarray:
        """∇f at (x, y) as a float64 array of 2: analytic when known, else central differences."""
        if self.grad is not None:
            with np.errstate(all="ignore"):
                return np.asarray(self.grad(float(x), float(y)), dtype=np.float64)
        return numeric_gradient(self.expression, float(x), float(y))

    @property
    def analytic(self) -> bool:
        return self.grad is not None

    def nearest_minimum(self, point: Sequence[float]) -> tuple[tuple[float, float], float] | None:
        """(minimum, distance) of the known minimum nearest ``point``, or None if none is known."""
        if not self.minima:
            return None
        px, py = float(point[0]), float(point[1])
        best = min(self.minima, key=lambda m: math.hypot(px - m[0], py - m[1]))
        return best, math.hypot(px - best[0], py - best[1])


def _book_grad(x, y):
    return (x / 10.0, 2.0 * y)


def _rosenbrock_grad(x, y):
    return (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x))


def _beale_grad(x, y):
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y * y
    t3 = 2.625 - x + x * y ** 3
    return (2 * t1 * (y - 1) + 2 * t2 * (y * y - 1) + 2 * t3 * (y ** 3 - 1),
            2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y * y)


def _himmelblau_grad(x, y):
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return (4 * x * a + 2 * b, 2 * a + 4 * y * b)


def _saddle_grad(x, y):
    return (2.0 * x, -2.0 * y)


def _rastrigin_grad(x, y):
    return (2 * x + 20 * math.pi * math.sin(2 * math.pi * x), 2 * y + 20 * math.pi * math.sin(2 * math.pi * y))


def _camel_grad(x, y):
    return (8 * x - 8.4 * x ** 3 + 2 * x ** 5 + y, x - 8 * y + 16 * y ** 3)


_CAMEL_MIN = (0.08984201368301331, -0.7126564032704135)


def _catalogue_entry(name, title, formula, expression, grad, minima, f_min, start, x_range, y_range, lrs,
                     note=""):
    return LabFunction(name, title, formula, parse_expression(expression), grad, tuple(minima), f_min,
                       start, x_range, y_range, dict(lrs), note)


#: the catalogue, in menu order; "book" is the default
FUNCTIONS: dict[str, LabFunction] = {f.name: f for f in (
    _catalogue_entry(
        "book", "Book: x²/20 + y²", "f(x, y) = x²/20 + y²", "x**2/20 + y**2", _book_grad,
        [(0.0, 0.0)], 0.0, (-7.0, 2.0), (-10.0, 10.0), (-5.0, 5.0),
        # the book's rates for SGD, Momentum, AdaGrad and Adam; ours for Nesterov and RMSProp
        {"sgd": 0.95, "momentum": 0.1, "nesterov": 0.1, "adagrad": 1.5, "rmsprop": 0.1, "adam": 0.3},
        "Deep Learning from Scratch, §6.1: a valley 20 times flatter along x than along y."),
    _catalogue_entry(
        "rosenbrock", "Rosenbrock", "f(x, y) = (1 − x)² + 100·(y − x²)²", "(1 - x)**2 + 100*(y - x**2)**2",
        _rosenbrock_grad, [(1.0, 1.0)], 0.0, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0),
        {"sgd": 0.001, "momentum": 0.001, "nesterov": 0.001, "adagrad": 0.5, "rmsprop": 0.003, "adam": 0.03},
        "A curved, flat-bottomed valley: easy to find, slow to follow to (1, 1)."),
    _catalogue_entry(
        "beale", "Beale", "f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
        "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2", _beale_grad,
        [(3.0, 0.5)], 0.0, (1.0, 1.4), (-4.5, 4.5), (-4.5, 4.5),
        {"sgd": 0.01, "momentum": 0.002, "nesterov": 0.002, "adagrad": 1.0, "rmsprop": 0.03, "adam": 0.1},
        "Flat plateaus and steep walls near the corners; the minimum is at (3, 0.5)."),
    _catalogue_entry(
        "himmelblau", "Himmelblau", "f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
        "(x**2 + y - 11)**2 + (x + y**2 - 7)**2", _himmelblau_grad,
        [(3.0, 2.0), (-2.805118086952745, 3.131312518250573), (-3.779310253377747, -3.283185991286170),
         (3.584428340330492, -1.848126526964404)], 0.0, (-0.5, -0.5), (-5.0, 5.0), (-5.0, 5.0),
        {"sgd": 0.01, "momentum": 0.002, "nesterov": 0.002, "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1},
        "Four equal minima: which one a path ends in depends on the optimizer."),
    _catalogue_entry(
        "saddle", "Saddle", "f(x, y) = x² − y²", "x**2 - y**2", _saddle_grad,
        [], None, (-1.5, 0.001), (-2.0, 2.0), (-2.0, 2.0),
        {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.05},
        "No minimum: a path that starts almost on the ridge must find the way down along y."),
    _catalogue_entry(
        "rastrigin", "Rastrigin", "f(x, y) = 20 + x² − 10·cos 2πx + y² − 10·cos 2πy",
        "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)", _rastrigin_grad,
        [(0.0, 0.0)], 0.0, (-3.3, 2.6), (-5.12, 5.12), (-5.12, 5.12),
        {"sgd": 0.003, "momentum": 0.004, "nesterov": 0.004, "adagrad": 1.0, "rmsprop": 0.3, "adam": 0.3},
        "A grid of local minima around the global one at (0, 0)."),
    _catalogue_entry(
        "six-hump-camel", "Six-hump camel", "f(x, y) = (4 − 2.1x² + x⁴/3)·x² + xy + (4y² − 4)·y²",
        "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2", _camel_grad,
        [_CAMEL_MIN, (-_CAMEL_MIN[0], -_CAMEL_MIN[1])], -1.031628453489877, (-1.2, -1.0), (-2.0, 2.0),
        (-1.2, 1.2),
        {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.05},
        "Six humps, two global minima at ±(0.0898, −0.7127), f = −1.0316."),
)}

_ALIASES = {"camel": "six-hump-camel", "sixhump": "six-hump-camel", "six-hump": "six-hump-camel"}

#: learning rates for a typed function (nothing is known about its scale)
CUSTOM_LRS: Mapping[str, float] = {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.5,
                                   "rmsprop": 0.05, "adam": 0.1}


def _catalogue_key(text: str) -> str:
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    return _ALIASES.get(key, key)


def get_function(spec: str | LabFunction, start: Sequence[float] | None = None,
                 x_range: Sequence[float] | None = None, y_range: Sequence[float] | None = None) -> LabFunction:
    """A catalogue function by name (``"book"``, ``"rosenbrock"``, …) or a typed expression in x and y.

    A typed function has no known minimum, central-difference gradients and
    the :data:`CUSTOM_LRS`; ``start``, ``x_range`` and ``y_range`` default to
    (−3, 3) and the square [−5, 5]². A name that is neither in the catalogue
    nor an expression raises :class:`SpecError` listing the known names.
    """
    if isinstance(spec, LabFunction):
        return spec
    if not isinstance(spec, str):
        raise SpecError(f"a function must be a name or an expression, got {type(spec).__name__}")
    key = _catalogue_key(spec)
    if key in FUNCTIONS:
        return FUNCTIONS[key]
    text = spec.strip()
    try:
        expr = parse_expression(text)
    except ExpressionError:
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_\- ]*", text):
            raise SpecError(f"unknown function {spec!r}; known: {', '.join(FUNCTIONS)}, "
                            "or an expression in x and y such as 'x**2 + 3*y**2'") from None
        raise
    return LabFunction(text, "Your function", f"f(x, y) = {text}", expr, None, (), None,
                       tuple(start) if start is not None else (-3.0, 3.0),
                       tuple(x_range) if x_range is not None else (-5.0, 5.0),
                       tuple(y_range) if y_range is not None else (-5.0, 5.0),
                       dict(CUSTOM_LRS), "Typed function: gradients by central differences.", True)
