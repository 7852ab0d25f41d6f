"""Subnormals, infinite one-sided derivatives, and simplification that hides what floats do."""

from __future__ import annotations

import math

from autodiff import NONNEGATIVE, defop

defop(
    "sp_isnormal",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (m.where(m.isnormal(x), 2 * x, m.zero),),
    replace_existing=True,
)
defop(
    "sp_minus_inf",
    forward=lambda m, x: m.sqrt(x),
    grad=lambda m, ans, x: (m.where(x == 0, m.num(-math.inf), 1 / (2 * ans)),),
    domain=(NONNEGATIVE,),
    replace_existing=True,
)
defop(
    "sp_sqrt_sqrt",
    forward=lambda m, x: x * x / 2,
    grad=lambda m, ans, x: (m.sqrt(x) * m.sqrt(x),),
    replace_existing=True,
)
defop(
    "sp_removable",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (2 * x * (x - 1) / (x - 1),),
    replace_existing=True,
)
defop(
    "sp_raising_branch",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (m.where(x >= 0, 2 * m.sqrt(x) ** 2, 2 * x),),
    replace_existing=True,
)
# right
defop(
    "sp_isnormal_right",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (m.where(m.isnormal(x), 2 * x, x + x),),
    replace_existing=True,
)
defop(
    "sp_sqrt_right",
    forward=lambda m, x: m.sqrt(x),
    grad=lambda m, ans, x: (0.5 / ans,),
    domain=(NONNEGATIVE,),
    replace_existing=True,
)

WRONG = ["sp_isnormal", "sp_minus_inf", "sp_sqrt_sqrt", "sp_removable", "sp_raising_branch"]
RIGHT = ["sp_isnormal_right", "sp_sqrt_right"]
