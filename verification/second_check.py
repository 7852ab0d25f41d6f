"""Second-order and forward-mode checks of the built-in engine on one expression at one point.

For a tree, a point and a direction ``v`` it computes, in float64 and at 50
digits, the Hessian (reverse over reverse), the Hessian-vector product
(reverse over reverse and forward over reverse) and the JVP (forward mode),
and judges each entry against the certified truth of
:mod:`verification.second_truth` with an error bound, never a tolerance:

* a Hessian row is the gradient of the gradient's graph, and the HVP reverse
  over reverse the gradient of ``grad f . v``; both are turned back into
  expression trees, whose first-order error analysis
  (:func:`verification.bounds.analyse`) bounds what float64 and 50-digit
  arithmetic may cost, exactly as for any first-order gradient;
* a forward sweep multiplies the same local partials along the same paths as
  the reverse sweep, only associated the other way round, so its bound is
  the reverse one combined with ``v``: ``sum_i |v_i| B_i`` plus the rounding
  of that ``n``-term sum, ``n u sum_i |v_i d_i|``.

A result is ``ok`` within ``SAFETY`` times its bound of the truth; an entry
whose bound the analysis cannot give (a point near a kink of the gradient's
graph, a nonlinear rule) is ``unjudged``, never ``ok``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autodiff import Value, get_op, gradients, mpmath_backend, push_tangents, topological_order_of
from verification.bounds import HP_DPS, SAFETY, U64, Analysis, analyse
from verification.expr import Expr, Resolver, evaluate_values
from verification.judging import exact
from verification.metrics import ulp
from verification.second_truth import Enclosure, SecondTruth, combine, gradient_tree, second_truth

__all__ = ["Mode", "SecondRow", "check_second", "GradientGraph", "judge_entry"]


class Mode(enum.Enum):
    """What was differentiated how."""

    HESSIAN = "hessian"  # reverse over reverse, one entry per (i, j)
    HVP_REV = "hvp_rev"  # reverse over reverse, H v
    HVP_FWD = "hvp_fwd"  # forward over reverse, H v
    JVP = "jvp"  # forward mode, grad f . v

    @property
    def order(self) -> int:
        """1 for the JVP, 2 for the others."""
        return 1 if self is Mode.JVP else 2


@dataclass(frozen=True)
class SecondRow:
    """One judged entry: ``index`` is ``(i, j)`` of the Hessian, ``(j,)`` of H v, ``()`` of the JVP."""

    mode: Mode
    method: str  # "engine_f64" or "engine_hp"
    index: tuple[int, ...]
    computed: Any
    truth: Enclosure
    bound: Any
    verdict: str  # "ok", "bug", "exception_mismatch" or "unjudged"


@dataclass(frozen=True)
class _Bounds:
    """Per-variable derivatives (high precision) and error bounds of one differentiated graph."""

    grads: tuple[Any, ...]
    f64: tuple[Any, ...]
    hp: tuple[Any, ...]


def _bounds(root: Any, inputs: Sequence[Value], point: Sequence[float]) -> _Bounds:
    """Bounds on the gradient of ``root``: exact 0 for a constant, infinite where the analysis gives none."""
    n = len(inputs)
    if not isinstance(root, Value):  # a constant: its gradient is exactly 0, computed without rounding
        return _Bounds((0.0,) * n, (0.0,) * n, (0.0,) * n)
    tree, resolve = gradient_tree(root, inputs)
    return _of(analyse(tree, point, resolve=resolve), n)


def _of(found: Analysis, n: int) -> _Bounds:
    if found.discard is not None:
        return _Bounds((0.0,) * n, (math.inf,) * n, (math.inf,) * n)
    return _Bounds(found.grads, found.grad_bounds, found.grad_bounds_hp)


_FLOAT_MAX = 1.7976931348623157e308

GradientGraph = Callable[[Value, Sequence[Value]], tuple[Any, ...]]
"""How the engine under test builds a gradient as a graph: ``gradients(y, xs, create_graph=True)``."""


def _graph_gradients(y: Value, xs: Sequence[Value]) -> tuple[Any, ...]:
    return gradients(y, xs, create_graph=True)


@dataclass(frozen=True)
class _Run:
    """One engine run: results per mode, and whether a forward sweep left the float64 range."""

    results: dict[Mode, list[Any]]
    fwd_overflow: dict[Mode, bool]


def _sweep(outputs: Sequence[Value], xs: Sequence[Value], v: Sequence[float]) -> tuple[list[Any], bool]:
    """Tangents of ``outputs``, and whether a tangent or a contribution ``partial * tangent`` on the way
    exceeds the float64 range (the forward counterpart of the first-order ``non_finite`` discard)."""
    nodes = topological_order_of(outputs)
    tangents = dict(zip(nodes, push_tangents(nodes, dict(zip(xs, v)))))
    beyond = any(abs(t) > _FLOAT_MAX for t in tangents.values()) or _contribution_beyond(nodes, tangents)
    return [tangents[o] for o in outputs], beyond


def _contribution_beyond(nodes: Sequence[Value], tangents: dict[Value, Any]) -> bool:
    for node in nodes:
        op = node.op_object
        if op is None:
            continue
        parents = node.parents()
        m = node.backend
        partials = op.grad(m, node.data, *[p.data for p in parents], *node.params)
        if any(abs(d * tangents[p]) > _FLOAT_MAX for p, d in zip(parents, partials)):
            return True
    return False


def _run(tree: Expr, xs: list[Value], v: Sequence[float], resolve: Resolver, graph: GradientGraph) -> _Run:
    """The engine's Hessian rows, both HVPs and the JVP, flat per mode."""
    zero = xs[0].backend.zero
    y = evaluate_values(tree, xs, resolve=resolve)
    grads = graph(y, xs)
    hess = [list(gradients(g, xs)) if isinstance(g, Value) else [zero] * len(xs) for g in grads]
    nodes = [g for g in grads if isinstance(g, Value)]
    fwd_tangents, hvp_beyond = _sweep(nodes, xs, v) if nodes else ([], False)
    fwd = iter(fwd_tangents)
    hvp_fwd = [next(fwd) if isinstance(g, Value) else zero for g in grads]
    total = _dot(grads, v)
    hvp_rev = list(gradients(total, xs)) if isinstance(total, Value) else [zero] * len(xs)
    (jvp,), jvp_beyond = _sweep([y], xs, v)
    results = {
        Mode.HESSIAN: [h for row in hess for h in row],
        Mode.HVP_REV: hvp_rev,
        Mode.HVP_FWD: hvp_fwd,
        Mode.JVP: [jvp],
    }
    return _Run(results, {Mode.HVP_FWD: hvp_beyond, Mode.JVP: jvp_beyond})


