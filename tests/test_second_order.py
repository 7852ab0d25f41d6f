"""Second order and forward mode from the first-order rules: checked against certified truth."""

from __future__ import annotations

import math
import sys
from collections import Counter
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st

import autodiff
from autodiff import Value, gradients, hessian, hvp, jvp, mpmath_backend, push_tangents
from tests.planting import planted
from verification.expr import Apply, Var, to_sympy
from verification.references import sympy_symbols
from verification.second_check import Mode, check_second
from verification.strategies import expressions, points

DIRECTIONS = st.tuples(*[st.sampled_from([1.0, -0.5, 2.0, 0.25, -3.0])] * 2)


def smooth(x: Value, y: Value) -> Value:
    """A function of two variables touching most built-in ops."""
    return (x * y).tanh() * x.exp() + (x**2 + y).log() + x.sigmoid() * (y - 0.5).relu() + x.sin() / (2 + y.cos())


# --- generated expressions against the certified truth ------------------------------


@given(expressions(n_vars=2, max_depth=3), st.data(), DIRECTIONS)
def test_generated_hessians_hvps_and_jvps_equal_the_certified_truth(
    tree: Any, data: st.DataObject, v: tuple[float, float]
) -> None:
    point = data.draw(points(tree, n_vars=2))
    rows = check_second(tree, point, v)
    assume(rows is not None)
    assert rows is not None
    verdicts = Counter(r.verdict for r in rows)
    bad = [r for r in rows if r.verdict not in ("ok", "unjudged")]
    assert not bad, bad
    assert verdicts["ok"] > 0
    # every mode is computed both ways, in float64 and at 50 digits
    assert {(r.mode, r.method) for r in rows} == {(m, k) for m in Mode for k in ("engine_f64", "engine_hp")}


def test_a_fixed_corpus_is_judged_in_every_mode() -> None:
    x0, x1 = Var(0), Var(1)
    corpus = [
        Apply("mul", (Apply("tanh", (x0,)), Apply("exp", (x1,)))),
        Apply("truediv", (Apply("sin", (x0,)), Apply("add", (x1, Apply("pow_const", (x0,), (2.0,)))))),
        Apply("log", (Apply("add", (Apply("sigmoid", (x0,)), Apply("sqrt", (x1,)))),)),
        Apply("pow", (x1, Apply("cos", (x0,)))),
    ]
    for tree in corpus:
        rows = check_second(tree, (0.75, 1.25), (1.0, -0.5))
        assert rows is not None
        assert {r.verdict for r in rows} == {"ok"}, [r for r in rows if r.verdict != "ok"]


def _detached_exp_rule(m: Any, ans: Any, x: Any) -> tuple[Any]:
    """exp' = exp, but read as a number off the graph (micrograd's ``out.data``)."""
    return (ans.data if isinstance(ans, Value) else ans,)


def test_a_rule_detached_from_the_graph_is_right_at_first_order_and_caught_at_second() -> None:
    tree = Apply("mul", (Apply("exp", (Var(0),)), Var(1)))
    with planted("exp", _detached_exp_rule):
        rows = check_second(tree, (0.5, 1.5), (1.0, 1.0))
    assert rows is not None
    wrong = {(r.mode, r.method) for r in rows if r.verdict == "bug"}
    assert (Mode.HESSIAN, "engine_hp") in wrong and (Mode.HVP_FWD, "engine_hp") in wrong
    assert (Mode.HVP_REV, "engine_f64") in wrong
    assert all(r.verdict == "ok" for r in rows if r.mode is Mode.JVP)  # first order is right


# --- the same code on every backend ----------------------------------------------------


def _sympy_hessian_at(point: tuple[float, float]) -> list[list[Any]]:
    x, y = sympy.symbols("x y", real=True)
    f = sympy.tanh(x * y) * sympy.exp(x) + sympy.log(x**2 + y)
    f += 1 / (1 + sympy.exp(-x)) * (y - sympy.Rational(1, 2)) + sympy.sin(x) / (2 + sympy.cos(y))  # y > 1/2
    at = {x: sympy.Rational(point[0]), y: sympy.Rational(point[1])}
    return [[sympy.diff(f, a, b).evalf(60, subs=at) for b in (x, y)] for a in (x, y)]


