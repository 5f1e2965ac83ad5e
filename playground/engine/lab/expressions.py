"""A safe parser for functions a person types: ``x``, ``y``, numbers, ``+ - * / ** ^``, ``sin cos exp log sqrt abs tanh``, ``pi``, ``e``.

A tokenizer and a recursive-descent parser compile the text to a small stack
program, never ``eval``; a mistake raises :class:`ExpressionError` naming the
column. ``^`` is a power, the same as ``**`` (``x^2`` is ``x**2``), as people
write it on paper.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from playground.engine.errors import SpecError


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
  | (?P<op>\*\*|[-+*/()^])
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
            hint = {",": "; each function takes one argument",
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
        power  := atom (('**' | '^') unary)?  (right-associative; -x**2 is -(x**2); ^ is **)
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
        if self.at_op("**", "^"):
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


def numeric_gradient(f: Callable[[Any, Any], Any], x: float, y: float) -> np.ndarray:
    """Central differences ((f(x+h) − f(x−h)) / 2h per coordinate), h scaled to the point."""
    hx = 6e-6 * max(1.0, abs(x))
    hy = 6e-6 * max(1.0, abs(y))
    with np.errstate(all="ignore"):
        gx = (f(x + hx, y) - f(x - hx, y)) / (2 * hx)
        gy = (f(x, y + hy) - f(x, y - hy)) / (2 * hy)
    return np.array([gx, gy], dtype=np.float64)
