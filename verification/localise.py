"""Blame the node, not the expression: which op application of a finding is at fault, or the graph.

Works on any engine through its evaluate() alone (no access to its nodes):

1. every distinct subexpression is evaluated by the engine, which gives the
   float64 value the engine computed at each node (its own value path); the
   innermost subexpression that raises, hangs or gives a non-number is where
   an exception comes from;
2. each op application is run *alone* at those float inputs and judged
   against the op's declaration (:func:`verification.localjudge.judge_local`):
   a wrong, broken, inaccurate or fragile local value or partial names the
   op, its written form and the node;
3. the chain rule is applied, in high precision, to the engine's own local
   partials; a gradient that differs from that by more than the rounding of
   the accumulation is a fault of the backward pass itself (assignment
   instead of accumulation, a node visited before all its consumers, shared
   nodes counted once per path): form ``graph``. On an engine that flushes
   subnormals to zero, each partial and each adjoint contribution may also be
   off by the smallest normal number (flushed), carried down the chain like
   any other deviation, so a flushed contribution is never a graph fault.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from verification.bounds import ETA, SAFETY, U64
from verification.defect_kinds import Form, Severity
from verification.engine_api import Engine, Evaluation
from verification.expr import Apply, Const, Expr, Var, ops_in, to_source
from verification.judging import SMALLEST_NORMAL, engine_flushes
from verification.localjudge import FLUSH, LocalCheck, judge_local

__all__ = ["Blame", "localise", "distinct_nodes"]


@dataclass(frozen=True)
class Blame:
    """One fault found in an expression: the node and op at fault (or the graph), with evidence."""

    severity: Severity
    ops: tuple[str, ...]
    form: Form
    aspect: str
    detail: str  # "the rule of tanh at t2 = tanh((x0 * x1)): local partial d/dx 0.0, true 1.7e-17"
    tree: Expr  # the smallest expression showing it: the op alone, or the expression for a graph fault
    point: tuple[float, ...]
    local: LocalCheck | None = None
    node: Expr | None = None  # the node at fault in the expression (None for a graph fault)


def distinct_nodes(tree: Expr) -> list[Apply]:
    """The distinct op subtrees, children before parents (a shared subtree once)."""
    order: list[Apply] = []
    seen: set[Expr] = set()

    def visit(node: Expr) -> None:
        if not isinstance(node, Apply) or node in seen:
            return
        seen.add(node)
        for a in node.args:
            visit(a)
        order.append(node)

    visit(tree)
    return order


def _inputs(node: Apply, point: Sequence[float], values: dict[Expr, float]) -> tuple[list[float], list[bool]]:
    inputs, is_value = [], []
    for a in node.args:
        if isinstance(a, Const):
            inputs.append(a.value)
            is_value.append(False)
        elif isinstance(a, Var):
            inputs.append(float(point[a.index]))
            is_value.append(True)
        else:
            inputs.append(values[a])
            is_value.append(True)
    if not any(is_value):
        is_value[0] = True  # an all-constant application runs on a Value made from its first number
    return inputs, is_value


def _name(index: int, node: Apply) -> str:
    return f"t{index} = {to_source(node)}"


def _blame_local(check: LocalCheck, index: int, node: Apply) -> Blame:
    what = "the rule of" if check.aspect == "gradient" else "the op"
    detail = f"{what} `{check.op}` ({check.form.value}) at {_name(index, node)}: {check.detail}"
    assert check.severity is not None
    return Blame(
        check.severity, (check.op,), check.form, check.aspect, detail, check.tree(), check.point(), check, node
    )


def localise(engine: Engine, tree: Expr, point: Sequence[float], evaluation: Evaluation) -> list[Blame]:
    """The faults behind ``evaluation`` (the engine's result for ``tree`` at ``point``); empty when none shows."""
    point = tuple(float(p) for p in point)
    nodes = distinct_nodes(tree)
    values: dict[Expr, float] = {}
    blames: list[Blame] = []
    checks: list[LocalCheck] = []
    for index, node in enumerate(nodes):
        inputs, is_value = _inputs(node, point, values)
        check = judge_local(engine, node.op, inputs, is_value, node.params)
        checks.append(check)
        if check.severity is not None:
            blames.append(_blame_local(check, index, node))
        whole = evaluation if node is tree else engine.evaluate(node, point)
        value = _float(whole.value) if whole.ok else None
        if value is None:
            explained = check.severity in (Severity.BROKEN, Severity.FRAGILE) or not check.judged
            if not explained and not any(b.severity in (Severity.BROKEN, Severity.FRAGILE) for b in blames):
                # each op alone works, the expression does not
                said = whole.error or "a non-number"
                detail = f"the engine fails on {_name(index, node)} though each op alone works: {said}"
                blames.append(Blame(Severity.BROKEN, ops_in(node), Form.GRAPH, "raises", detail, node, point))
            return blames
        values[node] = value
    graph = _chain_fault(tree, nodes, checks, point, evaluation)
    if graph is not None and engine_flushes(engine):
        graph = _chain_fault(tree, nodes, checks, point, evaluation, flushes=True) or _flushed(graph)
    if graph is not None:
        blames.append(graph)
    return blames


def _flushed(graph: Blame) -> Blame:
    """A graph fault as IEEE arithmetic that flushing subnormal contributions to zero explains."""
    detail = graph.detail.partition(": the backward pass")[0]
    said = f"{detail}: only flushing subnormal partials or contributions to zero explains the difference"
    return replace(graph, severity=Severity.INACCURATE, aspect=FLUSH, detail=said)


def _float(x: object) -> float | None:
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


CONTEXT_ULPS = 4
"""ULPs by which an engine's local partial inside a graph may differ from the same op run alone: the
engine may compute it from intermediates rounded differently there (fused or reassociated code, as XLA
does). A graph fault (a lost, doubled or misordered contribution) moves the gradient by whole terms."""


def _partial_slack(engine: float, true: float | None) -> Fraction:
    """How far the partial the engine used inside the graph may be from its value alone: the distance
    from the alone value to the truth (any partial between the two is the same rule, rounded another
    way) plus a few ULPs of context."""
    slack = Fraction(CONTEXT_ULPS) * Fraction(U64) * abs(Fraction(engine))
    if true is not None and math.isfinite(true):
        slack += abs(Fraction(engine) - Fraction(true))
    return slack


def _chain_fault(
    tree: Expr,
    nodes: list[Apply],
    checks: list[LocalCheck],
    point: tuple[float, ...],
    evaluation: Evaluation,
    *,
    flushes: bool = False,
) -> Blame | None:
    """A graph fault when the engine's gradient is not the chain rule over its own local partials
    (``flushes``: the engine flushes subnormals, so each partial and contribution may be off by the smallest
    normal number)."""
    if not evaluation.ok or evaluation.grads is None or any(not c.engine_partials for c in checks):
        return None
    flush = Fraction(SMALLEST_NORMAL) if flushes else Fraction(0)

    n = len(point)
    adj: dict[Expr, Fraction] = {tree: Fraction(1)}
    mag: dict[Expr, Fraction] = {tree: Fraction(1)}
    dev: dict[Expr, Fraction] = {tree: Fraction(0)}
    grads = [Fraction(0)] * n
    mags = [Fraction(0)] * n
    devs = [Fraction(0)] * n
    for node, check in zip(reversed(nodes), reversed(checks)):
        a, m, d = adj.get(node, Fraction(0)), mag.get(node, Fraction(0)), dev.get(node, Fraction(0))
        trues = check.true_partials or (None,) * len(check.engine_partials)
        for arg, p, t in zip(node.args, check.engine_partials, trues):
            if p is None or isinstance(arg, Const) or not math.isfinite(p):
                continue
            c, cm = a * Fraction(p), m * abs(Fraction(p))
            cd = d * abs(Fraction(p)) + m * (_partial_slack(p, t) + flush) + flush
            if isinstance(arg, Var):
                grads[arg.index] += c
                mags[arg.index] += cm
                devs[arg.index] += cd
            else:
                adj[arg] = adj.get(arg, Fraction(0)) + c
                mag[arg] = mag.get(arg, Fraction(0)) + cm
                dev[arg] = dev.get(arg, Fraction(0)) + cd
    steps = len(nodes) + 2
    for k in range(n):
        got = _float(evaluation.grads[k])
        if got is None:
            return None
        want = float(grads[k])
        allowed = Fraction(SAFETY * (2 * steps * U64 * float(mags[k]) + steps * ETA)) + SAFETY * devs[k]
        if abs(Fraction(got) - grads[k]) > allowed:
            detail = (
                f"gradient d/dx{k} = {got!r}, but the chain rule over the engine's own local partials gives "
                f"{want!r}: the backward pass itself is wrong (accumulation, order, or shared nodes)"
            )
            return Blame(Severity.WRONG, ops_in(tree), Form.GRAPH, "gradient", detail, tree, point)
    return None
