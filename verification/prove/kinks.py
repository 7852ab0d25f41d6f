"""Declared kinks: the rule returns the convention there, and the convention is a Clarke subgradient.

At ``x_i = a`` (a declared :class:`~autodiff.Kink` of input ``i``), on every
region of the other inputs and parameters:

* the rule's partial ``i`` equals the declared convention -- exactly, or, when
  it is a number, the convention is that number correctly rounded (a float
  product such as SELU's ``scale * alpha``);
* the convention lies between the one-sided limits of the true partial
  (for a piecewise smooth function of one variable that interval is the
  Clarke generalized gradient);
* where the function itself has different one-sided limits (the partial
  ``d relu / dx`` of a second-order proof, 0 to the left of 0 and 1 to the
  right), it is stated: the function jumps, so no derivative exists at the
  kink and the convention stands in for one.

The other partials and the forward value at the kink are compared with the
truth like any other point region (see :mod:`verification.prove.ops`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import sympy

from verification.prove.decide import compare
from verification.prove.exact import exact_number, rounds_to
from verification.prove.records import Check, KinkCheck, Verdict
from verification.prove.regions import Piece, fix_branches, region_name, substitute
from verification.prove.truth import limit_of

__all__ = ["kink_check"]


def _convention_check(
    rule_value: Any, convention: float, region: Sequence[Piece], *, budget: float, samples: int, rng: random.Random
) -> Check:
    declared = exact_number(convention)
    name = region_name(region)
    if rule_value.is_number and rule_value.is_real and rule_value != declared and rounds_to(rule_value, convention):
        return Check(
            name,
            rule_value,
            declared,
            Verdict.PROVEN,
            f"the convention {convention!r} is the rule's value {rule_value}, correctly rounded",
        )
    check = compare(rule_value, declared, region, budget=budget, samples=samples, rng=rng)
    if check.verdict is Verdict.REFUTED:
        return Check(
            name,
            rule_value,
            declared,
            Verdict.REFUTED,
            f"the rule returns {rule_value} at the kink, the declared convention is {convention!r}",
            check.counterexample,
            check.evidence,
        )
    return check


def _one_sided(truth: Any, symbol: Any, at: float, piece: Piece, settle: set[Any], budget: float) -> Any:
    """The limit of ``truth`` toward ``at`` through the open ``piece`` next to it, written in the
    piece's own Dummy (so its assumptions decide the branches; the branch arguments in ``settle``,
    whose roots are all cut, are fixed by their sign inside the piece first)."""
    truth = fix_branches(truth, {symbol: piece.midpoint()}, settle)
    inside = substitute(truth, {symbol: piece.value})
    bounded = not math.isinf(piece.lo) and not math.isinf(piece.hi)
    if at == piece.hi and bounded:
        return limit_of(inside, piece.symbol, sympy.oo, "-", budget)
    return limit_of(inside, piece.symbol, 0, "+", budget)


def _jump(function: Any, symbol: Any, at: float, neighbours: Sequence[Piece], settle: set[Any], budget: float) -> Any:
    """The one-sided limits of ``function`` at ``at`` when both are real numbers that differ, else None."""
    if len(neighbours) != 2:
        return None
    limits = [_one_sided(function, symbol, at, piece, settle, budget) for piece in neighbours]
    if any(v is None or not v.is_number or v.is_extended_real is not True for v in limits):
        return None
    left, right = limits
    return (left, right) if (left - right).is_zero is False else None


def kink_check(
    rule_value: Any,
    truth: Any,
    general_symbol: Any,
    at: float,
    convention: float,
    region: Sequence[Piece],
    neighbours: tuple[Piece | None, Piece | None],
    *,
    function: Any,
    settle: set[Any],
    budget: float,
    samples: int,
    rng: random.Random,
) -> KinkCheck:
    """The kink check on one region; ``truth`` and ``function`` (the definition) have every other
    symbol already put at the region."""
    name = region_name(region)
    sides = [piece for piece in neighbours if piece is not None]
    conv = _convention_check(rule_value, convention, region, budget=budget, samples=samples, rng=rng)
    limits = [_one_sided(truth, general_symbol, at, piece, settle, budget) for piece in sides]
    value = exact_number(convention)
    if not limits or any(v is None for v in limits):
        shown = [*limits, None][:2]
        return KinkCheck(name, conv, shown[0], shown[1], Verdict.UNDECIDED)
    if any(v.has(sympy.I) or v.is_extended_real is False for v in limits):
        return KinkCheck(name, conv, limits[0], limits[-1], Verdict.UNDECIDED)
    lo, hi = limits[0], limits[-1]
    if (hi < lo) is sympy.true:
        lo, hi = hi, lo
    inside = sympy.And(sympy.Min(lo, hi) <= value, value <= sympy.Max(lo, hi))
    verdict = (
        Verdict.PROVEN if inside is sympy.true else Verdict.REFUTED if inside is sympy.false else Verdict.UNDECIDED
    )
    jump = _jump(function, general_symbol, at, sides, settle, budget) if verdict is Verdict.PROVEN else None
    return KinkCheck(name, conv, lo, hi, verdict, jump)
