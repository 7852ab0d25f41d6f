"""References for the gradient of an expression tree; none of them runs the engine's code.

* **Certified symbolic truth.** The tree is written in sympy's own functions
  through each op's ``spec`` (constants exact), differentiated symbolically,
  and evaluated in interval arithmetic (``mpmath.iv``) at 64, 128, 256, ...
  bits until both ends of every interval round to the same float64, as
  Herbie's Rival does. A point that does not certify within the cap is
  *unsamplable*. sympy is the reference of record; symengine, which
  differentiates the same expression hundreds of times faster, is the default
  accelerator (``max(a, b)`` and ``|u|`` are handed to it as the equivalent
  ``Piecewise``), and a test checks that both agree on a corpus.
* **Float64 references**, from the same symbolic forms compiled for
  ``math``/``cmath`` (not the ops' forwards): sympy's derivative evaluated in
  float64 (what the problem inherently costs), the central difference
  ``(f(x+h) - f(x-h)) / 2h`` with ``h = cbrt(eps) * max(1, |x|)``, Richardson
  extrapolation ``(4 D(h/2) - D(h)) / 3`` with ``h = eps**(1/5) * max(1, |x|)``,
  and the complex step ``Im f(x + ih) / h`` where the expression is
  complex-analytic.
* **An oracle for the symbolic derivative itself**: ``mpmath.diff`` of the
  forward at 40 digits, compared with the certified derivative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

from autodiff import Op, get_op
from runstore.steps import central_step, complex_step_size, richardson_step
from verification.expr import Expr, Resolver, evaluate, to_sympy
from verification.number_systems import COMPLEXES, FLOATS, INTERVALS, mp_numbers
from verification.numeric import Compiled, Undecided, Unsupported, compile_exprs, is_analytic
from verification.reference_options import DEFAULT_CAP_BITS, NARROW_BITS, SYMBOLIC_BACKENDS

__all__ = [
    "SYMBOLIC_BACKENDS",
    "Certified",
    "Reference",
    "reference",
    "sympy_symbols",
    "DEFAULT_CAP_BITS",
    "NARROW_BITS",
]


def _mpf(raw: Any) -> Any:
    from mpmath import mp

    return mp.make_mpf(raw)


_ORACLE_DPS = 40
_FLOAT_FAILURES = (ArithmeticError, ValueError, TypeError)


@cache
def sympy_symbols(n: int) -> tuple[Any, ...]:
    """Real sympy symbols ``x0 .. x{n-1}``."""
    import sympy

    return tuple(sympy.Symbol(f"x{i}", real=True) for i in range(n))


@cache
def _symengine_symbols(n: int) -> tuple[Any, ...]:
    import symengine

    return tuple(symengine.Symbol(f"x{i}") for i in range(n))


class _SymengineSpecs:
    """The ``sp`` namespace an op's spec sees on the symengine path.

    symengine cannot differentiate ``Max`` and ``Abs``; they are given to it as
    the equal ``Piecewise`` forms, whose derivatives it knows.
    """

    def __init__(self) -> None:
        import symengine

        self._se = symengine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._se, name)

    def Max(self, *args: Any) -> Any:
        """max(a, b, ...) as nested Piecewise."""
        out = args[0]
        for b in args[1:]:
            out = self._se.Piecewise((out, out >= b), (b, True))
        return out

    def Min(self, *args: Any) -> Any:
        """min(a, b, ...) as nested Piecewise."""
        out = args[0]
        for b in args[1:]:
            out = self._se.Piecewise((out, out <= b), (b, True))
        return out

    def Abs(self, u: Any) -> Any:
        """|u| = u for u >= 0, -u otherwise."""
        return self._se.Piecewise((u, u >= 0), (-u, True))


def _to_symengine(tree: Expr, n_vars: int, resolve: Resolver) -> Any:
    import symengine

    ns = _SymengineSpecs()

    def const(c: float) -> Any:
        q = Fraction(c)
        return symengine.Rational(q.numerator, q.denominator)

    def apply(op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        if op.spec is None:
            raise Unsupported(f"op {op.name} declares no spec")
        return op.spec(ns, *args, *(const(p) for p in params))

    return evaluate(tree, _symengine_symbols(n_vars), const=const, apply=apply, resolve=resolve)


@dataclass(frozen=True)
class Certified:
    """Value and gradient, each certified to round to the float64 given here.

    ``lo``/``hi`` are the interval ends (mpmath numbers), value first, then one
    per variable; ``bits`` is the precision that certified them.
    """

    value: float
    grads: tuple[float, ...]
    lo: tuple[Any, ...]
    hi: tuple[Any, ...]
    bits: int

    @property
    def finite(self) -> bool:
        """Whether the value and every partial are finite float64 numbers."""
        return math.isfinite(self.value) and all(math.isfinite(g) for g in self.grads)


class Reference:
    """The symbolic forms of one tree, compiled once, and the references built on them."""

    def __init__(self, tree: Expr, n_vars: int, *, resolve: Resolver = get_op, symbolic: str = "symengine"):
        if symbolic not in SYMBOLIC_BACKENDS:
            raise ValueError(f"symbolic must be one of {SYMBOLIC_BACKENDS}, got {symbolic!r}")
        self.tree = tree
        self.n_vars = n_vars
        self.resolve = resolve
        self.symbolic = symbolic
        forms: list[Any] | None = None
        if symbolic == "symengine":
            try:
                f = _to_symengine(tree, n_vars, resolve)
            except (Unsupported, AttributeError, TypeError, RuntimeError):
                f = None  # a spec symengine cannot build: sympy it is
            if f is not None:
                symbols = _symengine_symbols(n_vars)
                forms = [f, *(f.diff(s) for s in symbols)]
                try:
                    self._full = compile_exprs(forms, symbols)
                except Unsupported:
                    if not any("Derivative(" in str(e) for e in forms):
                        raise
                    forms = None  # symengine left a derivative unevaluated
        self.used = "symengine" if forms is not None else "sympy"
        if forms is None:
            import sympy

            symbols = sympy_symbols(n_vars)
            f = to_sympy(tree, symbols, resolve=resolve)
            forms = [f, *(sympy.diff(f, s) for s in symbols)]
            self._full = compile_exprs(forms, symbols)
        self.forms = tuple(forms)
        self._fwd: Compiled = compile_exprs(forms[:1], symbols)
        self.analytic = is_analytic(forms[:1])
        self._mp: Any = None

    def sympy_form(self) -> Any:
        """The tree in sympy (the reference of record)."""
        return to_sympy(self.tree, sympy_symbols(self.n_vars), resolve=self.resolve)

    # --- certified truth --------------------------------------------------

    def certify(
        self, point: Sequence[float], *, cap_bits: int = DEFAULT_CAP_BITS, narrow_bits: int = NARROW_BITS
    ) -> Certified | None:
        """Certified value and gradient at ``point``, or None when unsamplable within ``cap_bits``.

        The float64 results come from the first precision that certifies;
        the intervals ``lo``/``hi`` are then narrowed at ``narrow_bits``
        (when higher) so that a 50-digit result can be judged against them.
        """
        from mpmath import iv, libmp

        to_float = libmp.to_float
        bits = 64
        saved = iv.prec
        try:
            while bits <= cap_bits:
                outs = self._intervals(point, bits)
                if outs is not None:
                    ends = [iv.mpf(out)._mpi_ for out in outs]
                    rounded = [to_float(lo, rnd="n") for lo, _ in ends]
                    if all(a == to_float(hi, rnd="n") for a, (_, hi) in zip(rounded, ends)):
                        if bits < narrow_bits:
                            narrow = self._intervals(point, narrow_bits)
                            if narrow is not None:
                                ends = [iv.mpf(out)._mpi_ for out in narrow]
                        return Certified(
                            rounded[0],
                            tuple(rounded[1:]),
                            tuple(_mpf(lo) for lo, _ in ends),
                            tuple(_mpf(hi) for _, hi in ends),
                            bits,
                        )
                bits *= 2
        finally:
            iv.prec = saved
        return None

    def _intervals(self, point: Sequence[float], bits: int) -> tuple[Any, ...] | None:
        from mpmath import iv

        iv.prec = bits
        try:
            return self._full(INTERVALS, [iv.mpf(p) for p in point])
        except (Undecided, ArithmeticError, ValueError):
            return None

    # --- float64 references -------------------------------------------------

    def sympy_f64(self, point: Sequence[float]) -> tuple[float, tuple[float, ...]]:
        """Value and gradient from sympy's own derivative evaluated in float64 (raises on failure)."""
        outs = self._full(FLOATS, [float(p) for p in point])
        return float(outs[0]), tuple(float(o) for o in outs[1:])

    def f64(self, point: Sequence[float]) -> float:
        """The forward in float64 from the symbolic form; NaN where float64 evaluation fails."""
        try:
            return float(self._fwd(FLOATS, point)[0])
        except _FLOAT_FAILURES:
            return math.nan

    def _shifted(self, point: Sequence[Any], k: int, x: Any) -> list[Any]:
        shifted = list(point)
        shifted[k] = x
        return shifted

    def _difference(self, point: Sequence[float], k: int, h: float) -> float:
        x = point[k]
        xp, xm = x + h, x - h
        return (self.f64(self._shifted(point, k, xp)) - self.f64(self._shifted(point, k, xm))) / (xp - xm)

    def central(self, point: Sequence[float], k: int) -> float:
        """Central difference with ``h = cbrt(eps) * max(1, |x|)`` (step error ~ h**2, rounding ~ eps/h)."""
        return self._difference(point, k, central_step(point[k]))

    def richardson(self, point: Sequence[float], k: int) -> float:
        """Richardson extrapolation of central differences, ``(4 D(h/2) - D(h)) / 3``, error ~ h**4."""
        h = richardson_step(point[k])
        return (4.0 * self._difference(point, k, h / 2) - self._difference(point, k, h)) / 3.0

    def complex_step(self, point: Sequence[float], k: int) -> float:
        """``Im f(x + ih) / h`` with tiny h: no subtraction, so accurate to rounding (analytic f only)."""
        h = complex_step_size(point[k])
        z: list[complex] = [complex(p) for p in point]
        z[k] = complex(point[k], h)
        try:
            return float(complex(self._fwd(COMPLEXES, z)[0]).imag / h)
        except _FLOAT_FAILURES:
            return math.nan

    # --- the oracle for the symbolic derivative --------------------------------

    def oracle(self, point: Sequence[float], k: int, *, step_digits: int = 15) -> Any:
        """``mpmath.diff`` of the forward: d f / d x_k without any symbolic derivative.

        The step is ``h = 10**-step_digits |x|`` (it never crosses 0, where
        logs and roots end); the working precision is 40 digits plus
        ``step_digits - 15`` plus the decimal exponent of a small ``|x|``, so
        ``f(x + h) - f(x - h)`` keeps about 25 digits.
        """
        import mpmath

        if self._mp is None:
            ctx = mpmath.MPContext()
            self._mp = (ctx, mp_numbers(ctx, "oracle"))
        ctx, numbers = self._mp
        x = point[k]
        small = max(0, math.ceil(-math.log10(abs(x)))) if x != 0 else 0
        ctx.dps = _ORACLE_DPS + step_digits - 15 + small
        base = [ctx.mpf(p) for p in point]

        def f(t: Any) -> Any:
            return self._fwd(numbers, self._shifted(base, k, t))[0]

        if x == 0:
            return ctx.diff(f, base[k])
        return ctx.diff(f, base[k], h=abs(base[k]) * ctx.mpf(10) ** -step_digits)

    def oracle_agrees(self, point: Sequence[float], k: int, certified: Certified) -> bool:
        """Whether ``mpmath.diff`` lies within 1e-12 (relative) of the certified derivative.

        A function that oscillates faster than the step (``sin(1/x)`` at small
        x) defeats a difference quotient, so steps of 1e-15, 1e-30 and 1e-45
        relative are tried in turn: a derivative that disagrees at all three
        is a mismatch.
        """
        lo, hi = certified.lo[k + 1], certified.hi[k + 1]
        mid = (lo + hi) / 2
        for digits in (15, 30, 45):
            try:
                d = self.oracle(point, k, step_digits=digits)
            except (ArithmeticError, ValueError):
                return True  # the oracle cannot evaluate here; nothing to compare
            if abs(d - mid) <= 1e-12 * max(1, abs(mid)) + (hi - lo):
                return True
        return False


_CACHE: dict[tuple[Any, ...], Reference] = {}
_CACHE_LIMIT = 4096


def reference(tree: Expr, n_vars: int, *, resolve: Resolver = get_op, symbolic: str = "symengine") -> Reference:
    """The (cached) :class:`Reference` of ``tree`` over ``n_vars`` variables."""
    key = (tree, n_vars, id(resolve), symbolic)
    ref = _CACHE.get(key)
    if ref is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        ref = Reference(tree, n_vars, resolve=resolve, symbolic=symbolic)
        _CACHE[key] = ref
    return ref
