"""Regions: each input's domain cut into open pieces and points, with what each piece may assume.

A domain is cut at 0, at the declared kinks, and at every rational root of a
condition the code branches on (``where`` conditions, ``isnormal``, Abs, sign,
Min/Max, Piecewise of the definition) that depends on that input alone, so
that on an open piece no such condition changes its truth value.

Each open piece is written through a fresh ``Dummy`` that carries only what
the piece implies, and can never be confused with a user's symbol of the
same name:

* ``(0, oo)``: ``x = s``, ``s > 0``;   ``(-oo, 0)``: ``x = -s``, ``s > 0``;
* ``(a, oo)``: ``x = a + s``;   ``(-oo, b)``: ``x = b - s``;
* ``(a, b)``: ``x = (a + b*s)/(1 + s)``, ``s > 0`` -- a bijection onto the
  interval, so bounds such as ``1 - x > 0`` on ``(-1, 1)`` follow from ``s > 0``.

Points (cuts, closed ends, kinks) are substituted as exact rationals.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy

from autodiff import Domain
from verification.prove.exact import exact_number

__all__ = [
    "substitute",
    "threshold_symbolic",
    "threshold_numeric",
    "NORMAL",
    "Piece",
    "pieces",
    "region_name",
    "condition_roots",
    "fix_branches",
    "branch_arguments",
]

_OFFSETS = tuple(
    Fraction(v)
    for v in ("1e-12", "1e-6", "1e-3", "0.1", "0.5", "1", "1.5", "2", "2.75", "3.25", "5", "10", "31.5", "100")
)
_FRACTIONS = tuple(Fraction(v) for v in ("1e-6", "0.01", "0.1", "0.25", "0.5", "0.75", "0.9", "0.99"))


@dataclass(frozen=True)
class Piece:
    """Part of one variable's domain: the open interval (lo, hi), or the point lo when ``point``.

    ``side`` is the direction a one-sided limit takes at a point (``"+-"``
    inside the domain, ``"+"``/``"-"`` at a closed left/right end); ``kink``
    marks a declared kink.
    """

    name: str
    lo: float
    hi: float
    point: bool = False
    side: str = "+-"
    kink: bool = False
    symbol: Any = field(default=None, compare=False)
    value: Any = field(default=None, compare=False)

    @staticmethod
    def open(name: str, lo: float, hi: float) -> Piece:
        """The open piece, its Dummy and the substitution its bounds justify."""
        s = sympy.Dummy(f"{name}_s", positive=True)
        if lo == 0.0 and hi == math.inf:
            value = s
        elif lo == -math.inf and hi == 0.0:
            value = -s
        elif hi == math.inf:
            value = exact_number(lo) + s
        elif lo == -math.inf:
            value = exact_number(hi) - s
        else:
            value = (exact_number(lo) + exact_number(hi) * s) / (1 + s)
        return Piece(name, lo, hi, symbol=s, value=value)

    @staticmethod
    def at(name: str, x: float, side: str = "+-", kink: bool = False) -> Piece:
        """The point ``x``, substituted exactly."""
        return Piece(name, x, x, point=True, side=side, kink=kink, value=exact_number(x))

    def describe(self) -> str:
        """e.g. ``x > 0``, ``x = 0``, ``1 < x < 2``."""
        if self.point:
            return f"{self.name} = {_fmt(self.lo)}"
        if self.lo == -math.inf:
            return f"{self.name} real" if self.hi == math.inf else f"{self.name} < {_fmt(self.hi)}"
        if self.hi == math.inf:
            return f"{self.name} > {_fmt(self.lo)}"
        return f"{_fmt(self.lo)} < {self.name} < {_fmt(self.hi)}"

    def samples(self, rng: random.Random, count: int) -> list[Fraction]:
        """Points of the piece (in the variable's own coordinate): structured ones, then random."""
        if self.point:
            return [Fraction(self.lo)]
        lo, hi = self.lo, self.hi
        if math.isinf(lo) or math.isinf(hi):
            offsets = list(_OFFSETS) + [Fraction(10 ** rng.uniform(-4.0, 2.0)) for _ in range(count)]
            if math.isinf(lo) and math.isinf(hi):
                return [s * o for o in offsets for s in (1, -1)]
            if math.isinf(hi):
                return [Fraction(lo) + o for o in offsets]
            return [Fraction(hi) - o for o in offsets]
        fractions = list(_FRACTIONS) + [Fraction(rng.uniform(0.0, 1.0)) for _ in range(count)]
        width = Fraction(hi) - Fraction(lo)
        return [Fraction(lo) + width * u for u in fractions if 0 < u < 1]

    def symbol_value(self, x: Fraction) -> Fraction:
        """The value of the piece's Dummy where the variable equals ``x``."""
        lo, hi = self.lo, self.hi
        if (lo == 0.0 and hi == math.inf) or self.symbol is self.value:
            return x
        if lo == -math.inf and hi == 0.0:
            return -x
        if hi == math.inf:
            return x - Fraction(lo)
        if lo == -math.inf:
            return Fraction(hi) - x
        return (x - Fraction(lo)) / (Fraction(hi) - x)

    def midpoint(self) -> Fraction:
        """One point strictly inside the open piece."""
        if self.point:
            return Fraction(self.lo)
        if math.isinf(self.lo) and math.isinf(self.hi):
            return Fraction(1)
        if math.isinf(self.hi):
            return Fraction(self.lo) + 1
        if math.isinf(self.lo):
            return Fraction(self.hi) - 1
        return (Fraction(self.lo) + Fraction(self.hi)) / 2


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def pieces(name: str, domain: Domain, kinks: Sequence[float] = (), cuts: Sequence[float] = ()) -> list[Piece]:
    """Cut ``domain`` at 0, ``kinks`` and ``cuts``: open pieces, then points (cuts, closed ends, kinks)."""
    out: list[Piece] = []
    points: dict[tuple[float, str], Piece] = {}
    for iv in domain:
        inner = sorted(c for c in {0.0, *kinks, *cuts} if iv.lo < c < iv.hi)
        edges = [iv.lo, *inner, iv.hi]
        out.extend(Piece.open(name, a, b) for a, b in itertools.pairwise(edges))
        for c in inner:
            points.setdefault((c, "+-"), Piece.at(name, c, kink=c in kinks))
        if iv.closed_lo:
            points.setdefault((iv.lo, "+"), Piece.at(name, iv.lo, "+", kink=iv.lo in kinks))
        if iv.closed_hi:
            points.setdefault((iv.hi, "-"), Piece.at(name, iv.hi, "-", kink=iv.hi in kinks))
    return out + list(points.values())


def region_name(region: Sequence[Piece]) -> str:
    """The region as text, e.g. ``x > 0, y = 1``."""
    return ", ".join(p.describe() for p in region)


NORMAL = sympy.Rational(1, 2**1022)
"""The smallest positive normal float64: ``isnormal(v)`` on sympy is ``|v| >= NORMAL``."""
_THRESHOLD = sympy.Dummy("normal_threshold", positive=True)


def threshold_symbolic(e: Any) -> Any:
    """``e`` with the normal threshold 2**-1022 as a positive symbol: what is proven then holds for
    every positive threshold, the real one included, and sympy does not try to locate
    polynomial roots against a 300-digit rational at every comparison."""
    return e.xreplace({NORMAL: _THRESHOLD, -NORMAL: -_THRESHOLD}) if isinstance(e, sympy.Basic) else e


def threshold_numeric(e: Any) -> Any:
    """The inverse of :func:`threshold_symbolic`, for evaluation."""
    return e.xreplace({_THRESHOLD: NORMAL}) if isinstance(e, sympy.Basic) else e


def substitute(e: Any, mapping: dict[Any, Any]) -> Any:
    """``e.xreplace(mapping)``; where that compares a non-real value (zoo, nan), a Piecewise is
    resolved condition by condition: such a comparison does not hold (as a comparison with nan
    in float64), untaken branches do not matter, and what still fails is nan."""
    try:
        return e.xreplace(mapping)
    except (TypeError, ValueError):
        pass
    if isinstance(e, sympy.Piecewise):
        for value, cond in e.args:
            c = substitute(cond, mapping)
            if c is sympy.true:
                return substitute(value, mapping)
            if c is not sympy.false and c is not sympy.nan:
                return sympy.nan
            # a comparison of a non-real value (zoo, nan) does not hold, as comparisons with nan in float64
        return sympy.nan
    if isinstance(e, sympy.ITE):
        c = substitute(e.args[0], mapping)
        if c in (sympy.true, sympy.false):
            return substitute(e.args[1] if c is sympy.true else e.args[2], mapping)
        return sympy.nan
    if not getattr(e, "args", ()):
        return sympy.nan
    args = [substitute(a, mapping) for a in e.args]
    try:
        return e.func(*args)
    except (TypeError, ValueError):
        return sympy.nan


# --- conditions --------------------------------------------------------------


def branch_arguments(e: Any) -> list[Any]:
    """Arguments whose sign selects a branch: of Abs, sign, Heaviside, of a - b in Max/Min(a, b),
    and lhs - rhs of the relations in Piecewise conditions."""
    found: dict[Any, None] = {}
    for node in sympy.preorder_traversal(e):
        if isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
            args = [node.args[0]]
        elif isinstance(node, (sympy.Max, sympy.Min)):
            args = [a - b for a, b in itertools.combinations(node.args, 2)]
        elif isinstance(node, sympy.Piecewise):
            args = [r.lhs - r.rhs for _, cond in node.args for r in cond.atoms(sympy.core.relational.Relational)]
        else:
            continue
        for u in args:
            found[u] = None
    return list(found)


def condition_roots(exprs: Sequence[Any], symbol: Any, others: Sequence[Any]) -> tuple[list[float], set[Any]]:
    """Float-exact rational roots of the branch arguments of ``exprs`` that depend on ``symbol`` alone,
    and the arguments whose real roots were all found (a finite set of float-exact rationals):
    on an open piece between the cuts such an argument keeps its sign."""
    roots: set[float] = set()
    complete: set[Any] = set()
    for e in exprs:
        for u in branch_arguments(e):
            free = u.free_symbols - {_THRESHOLD}
            if symbol not in free or free & set(others) or u in complete:
                continue
            try:
                found = sympy.solveset(threshold_numeric(u), symbol, sympy.S.Reals)
            except Exception:
                continue
            if not isinstance(found, sympy.FiniteSet):
                continue
            exact = [r for r in found if r.is_Rational and Fraction(float(r)) == Fraction(int(r.p), int(r.q))]
            roots.update(float(r) for r in exact)
            if len(exact) == len(found):
                complete.add(u)
    return sorted(roots), complete


def _sign_at(u: Any, at: dict[Any, Fraction]) -> int | None:
    value = threshold_numeric(u).xreplace({k: sympy.Rational(v) for k, v in at.items()})
    try:
        n = sympy.N(value, 30)
    except Exception:
        return None
    if n.is_zero or not n.is_real or not n.is_number:
        return None
    return 1 if n > 0 else -1


def branch_under(node: Any, sign_of: Callable[[Any], int | None]) -> Any:
    """``node`` (a relation, Abs, sign, Heaviside, or two-argument Min/Max) replaced by the branch the
    sign of its argument selects (``sign_of(u)`` is +1, -1, or None when unknown); None otherwise."""
    if isinstance(node, sympy.core.relational.Relational):
        s = sign_of(node.lhs - node.rhs)
        if s is None:
            return None
        holds = {sympy.Gt: s > 0, sympy.Ge: s > 0, sympy.Lt: s < 0, sympy.Le: s < 0, sympy.Eq: False}
        return sympy.true if holds.get(type(node), True) else sympy.false
    if isinstance(node, (sympy.Max, sympy.Min)) and len(node.args) == 2:
        a, b = node.args
        s = sign_of(a - b)
        if s is None:
            return None
        return a if (s > 0) == isinstance(node, sympy.Max) else b
    if isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
        u = node.args[0]
        s = sign_of(u)
        if s is None:
            return None
        if isinstance(node, sympy.Abs):
            return s * u
        if isinstance(node, sympy.sign):
            return sympy.Integer(s)
        return sympy.Integer(1 if s > 0 else 0)
    return None


def fix_branches(e: Any, settled: dict[Any, Fraction], complete: set[Any]) -> Any:
    """``e`` with every branch whose argument depends only on symbols in ``settled`` fixed.

    ``settled`` maps a general symbol to an interior point of its open piece;
    ``complete`` holds the branch arguments, each depending on one symbol alone,
    whose real roots were all found and cut (:func:`condition_roots`). Such an
    argument keeps its sign on the piece, so its sign at the interior point is
    its sign on the whole piece, and each Abs/sign/Heaviside/Min/Max/relation
    on it is replaced by the branch that sign selects. Any other argument is
    left alone.
    """

    def one(u: Any) -> dict[Any, Fraction] | None:
        free = u.free_symbols - {_THRESHOLD}
        if len(free) != 1 or u not in complete:
            return None
        (k,) = free
        return {k: settled[k]} if k in settled else None

    def sign_of(u: Any) -> int | None:
        at = one(u)
        return None if at is None else _sign_at(u, at)

    return replace_branches(e, sign_of)


def replace_branches(e: Any, sign_of: Callable[[Any], int | None]) -> Any:
    """Every branching node of ``e`` whose sign ``sign_of`` knows replaced by its branch, to a fixed point."""
    for _ in range(64):
        mapping = {}
        for node in sympy.preorder_traversal(e):
            f = branch_under(node, sign_of)
            if f is not None:
                mapping[node] = f
        if not mapping:
            return e
        e = e.xreplace(mapping)
    return e
