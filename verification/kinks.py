"""Campaign points exactly at kinks, judged against the Clarke subdifferential.

Regular points keep away from declared kinks (the derivative does not exist
there), so an engine's convention at ``relu(0)`` or ``abs(0)`` would never be
judged. For each op application in a tree whose kinked input is a variable,
the variable is set exactly to the kink (the other coordinates from a
candidate point): ``relu(x0)`` at ``x0 = 0``, also inside larger expressions
such as ``tanh(relu(x0) * x1)``. The engine's gradient there is localised
(:mod:`verification.localise`): the kinked op, run alone at its exact input,
must give a partial between the one-sided derivatives (the Clarke
subdifferential, widened by the rounding allowances), and the rest of the
expression is judged as usual. A convention outside it is a ``rule_bug`` row
of the engine at that point (its true gradient is a set, so ``true_grad`` is
NaN), which makes it a finding, a ``wrong`` defect and a kill for mutation runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from autodiff import get_op
from runstore import Record
from verification.defect_kinds import Severity
from verification.engine_api import Engine
from verification.expr import Expr, Resolver, Var
from verification.localise import distinct_nodes, localise

__all__ = ["kink_points", "kink_rows"]


def kink_points(tree: Expr, point: Sequence[float], *, resolve: Resolver = get_op) -> list[tuple[float, ...]]:
    """``point`` with one variable moved exactly onto a kink of an op it feeds directly (each kink once)."""
    out: list[tuple[float, ...]] = []
    for node in distinct_nodes(tree):
        for kink in resolve(node.op).kinks:
            arg = node.args[kink.input]
            if isinstance(arg, Var) and arg.index < len(point):
                moved = list(point)
                moved[arg.index] = float(kink.at)
                if tuple(moved) not in out:
                    out.append(tuple(moved))
    return out


def _faults_at_kinks(engine: Engine, tree: Expr, point: tuple[float, ...]) -> tuple[Any, list[str]]:
    """The engine's evaluation at ``point`` and the kinked op applications it gets wrong."""
    evaluation = engine.evaluate(tree, point)
    faults = [
        b.detail
        for b in localise(engine, tree, point, evaluation)
        if b.severity is Severity.WRONG and b.local is not None and "one-sided derivatives" in b.local.detail
    ]
    return evaluation, faults


def kink_rows(
    tree: Expr,
    point: Sequence[float],
    base: dict[str, Any],
    engines: Sequence[tuple[str, Engine]],
    *,
    resolve: Resolver = get_op,
) -> tuple[list[Record], int]:
    """``rule_bug`` rows for engines whose convention at a kink of ``tree`` lies outside the Clarke set.

    Returns the rows (one per engine method, variable 0) and the number of kink points checked.
    """
    rows: list[Record] = []
    points = kink_points(tree, point, resolve=resolve)
    for kp in points:
        for method, engine in engines:
            evaluation, faults = _faults_at_kinks(engine, tree, kp)
            if not faults:
                continue
            grads = evaluation.grads or ()
            row = Record(
                **base,
                point_id=-1,
                point=json.dumps([repr(p) for p in kp]).replace('"', ""),
                variable=0,
                method=method,
                value=_f(evaluation.value),
                true_value=math.nan,
                value_ulp=math.nan,
                grad=_f(grads[0]) if grads else math.nan,
                true_grad=math.nan,
                abs_err=math.nan,
                rel_err=math.nan,
                ulp_err=math.nan,
                bits_err=math.nan,
                cond=math.nan,
                verdict="rule_bug",
                outcome="ok" if evaluation.ok else "error",
                exception=faults[0],
                time_s=0.0,
            )
            rows.append(row)
    return rows, len(points)


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return math.nan
