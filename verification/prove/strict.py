"""The audit's number system: mpmath at the working precision with float64's domain errors."""

from __future__ import annotations

from typing import Any

import mpmath

from autodiff import Backend, mpmath_backend

__all__ = ["StrictReal"]


class StrictReal(Backend):
    """mpmath at the global precision with float64's domain errors: sqrt and log of a negative
    number, 0 to a negative power, raise as ``math`` does (mpmath would go complex or infinite)."""

    name = "mpmath-strict"

    def __init__(self) -> None:
        base = mpmath_backend()
        for attr in ("exp", "expm1", "tanh", "sin", "cos", "abs", "sign", "where", "isnormal"):
            setattr(self, attr, getattr(base, attr))
        self.zero, self.one, self._base = base.zero, base.one, base

    def num(self, value: Any) -> Any:
        return self._base.num(value)

    def sqrt(self, x: Any) -> Any:
        if x < 0:
            raise ValueError("math domain error (sqrt of a negative number)")
        return mpmath.sqrt(x)

    def log(self, x: Any) -> Any:
        if x <= 0:
            raise ValueError("math domain error (log of a number <= 0)")
        return mpmath.log(x)

    def log1p(self, x: Any) -> Any:
        if x <= -1:
            raise ValueError("math domain error (log1p of a number <= -1)")
        return mpmath.log1p(x)

    def pow(self, x: Any, y: Any) -> Any:
        if x == 0 and y < 0:
            raise ZeroDivisionError("0 to a negative power")
        if x < 0 and y != mpmath.floor(y):
            raise ValueError("math domain error (negative number to a fractional power)")
        return mpmath.power(x, y)
