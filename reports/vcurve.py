"""The finite-difference V-curve: error of a central difference against its step size.

For f in float64 the central difference (f(x + h) - f(x - h)) / 2h has a
truncation error ~ h^2 |f'''| / 6 falling with h and a rounding error
~ eps |f| / h rising as h shrinks; the total is a V in log-log axes whose
bottom lies near h = cbrt(eps) * max(1, |x|), the step the campaign's
central difference uses (:func:`runstore.steps.central_step`, the one rule both share). Here f is the record's
``sympy_expr`` lambdified to Python's ``math`` (float64), the derivative is
the record's certified ``true_grad``, and the difference divides by the step
actually taken, ``(x + h) - (x - h)``, so only f's rounding shows.

``sympy_expr`` is parsed with sympy (which evaluates the text): report only
runs you trust.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from runstore.steps import EPS, central_step

__all__ = ["EPS", "STEPS", "VCurve", "central_step", "vcurve", "sample_vcurves"]

STEPS: Final = 10.0 ** np.linspace(-15.0, 0.0, 61)


@dataclass(frozen=True)
class VCurve:
    """Relative error of the central difference at each step, for one expression, point and variable."""

    expr: str
    point: tuple[float, ...]
    variable: int
    true_grad: float
    steps: np.ndarray
    errors: np.ndarray
    chosen_step: float
    chosen_error: float


def _function(expr: str, n_vars: int) -> Callable[..., float]:
    import sympy

    symbols = sympy.symbols([f"x{i}" for i in range(n_vars)])
    parsed = sympy.sympify(expr, locals={str(s): s for s in symbols})
    return sympy.lambdify(symbols, parsed, modules="math")


def _central(f: Callable[..., float], point: tuple[float, ...], variable: int, h: float) -> float:
    """(f(x + h) - f(x - h)) / ((x + h) - (x - h)) in float64; NaN where f fails or leaves the reals."""
    x = point[variable]
    up, down = list(point), list(point)
    up[variable], down[variable] = x + h, x - h
    try:
        diff = f(*up) - f(*down)
        return float(diff / (up[variable] - down[variable])) if isinstance(diff, float) else math.nan
    except (ArithmeticError, ValueError, TypeError):
        return math.nan


def vcurve(expr: str, point: tuple[float, ...], variable: int, true_grad: float) -> VCurve:
    """The V-curve of ``expr`` (sympy syntax over x0, x1, ...) at ``point`` w.r.t. ``variable``."""
    f = _function(expr, len(point))
    scale = abs(true_grad) if true_grad != 0 else 1.0

    def rel_err(h: float) -> float:
        return abs(_central(f, point, variable, h) - true_grad) / scale

    h0 = central_step(point[variable])
    errors = np.array([rel_err(h) for h in STEPS.tolist()])
    return VCurve(expr, point, variable, true_grad, STEPS, errors, h0, rel_err(h0))


def sample_vcurves(records: pd.DataFrame, k: int = 3) -> list[VCurve]:
    """V-curves for up to ``k`` expressions of different depths from the run (deterministic).

    Candidates are scored rows with a non-zero finite truth and verdict ``ok``;
    the first per depth is taken, and ``k`` depths spread over the range seen.
    Expressions that sympy cannot parse, whose curve is all NaN, or whose
    difference is exact at every step (linear in the variable) are skipped.
    """
    ok = records[(records["verdict"] == "ok") & np.isfinite(records["true_grad"]) & (records["true_grad"] != 0)]
    firsts = ok.sort_values(["depth", "expr_id", "point_id", "variable"]).drop_duplicates("depth")
    if firsts.empty:
        return []
    picks = np.unique(np.linspace(0, len(firsts) - 1, min(k, len(firsts))).round().astype(int))
    curves = []
    for _, row in firsts.iloc[picks].iterrows():
        point = tuple(float(v) for v in json.loads(row["point"]))
        try:
            curve = vcurve(str(row["sympy_expr"]), point, int(row["variable"]), float(row["true_grad"]))
        except (SyntaxError, TypeError, ValueError, AttributeError, NameError):
            continue
        if np.nanmax(curve.errors, initial=0.0) > 0:  # not all NaN, not exact at every step (linear)
            curves.append(curve)
    return curves
