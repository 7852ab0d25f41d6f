"""Finite-difference steps of the recorded reference methods: the rule campaigns apply and reports plot.

A record's ``central_fd``, ``richardson`` and ``complex_step`` rows are
defined by these steps, so they live with the record contract: campaigns
(:mod:`verification.references`) difference with them, and the report's
V-curve (:mod:`reports.vcurve`) marks the step a campaign took.
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["EPS", "central_step", "richardson_step", "complex_step_size"]

EPS: Final = sys.float_info.epsilon
"""float64 machine epsilon, 2**-52."""

_CENTRAL: Final = EPS ** (1 / 3)
_RICHARDSON: Final = EPS ** (1 / 5)
_COMPLEX: Final = 1e-20


def central_step(x: float) -> float:
    """h = cbrt(eps) * max(1, |x|): balances truncation O(h**2) against rounding O(eps / h)."""
    return _CENTRAL * max(1.0, abs(x))


def richardson_step(x: float) -> float:
    """h = eps**(1/5) * max(1, |x|): Richardson's error is O(h**4), so the balance moves to a larger step."""
    return _RICHARDSON * max(1.0, abs(x))


def complex_step_size(x: float) -> float:
    """h = 1e-20 * max(1, |x|): the complex step subtracts nothing, so the step can be tiny."""
    return _COMPLEX * max(1.0, abs(x))
