"""Pow-like ops whose first derivatives are right but whose engine second derivatives are wrong only for y < 0.

For ``prove --order 2``: each rule returns pow's own partials (the same
``isnormal`` branches) plus a term that is 0 in value, ``(x - x0) * k`` with
``x0`` the input's number read off the graph. Its derivative ``k`` is what the
engine adds to ``d2/dx2``, only where ``y < 0``:

* ``o2_pow_factor``: ``k = 2**-40 * y*(y-1)*x**(y-2)``, so ``d2/dx2`` is the
  truth times ``1 + 2**-40``;
* ``o2_pow_plus_one``: ``k = 2*y*x**(y-2)``, so ``d2/dx2`` is ``y*(y+1)*x**(y-2)``
  instead of ``y*(y-1)*x**(y-2)``.

Both are proven at first order (the added term is 0) and must be refuted at second.
"""

from __future__ import annotations

from typing import Any

from autodiff import POSITIVE, REALS, Backend, Value, defop, get_op


def _held(v: Any) -> Any:
    """The number under ``v``: a constant to the engine when ``v`` is a Value."""
    return v.data if isinstance(v, Value) else v


def _pow(m: Backend, x: Any, y: Any) -> Any:
    """x**y."""
    return m.pow(x, y)


def _planted(extra: Any) -> Any:
    def grad(m: Backend, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
        dx, dy = get_op("pow").grad(m, ans, x, y)
        x0 = _held(x)
        return (dx + m.where(y < 0, (x - x0) * extra(m, x0, y), m.zero), dy)

    return grad


def _factor(m: Backend, x0: Any, y: Any) -> Any:
    return 2.0**-40 * (y * (y - 1) * m.pow(x0, y - 2))


def _plus_one(m: Backend, x0: Any, y: Any) -> Any:
    return 2 * y * m.pow(x0, y - 2)


for _name, _extra in (("o2_pow_factor", _factor), ("o2_pow_plus_one", _plus_one)):
    defop(
        _name,
        forward=_pow,
        grad=_planted(_extra),
        domain=(POSITIVE, REALS),
        spec=lambda sp, x, y: x**y,
        replace_existing=True,
    )

WRONG = ["o2_pow_factor", "o2_pow_plus_one"]
RIGHT: list[str] = []
