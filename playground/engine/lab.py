"""The optimizer lab's engine: 2-D test functions, a safe expression parser, optimizer paths.

The paths are made by the very optimizer classes that train networks
(:mod:`playground.engine.optimizers`), each given one parameter
``{"w": array([x, y])}`` and the function's gradient there, so a path seen in
the lab is what that optimizer does in training.

- :data:`FUNCTIONS` is the catalogue (the book's ``x²/20 + y²``, Rosenbrock,
  Beale, Himmelblau, a saddle, Rastrigin, the six-hump camel), each with its
  formula, analytic gradient, known minima, a start, a view and learning rates
  that suit it.
- :func:`parse_expression` reads a function a person types (``x``, ``y``,
  numbers, ``+ - * / **``, ``sin cos exp log sqrt abs tanh``, ``pi``, ``e``)
  with a tokenizer and a recursive-descent parser, never ``eval``; a mistake
  raises :class:`ExpressionError` naming the column.
- :class:`OptimizerPath` is one optimizer's path, one step at a time;
  :class:`PathLab` runs several side by side for the GUI (live settings,
  toggles, the gradient and the next step at each current point), and
  :func:`run_paths` is the headless run behind ``playground paths``.

No Qt here: the GUI (``playground/ui/optimizer_lab.py``) only draws this.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .errors import SpecError
from .optimizers import Optimizer, get_optimizer

__all__ = [
    "LAB_OPTIMIZERS", "FUNCTIONS", "CUSTOM_LRS", "DIVERGENCE_BOUND", "DEFAULT_TOLERANCE", "OPTIMIZER_INFO",
    "ExpressionError", "Expression", "parse_expression", "LabFunction", "get_function", "numeric_gradient",
    "StepResult", "OptimizerPath", "PathLab", "run_paths", "parse_lr_assignments", "parse_optimizer_list",
]

#: the optimizers the lab races, in the order they are shown
LAB_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")

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


# ====================================================================== expression parser

class ExpressionError(SpecError):
    """A typed function that cannot be read.

    ``str(e)`` is one line naming the column (1-based); :meth:`pointer` gives
    the expression with a caret line under the culprit, for a monospaced view.
    """

    def __init__(self, problem: str, text: str, column: int):
        self.problem = problem
        self.text = text
        self.column = column  # 1-based; len(text) + 1 means "at the end"
        super().__init__(f"cannot read the function {text!r} at column {column}: {problem}")

    @property
    def caret_line(self) -> str:
        return " " * (self.column - 1) + "^"

    def pointer(self) -> str:
        """Three lines: the problem, the expression, and a caret under the column."""
        return f"{self.problem} (column {self.column})\n{self.text}\n{self.caret_line}"


_FUNCS: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
    "tanh": np.tanh,
}
_CONSTS = {"pi": math.pi, "e": math.e}
_VARS = ("x", "y")
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}

MAX_EXPRESSION_LENGTH = 1000
MAX_NESTING = 60

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/()])
""", re.VERBOSE)


@dataclass(frozen=True)
class _Tok:
    kind: str   # number, name, op, end
    text: str
    col: int    # 1-based


def _describe(tok: _Tok) -> str:
    return "the end" if tok.kind == "end" else repr(tok.text)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = {"^": "; write powers as x**2", ",": "; each function takes one argument",
                    "[": "; use ( ) for grouping", "{": "; use ( ) for grouping",
                    "=": "; type only the right-hand side, e.g. x**2 + y**2"}.get(ch, "")
            raise ExpressionError(f"unexpected character {ch!r}{hint}", text, pos + 1)
        kind = m.lastgroup
        if kind != "space":
            toks.append(_Tok(kind, m.group(), pos + 1))
        pos = m.end()
    toks.append(_Tok("end", "", len(text) + 1))
    return toks


