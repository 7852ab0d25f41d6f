"""Signs of trigonometric expressions: cos(x) is not positive, whatever exp(I*x) rewriting suggests."""

from __future__ import annotations

from autodiff import defop

defop("tr_abs_cos", forward=lambda m, x: m.sin(x), grad=lambda m, ans, x: (m.abs(m.cos(x)),), replace_existing=True)
defop(
    "tr_sign_cos",
    forward=lambda m, x: m.sin(x),
    grad=lambda m, ans, x: (m.sign(m.cos(x)) * m.cos(x),),
    replace_existing=True,
)
defop(
    "tr_where_cos",
    forward=lambda m, x: m.sin(x),
    grad=lambda m, ans, x: (m.where(m.cos(x) < 0, -m.cos(x), m.cos(x)),),
    replace_existing=True,
)
defop(
    "tr_max_cos",
    forward=lambda m, x: m.sin(x),
    grad=lambda m, ans, x: (m.where(m.cos(x) > 0, m.cos(x), m.zero),),
    replace_existing=True,
)
# right: the same branch on cos with equal branches; |sin| differentiated where sin does not vanish
defop(
    "tr_where_same",
    forward=lambda m, x: m.sin(x),
    grad=lambda m, ans, x: (m.where(m.cos(x) < 0, m.cos(x), m.cos(x)),),
    replace_existing=True,
)
defop(
    "tr_sin_squared",
    forward=lambda m, x: m.sin(x) * m.sin(x),
    grad=lambda m, ans, x: (2 * m.sin(x) * m.cos(x),),
    replace_existing=True,
)

WRONG = ["tr_abs_cos", "tr_sign_cos", "tr_where_cos", "tr_max_cos"]
RIGHT = ["tr_where_same", "tr_sin_squared"]
