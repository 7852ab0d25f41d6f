"""A user's own op module, outside the package: softplus declared through the public registry."""

from __future__ import annotations

from typing import Any

from autodiff import REALS, Backend, defop


def _softplus(m: Backend, x: Any) -> Any:
    """softplus(x) = log(1 + e**x), as max(x, 0) + log1p(e**-|x|) so it never overflows."""
    return m.where(x > 0, x, m.zero) + m.log1p(m.exp(-m.abs(x)))


def _softplus_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    """d/dx softplus(x) = sigmoid(x), from e = e**-|x|."""
    e = m.exp(-m.abs(x))
    return (m.where(x >= 0, 1 / (1 + e), e / (1 + e)),)


softplus = defop(
    "softplus",
    forward=_softplus,
    grad=_softplus_grad,
    domain=(REALS,),
    spec=lambda sp, x: sp.log(1 + sp.exp(x)),
    replace_existing=True,
)
