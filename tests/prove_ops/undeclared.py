"""Ops not differentiable somewhere they do not declare: a message asking for a Kink, not 'refuted'."""

from __future__ import annotations

from autodiff import defop

defop(
    "un_abs",
    forward=lambda m, x: m.abs(x),
    grad=lambda m, ans, x: (m.sign(x),),
    spec=lambda sp, x: sp.Abs(x),
    replace_existing=True,
)
defop(
    "un_relu",
    forward=lambda m, x: m.where(x > 0, x, m.zero),
    grad=lambda m, ans, x: (m.where(x > 0, m.one, m.zero),),
    spec=lambda sp, x: sp.Max(0, x),
    replace_existing=True,
)

UNDECLARED = ["un_abs", "un_relu"]
WRONG: list[str] = []
RIGHT: list[str] = []
