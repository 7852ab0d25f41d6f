"""Plugin ops as users write them: one whose forward raises everywhere, one whose rule is a plain constant."""

from __future__ import annotations

import math
from typing import Any

from autodiff import Backend, defop


def _softclip(m: Backend, x: Any) -> Any:
    """A forward that passes a Value's number to the wrong function: it raises on every input."""
    return math.log1p(math.exp([x]))  # type: ignore[arg-type]


def _softclip_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (1 / (1 + m.exp(-x)),)


softclip = defop("softclip", forward=_softclip, grad=_softclip_grad, replace_existing=True)


def _shift(m: Backend, x: Any) -> Any:
    """x + 1; its rule is the plain float 1.0, not a backend number."""
    return x + 1


def _shift_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (1.0,)


shift = defop("shift", forward=_shift, grad=_shift_grad, replace_existing=True)