def _dot(grads: Sequence[Any], v: Sequence[float]) -> Any:
    total: Any = None
    for g, c in zip(grads, v):
        if isinstance(g, Value):
            total = g * c if total is None else total + g * c
    return total


def _combined(rows: Sequence[_Bounds], v: Sequence[float], hp: bool) -> list[Any]:
    """Bounds of ``rows . v`` (a forward sweep) from the rows' reverse bounds, in exact arithmetic.

    (Bounds and derivatives may lie far outside the float64 range.)
    """
    u = exact(10.0**-HP_DPS if hp else U64)
    out = []
    for row in rows:
        b = row.hp if hp else row.f64
        if not all(float(bk) < math.inf for bk in b):
            out.append(math.inf)
            continue
        rounding = len(v) * u * sum(abs(exact(d)) * abs(exact(c)) for d, c in zip(row.grads, v))
        out.append(sum(abs(exact(c)) * exact(bk) for bk, c in zip(b, v)) + rounding)
    return out


def check_second(
    tree: Expr,
    point: Sequence[float],
    v: Sequence[float],
    *,
    resolve: Resolver = get_op,
    graph: GradientGraph = _graph_gradients,
) -> list[SecondRow] | None:
    """Judged rows for every mode and both precisions, or None when the truth cannot be certified.

    The engine resolves op names with ``resolve`` (a mutant for its target)
    and builds gradient graphs with ``graph`` (a faulty engine's own); the
    truth, the error bounds and the gradient trees use the registered ops
    and the built-in engine.
    """
    n = len(point)
    truth: SecondTruth = second_truth(tree, n)
    enc = truth.enclose(point)
    if enc is None:
        return None
    hess = truth.hessian(enc)
    grad_enc = [enc[1 : 1 + n]]
    truths = {
        Mode.HESSIAN: [e for row in hess for e in row],
        Mode.HVP_REV: list(combine(hess, v)),
        Mode.HVP_FWD: list(combine(hess, v)),
        Mode.JVP: list(combine(grad_enc, v)),
    }
    xf = [Value(float(p)) for p in point]
    grads = gradients(evaluate_values(tree, xf), xf, create_graph=True)
    row_bounds = [_bounds(g, xf, point) for g in grads]
    hvp_bounds = _bounds(_dot(grads, v), xf, point)
    f_bounds = _of(analyse(tree, point), n)

    def bounds(hp: bool) -> dict[Mode, list[Any]]:
        def of(b: _Bounds) -> list[Any]:
            return list(b.hp if hp else b.f64)

        return {
            Mode.HESSIAN: [b for row in row_bounds for b in of(row)],
            Mode.HVP_REV: of(hvp_bounds),
            Mode.HVP_FWD: _combined(row_bounds, v, hp),
            Mode.JVP: _combined([f_bounds], v, hp),
        }

    m50 = mpmath_backend(HP_DPS)
    rows: list[SecondRow] = []
    hp = _run(tree, [Value(m50.num(p)) for p in point], v, resolve, graph)
    f64 = _run(tree, [Value(float(p)) for p in point], v, resolve, graph)
    # Where the exact forward sweep leaves the float64 range (a tangent or a
    # contribution above 1.8e308 on the way), float64 cannot follow it: as the
    # first-order analysis discards such points, those float64 entries are not judged.
    f64_bounds = bounds(False)
    for mode, beyond in hp.fwd_overflow.items():
        if beyond:
            f64_bounds[mode] = [math.inf] * len(f64_bounds[mode])
    runs = (("engine_f64", f64.results, f64_bounds), ("engine_hp", hp.results, bounds(True)))
    for method, computed, bnds in runs:
        for mode in Mode:
            for k, (c, t, b) in enumerate(zip(computed[mode], truths[mode], bnds[mode])):
                index = divmod(k, n) if mode is Mode.HESSIAN else ((k,) if mode is not Mode.JVP else ())
                rows.append(SecondRow(mode, method, tuple(index), c, t, b, judge_entry(method, c, t, b)))
    return rows


def judge_entry(method: str, computed: Any, truth: Enclosure, bound: Any) -> str:
    """``bug`` beyond ``SAFETY * bound`` of the enclosure; ``ok`` within it when the enclosure is narrower.

    In float64 one ULP of the result is added, as for first-order results. An
    enclosure wider than the allowed error cannot tell right from wrong
    inside it: that entry is ``unjudged``.
    """
    if not float(bound) < math.inf:
        return "unjudged"
    if not math.isfinite(float(computed)):
        return "exception_mismatch"
    c = exact(computed)
    allowed = SAFETY * exact(bound)
    if method == "engine_f64":
        allowed += exact(ulp(float(computed)))
    lo, hi = exact(truth.lo), exact(truth.hi)
    if max(lo - c, c - hi) > allowed:
        return "bug"
    return "ok" if hi - lo <= allowed else "unjudged"
