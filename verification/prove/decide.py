"""Deciding ``candidate == truth`` on one region: infinities, the ladder, then the counterexample search."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import sympy

from verification.prove.ladder import attempt, reduces_to_zero
from verification.prove.records import Check, Counterexample, Verdict
from verification.prove.regions import Piece, region_name, threshold_numeric
from verification.prove.search import Search
from verification.prove.truth import is_nonfinite

__all__ = ["compare", "infinite_verdict"]


def infinite_verdict(candidate: Any, truth: Any) -> tuple[Verdict, str] | None:
    """The verdict when either side is one of oo, -oo, zoo, nan; None when both are finite expressions.

    Signed infinities must be equal; a rule that divides by zero (``zoo``) where
    the derivative is a signed infinity is accepted as infinite; ``zoo`` never
    stands for a truth of a definite sign, and ``oo`` is not ``-oo``.
    """
    if not (is_nonfinite(candidate) or is_nonfinite(truth)):
        return None
    if sympy.nan in (candidate, truth):
        return Verdict.REFUTED, "not a number"
    if candidate is truth and candidate is not sympy.zoo:
        return Verdict.PROVEN, "both the same infinity"
    if candidate is sympy.zoo and truth in (sympy.oo, -sympy.oo):
        return Verdict.PROVEN, "infinite: the rule divides by zero where the derivative is infinite"
    if candidate is sympy.zoo and truth is sympy.zoo:
        return Verdict.UNDECIDED, "both divide by zero; no sign to compare"
    if candidate.free_symbols or truth.free_symbols:
        return Verdict.UNDECIDED, "infinite on one side only symbolically"
    return Verdict.REFUTED, "infinite values differ"


def _constant_difference(diff: Any, budget: float) -> Any:
    """The difference as a nonzero number when it cancels to one (``1/x + 1 - 1/x``), else None.

    A real difference however small relative to the values (1 against 1e308 where x is subnormal),
    which the relative comparison of the search cannot see.
    """
    reduced = attempt(sympy.cancel, diff, budget)
    if reduced is None or reduced.free_symbols or not reduced.is_number:
        return None
    return reduced if reduced.is_zero is False and reduced.is_finite else None


def compare(
    candidate: Any,
    truth: Any,
    region: Sequence[Piece],
    *,
    budget: float,
    samples: int,
    rng: random.Random,
    label: str = "",
) -> Check:
    """Decide ``candidate == truth`` on ``region``: ladder, then high-precision search."""
    name = label or region_name(region)
    infinite = infinite_verdict(candidate, truth)
    if infinite is not None:
        verdict, method = infinite
        cx = None
        if verdict is Verdict.REFUTED:
            point = {p.name: str(p.value) for p in region}
            cx = Counterexample(point, str(candidate), str(truth), method)
        return Check(name, candidate, truth, verdict, method, counterexample=cx)
    step = reduces_to_zero(candidate - truth, budget)
    if step is not None:
        return Check(name, candidate, truth, Verdict.PROVEN, step)
    constant = _constant_difference(candidate - truth, budget)
    if constant is not None:
        point = {p.name: str(p.value) if p.point else f"any point of {p.describe()}" for p in region}
        cx = Counterexample(point, str(candidate), str(truth), str(constant), "the difference is this nonzero number")
        return Check(name, candidate, truth, Verdict.REFUTED, "nonzero constant difference", cx)
    cx, evidence = Search(threshold_numeric(candidate), threshold_numeric(truth), region, rng, samples, budget).run()
    if cx is not None:
        return Check(name, candidate, truth, Verdict.REFUTED, "counterexample", cx, evidence)
    return Check(name, candidate, truth, Verdict.UNDECIDED, "no reduction, no counterexample", None, evidence)
