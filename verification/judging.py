"""Verdicts of one computed result against the certified truth and the error bounds.

A float64 result is ``ok`` within ``SAFETY * bound + ulp(truth)`` of the
truth; a high-precision result is ``ok`` within ``SAFETY * bound`` of the
certified enclosure ``[lo, hi]``. A non-finite result where the truth is finite
is ``exception_mismatch``; a larger error is a bug. An unbounded (or NaN)
bound means the result cannot be judged: its verdict is ``unjudged``, counted
and shown, never ``ok``.

An engine that flushes subnormals to zero (XLA on the CPU: every subnormal
result becomes a zero of its sign, every subnormal operand is read as one;
its probe measures it, :func:`engine_flushes`) is not IEEE arithmetic, and a
result that only flushing explains is no rule bug. The campaign's records
keep the IEEE verdict (what the bounds above can say); a finding is then
blamed op by op (:mod:`verification.localjudge`, :mod:`verification.localise`),
where :func:`flushed` gives what such an engine holds and
:data:`SMALLEST_NORMAL` the absolute error one flushed rounding may have.
"""

from __future__ import annotations

import math
from typing import Any

from verification.bounds import ETA, SAFETY, Analysis
from verification.engine_api import Evaluation
from verification.metrics import ulp
from verification.references import Certified

__all__ = [
    "BUG_VERDICTS",
    "ENGINE_METHODS",
    "SMALLEST_NORMAL",
    "engine_flushes",
    "exact",
    "flushed",
    "judge_float",
    "judge_interval",
    "underflow_floor",
    "verdict",
]

BUG_VERDICTS = ("rule_bug", "value_bug", "exception_mismatch")
"""Verdicts of an engine method that make a campaign fail."""

ENGINE_METHODS = ("engine_f64", "engine_hp")
"""Methods that run the engine under test (the others are references)."""

SMALLEST_NORMAL = 2.2250738585072014e-308
"""The smallest normal float64: what one rounding may lose absolutely on an engine that flushes subnormals."""

_EXACT_PREC = 8192
"""Bits of the context :func:`exact` works in: wide enough that the subtractions of a judgement never round."""

_EXACT: Any = None


def _exact_context() -> Any:
    global _EXACT
    if _EXACT is None:
        import mpmath

        _EXACT = mpmath.MPContext()
        _EXACT.prec = _EXACT_PREC
    return _EXACT


def exact(x: Any) -> Any:
    """``x`` (an mpmath number of any context, or a float) in a context wide enough to subtract without rounding."""
    ctx = _exact_context()
    return ctx.make_mpf(x._mpf_) if hasattr(x, "_mpf_") else ctx.mpf(x)


def engine_flushes(engine: Any) -> bool:
    """Whether ``engine``'s probe found subnormal results flushed to zero (``2**-1000 * 2**-50`` giving 0)."""
    return bool(getattr(engine, "flushes_subnormals", False))


def underflow_floor(engine: Any) -> float:
    """The absolute error of an underflowing rounding on ``engine``: ``2**-1074``, or the smallest normal
    number when it flushes subnormals."""
    return SMALLEST_NORMAL if engine_flushes(engine) else ETA


def flushed(x: float) -> float:
    """``x`` as an engine that flushes subnormals holds it: a subnormal is a zero of its sign."""
    return math.copysign(0.0, x) if 0.0 < abs(x) < SMALLEST_NORMAL else x


def judge_float(computed: float, truth: float, bound: float) -> str:
    """Verdict of a float64 result: ``ok`` within ``SAFETY * bound + ulp(truth)`` of the truth.

    A non-finite result where the truth is finite is ``exception_mismatch``;
    a larger error is ``bug``.
    """
    if not math.isfinite(computed):
        return "exception_mismatch"
    allowed = SAFETY * bound + ulp(truth)
    if not allowed < math.inf:
        return "unjudged"  # an unbounded (or NaN) bound: first-order analysis does not hold
    return "ok" if abs(computed - truth) <= allowed else "bug"


def judge_interval(computed: Any, lo: Any, hi: Any, bound: float) -> str:
    """Verdict of a high-precision result: ``ok`` within ``SAFETY * bound`` of the certified ``[lo, hi]``."""
    ctx = _exact_context()
    c = exact(computed)
    if not ctx.isfinite(c):
        return "exception_mismatch"
    gap = max(exact(lo) - c, c - exact(hi), 0)
    allowed = SAFETY * exact(bound)
    if not allowed < ctx.inf:
        return "unjudged"
    return "ok" if gap <= allowed else "bug"


def verdict(
    method: str,
    evaluation: Evaluation,
    k: int,
    analysis: Analysis,
    certified: Certified | None,
    grad: float,
    value: float,
) -> str:
    """Verdict of ``method``'s result for variable ``k`` at one point.

    Engine methods are judged against the bounds (gradient first, then the
    value: ``rule_bug``, ``value_bug``); reference methods only need a finite
    gradient. Without a certified truth the point is ``unsamplable``.
    """
    if certified is None:
        return "unsamplable"
    if not evaluation.ok:
        return "exception_mismatch"
    if method == "engine_f64":
        found = judge_float(grad, certified.grads[k], analysis.grad_bounds[k])
        if found == "bug":
            return "rule_bug"
        if found != "ok":
            return found
        v = judge_float(value, certified.value, analysis.value_bound)
        return "value_bug" if v == "bug" else v
    if method == "engine_hp":
        assert evaluation.grads is not None
        found = judge_interval(
            evaluation.grads[k], certified.lo[k + 1], certified.hi[k + 1], analysis.grad_bounds_hp[k]
        )
        if found == "bug":
            return "rule_bug"
        if found != "ok":
            return found
        v = judge_interval(evaluation.value, certified.lo[0], certified.hi[0], analysis.value_bound_hp)
        return "value_bug" if v == "bug" else v
    return "ok" if math.isfinite(grad) else "exception_mismatch"
