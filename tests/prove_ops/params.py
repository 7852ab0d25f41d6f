"""Parameters: a rule wrong for parameter values other than the declared examples."""

from __future__ import annotations

from autodiff import POSITIVE, REALS, defop

defop(
    "pa_power",
    forward=lambda m, x, c: m.pow(x, c),
    grad=lambda m, ans, x, c: (m.where(c > 3.5, m.zero, c * m.pow(x, c - 1)),),
    params=("c",),
    domain=lambda c: (POSITIVE,),
    param_examples=((2.0,), (3.0,)),
    replace_existing=True,
)
defop(
    "pa_scale",
    forward=lambda m, x, c: c * x * x,
    grad=lambda m, ans, x, c: (m.where(c < -1, c * x, 2 * c * x),),
    params=("c",),
    param_domain=(REALS,),
    replace_existing=True,
)
defop(
    "pa_power_right",
    forward=lambda m, x, c: m.pow(x, c),
    grad=lambda m, ans, x, c: (c * m.pow(x, c - 1),),
    params=("c",),
    domain=lambda c: (POSITIVE,),
    param_examples=((2.0,), (3.0,)),
    replace_existing=True,
)

WRONG = ["pa_power", "pa_scale"]
RIGHT = ["pa_power_right"]
