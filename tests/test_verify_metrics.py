"""Error metrics, verdicts and the high-precision analysis, on hand-computed values."""

from __future__ import annotations

import math

import mpmath
import pytest

from verification.bounds import analyse
from verification.campaign import judge_float, judge_interval
from verification.expr import Apply, Const, Var
from verification.metrics import MAX_BITS, MAX_ULPS, bits_of_error, measure, ordinal, ulp_distance

ONE_UP = math.nextafter(1.0, 2.0)
TINY = 5e-324


def test_zero_and_negative_zero_are_one_point() -> None:
    assert ordinal(0.0) == ordinal(-0.0) == 0
    assert ulp_distance(0.0, -0.0) == 0.0
    assert measure(-0.0, 0.0).bits_err == 0.0


def test_ulp_distance_counts_doubles_between() -> None:
    assert ulp_distance(ONE_UP, 1.0) == 1.0
    assert ulp_distance(math.nextafter(ONE_UP, 2.0), 1.0) == 2.0
    assert ulp_distance(-TINY, TINY) == 2.0  # -tiny, 0, +tiny
    assert ulp_distance(1.0, math.nextafter(1.0, 0.0)) == 1.0


def test_non_finite_where_truth_is_finite_is_the_maximum() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        m = measure(bad, 1.0)
        assert (m.ulp_err, m.bits_err, m.abs_err, m.rel_err) == (MAX_ULPS, MAX_BITS, math.inf, math.inf)
    assert ulp_distance(math.inf, math.inf) == 0.0


def test_bits_of_error_is_log2_of_ulps_plus_one() -> None:
    assert bits_of_error(0.0) == 0.0
    assert bits_of_error(1.0) == 1.0
    assert bits_of_error(3.0) == 2.0
    assert bits_of_error(2.0**64) == 64.0


def test_absolute_and_relative_error() -> None:
    m = measure(ONE_UP, 1.0)
    assert m.abs_err == 2.0**-52
    assert m.rel_err == 2.0**-52
    assert m.bits_err == 1.0
    m = measure(3.0, 4.0)
    assert (m.abs_err, m.rel_err) == (1.0, 0.25)
    m = measure(1e-300, 0.0)  # relative error of a zero truth is the absolute error
    assert m.rel_err == m.abs_err == 1e-300


def test_judge_float() -> None:
    assert judge_float(1.0, 1.0, 0.0) == "ok"
    assert judge_float(ONE_UP, 1.0, 0.0) == "ok"  # within one ULP of the rounded truth
    assert judge_float(1.0 + 1e-12, 1.0, 1e-16) == "bug"
    assert judge_float(1.0 + 1e-12, 1.0, 1e-12) == "ok"
    assert judge_float(math.inf, 1.0, 1.0) == "exception_mismatch"


def test_judge_interval() -> None:
    ctx = mpmath.MPContext()
    ctx.dps = 60
    above = ctx.mpf(2) + ctx.mpf("1e-30")
    assert judge_interval(1.5, 1.0, 2.0, 0.0) == "ok"
    assert judge_interval(above, 1.0, 2.0, 0.0) == "bug"
    assert judge_interval(above, 1.0, 2.0, 1e-30) == "ok"
    assert judge_interval(ctx.inf, 1.0, 2.0, 1.0) == "exception_mismatch"


def test_condition_estimate_by_hand() -> None:
    # f = 2 x - 1.5 x: gradient 0.5, absolute-value pass 2 + 1.5 = 3.5, condition 7
    tree = Apply("add", (Apply("mul", (Var(0), Const(2.0))), Apply("mul", (Var(0), Const(-1.5)))))
    a = analyse(tree, (0.75,))
    assert a.discard is None
    assert float(a.grads[0]) == 0.5
    assert a.cond(0) == pytest.approx(7.0)


def test_bounds_grow_with_conditioning() -> None:
    well = analyse(Apply("mul", (Var(0), Var(0))), (1.5,))
    ill = analyse(Apply("sub", (Apply("exp", (Var(0),)), Apply("exp", (Var(1),)))), (30.0, 30.0 - 1e-9))
    assert well.discard is None and ill.discard is None
    assert float(well.grad_bounds[0]) < 1e-14 * 3.0
    assert float(ill.value_bound) / abs(float(ill.value)) > 1e-8  # cancellation: the value is ill-conditioned


@pytest.mark.parametrize(
    ("tree", "point", "reason"),
    [
        (Apply("log", (Var(0),)), (-1.0,), "undefined"),
        (Apply("sqrt", (Var(0),)), (0.0,), "undefined"),
        (Apply("relu", (Var(0),)), (0.0,), "near_kink"),
        (Apply("abs", (Apply("sub", (Var(0), Const(0.1))),)), (0.1,), "near_kink"),
        (Apply("exp", (Apply("exp", (Var(0),)),)), (10.0,), "non_finite"),
    ],
)
def test_discard_reasons(tree: Apply, point: tuple[float, ...], reason: str) -> None:
    assert analyse(tree, point).discard == reason
