"""Report figures as PNG bytes, drawn with matplotlib's Agg renderer (no display, no pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from reports import stats
from reports.vcurve import VCurve

__all__ = ["error_ecdf", "error_vs_depth", "fd_vcurves"]

_DPI: Final = 110
_ECDF_POINTS: Final = 4000  # steps drawn per ECDF curve at most


def _png(fig: Figure) -> bytes:
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def error_ecdf(steps: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """ECDF per method: share of scored rows with at most b bits of error, b = log2(ULPs + 1).

    ``steps`` gives, per method in the order drawn, the occupied bins of its
    bits-of-error histogram (:meth:`reports.histogram.Histogram.steps`): the
    largest value in each 1/1024-bit bin and the rows in it, so each step of a
    curve sits at most 1/1024 bit right of where the exact ECDF steps.
    """
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for method, (values, counts) in steps.items():
        if values.size:
            share = np.cumsum(counts) / counts.sum()
            keep = np.unique(np.linspace(0, values.size - 1, min(values.size, _ECDF_POINTS)).astype(int))
            label = f"{method} (n={int(counts.sum())})"
            ax.step(np.r_[0.0, values[keep]], np.r_[0.0, share[keep]], where="post", label=label)
    ax.set_xlim(0, stats.MAX_BITS)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("bits of error, log2(ULP distance + 1)  (0 = correctly rounded, 64 = failed)")
    ax.set_ylabel("share of rows with at most this error")
    ax.set_title("Distribution of gradient error per method")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return _png(fig)


def error_vs_depth(by_depth: pd.DataFrame) -> bytes:
    """Median (solid) and 90th-percentile (dashed) bits of error against expression depth, per method.

    ``by_depth`` is a :func:`reports.stats.by_depth` table.
    """
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for i, method in enumerate(dict.fromkeys(stats.ordered(by_depth, ["method"])["method"])):
        t = by_depth[by_depth["method"] == method].sort_values("depth")
        color = f"C{i % 10}"
        ax.plot(t["depth"], t["median_bits"], "o-", color=color, label=f"{method} median")
        ax.plot(t["depth"], t["p90_bits"], "x--", color=color, alpha=0.7, label=f"{method} p90")
    ax.set_xlabel("expression depth (ops on the longest root-to-leaf path)")
    ax.set_ylabel("bits of error")
    ax.set_title("Gradient error against expression depth")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    return _png(fig)


def _label(curve: VCurve, width: int = 48) -> str:
    expr = curve.expr if len(curve.expr) <= width else curve.expr[: width - 1] + "…"
    return f"d/dx{curve.variable} {expr} at x{curve.variable}={curve.point[curve.variable]:.3g}"


def fd_vcurves(curves: Sequence[VCurve]) -> bytes:
    """Relative error of the central difference against its step (log-log), the chosen step marked."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    floor = np.finfo(float).eps / 4
    for i, c in enumerate(curves):
        color = f"C{i % 10}"
        ax.loglog(c.steps, np.maximum(c.errors, floor), ".-", color=color, label=_label(c))
        ax.axvline(c.chosen_step, color=color, linestyle=":", alpha=0.8)
        ax.plot([c.chosen_step], [max(c.chosen_error, floor)], "D", color=color, markersize=8)
    ax.set_xlabel("step h")
    ax.set_ylabel("relative error of the central difference")
    ax.set_title("Finite-difference error against step (◆ and dotted line: chosen step cbrt(eps)·max(1,|x|))")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="x-small", loc="upper center")
    return _png(fig)