def test_hessian_on_floats_mpmath_and_sympy_agrees_with_sympy() -> None:
    point = (0.375, 0.875)  # y > 0.5: relu is the identity there
    truth = _sympy_hessian_at(point)
    m = mpmath_backend(50)
    hp = hessian(smooth, [m.num(p) for p in point])
    xs = sympy.symbols("x y", real=True)
    sym = hessian(smooth, list(xs))
    at = {xs[0]: sympy.Rational(point[0]), xs[1]: sympy.Rational(point[1])}
    ctx = mpmath.MPContext()
    ctx.dps = 60
    for i in range(2):
        for j in range(2):
            t = ctx.mpf(str(truth[i][j]))
            assert abs(ctx.mpf(hp[i][j]) - t) <= 1e-45 * max(1, abs(t))  # 50 digits, a few dozen ops
            assert abs(ctx.mpf(str(sym[i][j].evalf(60, subs=at))) - t) <= 1e-55 * max(1, abs(t))


def test_jvp_and_hvp_modes_agree_at_50_digits_and_on_symbols() -> None:
    m = mpmath_backend(50)
    point = [m.num(0.375), m.num(0.875)]
    # forward and reverse sum the same path products in another order: 50-digit rounding only
    close = 1e-40
    value, tangent = jvp(smooth, point, [1.0, -2.0])
    leaves = [Value(p) for p in point]
    out = smooth(*leaves)
    g = gradients(out, leaves)
    assert value == out.data
    assert abs(tangent - (g[0] - 2 * g[1])) <= close * max(1, abs(tangent))
    rev, fwd = hvp(smooth, point, [1.0, -2.0]), hvp(smooth, point, [1.0, -2.0], mode="fwd")
    h = hessian(smooth, point)
    for k in range(2):
        direct = h[k][0] - 2 * h[k][1]
        assert abs(rev[k] - direct) <= close * max(1, abs(direct))
        assert abs(fwd[k] - direct) <= close * max(1, abs(direct))
    xs = sympy.symbols("x y", real=True)
    _, t_sym = jvp(smooth, list(xs), [1, -2])
    x, y = xs
    at = {x: sympy.Rational(3, 8), y: sympy.Rational(7, 8)}
    f = smooth(Value(x), Value(y)).data
    expected = (sympy.diff(f, x) - 2 * sympy.diff(f, y)).evalf(50, subs=at)
    assert abs(t_sym.evalf(50, subs=at) - expected) < 1e-40


def test_hvp_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        hvp(smooth, [0.5, 0.5], [1.0, 1.0], mode="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 input"):
        hvp(smooth, [0.5, 0.5], [1.0])
    with pytest.raises(TypeError, match="must return a Value"):
        hessian(lambda x: 3.0, [1.0])
    with pytest.raises(ValueError, match="1 primal"):
        jvp(lambda x: x, [1.0], [1.0, 2.0])


# --- create_graph semantics --------------------------------------------------------------


def test_backward_with_create_graph_gives_a_gradient_that_differentiates_again() -> None:
    x = Value(0.5)
    y = x.tanh() * x**3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    t = math.tanh(0.5)
    d1 = (1 - t * t) * 0.125 + t * 3 * 0.25
    assert x.grad.data == pytest.approx(d1, rel=1e-15)
    (d2,) = gradients(x.grad, [x])
    expected = -2 * t * (1 - t * t) * 0.125 + 2 * (1 - t * t) * 0.75 + t * 3.0
    assert d2 == pytest.approx(expected, rel=1e-14)


def test_gradients_accumulate_across_create_graph_calls_until_zeroed() -> None:
    x = Value(2.0)
    y = x * x
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 8.0
    (d2,) = gradients(x.grad, [x])
    assert d2 == 4.0
    y.zero_grad()
    assert x.grad == 0.0
    y.backward()
    assert x.grad == 4.0


