"""Equality conditions in where: wrong only at x == 1, at x == y, at a parameter value, at a domain end."""

from __future__ import annotations

from autodiff import NONNEGATIVE, REALS, defop

defop(
    "eq_at_one",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (m.where(x == 1, m.zero, 2 * x),),
    replace_existing=True,
)
defop(
    "eq_diagonal",
    forward=lambda m, x, y: x * y,
    grad=lambda m, ans, x, y: (m.where(x == y, m.zero, y), x),
    replace_existing=True,
)
defop(
    "eq_param",
    forward=lambda m, x, c: c * x,
    grad=lambda m, ans, x, c: (m.where(c == 2, m.zero, c),),
    params=("c",),
    param_domain=(REALS,),
    param_examples=((1.0,), (3.0,)),
    replace_existing=True,
)
defop(
    "eq_domain_end",
    forward=lambda m, x: x * m.sqrt(x),
    grad=lambda m, ans, x: (m.where(x == 0, m.one, 1.5 * m.sqrt(x)),),
    domain=(NONNEGATIVE,),
    replace_existing=True,
)
defop(
    "eq_float_zero",
    forward=lambda m, x: x * x * x,
    grad=lambda m, ans, x: (m.where(x == 0.0, m.one, 3 * x * x),),
    replace_existing=True,
)
defop(
    "eq_not_equal",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (m.where(x != 2.5, 2 * x, m.zero),),
    replace_existing=True,
)
# right: equality branches that agree with the truth
defop(
    "eq_right",
    forward=lambda m, x: x * x,
    grad=lambda m, ans, x: (m.where(x == 0, m.zero, 2 * x),),
    replace_existing=True,
)
defop(
    "eq_right_diagonal",
    forward=lambda m, x, y: x * y,
    grad=lambda m, ans, x, y: (m.where(x == y, x, y), x),
    replace_existing=True,
)

WRONG = ["eq_at_one", "eq_diagonal", "eq_param", "eq_domain_end", "eq_float_zero", "eq_not_equal"]
RIGHT = ["eq_right", "eq_right_diagonal"]
