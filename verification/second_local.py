"""One op application of a foreign engine run alone at second order, and the exact second-order chain rule.

:func:`alone` cuts an op application out of an expression: the op over
variables for its operands that depend on the inputs, at the float64 values
the engine itself computed there. :func:`judge_alone` judges the engine's
first and second partials of it against the op's certified derivatives
(:func:`verification.localjudge.classify_error`). :func:`recompose` applies
the chain rule of second order in exact rational arithmetic to the engine's
own local partials (``g = sum_j p_j g_j``, ``H = sum_j p_j H_j + sum_jk q_jk
g_j g_k^T``), which tells a fault of the rules from a fault of the graph.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from verification.defect_kinds import SEVERITY_ORDER, Severity
from verification.expr import Apply, Const, Expr, Var, to_source, walk
from verification.localjudge import classify_error, ordinary
from verification.metrics import ulp_distance
from verification.second_check import Mode
from verification.second_truth import second_truth

__all__ = ["Local", "depends", "alone", "unit", "judge_alone", "recompose"]


@dataclass(frozen=True)
class Local:
    """One op application run alone by the engine: its partials by one mode, judged against its own truth."""

    node: Apply
    tree: Apply  # the op alone, over variables for the node's non-constant operands
    inputs: tuple[float, ...]
    value: float
    grads: tuple[float, ...]
    hess: tuple[tuple[float, ...], ...]
    severity: Severity | None
    detail: str
    ulps: float


def depends(node: Expr) -> bool:
    return any(isinstance(n, Var) for n in walk(node))


def alone(node: Apply, values: dict[Expr, float], point: Sequence[float]) -> tuple[Apply, tuple[float, ...]]:
    """The op of ``node`` alone: variables for its operands that depend on the inputs, at the engine's values."""
    args: list[Expr] = []
    inputs: list[float] = []
    for a in node.args:
        x = point[a.index] if isinstance(a, Var) else (a.value if isinstance(a, Const) else values[a])
        if depends(a):
            args.append(Var(len(inputs)))
            inputs.append(float(x))
        else:
            args.append(Const(float(x)))
    return Apply(node.op, tuple(args), node.params), tuple(inputs)


def unit(n: int, k: int) -> tuple[float, ...]:
    return tuple(1.0 if i == k else 0.0 for i in range(n))


def judge_alone(
    tree: Apply, inputs: tuple[float, ...], grads: Sequence[float], hess: Sequence[Sequence[float]] | None
) -> tuple[Severity | None, str, float]:
    """The worst local partial against the op's certified first and second derivatives (None: nothing off)."""
    n = len(inputs)
    truth = second_truth(tree, n)
    enc = truth.enclose(inputs)
    if enc is None:
        return None, "", 0.0
    entries: list[tuple[str, float, float]] = [(f"d/dx{i}", g, float(enc[1 + i].mid)) for i, g in enumerate(grads)]
    if hess is not None:
        full = truth.hessian(enc)
        entries += [(f"d2/dx{i}dx{j}", hess[i][j], float(full[i][j].mid)) for i in range(n) for j in range(n)]
    truths = [t for _, _, t in entries]
    plain, plain_fail = ordinary(inputs, truths), ordinary(inputs, truths, failure=True)
    worst: tuple[Severity | None, str, float] = (None, "", 0.0)
    for name, got, want in entries:
        severity = classify_error(got, want, is_ordinary=plain, fails_ordinary=plain_fail)
        if severity is None:
            continue
        u = ulp_distance(got, want)
        if worst[0] is None or (SEVERITY_ORDER[severity], -u) < (SEVERITY_ORDER[worst[0]], -worst[2]):
            op = to_source(tree)
            worst = (severity, f"{op} at {list(inputs)}: local {name} {got!r}, true {want!r}", u)
    return worst


def recompose(
    tree: Expr, point: Sequence[float], v: Sequence[float], mode: Mode, locals_: dict[Apply, Local]
) -> list[Fraction] | None:
    """The mode's entries from the engine's local derivatives, combined by the chain rule exactly (None: a gap)."""
    n = len(point)
    jets: dict[Expr, tuple[list[Fraction], list[list[Fraction]]]] = {}
    zero = Fraction(0)

    def jet(node: Expr) -> tuple[list[Fraction], list[list[Fraction]]] | None:
        if node in jets:
            return jets[node]
        if isinstance(node, Var) or not depends(node):
            g = [Fraction(1) if isinstance(node, Var) and i == node.index else zero for i in range(n)]
            jets[node] = (g, [[zero] * n for _ in range(n)])
            return jets[node]
        assert isinstance(node, Apply)
        loc = locals_.get(node)
        if loc is None or not all(math.isfinite(x) for x in (*loc.grads, *(h for r in loc.hess for h in r))):
            return None
        parts = [jet(a) for a in node.args if depends(a)]
        if any(p is None for p in parts):
            return None
        found = _combine(loc, [p for p in parts if p is not None], n)
        jets[node] = found
        return found

    top = jet(tree)
    if top is None:
        return None
    g, h = top
    vs = [Fraction(c) for c in v]
    if mode is Mode.HESSIAN:
        return [h[i][j] for i in range(n) for j in range(n)]
    if mode is Mode.JVP:
        return [sum((gi * c for gi, c in zip(g, vs)), zero)]
    return [sum((h[i][j] * vs[j] for j in range(n)), zero) for i in range(n)]


def _combine(
    loc: Local, parts: list[tuple[list[Fraction], list[list[Fraction]]]], n: int
) -> tuple[list[Fraction], list[list[Fraction]]]:
    """``g = sum_j p_j g_j`` and ``H = sum_j p_j H_j + sum_jk q_jk g_j g_k^T`` in exact arithmetic."""
    p = [Fraction(x) for x in loc.grads]
    q = [[Fraction(x) for x in row] for row in loc.hess]
    g = [sum((p[j] * parts[j][0][i] for j in range(len(parts))), Fraction(0)) for i in range(n)]
    h = [[Fraction(0)] * n for _ in range(n)]
    for a in range(n):
        for b in range(n):
            total = sum((p[j] * parts[j][1][a][b] for j in range(len(parts))), Fraction(0))
            for j, (gj, _) in enumerate(parts):
                for k, (gk, _) in enumerate(parts):
                    total += q[j][k] * gj[a] * gk[b]
            h[a][b] = total
    return g, h