def test_a_gradient_that_is_constant_stays_a_number_and_a_node_used_twice_counts_twice() -> None:
    x = Value(1.5)
    b = x + x
    c = b + b
    (g,) = gradients(c, [x], create_graph=True)
    assert g == 4.0 and not isinstance(g, Value)
    assert hessian(lambda u: (u + u) * (u + u), [1.5]) == [[8.0]]


def test_create_graph_backward_is_iterative() -> None:
    x = Value(0.3)
    y = x
    for _ in range(20_000):  # 100,000 nodes, far beyond the recursion limit
        y = (0.9 * y + 0.1).tanh()
    assert sys.getrecursionlimit() < 20_000
    (g,) = gradients(y, [x], create_graph=True)
    assert isinstance(g, Value)
    (h,) = gradients(g, [x])
    assert math.isfinite(h)


def test_forward_mode_pushes_tangents_through_a_shared_graph() -> None:
    x, y = Value(0.5), Value(-1.25)
    a = x * y
    out = a * a + a.sin()
    (t,) = push_tangents([out], {x: 1.0})
    assert t == pytest.approx(2 * 0.5 * -1.25 * -1.25 + math.cos(-0.625) * -1.25, rel=1e-15)
    (none,) = push_tangents([out], {})
    assert none == 0.0


# --- user ops from a plugin, with no extra declaration ---------------------------------------


def test_a_plugin_op_has_second_derivatives_on_floats_and_symbols() -> None:
    from tests import user_ops

    softplus = user_ops.softplus
    for x in (-2.5, 0.75, 30.0):
        rows = check_second(Apply("softplus", (Var(0),)), (x,), (1.0,))
        assert rows is not None and {r.verdict for r in rows} == {"ok"}
    # The rule reads |x|, whose derivative at 0 is the kink convention 0, so the
    # second derivative at exactly 0 comes out 0 (the truth is 1/4). The checks
    # see the |x| in the gradient's graph and leave that point unjudged, never ok.
    ((h0,),) = hessian(lambda u: softplus(u), [0.0])
    assert h0 == 0.0
    rows = check_second(Apply("softplus", (Var(0),)), (0.0,), (1.0,))
    assert rows is not None
    assert {r.verdict for r in rows if r.mode is not Mode.JVP} == {"unjudged"}
    u = sympy.Symbol("u", real=True)
    ((h_sym,),) = hessian(lambda v: softplus(v), [u])  # the rule's m.where on a symbol: a select node
    truth = sympy.diff(sympy.log(1 + sympy.exp(u)), u, 2)
    for at in (sympy.Rational(-5, 2), sympy.Rational(3, 4)):
        assert abs((h_sym - truth).evalf(50, subs={u: at})) < 1e-45


def test_rules_using_expm1_and_log1p_differentiate_again() -> None:
    def lse_grad(m: Any, ans: Any, x: Any) -> tuple[Any]:
        return (1 - m.exp(-m.log1p(m.exp(x))),)

    lse = autodiff.defop("lse_test", forward=lambda m, x: m.log1p(m.exp(x)), grad=lse_grad, register=False)
    e1 = autodiff.defop(
        "expm1_test", forward=lambda m, x: m.expm1(x), grad=lambda m, ans, x: (m.expm1(x) + 1,), register=False
    )
    ((h,),) = hessian(lambda v: lse(v) + e1(v), [0.25])
    s = 1 / (1 + math.exp(-0.25))
    assert h == pytest.approx(s * (1 - s) + math.exp(0.25), rel=1e-14)


def test_the_gradient_of_the_tree_form_matches_sympy_symbolically() -> None:
    tree = Apply("mul", (Apply("exp", (Var(0),)), Apply("tanh", (Var(1),))))
    xs = sympy_symbols(2)
    f = to_sympy(tree, xs)
    h = hessian(lambda a, b: a.exp() * b.tanh(), list(xs))
    at = {xs[0]: sympy.Rational(1, 3), xs[1]: sympy.Rational(-2, 5)}
    for i in range(2):
        for j in range(2):
            assert abs((h[i][j] - sympy.diff(f, xs[i], xs[j])).evalf(50, subs=at)) < 1e-45
