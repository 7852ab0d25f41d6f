"""PyTorch gradcheck's rule: an engine's analytic partials against central differences of its own forward.

A (point, variable) fails when ``|a_k - n_k| > atol + rtol |n_k|``, with
``a_k`` the engine's gradient and ``n_k = (f(x + eps e_k) - f(x - eps e_k)) /
(2 eps)`` its float64 forward differenced; eps, atol and rtol are PyTorch's
defaults. Used by mutation runs as the baseline every other method is
compared with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from verification.engines import Engine
from verification.expr import Expr

__all__ = ["GRADCHECK_EPS", "GRADCHECK_ATOL", "GRADCHECK_RTOL", "gradcheck_failures"]

GRADCHECK_EPS = 1e-6
GRADCHECK_ATOL = 1e-5
GRADCHECK_RTOL = 1e-3
"""PyTorch ``gradcheck`` defaults."""


def gradcheck_failures(
    engine: Engine,
    tree: Expr,
    point: Sequence[float],
    *,
    eps: float = GRADCHECK_EPS,
    atol: float = GRADCHECK_ATOL,
    rtol: float = GRADCHECK_RTOL,
) -> tuple[int, ...] | None:
    """Variables k with ``|a_k - n_k| > atol + rtol |n_k|``, ``n_k`` the central difference of the forward.

    ``a_k`` is the engine's gradient at ``point``, ``n_k = (f(x + eps e_k) -
    f(x - eps e_k)) / (2 eps)`` with ``f`` the engine's own float64 forward.
    None when the engine fails or a value is not finite (nothing to compare).
    """
    at = engine.evaluate(tree, point)
    if not at.ok or at.grads is None:
        return None
    failing = []
    for k in range(len(point)):
        values = []
        for step in (eps, -eps):
            moved = list(point)
            moved[k] += step
            ev = engine.evaluate(tree, moved)
            values.append(float(ev.value) if ev.ok else math.nan)
        analytical = float(at.grads[k])
        numerical = (values[0] - values[1]) / (2 * eps)
        if not (math.isfinite(analytical) and math.isfinite(numerical)):
            return None
        if abs(analytical - numerical) > atol + rtol * abs(numerical):
            failing.append(k)
    return tuple(failing)
