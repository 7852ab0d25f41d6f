"""The number systems compiled references run in: float64, complex, certified intervals, mpmath numbers.

* :data:`FLOATS` -- Python floats via ``math`` (float64 references),
* :data:`COMPLEXES` -- ``cmath`` (the complex-step derivative),
* :data:`INTERVALS` -- ``mpmath.iv`` at the interval context's precision
  (certified enclosures; comparisons that an interval cannot decide raise
  :class:`~verification.numeric.Undecided`),
* :func:`mp_numbers` -- ``mpmath`` numbers of a given context.

Each is a :class:`~verification.numeric.Numbers` namespace read by the code
:func:`~verification.numeric.compile_exprs` writes.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from typing import Any

from verification.numeric import Numbers, Undecided

__all__ = ["FLOATS", "COMPLEXES", "INTERVALS", "mp_numbers"]


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

_MAX_EXP_MAG = 1 << 16
"""exp of an argument beyond 2**this is not computed: mpmath works at the argument's magnitude in bits
(exp(exp(1e34)) asks for ~1e34 bits and fails with MemoryError); the enclosure is refused instead, so a
higher precision is tried and, at the cap, the point is unsamplable."""


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
            if name == "exp" and max(a[2] + a[3], b[2] + b[3]) > _MAX_EXP_MAG and (a[1] or b[1]):
                raise ArithmeticError(f"exp of an argument beyond 2**{_MAX_EXP_MAG}")
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
