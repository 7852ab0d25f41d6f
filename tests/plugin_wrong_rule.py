"""A user's op with a subtly wrong rule, for the campaign to find.

``log2`` is right everywhere except its rule, which divides by ln 2 written
from memory to six digits (0.693147): every partial is off by 2.6e-7 relative.
"""

from __future__ import annotations

from typing import Any

from autodiff import POSITIVE, Backend, defop


def _log2(m: Backend, x: Any) -> Any:
    """log2(x) = log(x) / log(2) for x > 0."""
    return m.log(x) / m.log(m.num(2))


def _log2_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    """d/dx log2(x) = 1 / (x ln 2), with ln 2 rounded to six digits."""
    return (1 / (x * m.num(0.693147)),)


log2 = defop(
    "log2",
    forward=_log2,
    grad=_log2_grad,
    domain=(POSITIVE,),
    spec=lambda sp, x: sp.log(x) / sp.log(2),
    replace_existing=True,
)
