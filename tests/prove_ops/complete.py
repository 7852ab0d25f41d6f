"""Correct declarations that need care: float constants, removable singularities, clamps, bounded domains."""

from __future__ import annotations

from typing import Any

from autodiff import NONNEGATIVE, Backend, Interval, Kink, defop

SCALE = 1.0507009873554805
ALPHA = 1.6732632423543772
C = 0.7978845608028654


def _gelu(m: Backend, x: Any) -> Any:
    return 0.5 * x * (1 + m.tanh(C * (x + 0.044715 * x**3)))


def _gelu_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    t = m.tanh(C * x + C * 0.044715 * x**3)
    return (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x),)


defop(
    "ok_gelu",
    forward=_gelu,
    grad=_gelu_grad,
    spec=lambda sp, x: x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + 0.044715 * x**3))),
    replace_existing=True,
)
defop(
    "ok_selu",
    forward=lambda m, x: SCALE * m.where(x > 0, x, ALPHA * (m.exp(x) - 1)),
    grad=lambda m, ans, x: (SCALE * m.where(x > 0, m.one, ALPHA * m.exp(x)),),
    kinks=(Kink(at=0.0, convention=SCALE * ALPHA),),
    spec=lambda sp, x: SCALE * sp.Piecewise((x, x > 0), (ALPHA * (sp.exp(x) - 1), True)),
    replace_existing=True,
)
defop(
    "ok_sinc",
    forward=lambda m, x: m.where(x == 0, m.one, m.sin(x) / m.where(x == 0, m.one, x)),
    grad=lambda m, ans, x: (m.where(x == 0, m.zero, (x * m.cos(x) - m.sin(x)) / m.where(x == 0, m.one, x * x)),),
    spec=lambda sp, x: sp.sin(x) / x,
    replace_existing=True,
)
defop(
    "ok_xlogx",
    forward=lambda m, x: m.where(x == 0, m.zero, x * m.log(m.where(x == 0, m.one, x))),
    grad=lambda m, ans, x: (m.log(x) + 1,),
    domain=(NONNEGATIVE,),
    spec=lambda sp, x: x * sp.log(x),
    replace_existing=True,
)


def _lse2(m: Backend, x: Any, y: Any) -> Any:
    mx = m.where(x > y, x, y)
    return mx + m.log(m.exp(x - mx) + m.exp(y - mx))


def _lse3(m: Backend, x: Any, y: Any, z: Any) -> Any:
    mx = m.where(x > y, m.where(x > z, x, z), m.where(y > z, y, z))
    return mx + m.log(m.exp(x - mx) + m.exp(y - mx) + m.exp(z - mx))


defop(
    "ok_logsumexp2",
    forward=_lse2,
    grad=lambda m, ans, x, y: (m.exp(x - ans), m.exp(y - ans)),
    spec=lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y)),
    replace_existing=True,
)
defop(
    "ok_logsumexp3",
    forward=_lse3,
    grad=lambda m, ans, x, y, z: (m.exp(x - ans), m.exp(y - ans), m.exp(z - ans)),
    spec=lambda sp, x, y, z: sp.log(sp.exp(x) + sp.exp(y) + sp.exp(z)),
    replace_existing=True,
)
defop(
    "ok_relu6",
    forward=lambda m, x: m.where(x > 6, 6 * m.one, m.where(x > 0, x, m.zero)),
    grad=lambda m, ans, x: (m.where(x > 6, m.zero, m.where(x > 0, m.one, m.zero)),),
    kinks=(Kink(at=0.0, convention=0.0), Kink(at=6.0, convention=1.0)),
    spec=lambda sp, x: sp.Min(sp.Max(x, 0), 6),
    replace_existing=True,
)
defop(
    "ok_atanh",
    forward=lambda m, x: 0.5 * m.log((1 + x) / (1 - x)),
    grad=lambda m, ans, x: (1 / (1 - x * x),),
    domain=((Interval(-1.0, 1.0),),),
    spec=lambda sp, x: sp.atanh(x),
    replace_existing=True,
)
defop(
    "ok_x2sin",
    forward=lambda m, x: m.where(x == 0, m.zero, x * x * m.sin(1 / m.where(x == 0, m.one, x))),
    grad=lambda m, ans, x: (
        m.where(x == 0, m.zero, 2 * x * m.sin(1 / m.where(x == 0, m.one, x)) - m.cos(1 / m.where(x == 0, m.one, x))),
    ),
    spec=lambda sp, x: sp.Piecewise((0, sp.Eq(x, 0)), (x**2 * sp.sin(1 / x), True)),
    replace_existing=True,
)

WRONG: list[str] = []
RIGHT = [
    "ok_gelu",
    "ok_selu",
    "ok_sinc",
    "ok_xlogx",
    "ok_logsumexp2",
    "ok_logsumexp3",
    "ok_relu6",
    "ok_atanh",
    "ok_x2sin",
]