class _Parser:
    """Recursive descent over::

        expr   := term (('+' | '-') term)*
        term   := unary (('*' | '/') unary)*
        unary  := ('+' | '-') unary | power
        power  := atom ('**' unary)?          (right-associative; -x**2 is -(x**2))
        atom   := number | x | y | pi | e | func '(' expr ')' | '(' expr ')'

    It emits postfix code as it goes — ("num", v), ("var", "x"), ("neg",),
    ("bin", op), ("call", name) — so a long chain like 1+1+…+1 nests nothing
    and evaluation needs no recursion. Nesting (parentheses, unary signs,
    powers) is capped at :data:`MAX_NESTING`.
    """

    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.code: list[tuple] = []

    def error(self, problem: str, tok: _Tok) -> ExpressionError:
        return ExpressionError(problem, self.text, tok.col)

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> list[tuple]:
        if self.tok.kind == "end":
            raise self.error("the function is empty; type an expression in x and y, e.g. x**2 + y**2", self.tok)
        self.expr()
        if self.tok.kind != "end":
            t = self.tok
            if t.text == ")":
                raise self.error("this ')' has no matching '('", t)
            prev = self.toks[self.i - 1]
            raise self.error(f"expected an operator between {prev.text!r} and {t.text!r}"
                             f" (write {prev.text}*{t.text} to multiply)", t)
        return self.code

    def expr(self) -> None:
        self.term()
        while self.at_op("+", "-"):
            op = self.take().text
            self.term()
            self.code.append(("bin", op))

    def term(self) -> None:
        self.unary()
        while self.at_op("*", "/"):
            op = self.take().text
            self.unary()
            self.code.append(("bin", op))

    def unary(self) -> None:
        if self.at_op("+", "-"):
            op = self.take()
            self._enter(op)
            self.unary()
            self.depth -= 1
            if op.text == "-":
                self.code.append(("neg",))
            return
        self.power()

    def power(self) -> None:
        self.atom()
        if self.at_op("**"):
            op = self.take()
            self._enter(op)
            self.unary()
            self.depth -= 1
            self.code.append(("bin", "**"))

    def _enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"the expression nests deeper than {MAX_NESTING} levels", tok)

    def atom(self) -> None:
        t = self.tok
        if t.kind == "number":
            self.take()
            self.code.append(("num", float(t.text)))
            return
        if t.kind == "name":
            self.take()
            name = t.text
            if name in _VARS:
                if self.at_op("("):
                    raise self.error(f"{name} is not a function; write {name}*(...) to multiply", self.tok)
                self.code.append(("var", name))
                return
            if name in _CONSTS:
                self.code.append(("num", _CONSTS[name]))
                return
            if name in _FUNCS:
                if not self.at_op("("):
                    raise self.error(f"{name} needs its argument in parentheses, e.g. {name}(x)", self.tok)
                self._group(self.take())
                self.code.append(("call", name))
                return
            lowered = name.lower()
            if lowered in _FUNCS or lowered in _VARS or lowered in _CONSTS:
                raise self.error(f"unknown name {name!r}; names are lower-case: write {lowered}", t)
            raise self.error(f"unknown name {name!r}; use x, y, pi, e and {', '.join(_FUNCS)}", t)
        if self.at_op("("):
            self._group(self.take())
            return
        prev = self.toks[self.i - 1] if self.i else None
        after = f" after {prev.text!r}" if prev is not None else ""
        raise self.error(f"expected a number, x, y, a function or '('{after}, found {_describe(t)}", t)

    def _group(self, opening: _Tok) -> None:
        self._enter(opening)
        if self.at_op(")"):
            raise self.error("empty parentheses", self.tok)
        self.expr()
        if not self.at_op(")"):
            raise self.error(f"expected ')' to close the '(' at column {opening.col}, found {_describe(self.tok)}",
                             self.tok)
        self.take()
        self.depth -= 1


def _run(code: Sequence[tuple], x, y):
    stack: list[Any] = []
    for ins in code:
        kind = ins[0]
        if kind == "num":
            stack.append(ins[1])
        elif kind == "var":
            stack.append(x if ins[1] == "x" else y)
        elif kind == "neg":
            stack.append(np.negative(stack.pop()))
        elif kind == "bin":
            b = stack.pop()
            stack.append(_BINARY[ins[1]](stack.pop(), b))
        else:
            stack.append(_FUNCS[ins[1]](stack.pop()))
    return stack[0]


