"""PyTorch gradgradcheck's rule: an engine's Hessian against central differences of its own gradient.

An entry ``(i, j)`` fails when ``|a_ij - n_ij| > atol + rtol |n_ij|``, with
``a_ij`` the engine's second derivative (reverse over reverse, float64) and
``n_ij = (g_i(x + eps e_j) - g_i(x - eps e_j)) / (2 eps)`` its float64
first-order gradient differenced; eps, atol and rtol are PyTorch's
``gradgradcheck`` defaults. It is the baseline the certified second-order
methods of ``gradproof mutate --order 2`` are compared with. Where the *true*
Hessian entry fails the same test (the difference itself is off: a steep or
cancelling gradient), the entry is the check's own false alarm, never a kill.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from verification.gradcheck import GRADCHECK_ATOL, GRADCHECK_EPS, GRADCHECK_RTOL

__all__ = ["GradGradCheck", "gradgradcheck"]

Gradient = Callable[[Sequence[float]], Sequence[float] | None]
"""The engine's float64 first-order gradient at a point (None when it fails there)."""


@dataclass(frozen=True)
class GradGradCheck:
    """The entries ``(i, j)`` that fail the check, and those where the true Hessian fails it too."""

    failing: tuple[tuple[int, int], ...]
    false_alarms: tuple[tuple[int, int], ...]

    @property
    def kills(self) -> tuple[tuple[int, int], ...]:
        """Failing entries at which the true Hessian passes: the engine's Hessian is what is off."""
        return tuple(e for e in self.failing if e not in self.false_alarms)


def _fails(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    return abs(analytic - numeric) > atol + rtol * abs(numeric)


def gradgradcheck(
    gradient: Gradient,
    hessian: Sequence[float],
    truth: Sequence[float],
    point: Sequence[float],
    *,
    eps: float = GRADCHECK_EPS,
    atol: float = GRADCHECK_ATOL,
    rtol: float = GRADCHECK_RTOL,
) -> GradGradCheck | None:
    """Check the row-major ``hessian`` at ``point``; ``truth`` is the certified Hessian (row-major, float64).

    None when the gradient fails or is not finite at a stepped point, or an
    entry is not finite (nothing to compare).
    """
    n = len(point)
    columns = []
    for j in range(n):
        sides = []
        for step in (eps, -eps):
            moved = list(point)
            moved[j] += step
            g = gradient(moved)
            if g is None or not all(math.isfinite(float(x)) for x in g):
                return None
            sides.append([float(x) for x in g])
        columns.append([(up - down) / (2 * eps) for up, down in zip(*sides)])
    failing, false_alarms = [], []
    for i in range(n):
        for j in range(n):
            a, num, t = float(hessian[i * n + j]), columns[j][i], float(truth[i * n + j])
            if not math.isfinite(a):
                return None
            if _fails(a, num, atol, rtol):
                failing.append((i, j))
                if _fails(t, num, atol, rtol):
                    false_alarms.append((i, j))
    return GradGradCheck(tuple(failing), tuple(false_alarms))
