"""Every built-in op on all three backends, and a user-declared op from outside the package."""

from __future__ import annotations

import itertools
import math
from typing import Any

import mpmath
import pytest
import sympy

import autodiff
from autodiff import NONNEGATIVE, NONZERO, POSITIVE, REALS, Op, Value, get_op

BUILTIN = [
    "add", "sub", "neg", "mul", "truediv", "pow", "pow_const", "const_pow",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "abs",
]  # fmt: skip

POINTS = {
    REALS: [-3.7, -0.4, 0.25, 1.9, 6.0],
    POSITIVE: [0.01, 0.4, 1.7, 30.0],
    NONZERO: [-2.5, 0.3, 4.0],
    NONNEGATIVE: [0.04, 2.0, 9.5],
}
PARAMS = {"pow_const": [2.0, 3.0, -1.0, 0.5, 1.5, -2.5], "const_pow": [0.5, 2.0, 10.0]}
MP = autodiff.mpmath_backend(dps=50)


def cases(op: Op) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    out: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    for params in [(c,) for c in PARAMS[op.name]] if op.params else [()]:
        doms = op.domains(params)
        grids = [POINTS[d] for d in doms]
        for point in itertools.product(*grids):
            out.append((point, params))
    return out


def ulps(computed: float, truth: Any) -> float:
    t = float(truth)
    if computed == t:
        return 0.0
    return abs(computed - t) / math.ulp(t)


def test_every_builtin_is_registered() -> None:
    names = autodiff.op_names()
    for name in BUILTIN:
        assert name in names


@pytest.mark.parametrize("name", BUILTIN)
def test_float_agrees_with_mpmath_to_float_precision(name: str) -> None:
    op = get_op(name)
    for point, params in cases(op):
        xs = [Value(p) for p in point]
        y = op(*xs, *params)
        y.backward()
        mxs = [Value(MP.num(p)) for p in point]
        my = op(*mxs, *params)
        my.backward()
        assert ulps(y.data, my.data) <= 2, (name, point, params, y.data, my.data)
        for x, mx in zip(xs, mxs):
            assert ulps(x.grad, mx.grad) <= 4, (name, point, params, x.grad, mx.grad)


@pytest.mark.parametrize("name", BUILTIN)
def test_sympy_backend_gives_the_derivative_of_the_definition(name: str) -> None:
    op = get_op(name)
    assert op.spec is not None
    for point, params in cases(op)[:6]:
        syms = sympy.symbols(f"a0:{op.arity}", real=True)
        vs = [Value(s) for s in syms]
        sparams = [sympy.nsimplify(c, rational=True) for c in params]
        y = op(*vs, *params)
        y.backward()
        definition = op.spec(sympy, *syms, *sparams)
        at = dict(zip(syms, [sympy.nsimplify(p, rational=True) for p in point]))
        assert abs(sympy.N((y.data - definition).subs(at), 40)) < 1e-35, (name, point)
        for s, v in zip(syms, vs):
            truth = sympy.diff(definition, s).subs(at)
            assert abs(sympy.N(v.grad.subs(at) - truth, 40)) < 1e-35, (name, point, v.grad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mul", lambda x, y: (y, x)),
        ("add", lambda x, y: (1, 1)),
        ("truediv", lambda x, y: (1 / y, -x / y**2)),
        ("exp", lambda x: (sympy.exp(x),)),
        ("log", lambda x: (1 / x,)),
        ("sin", lambda x: (sympy.cos(x),)),
        ("sqrt", lambda x: (1 / (2 * sympy.sqrt(x)),)),
    ],
)
def test_sympy_rules_are_the_expected_expressions(name: str, expected: Any) -> None:
    op = get_op(name)
    syms = sympy.symbols(f"a0:{op.arity}", positive=True)
    vs = [Value(s) for s in syms]
    op(*vs).backward()
    for v, e in zip(vs, expected(*syms)):
        assert sympy.simplify(v.grad - e) == 0


def test_kinks_use_the_declared_convention() -> None:
    for name in ("relu", "abs"):
        op = get_op(name)
        (kink,) = op.kinks
        x = Value(kink.at)
        op(x).backward()
        assert x.grad == kink.convention


def test_pow_const_variants() -> None:
    x = Value(-2.0)
    (x**3).backward()
    assert x.grad == 12.0
    y = Value(4.0)
    (y**0.5).backward()
    assert y.grad == 0.25
    z = Value(0.0)
    (z**2).backward()
    assert z.grad == 0.0


# --- a user-defined op from a module outside the package ---------------------


def test_user_op_on_floats_and_as_a_method() -> None:
    from tests import user_ops

    x = Value(0.7)
    y = user_ops.softplus(x)
    y.backward()
    assert y.data == pytest.approx(math.log1p(math.exp(0.7)), rel=1e-15)
    assert x.grad == pytest.approx(1 / (1 + math.exp(-0.7)), rel=1e-15)
    z = Value(-800.0).softplus()
    assert z.data == pytest.approx(math.exp(-800.0), rel=1e-12)  # no overflow, keeps its bits


def test_user_op_on_mpmath() -> None:
    from tests import user_ops

    x = Value(MP.num(0.7))
    user_ops.softplus(x).backward()
    with mpmath.workdps(50):
        truth = 1 / (1 + mpmath.exp(-mpmath.mpf(0.7)))
        assert abs(x.grad - truth) < mpmath.mpf(10) ** -45


def test_user_op_on_sympy() -> None:
    from tests import user_ops

    s = sympy.Symbol("s", positive=True)
    v = Value(s)
    y = user_ops.softplus(v)
    y.backward()
    assert sympy.simplify(y.data - sympy.log(1 + sympy.exp(s))) == 0
    assert sympy.simplify(v.grad - sympy.diff(sympy.log(1 + sympy.exp(s)), s)) == 0


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(autodiff.OpDeclarationError, match="grad must take"):
        autodiff.defop("bad_arity", forward=lambda m, x: x, grad=lambda m, ans, x, y: (1, 1), register=False)
    with pytest.raises(autodiff.OpDeclarationError, match="already registered"):
        autodiff.defop("exp", forward=lambda m, x: x, grad=lambda m, ans, x: (1,))
    with pytest.raises(autodiff.UnknownOpError, match=r"known ops: .*abs"):
        get_op("nope")


def test_rule_returning_the_wrong_number_of_partials() -> None:
    op = autodiff.defop("two_partials", forward=lambda m, x: x, grad=lambda m, ans, x: (1, 2), register=False)
    y = op(Value(1.0))
    with pytest.raises(autodiff.OpDeclarationError, match="returned 2 value"):
        y.backward()
