"""Float constants: a constant one part in 1e13 off is a different number, a correctly rounded one is not."""

from __future__ import annotations

from typing import Any

from autodiff import POSITIVE, Backend, defop


def _sinh(m: Backend, x: Any) -> Any:
    return (m.exp(x) - m.exp(-x)) / 2


defop(
    "fl_sinh_1e13",
    forward=_sinh,
    grad=lambda m, ans, x: ((m.exp(x) + m.exp(-x)) / 2 * (1 + 1e-13),),
    spec=lambda sp, x: sp.sinh(x),
    replace_existing=True,
)
defop(
    "fl_sinh_1e8",
    forward=_sinh,
    grad=lambda m, ans, x: ((m.exp(x) + m.exp(-x)) / 2 * (1 + 1e-8),),
    spec=lambda sp, x: sp.sinh(x),
    replace_existing=True,
)
defop(
    "fl_third_loose",
    forward=lambda m, x: x / 3,
    grad=lambda m, ans, x: (0.33333333 * m.one,),
    replace_existing=True,
)
defop(
    "fl_power_loose",
    forward=lambda m, x: x * x / 2,
    grad=lambda m, ans, x: (m.pow(x, 0.99999999),),
    domain=(POSITIVE,),
    replace_existing=True,
)
defop(
    "fl_ulp",
    forward=lambda m, x: 0.1 * x,
    grad=lambda m, ans, x: (0.10000000000000002 * m.one,),
    replace_existing=True,
)
# right: 0.3333333333333333 is 1/3 correctly rounded; 0.1 in rule and forward is one number
defop(
    "fl_third_rounded",
    forward=lambda m, x: x / 3,
    grad=lambda m, ans, x: (0.3333333333333333 * m.one,),
    replace_existing=True,
)
defop(
    "fl_tenth",
    forward=lambda m, x: 0.1 * x * x,
    grad=lambda m, ans, x: (0.2 * x,),
    replace_existing=True,
)

WRONG = ["fl_sinh_1e13", "fl_sinh_1e8", "fl_third_loose", "fl_power_loose", "fl_ulp"]
RIGHT = ["fl_third_rounded", "fl_tenth"]
