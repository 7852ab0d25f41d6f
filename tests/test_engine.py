"""The engine: Value semantics, graph traversal, accumulation, deep graphs, errors."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy

import autodiff
from autodiff import DomainError, GradientError, Value


def test_seed_example_gradients() -> None:
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    d = e + c
    loss = d * f
    loss.backward()
    assert (e.data, d.data, loss.data) == (-6.0, 4.0, -8.0)
    assert (loss.grad, f.grad, d.grad, c.grad, e.grad, a.grad, b.grad) == (1.0, 4.0, -2.0, -2.0, -2.0, 6.0, -4.0)
    assert a.label == "a"
    assert repr(loss) == "Value(data=-8.0000, grad=1.0000)"


def test_polynomial_from_the_notebook() -> None:
    x = Value(3.0)
    y = 3 * x**2 - 4 * x + 5
    y.backward()
    assert y.data == 20.0
    assert x.grad == 14.0


def test_reflected_operators() -> None:
    x = Value(2.0)
    assert (1 + x).data == 3.0
    assert (1 - x).data == -1.0
    assert (3 * x).data == 6.0
    assert (1 / x).data == 0.5
    assert (2**x).data == 4.0
    assert (x - 1).data == 1.0
    assert (-x).data == -2.0
    assert abs(Value(-2.0)).data == 2.0
    z = 1 - x
    z.backward()
    assert x.grad == -1.0


def test_reuse_gets_both_contributions() -> None:
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_reuse_through_multiplication() -> None:
    a = Value(3.0)
    y = a * a * a
    y.backward()
    assert a.grad == 27.0


def test_gradients_accumulate_until_zeroed() -> None:
    a = Value(2.0)
    y = a * a + a
    y.backward()
    assert a.grad == 5.0
    y.backward()
    assert a.grad == 10.0
    y.zero_grad()
    assert a.grad == 0.0
    y.backward()
    assert a.grad == 5.0


def test_backward_twice_uses_fresh_adjoints_for_intermediates() -> None:
    # An intermediate node's own accumulated .grad must not leak into the
    # second pass: the leaf gets exactly twice the gradient.
    a = Value(1.5)
    h = a.tanh()
    y = h * h
    y.backward()
    once = a.grad
    y.backward()
    assert a.grad == 2 * once


def test_parent_order_is_deterministic() -> None:
    a, b = Value(1.0), Value(2.0)
    c = a - b
    assert c.parents() == (a, b)
    order1 = [id(n) for n in autodiff.topological_order(c * a + b)]
    assert len(order1) == len(set(order1))


def test_deep_chain_of_a_million_nodes() -> None:
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 0.0  # 2 nodes per step: the constant leaf and the sum
    y.backward()
    assert x.grad == 1.0


def test_deep_activation_chain_1e5() -> None:
    x = Value(0.3)
    y = x
    for _ in range(100_000):
        y = (0.9 * y + 0.1).tanh()
    y.backward()
    assert math.isfinite(x.grad)
    assert 0.0 <= x.grad < 1e-3


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Value(1000.0).tanh(), 1.0),
        (lambda: Value(-1000.0).tanh(), -1.0),
        (lambda: Value(1000.0).sigmoid(), 1.0),
        (lambda: Value(-1000.0).sigmoid(), 0.0),
        (lambda: Value(-1000.0).exp(), 0.0),
    ],
)
def test_no_overflow_where_a_finite_answer_exists(make: object, expected: float) -> None:
    v = make()  # type: ignore[operator]
    assert v.data == expected
    v.backward()


def test_tanh_and_sigmoid_gradients_keep_their_bits_in_the_tails() -> None:
    # 1 - tanh(x)**2 would give exactly 0 here; the true value is about 4 e^{-40}.
    x = Value(20.0)
    x.tanh().backward()
    truth = float(1 / mpmath.cosh(mpmath.mpf(20)) ** 2)
    assert x.grad == pytest.approx(truth, rel=1e-15)
    y = Value(40.0)
    y.sigmoid().backward()
    s = 1 / (1 + mpmath.exp(-mpmath.mpf(40)))
    assert y.grad == pytest.approx(float(s * (1 - s)), rel=1e-15)


def test_exp_overflow_is_ieee_infinity() -> None:
    assert Value(1000.0).exp().data == math.inf


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Value(-1.0).log(), "log: x = -1.0 is outside the domain x > 0"),
        (lambda: Value(-1.0).sqrt(), "sqrt: x = -1.0 is outside the domain x >= 0"),
        (lambda: Value(0.0) ** -1, "pow_const: x = 0.0 is outside the domain x != 0"),
        (lambda: 1 / Value(0.0), "truediv: y = 0.0 is outside the domain y != 0"),
        (lambda: Value(-2.0) ** Value(0.5), "pow: x = -2.0 is outside the domain x > 0"),
        (lambda: (-2.0) ** Value(1.0), "const_pow: parameter c = -2.0 is outside its domain c > 0"),
        (lambda: Value(-8.0) ** 0.5, "pow_const: x = -8.0 is outside the domain x >= 0"),
        (lambda: Value(math.inf).sin(), "sin: not defined at x = inf"),
    ],
)
def test_domain_errors_name_the_op_and_value(make: object, message: str) -> None:
    with pytest.raises(DomainError) as info:
        make()  # type: ignore[operator]
    assert message in str(info.value)


def test_infinite_derivative_is_a_clear_error() -> None:
    y = Value(0.0).sqrt()
    with pytest.raises(GradientError, match=r"sqrt: the derivative is not finite at \(0.0\)"):
        y.backward()


@pytest.mark.parametrize("bad", ["a", None, [1.0], 1j])
def test_wrong_operand_types(bad: object) -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match=f"unsupported operand for add: {type(bad).__name__}"):
        x + bad
    with pytest.raises(TypeError, match="unsupported operand for mul"):
        bad * x


@pytest.mark.parametrize("bad", ["1.0", None, True, [1.0], 1j])
def test_wrong_data_types(bad: object) -> None:
    with pytest.raises(TypeError, match="Value data must be a real number"):
        Value(bad)


def test_mixing_backends_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot mix"):
        Value(1.0) + Value(mpmath.mpf(1))


def test_int_data_becomes_float() -> None:
    v = Value(2)
    assert type(v.data) is float


def test_sympy_values_give_symbolic_gradients() -> None:
    x, y = sympy.symbols("x y", real=True)
    vx, vy = Value(x), Value(y)
    f = vx * vy + vx.sin() * 3 - vy / 2
    f.backward()
    assert sympy.simplify(vx.grad - (y + 3 * sympy.cos(x))) == 0
    assert sympy.simplify(vy.grad - (x - sympy.Rational(1, 2))) == 0


def test_sympy_constant_floats_become_exact_rationals() -> None:
    x = sympy.Symbol("x")
    f = Value(x) * 0.1
    assert f.data == x / 10


def test_mpmath_values_compute_at_high_precision() -> None:
    backend = autodiff.mpmath_backend(dps=60)
    x = Value(backend.num(1) / 3)
    y = x.exp() * x.log()
    y.backward()
    with mpmath.workdps(60):
        third = mpmath.mpf(1) / 3
        truth = mpmath.exp(third) * (mpmath.log(third) + 1 / third)
        assert abs(x.grad - truth) < mpmath.mpf(10) ** -55


def test_user_ops_become_methods() -> None:
    with pytest.raises(AttributeError, match="no op of that name"):
        Value(1.0).no_such_op()


def test_private_mpmath_backends_are_freed() -> None:
    """Each mpmath_backend(dps) has its own number type; making many keeps no backend or context alive."""
    import gc
    import weakref

    from autodiff import backends

    before = len(backends._BY_TYPE)
    contexts = []
    for _ in range(50):
        mp = autodiff.mpmath_backend(dps=30)
        x = Value(mp.num(0.5))
        (x * x).backward()
        assert autodiff.backend_of(x.data) is mp and x.grad == 1
        contexts.append(weakref.ref(mp.ctx))
        del mp, x
    gc.collect()
    assert len(backends._BY_TYPE) == before
    assert sum(ref() is not None for ref in contexts) == 0


def test_private_mpmath_backend_lives_as_long_as_its_numbers() -> None:
    """A number keeps its backend reachable: backend_of works after the backend object is dropped."""
    import gc

    mp = autodiff.mpmath_backend(dps=40)
    y = mp.num(2)
    del mp
    gc.collect()
    found = autodiff.backend_of(y)
    assert isinstance(found, autodiff.MpmathBackend) and found.dps == 40
