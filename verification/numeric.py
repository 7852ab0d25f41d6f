"""Numeric code from symbolic expressions, for several number systems at once.

:func:`compile_exprs` turns sympy (or symengine) expressions into one Python
function returning all of them, each shared subexpression computed once. The
function reads every elementary function and every rational constant from a
:class:`Numbers` namespace, so the same code evaluates in

* :data:`FLOATS` -- Python floats via ``math`` (float64 references),
* :data:`COMPLEXES` -- ``cmath`` (the complex-step derivative),
* :data:`INTERVALS` -- ``mpmath.iv`` at the interval context's precision
  (certified enclosures; comparisons that an interval cannot decide raise
  :class:`Undecided`),
* :func:`mp_numbers` -- ``mpmath`` numbers of a given context.

Constants are exact rationals built at call time in the namespace's numbers,
never Python floats, so nothing is rounded to float64 on the way in. Branches
of a ``Piecewise`` are evaluated only when selected.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

__all__ = [
    "Numbers",
    "Unsupported",
    "Undecided",
    "FLOATS",
    "COMPLEXES",
    "INTERVALS",
    "mp_numbers",
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


# --- float64 and complex -------------------------------------------------


def _f_sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _f_heaviside(x: float) -> float:
    return 1.0 if x > 0 else (0.0 if x < 0 else 0.5)


def _f_powi(x: Any, n: int) -> Any:
    return x**n


def _real(x: Any) -> Any:
    """re(x) of a real number (the real namespaces only hold reals)."""
    return x


def _imag(x: Any) -> Any:
    """im(x) of a real number."""
    return 0


def _nan() -> float:
    return math.nan


def _relations() -> dict[str, Callable[..., Any]]:
    return {
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
    }


FLOATS = Numbers(
    "float",
    {
        "Q": lambda p, q: p / q,  # int / int is correctly rounded
        "exp": math.exp,
        "log": math.log,
        "sqrt": math.sqrt,
        "sin": math.sin,
        "cos": math.cos,
        "tan": math.tan,
        "tanh": math.tanh,
        "sinh": math.sinh,
        "cosh": math.cosh,
        "abs": abs,
        "sign": _f_sign,
        "heaviside": _f_heaviside,
        "re": _real,
        "im": _imag,
        "max_": max,
        "min_": min,
        "powi": _f_powi,
        "pow_": math.pow,
        "pi": lambda: math.pi,
        "nan": _nan,
        **_relations(),
    },
)

COMPLEXES = Numbers(
    "complex",
    {
        "Q": lambda p, q: p / q,
        "exp": cmath.exp,
        "log": cmath.log,
        "sqrt": cmath.sqrt,
        "sin": cmath.sin,
        "cos": cmath.cos,
        "tan": cmath.tan,
        "tanh": cmath.tanh,
        "sinh": cmath.sinh,
        "cosh": cmath.cosh,
        "powi": _f_powi,
        "pow_": lambda x, y: x**y,
        "pi": lambda: math.pi,
        "nan": _nan,
    },
)


# --- mpmath numbers ------------------------------------------------------


def mp_numbers(ctx: Any, name: str) -> Numbers:
    """Namespace for mpmath numbers of context ``ctx`` (e.g. ``mpmath.mp`` or a private one)."""

    def sign(x: Any) -> Any:
        return ctx.mpf(ctx.sign(x))

    def heaviside(x: Any) -> Any:
        return ctx.mpf(1) if x > 0 else (ctx.mpf(0) if x < 0 else ctx.mpf(0.5))

    return Numbers(
        name,
        {
            "Q": lambda p, q: ctx.mpf(p) / q,
            "exp": ctx.exp,
            "log": ctx.log,
            "sqrt": ctx.sqrt,
            "sin": ctx.sin,
            "cos": ctx.cos,
            "tan": ctx.tan,
            "tanh": ctx.tanh,
            "sinh": ctx.sinh,
            "cosh": ctx.cosh,
            "abs": ctx.fabs,
            "sign": sign,
            "heaviside": heaviside,
            "re": _real,
            "im": _imag,
            "max_": max,
            "min_": min,
            "powi": _f_powi,
            "pow_": ctx.power,
            "pi": lambda: +ctx.pi,
            "nan": lambda: ctx.nan,
            **_relations(),
        },
    )


# --- intervals -----------------------------------------------------------


_GUARD_BITS = 24


def _intervals() -> Numbers:  # noqa: C901 -- each nested function is one op's interval rule
    import mpmath
    from mpmath import iv

    work = mpmath.MPContext()

    def increasing(name: str) -> Callable[[Any], Any]:
        """Enclosure of an increasing function from its values at the ends.

        mpmath's own interval ``exp`` and ``log`` return a single point for
        arguments near 0 and 1 (exp(2**-45) included), so each end is computed
        with :data:`_GUARD_BITS` extra bits and widened outward by one unit in
        the interval precision's last place.
        """
        fn = getattr(work, name)

        def g(x: Any) -> Any:
            a, b = iv.mpf(x)._mpi_
            prec = iv.prec
            work.prec = prec + _GUARD_BITS
            fa, fb = fn(work.make_mpf(a)), fn(work.make_mpf(b))
            lo = fa - abs(fa) * work.ldexp(1, -prec)
            hi = fb + abs(fb) * work.ldexp(1, -prec)
            return iv.mpf([lo, hi])

        return g

    iv_exp = increasing("exp")
    raw_log = increasing("log")

    def iv_log(x: Any) -> Any:
        if not iv.mpf(x).a > 0:
            raise ValueError("log of an interval reaching 0 or below")
        return raw_log(x)

    small = iv.mpf(2) ** -16

    def tanh_at(p: Any) -> Any:
        """Enclosure of tanh at a point interval ``p``."""
        if abs(p) < small:
            # alternating Taylor series: p - p**3/3 <= tanh(p) <= p - p**3/3 + 2 p**5/15 for 0 <= p
            p3 = p**3 / 3
            bound = abs(2 * p**5 / 15)
            mid = p - p3
            return iv.mpf([(mid - bound).a, (mid + bound).b])
        if abs(p) * 2.885 > iv.prec + 2:
            # 0 < 1 - |tanh(p)| = 2 / (e**(2|p|) + 1) < 2 e**(-2|p|) < 2**-prec
            tail = iv.mpf(2) ** -iv.prec
            return iv.mpf([1 - tail, 1]) if p > 0 else iv.mpf([-1, tail - 1])
        if p > 0:
            return 1 - 2 / (iv_exp(2 * p) + 1)
        return 2 / (iv_exp(-2 * p) + 1) - 1

    def tanh(x: Any) -> Any:
        """tanh is increasing: enclose it at each end."""
        x = iv.mpf(x)
        return iv.mpf([tanh_at(x.a).a, tanh_at(x.b).b])

    def sinh(x: Any) -> Any:
        return (iv_exp(x) - iv_exp(-x)) / 2

    def cosh(x: Any) -> Any:
        return (iv_exp(x) + iv_exp(-x)) / 2

    def decide(result: Any) -> bool:
        if result is None:
            raise Undecided("interval comparison undecided")
        return bool(result)

    def sign(x: Any) -> Any:
        x = iv.mpf(x)
        if x > 0:
            return iv.mpf(1)
        if x < 0:
            return iv.mpf(-1)
        if x == 0:
            return iv.mpf(0)
        raise Undecided("sign of an interval containing 0")

    def heaviside(x: Any) -> Any:
        return (sign(x) + 1) / 2

    def max_(*xs: Any) -> Any:
        ends = [iv.mpf(x) for x in xs]
        lo = max(e.a for e in ends)
        hi = max(e.b for e in ends)
        return iv.mpf([lo, hi])

    def min_(*xs: Any) -> Any:
        ends = [iv.mpf(x) for x in xs]
        return iv.mpf([min(e.a for e in ends), min(e.b for e in ends)])

    def pow_(x: Any, y: Any) -> Any:
        return iv_exp(iv_log(x) * y)

    def nan() -> Any:
        raise Undecided("no Piecewise branch applies")

    def eq(a: Any, b: Any) -> bool:
        d = iv.mpf(a) - iv.mpf(b)
        if d > 0 or d < 0:
            return False
        if d.a == 0 and d.b == 0:
            return True
        raise Undecided("interval equality undecided")

    return Numbers(
        "interval",
        {
            "Q": lambda p, q: iv.mpf(p) / q,
            "exp": iv_exp,
            "log": iv_log,
            "sqrt": iv.sqrt,
            "sin": iv.sin,
            "cos": iv.cos,
            "tan": iv.tan,
            "tanh": tanh,
            "sinh": sinh,
            "cosh": cosh,
            "abs": abs,
            "sign": sign,
            "heaviside": heaviside,
            "re": _real,
            "im": _imag,
            "max_": max_,
            "min_": min_,
            "powi": _f_powi,
            "pow_": pow_,
            "pi": lambda: +iv.pi,
            "nan": nan,
            "lt": lambda a, b: decide(a < b),
            "le": lambda a, b: decide(a <= b),
            "gt": lambda a, b: decide(a > b),
            "ge": lambda a, b: decide(a >= b),
            "eq": eq,
            "ne": lambda a, b: not eq(a, b),
        },
    )


INTERVALS = _intervals()
