"""The seed network's loss: its Hessian-vector product at the trained parameters, certified two ways.

* **sympy (certified)**: the loss built from Values over sympy symbols (the
  ops' forwards only, no rule), ``d^2/dt^2 loss(p + t v)`` at ``t = 0`` by
  sympy, evaluated in interval arithmetic: ``v . H v`` enclosed.
* **finite differences of exact gradients (independent of second order)**:
  ``(grad(p + h v) - grad(p - h v)) / 2h`` with first-order gradients at 60
  digits and ``h = 1e-25``: the step error is ``h^2/6`` times a third
  derivative (~1e-50), the rounding error 1e-60 / h (~1e-35), so every
  component of ``H v`` is known to ~1e-33; the second-order code is not used.

The engine's HVP at 50 digits (rounding ~1e-48 over the graph) must match
both, reverse over reverse and forward over reverse.
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from autodiff import MpmathBackend, Value, gradients, hvp_of, mpmath_backend
from autodiff.nn import MLP
from autodiff.training import seed_loss, seed_model, train_seed_example
from verification.number_systems import INTERVALS
from verification.numeric import compile_exprs
from verification.second_truth import enclosure_of, within


@pytest.fixture(scope="module")
def trained() -> tuple[MLP, list[float]]:
    mlp = seed_model(42)
    train_seed_example(mlp, iterations=100)
    return mlp, [p.data for p in mlp.parameters()]


def _direction(n: int) -> list[float]:
    return [(-1) ** k * (1 + k % 4) / 4 for k in range(n)]  # exact binary fractions


def _loss(mlp: MLP, datas: list[Any]) -> Value:
    """The seed notebook's loss, sum (pred - target)**2, at parameters ``datas`` (any backend)."""
    for p, d in zip(mlp.parameters(), datas):
        p.data = d
        p.grad = 0 * d
    return seed_loss(mlp)


def _hvp(mlp: MLP, m: MpmathBackend, p0: list[float], v: list[float], mode: str) -> tuple[Any, ...]:
    loss = _loss(mlp, [m.num(p) for p in p0])
    return hvp_of(loss, mlp.parameters(), v, mode=mode)  # type: ignore[arg-type]


def test_seed_mlp_hvp_equals_finite_differences_of_exact_gradients(trained: tuple[MLP, list[float]]) -> None:
    mlp, p0 = trained
    v = _direction(len(p0))
    m50, m60 = mpmath_backend(50), mpmath_backend(60)
    h = m60.ctx.mpf(10) ** -25
    grad_plus = gradients(_loss(mlp, [m60.num(p) + h * c for p, c in zip(p0, v)]), mlp.parameters())
    grad_minus = gradients(_loss(mlp, [m60.num(p) - h * c for p, c in zip(p0, v)]), mlp.parameters())
    fd = [(a - b) / (2 * h) for a, b in zip(grad_plus, grad_minus)]
    scale = max(abs(x) for x in fd)
    assert scale > 1e-3  # a real curvature, not a vanishing one
    for mode in ("rev", "fwd"):
        hv = _hvp(mlp, m50, p0, v, mode)
        for got, ref in zip(hv, fd):
            assert abs(got - ref) <= 1e-30 * max(1, scale)


def test_seed_mlp_v_h_v_equals_sympy_certified(trained: tuple[MLP, list[float]]) -> None:
    from mpmath import iv

    mlp, p0 = trained
    n = len(p0)
    v = _direction(n)
    t = sympy.Symbol("t", real=True)
    ps = sympy.symbols(f"p0:{n}", real=True)
    loss = _loss(mlp, [p + t * sympy.Rational(c) for p, c in zip(ps, v)])
    second = sympy.diff(loss.data, t, 2).subs(t, 0)
    saved = iv.prec
    iv.prec = 256
    try:
        enclosure = compile_exprs([second], ps)(INTERVALS, [iv.mpf(p) for p in p0])[0]
    finally:
        iv.prec = saved
    truth = enclosure_of(enclosure)
    assert truth.width <= 1e-60 * max(1, abs(truth.hi))  # certified to 60 digits
    m50 = mpmath_backend(50)
    for mode in ("rev", "fwd"):
        hv = _hvp(mlp, m50, p0, v, mode)
        vhv = sum(c * x for c, x in zip(v, hv))
        assert within(vhv, truth, 1e-40)  # the 50-digit engine: rounding only
