"""The true derivative on a region: substituted where that is valid, else by one-sided limits.

At a point ``x = a`` of the partial's own variable the derivative is its
definition, ``lim (f(a + h) - f(a)) / h`` from each side the domain allows
(``f(a)`` itself a limit where the definition has a removable singularity,
``sin(x)/x`` at 0). Substituting ``a`` into ``sympy.diff(f)`` is used only when
that expression is built from smooth functions and finite at ``a``. Where the
two one-sided derivatives differ the op is not differentiable there; the
caller reports that as an undeclared kink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sympy

from verification.prove.ladder import attempt
from verification.prove.regions import Piece, substitute

__all__ = ["TruthAt", "truth_on", "limit_of", "NONSMOOTH", "is_nonfinite"]

NONSMOOTH = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min, sympy.Piecewise, sympy.floor, sympy.ceiling)
_NONFINITE = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)


def is_nonfinite(e: Any) -> bool:
    """Whether ``e`` is one of sympy's special constants zoo, oo, -oo, nan."""
    return any(e is v for v in _NONFINITE)


@dataclass(frozen=True)
class TruthAt:
    """The truth on a region, or the one-sided derivatives that differ (``value`` None then)."""

    value: Any
    sides: tuple[Any, Any] | None = None
    problem: str = ""


def _limit(e: Any, var: Any, at: Any, side: str) -> Any:
    return sympy.limit(e, var, at, side)


def limit_of(expr: Any, var: Any, at: Any, side: str, budget: float) -> Any:
    """``lim expr`` as ``var -> at`` from ``side`` ("+" or "-"), or None when sympy cannot take it."""
    value = attempt(partial(_limit, var=var, at=at, side=side), expr, budget)
    if value is None or value.has(sympy.Limit, sympy.nan, sympy.AccumBounds):
        return None
    return value


def _smooth_and_finite(general: Any, value: Any) -> bool:
    return not general.has(*NONSMOOTH) and value.is_finite is True and not value.has(sympy.nan, sympy.zoo)


def _quotient_derivative(
    definition: Any, var: Any, at: Any, sides: str, budget: float
) -> tuple[Any, tuple[Any, Any] | None, str]:
    """The derivative of ``definition`` (in ``var`` only) at ``at`` from its difference quotients."""
    h = sympy.Dummy("h", real=True)
    f_at = definition.xreplace({var: at})
    if f_at.has(sympy.nan, sympy.zoo) or is_nonfinite(f_at):
        limits = [limit_of(definition, var, at, s, budget) for s in sides]
        if any(v is None for v in limits) or len(set(limits)) != 1:
            return None, None, f"the definition has no limit at {var} = {at}"
        f_at = limits[0]
    quotient = (definition.xreplace({var: at + h}) - f_at) / h
    found = [limit_of(quotient, h, 0, s, budget) for s in sides]
    if any(v is None for v in found):
        return None, None, f"sympy found no one-sided derivative at {var} = {at}"
    if any(v.has(sympy.I) or v.is_extended_real is False for v in found):
        return None, None, f"the definition is not real next to {var} = {at}"
    if len(found) == 2 and found[0] != found[1]:
        return None, (found[1], found[0]), ""
    return found[0], None, ""


def truth_on(
    truth: Any, definition: Any, general: Sequence[Any], region: Sequence[Piece], own: int | None, budget: float
) -> TruthAt:
    """The partial ``truth`` (= d definition / d general[own]) on ``region`` (one piece per symbol).

    With ``own`` None, ``truth`` is a value (the definition itself) taken at the region.
    """
    opened = {g: p.value for g, p in zip(general, region) if not p.point}
    points = {g: p for g, p in zip(general, region) if p.point}
    at_points = {g: p.value for g, p in points.items()}
    value = substitute(substitute(truth, opened), at_points)
    if not points or _smooth_and_finite(truth, value):
        return TruthAt(value)
    own_symbol = None if own is None else general[own]
    if own_symbol is not None and own_symbol in points and not points[own_symbol].kink:
        p = points[own_symbol]
        rest = definition.xreplace(opened).xreplace({g: v for g, v in at_points.items() if g is not own_symbol})
        sides = "+-" if p.side == "+-" else p.side
        derivative, differ, problem = _quotient_derivative(rest, own_symbol, p.value, sides, budget)
        if differ is not None:
            return TruthAt(None, differ)
        if derivative is not None:
            return TruthAt(derivative)
        if problem and "not real" in problem:
            return TruthAt(None, None, problem)
    if not value.has(sympy.nan) and not (value.has(*NONSMOOTH) and value.free_symbols == set()):
        return TruthAt(value)
    # a 0/0 form in another variable's point (c*x**c/x at x = 0): the limit toward that point
    for g, p in points.items():
        rest = truth.xreplace(opened).xreplace({h: v for h, v in at_points.items() if h is not g})
        limit = limit_of(rest, g, p.value, p.side, budget)
        if limit is not None:
            return TruthAt(limit)
    return TruthAt(value)
