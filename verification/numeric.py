"""Numeric code from symbolic expressions: one compiled function for several number systems at once.

:func:`compile_exprs` turns sympy (or symengine) expressions into one Python
function returning all of them, each shared subexpression computed once. The
function reads every elementary function and every rational constant from a
:class:`Numbers` namespace, so the same code evaluates in any of the number
systems of :mod:`verification.number_systems` (float64, complex, certified
intervals, mpmath numbers).

Constants are exact rationals built at call time in the namespace's numbers,
never Python floats, so nothing is rounded to float64 on the way in. Branches
of a ``Piecewise`` are evaluated only when selected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

__all__ = [
    "Numbers",
    "Unsupported",
    "Undecided",
    "compile_exprs",
    "is_analytic",
]


class Unsupported(ValueError):
    """The expression uses a function no namespace implements."""


class Undecided(ArithmeticError):
    """An interval comparison cannot be decided at the current precision."""


@dataclass(frozen=True)
class Numbers:
    """The functions compiled code calls, bound to one number system."""

    name: str
    fns: dict[str, Callable[..., Any]] = field(repr=False)


_NODE_FN = {
    "exp": "exp",
    "log": "log",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "tanh": "tanh",
    "sinh": "sinh",
    "cosh": "cosh",
    "Abs": "abs",
    "sign": "sign",
    "Heaviside": "heaviside",
    "re": "re",
    "im": "im",
}
_NON_ANALYTIC = {"Abs", "sign", "Heaviside", "Max", "Min", "Piecewise", "re", "im"}
_RELATIONS = {
    "StrictLessThan": "lt",
    "LessThan": "le",
    "StrictGreaterThan": "gt",
    "GreaterThan": "ge",
    "Equality": "eq",
    "Unequality": "ne",
}


def _kind(e: Any) -> str:
    return type(e).__name__


def _rational(e: Any) -> Fraction | None:
    """The exact value of a numeric leaf (integer, rational or binary float), else None."""
    if getattr(e, "is_Integer", False):
        return Fraction(int(e))
    if getattr(e, "is_Rational", False):
        return Fraction(int(e.p), int(e.q))
    if getattr(e, "is_Number", False) and _kind(e) in ("Float", "RealDouble", "RealMPFR"):
        value = float(e)
        if math.isfinite(value):
            return Fraction(value)
    return None


def _is_e(e: Any) -> bool:
    return _kind(e) == "Exp1"


def is_analytic(exprs: Sequence[Any]) -> bool:
    """Whether the expressions use only complex-analytic functions (no abs, max, piecewise, ...)."""
    stack = list(exprs)
    seen: set[Any] = set()
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if _kind(e) in _NON_ANALYTIC:
            return False
        stack.extend(e.args)
    return True


class _Writer:
    """Emits straight-line code: one temporary per shared (eager) subexpression."""

    def __init__(self, symbols: Sequence[Any]) -> None:
        self.names: dict[Any, str] = {s: f"a{i}" for i, s in enumerate(symbols)}
        self.consts: dict[Fraction, str] = {}
        self.lines: list[str] = []
        self.guarded: set[Any] = set()

    def const(self, q: Fraction) -> str:
        if q.denominator == 1 and abs(q.numerator) < 2**53:
            return f"({q.numerator})"
        name = self.consts.get(q)
        if name is None:
            name = f"c{len(self.consts)}"
            self.consts[q] = name
        return name

    def mark_guarded(self, roots: Sequence[Any]) -> None:
        """Find subexpressions reached only inside Piecewise branches (they stay lazy)."""
        eager: set[Any] = set()
        lazy: set[Any] = set()
        stack: list[tuple[Any, bool]] = [(r, False) for r in roots]
        while stack:
            e, in_branch = stack.pop()
            bucket = lazy if in_branch else eager
            if e in bucket:
                continue
            bucket.add(e)
            if _kind(e) == "Piecewise":
                for i, (value, cond) in enumerate(_pieces(e)):
                    stack.append((value, True))
                    stack.append((cond, in_branch if i == 0 else True))
                continue
            stack.extend((a, in_branch) for a in e.args)
        self.guarded = lazy - eager

    def emit(self, e: Any) -> str:
        """Name or inline code for ``e``; eager subexpressions get a temporary."""
        name = self.names.get(e)
        if name is not None:
            return name
        q = _rational(e)
        if q is not None:
            return self.const(q)
        code = self._code(e)
        if e in self.guarded or not e.args:
            return code
        name = f"t{len(self.lines)}"
        self.lines.append(f"    {name} = {code}")
        self.names[e] = name
        return name

    def _code(self, e: Any) -> str:  # noqa: C901 -- one branch per kind of sympy node: a dispatch table
        kind = _kind(e)
        args = e.args
        if kind == "Add":
            return "(" + " + ".join(self.emit(a) for a in args) + ")"
        if kind == "Mul":
            return "(" + " * ".join(self.emit(a) for a in args) + ")"
        if kind == "Pow":
            return self._pow(args[0], args[1])
        if kind in _NODE_FN:
            return f"{_NODE_FN[kind]}({self.emit(args[0])})"
        if kind in ("Max", "Min"):
            return f"{kind.lower()}_({', '.join(self.emit(a) for a in args)})"
        if kind == "Exp1":
            return "exp(1)"
        if kind == "Pi":
            return "pi()"
        if kind == "Piecewise":
            return self._piecewise(_pieces(e))
        if kind in _RELATIONS:
            return f"{_RELATIONS[kind]}({self.emit(args[0])}, {self.emit(args[1])})"
        if kind == "BooleanTrue":
            return "True"
        if kind == "BooleanFalse":
            return "False"
        if kind == "And":
            return "(" + " and ".join(self.emit(a) for a in args) + ")"
        if kind == "Or":
            return "(" + " or ".join(self.emit(a) for a in args) + ")"
        raise Unsupported(f"cannot evaluate {kind} numerically (in {e})")

    def _pow(self, base: Any, expo: Any) -> str:
        if _is_e(base):
            return f"exp({self.emit(expo)})"
        q = _rational(expo)
        b = self.emit(base)
        if q is not None and q.denominator == 1:
            return f"powi({b}, {q.numerator})"
        if q is not None and q.denominator == 2:
            return f"powi(sqrt({b}), {q.numerator})"
        return f"pow_({b}, {self.emit(expo)})"

    def _piecewise(self, pairs: list[tuple[Any, Any]]) -> str:
        code = "nan()"
        for value, cond in reversed(pairs):
            if _kind(cond) == "BooleanTrue":
                code = self.emit(value)
            else:
                code = f"({self.emit(value)} if {self.emit(cond)} else {code})"
        return code


def _pieces(e: Any) -> list[tuple[Any, Any]]:
    args = e.args
    if args and _kind(args[0]) == "ExprCondPair":
        return [(a.args[0], a.args[1]) for a in args]
    return [(args[i], args[i + 1]) for i in range(0, len(args), 2)]


Compiled = Callable[[Numbers, Sequence[Any]], tuple[Any, ...]]


def compile_exprs(exprs: Sequence[Any], symbols: Sequence[Any]) -> Compiled:
    """One function ``f(numbers, point) -> tuple`` computing every expression at ``point``.

    Raises :class:`Unsupported` when an expression uses a function outside
    exp, log, sqrt, sin, cos, tan, tanh, sinh, cosh, abs, sign, Heaviside,
    Max, Min, Piecewise and powers.
    """
    w = _Writer(symbols)
    w.mark_guarded(exprs)
    outs = [w.emit(e) for e in exprs]
    params = ", ".join(f"a{i}" for i in range(len(symbols)))
    head = [f"    {name} = Q({q.numerator}, {q.denominator})" for q, name in w.consts.items()]
    body = "\n".join([f"def _f({params}):", *head, *w.lines, f"    return ({', '.join(outs)},)"])
    code = compile(body, "<gradproof expression>", "exec")
    cache: dict[str, Callable[..., tuple[Any, ...]]] = {}

    def run(numbers: Numbers, point: Sequence[Any]) -> tuple[Any, ...]:
        fn = cache.get(numbers.name)
        if fn is None:
            scope: dict[str, Any] = dict(numbers.fns)
            exec(code, scope)
            fn = scope["_f"]
            cache[numbers.name] = fn
        return fn(*point)

    return run
