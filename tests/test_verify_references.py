"""References: certified truth, float64 differences, the oracle, symengine against sympy; the strategies."""

from __future__ import annotations

import math
from collections import Counter

import mpmath
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from autodiff import UnknownOpError
from verification.expr import Apply, Const, Expr, Var, depth, ops_in, variables
from verification.numeric import Unsupported
from verification.references import Reference
from verification.strategies import candidate_points, classify_point, expressions, points


def _rounded(f: object, x: float, dps: int = 60) -> float:
    with mpmath.workdps(dps):
        return float(f(mpmath.mpf(x)))  # type: ignore[operator]


@pytest.mark.parametrize("symbolic", ["symengine", "sympy"])
def test_certified_value_and_gradient(symbolic: str) -> None:
    ref = Reference(Apply("sin", (Var(0),)), 1, symbolic=symbolic)
    c = ref.certify((1.0,))
    assert c is not None
    assert c.value == _rounded(mpmath.sin, 1.0)
    assert c.grads == (_rounded(mpmath.cos, 1.0),)


def test_tanh_tail_is_certified_not_rounded_to_one() -> None:
    # d/dx tanh(x) = 1 - tanh(x)**2 ~ 4 e**-54.6 at 27.3: tanh itself rounds to 1 in float64
    c = Reference(Apply("tanh", (Var(0),)), 1).certify((27.3,))
    assert c is not None
    assert c.grads[0] == _rounded(lambda t: 1 - mpmath.tanh(t) ** 2, 27.3, dps=80)
    assert c.grads[0] > 0.0


def test_constants_stay_exact() -> None:
    # 0.1 is 3602879701896397 / 2**55 exactly; x * 0.1 at x = 3 certifies to the float product's exact rounding
    c = Reference(Apply("mul", (Var(0), Const(0.1))), 1).certify((3.0,))
    assert c is not None
    assert c.value == 3.0 * 0.1  # the product of two doubles, correctly rounded, is what IEEE gives
    assert c.grads == (0.1,)


def test_exact_zero_by_cancellation_is_unsamplable() -> None:
    s2 = Apply("pow_const", (Apply("sin", (Var(0),)),), (2.0,))
    c2 = Apply("pow_const", (Apply("cos", (Var(0),)),), (2.0,))
    tree = Apply("sub", (Apply("add", (s2, c2)), Const(1.0)))
    assert Reference(tree, 1, symbolic="sympy").certify((0.7,), cap_bits=256) is None


def test_finite_differences_and_complex_step() -> None:
    ref = Reference(Apply("exp", (Apply("sin", (Var(0),)),)), 1)
    x = 0.8
    truth = math.cos(x) * math.exp(math.sin(x))
    assert ref.analytic
    assert ref.central((x,), 0) == pytest.approx(truth, rel=1e-9)
    assert ref.richardson((x,), 0) == pytest.approx(truth, rel=1e-11)
    assert ref.complex_step((x,), 0) == pytest.approx(truth, rel=1e-15)
    assert not Reference(Apply("abs", (Var(0),)), 1).analytic


def test_oracle_agrees_with_certified_derivative_near_zero() -> None:
    tree = Apply("log", (Apply("pow_const", (Var(0),), (0.5,)),))
    ref = Reference(tree, 1)
    point = (5.2e-101,)
    c = ref.certify(point)
    assert c is not None
    assert ref.oracle_agrees(point, 0, c)


@given(expressions(n_vars=2, max_depth=3), st.lists(candidate_points(2), min_size=4, max_size=4))
def test_symengine_agrees_with_sympy(tree: Expr, cands: list[tuple[float, float]]) -> None:
    """symengine accelerates the symbolic derivative; sympy is the reference of record."""
    fast = Reference(tree, 2, symbolic="symengine")
    try:
        record = Reference(tree, 2, symbolic="sympy")
    except Unsupported:  # sympy wrote the derivative with a function the compiler lacks (e.g. atan2)
        assume(False)
    for point in cands:
        if classify_point(tree, point) is not None:
            continue
        a, b = fast.certify(point), record.certify(point)
        if a is not None and b is not None:
            assert (a.value, a.grads) == (b.value, b.grads)


@given(expressions(ops=["mul", "tanh", "log"], n_vars=3, max_depth=2))
def test_expressions_respect_their_options(tree: Expr) -> None:
    assert isinstance(tree, Apply)
    assert 1 <= depth(tree) <= 2
    assert set(ops_in(tree)) <= {"mul", "tanh", "log"}
    assert set(variables(tree)) <= {0, 1, 2}

    def every_op_has_a_variable(t: Expr) -> bool:
        if not isinstance(t, Apply):
            return True
        return any(variables(a) for a in t.args) and all(every_op_has_a_variable(a) for a in t.args)

    assert every_op_has_a_variable(tree)


@given(st.data())
def test_points_are_usable_and_discards_counted(data: st.DataObject) -> None:
    tree = Apply("log", (Var(0),))
    discards: Counter[str] = Counter()
    point = data.draw(points(tree, discards=discards))
    assert point[0] > 0
    assert set(discards) <= {"undefined", "near_kink", "non_finite"}


def test_strategy_arguments_are_validated() -> None:
    with pytest.raises(InvalidArgument):
        expressions(n_vars=0)
    with pytest.raises(InvalidArgument):
        expressions(max_depth=0)
    with pytest.raises(InvalidArgument):
        expressions(ops=[])
    with pytest.raises(UnknownOpError):
        expressions(ops=["nosuch"])
