"""Kinks: every partial and the forward value are checked there, not only the kinked partial."""

from __future__ import annotations

from autodiff import Kink, defop


def _relu_times(m, x, y):  # type: ignore[no-untyped-def]
    return m.where(x > 0, x, m.zero) * y


defop(
    "kk_other_partial",
    forward=_relu_times,
    grad=lambda m, ans, x, y: (m.where(x > 0, y, m.zero), m.where(x == 0, 42 * m.one, m.where(x > 0, x, m.zero))),
    kinks=(Kink(at=0.0, convention=0.0),),
    spec=lambda sp, x, y: sp.Max(x, 0) * y,
    replace_existing=True,
)
defop(
    "kk_forward",
    forward=lambda m, x: m.where(x > 0, x, m.where(x < 0, m.zero, m.one)),
    grad=lambda m, ans, x: (m.where(x > 0, m.one, m.zero),),
    kinks=(Kink(at=0.0, convention=0.0),),
    spec=lambda sp, x: sp.Max(x, 0),
    replace_existing=True,
)
defop(
    "kk_convention",
    forward=lambda m, x: m.abs(x),
    grad=lambda m, ans, x: (m.where(x > 0, m.one, -m.one),),
    kinks=(Kink(at=0.0, convention=0.0),),
    spec=lambda sp, x: sp.Abs(x),
    replace_existing=True,
)
defop(
    "kk_clarke",
    forward=lambda m, x: m.abs(x),
    grad=lambda m, ans, x: (m.where(x > 0, m.one, m.where(x < 0, -m.one, 2 * m.one)),),
    kinks=(Kink(at=0.0, convention=2.0),),
    spec=lambda sp, x: sp.Abs(x),
    replace_existing=True,
)
# right
defop(
    "kk_right",
    forward=_relu_times,
    grad=lambda m, ans, x, y: (m.where(x > 0, y, m.zero), m.where(x > 0, x, m.zero)),
    kinks=(Kink(at=0.0, convention=0.0),),
    spec=lambda sp, x, y: sp.Max(x, 0) * y,
    replace_existing=True,
)
defop(
    "kk_relu_03",
    forward=lambda m, x: m.where(x > 0, x, m.zero),
    grad=lambda m, ans, x: (m.where(x > 0, m.one, m.where(x < 0, m.zero, 0.3 * m.one)),),
    kinks=(Kink(at=0.0, convention=0.3),),
    spec=lambda sp, x: sp.Max(0, x),
    replace_existing=True,
)

WRONG = ["kk_other_partial", "kk_forward", "kk_convention", "kk_clarke"]
RIGHT = ["kk_right", "kk_relu_03"]