class Expression:
    """A parsed function of x and y; call it with floats or NumPy arrays (float64).

    Values outside the function's domain (log of a negative, 1/0) come out as
    NaN or ±inf, never as an exception.
    """

    def __init__(self, text: str, code: Sequence[tuple]):
        self.text = text
        self.code = tuple(code)

    def __call__(self, x, y):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = np.asarray(_run(self.code, x, y), dtype=np.float64)
        shape = np.broadcast_shapes(x.shape, y.shape)
        if out.shape != shape:
            out = np.broadcast_to(out, shape).copy()
        return out if shape else float(out)

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables it uses, of ("x", "y")."""
        return tuple(v for v in _VARS if ("var", v) in self.code)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def parse_expression(text: str) -> Expression:
    """Read ``text`` as a function of x and y; raise :class:`ExpressionError` when it cannot."""
    if not isinstance(text, str):
        raise SpecError(f"a function must be text, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters",
                              text[:MAX_EXPRESSION_LENGTH], MAX_EXPRESSION_LENGTH)
    return Expression(text, _Parser(text).parse())


# ====================================================================== functions

def numeric_gradient(f: Callable[[Any, Any], Any], x: float, y: float) -> np.ndarray:
    """Central differences ((f(x+h) − f(x−h)) / 2h per coordinate), h scaled to the point."""
    hx = 6e-6 * max(1.0, abs(x))
    hy = 6e-6 * max(1.0, abs(y))
    with np.errstate(all="ignore"):
        gx = (f(x + hx, y) - f(x - hx, y)) / (2 * hx)
        gy = (f(x, y + hy) - f(x, y - hy)) / (2 * hy)
    return np.array([gx, gy], dtype=np.float64)


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


# ====================================================================== paths

def _start_point(start: Sequence[float] | None, function: LabFunction) -> np.ndarray:
    if start is None:
        return np.array(function.start, dtype=np.float64)
    try:
        pt = np.array([float(v) for v in start], dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError(f"start must be two numbers x y, got {start!r}") from None
    if pt.shape != (2,) or not np.all(np.isfinite(pt)):
        raise SpecError(f"start must be two finite numbers x y, got {list(start)!r}")
    return pt


def _lab_optimizer_name(name: str) -> str:
    key = str(name).strip().lower()
    if key not in LAB_OPTIMIZERS:
        raise SpecError(f"unknown optimizer {name!r}; the lab has: {', '.join(LAB_OPTIMIZERS)}")
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

    The optimizer is a real :class:`~playground.engine.optimizers.Optimizer`
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

    def preview(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(gradient, next step) at each enabled path's current point."""
        return {n: self.paths[n].preview() for n in LAB_OPTIMIZERS if self.enabled[n]}


# ====================================================================== headless runs

def parse_optimizer_list(text: str | Iterable[str] | None) -> list[str]:
    """``"sgd,adam"`` (or a list) → ``["sgd", "adam"]``, checked; None → all six."""
    if text is None:
        return list(LAB_OPTIMIZERS)
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [_lab_optimizer_name(s) for s in (str(i).strip() for i in items) if s]
    if not names:
        raise SpecError(f"expected a comma-separated list of optimizers from {', '.join(LAB_OPTIMIZERS)}, "
                        f"got {text!r}")
    seen: list[str] = []
    for n in names:
        if n in seen:
            raise SpecError(f"optimizer {n!r} is listed twice in {text!r}")
        seen.append(n)
    return seen


def parse_lr_assignments(items: Iterable[str] | None) -> dict[str, float]:
    """``["sgd=0.5", "adam=0.1"]`` → ``{"sgd": 0.5, "adam": 0.1}``, each name and number checked."""
    out: dict[str, float] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SpecError(f"--lr expects NAME=VALUE such as adam=0.3, got {item!r}")
        key = _lab_optimizer_name(name)
        try:
            lr = float(value)
        except ValueError:
            raise SpecError(f"--lr {key}: expected a number, got {value.strip()!r}") from None
        if not math.isfinite(lr) or lr <= 0:
            raise SpecError(f"--lr {key}: the learning rate must be a finite number > 0, got {value.strip()!r}")
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
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise SpecError(f"steps must be a whole number >= 0, got {steps!r}")
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

