"""Checking one expression: each usable point, each method, one record per point x variable x method.

For an expression :func:`check_case`

1. keeps up to ``points`` candidate points that the high-precision run
   (:mod:`verification.bounds`) accepts, counting the discards by reason;
2. certifies value and gradient (:mod:`verification.references`), or counts
   the point unsamplable;
3. runs the engine under test in float64 and, when it has one, at high
   precision, and the float64 references (sympy's derivative in float64,
   central differences, Richardson, complex step);
4. writes one record per point x variable x method (:mod:`runstore.records`)
   with the verdict of :func:`verification.judging.verdict`.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autodiff import get_op
from verification.bounds import HP_DPS, SAFETY, Analysis, analyse
from verification.campaign_config import CampaignConfig
from verification.engines import BuiltinEngine, Engine, Evaluation, resolve_engine
from verification.expr import Expr, depth, ops_in, size, to_source
from verification.judging import BUG_VERDICTS, ENGINE_METHODS, verdict
from verification.metrics import measure, ulp
from verification.numeric import Unsupported
from verification.references import Certified, Reference, reference

__all__ = ["CaseResult", "FoundBug", "check_case", "high_precision", "engines_for", "as_float"]


@dataclass
class CaseResult:
    """Records, counts and findings of one expression."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    findings: list[dict[str, Any]] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        """Account ``seconds`` to ``stage``."""
        self.times[stage] = self.times.get(stage, 0.0) + seconds


class FoundBug(Exception):
    """Raised while shrinking: this tree fails in the way being shrunk."""

    def __init__(self, tree: Expr, point: tuple[float, ...], variable: int) -> None:
        super().__init__(f"{tree} at {point}")
        self.tree = tree
        self.point = point
        self.variable = variable


def high_precision(engine: Engine) -> Engine | None:
    """The engine's high-precision counterpart (mpmath at 50 digits), when it has one."""
    if isinstance(engine, BuiltinEngine) and engine.dps is None:
        return BuiltinEngine(dps=HP_DPS, resolve=engine.resolve, name=f"{engine.name}[mp{HP_DPS}]")
    return None


_ENGINES: dict[str, tuple[Engine, Engine | None]] = {}


def engines_for(spec: str) -> tuple[Engine, Engine | None]:
    """The engine named by ``spec`` and its high-precision counterpart (resolved once per process)."""
    found = _ENGINES.get(spec)
    if found is None:
        engine = resolve_engine(spec)
        found = (engine, high_precision(engine))
        _ENGINES[spec] = found
    return found


def as_float(x: Any) -> float:
    """``float(x)``, or NaN when ``x`` has no float value."""
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _split_error(ev: Evaluation) -> tuple[str, str]:
    if ev.error is None:
        return "ok", ""
    kind, _, message = ev.error.partition(": ")
    return kind, message


def check_case(
    tree: Expr,
    candidates: Sequence[Sequence[float]],
    *,
    config: CampaignConfig,
    engine: Engine,
    hp_engine: Engine | None,
    expr_id: int = 0,
    run_id: str = "",
    stop_on: tuple[str, str] | None = None,
) -> CaseResult:
    """Check ``tree`` at up to ``config.points`` usable candidates; see the module doc.

    With ``stop_on = (verdict, method)``, raise :class:`FoundBug` at the first
    record with that verdict and method (used while shrinking).
    """
    result = CaseResult()
    n = config.n_vars
    resolve = getattr(engine, "resolve", get_op)
    try:
        ref, t_ref = _timed(lambda: reference(tree, n, resolve=resolve, symbolic=config.symbolic))
    except (Unsupported, ArithmeticError, ValueError, TypeError):
        # e.g. 0 ** x: sympy evaluates the tree to nan, so no point of it is defined
        result.counts["unsupported_expressions"] += 1
        return result
    result.add_time("symbolic", t_ref)
    source = to_source(tree, resolve=resolve)
    base: dict[str, Any] = {
        "run_id": run_id,
        "engine": engine.name,
        "expr_id": expr_id,
        "expr": source,
        "sympy_expr": "",
        "depth": depth(tree),
        "size": size(tree),
        "ops": ",".join(ops_in(tree)),
        "n_vars": n,
    }
    kept = 0
    for candidate in candidates:
        if kept >= config.points:
            break
        point = tuple(float(p) for p in candidate)
        t0 = time.perf_counter()
        analysis = analyse(tree, point, resolve=resolve)
        result.add_time("analysis", time.perf_counter() - t0)
        if analysis.discard is not None:
            result.counts[f"discard_{analysis.discard}"] += 1
            continue
        t0 = time.perf_counter()
        certified = ref.certify(point, cap_bits=config.cap_bits)
        result.add_time("certify", time.perf_counter() - t0)
        if certified is not None and not certified.finite:
            result.counts["discard_non_finite"] += 1
            continue
        if not base["sympy_expr"]:
            base["sympy_expr"] = str(ref.sympy_form()) if ref.used == "sympy" else str(ref.forms[0])
        kept += 1
        result.counts["points"] += 1
        if certified is None:
            result.counts["unsamplable"] += 1
        elif config.oracle_every and expr_id % config.oracle_every == 0 and kept == 1:
            _oracle_check(result, ref, point, certified, source)
        _check_point(result, tree, point, kept - 1, base, ref, analysis, certified, engine, hp_engine, stop_on)
    return result


def _oracle_check(
    result: CaseResult, ref: Reference, point: tuple[float, ...], certified: Certified, expr: str
) -> None:
    """Compare the symbolic derivative with mpmath's numeric one at ``point``; a mismatch is a finding."""
    result.counts["oracle_checks"] += 1
    for k in range(len(point)):
        if not ref.oracle_agrees(point, k, certified):
            result.counts["oracle_mismatches"] += 1
            result.findings.append(
                {
                    "kind": "symbolic_mismatch",
                    "method": "symbolic",
                    "expr": expr,
                    "point": list(point),
                    "variable": k,
                    "symbolic_derivative": str(ref.forms[k + 1]),
                    "certified": certified.grads[k],
                    "oracle": str(ref.oracle(point, k)),
                }
            )


def _evaluate_all(
    result: CaseResult,
    tree: Expr,
    point: tuple[float, ...],
    ref: Reference,
    engine: Engine,
    hp_engine: Engine | None,
) -> list[tuple[str, Evaluation, float]]:
    """(method, evaluation, seconds) of the engines and every float64 reference at ``point``."""
    n = len(point)
    ev, t_eng = _timed(lambda: engine.evaluate(tree, point))
    result.add_time("engine", t_eng)
    per_method: list[tuple[str, Evaluation, float]] = [("engine_f64", ev, t_eng)]
    if hp_engine is not None:
        evh, t_hp = _timed(lambda: hp_engine.evaluate(tree, point))
        result.add_time("engine_hp", t_hp)
        per_method.append(("engine_hp", evh, t_hp))
    try:
        (sv, sg), t_s = _timed(lambda: ref.sympy_f64(point))
        per_method.append(("sympy_f64", Evaluation(value=sv, grads=sg), t_s))
    except (ArithmeticError, ValueError) as exc:
        per_method.append(("sympy_f64", Evaluation(error=f"{type(exc).__name__}: {exc}"), 0.0))
    fd_methods: list[tuple[str, Callable[[Sequence[float], int], float]]] = [
        ("central_fd", ref.central),
        ("richardson", ref.richardson),
    ]
    if ref.analytic:
        fd_methods.append(("complex_step", ref.complex_step))
    for name, fn in fd_methods:
        t0 = time.perf_counter()
        grads = tuple(fn(point, k) for k in range(n))
        per_method.append((name, Evaluation(value=math.nan, grads=grads), time.perf_counter() - t0))
    result.add_time("references", sum(t for m, _, t in per_method[1:] if m not in ENGINE_METHODS))
    return per_method


def _check_point(
    result: CaseResult,
    tree: Expr,
    point: tuple[float, ...],
    point_id: int,
    base: dict[str, Any],
    ref: Reference,
    analysis: Analysis,
    certified: Certified | None,
    engine: Engine,
    hp_engine: Engine | None,
    stop_on: tuple[str, str] | None,
) -> None:
    n = len(point)
    truth_v = certified.value if certified is not None else math.nan
    truths = certified.grads if certified is not None else (math.nan,) * n
    per_method = _evaluate_all(result, tree, point, ref, engine, hp_engine)
    point_text = json.dumps([repr(p) for p in point]).replace('"', "")
    cond = [analysis.cond(k) for k in range(n)]
    for method, evaluation, seconds in per_method:
        outcome, message = _split_error(evaluation)
        value = as_float(evaluation.value) if evaluation.ok else math.nan
        value_m = measure(value, truth_v) if certified is not None else None
        for k in range(n):
            grad = as_float(evaluation.grads[k]) if evaluation.ok and evaluation.grads is not None else math.nan
            found = verdict(method, evaluation, k, analysis, certified, grad, value)
            if certified is not None and method == "engine_f64" and evaluation.ok and math.isfinite(grad):
                allowed = SAFETY * analysis.grad_bounds[k] + ulp(truths[k])
                result.ratios.append(float(abs(grad - truths[k]) / allowed) if allowed > 0 else 0.0)
            m = measure(grad, truths[k]) if certified is not None else None
            row = dict(base)
            row.update(
                point_id=point_id,
                point=point_text,
                variable=k,
                method=method,
                value=value,
                true_value=truth_v,
                value_ulp=value_m.ulp_err if value_m is not None else math.nan,
                grad=grad,
                true_grad=truths[k],
                abs_err=m.abs_err if m is not None else math.nan,
                rel_err=m.rel_err if m is not None else math.nan,
                ulp_err=m.ulp_err if m is not None else math.nan,
                bits_err=m.bits_err if m is not None else math.nan,
                cond=cond[k],
                verdict=found,
                outcome=outcome,
                exception=message,
                time_s=seconds,
            )
            result.rows.append(row)
            result.counts[f"verdict_{method}_{found}"] += 1
            if method in ENGINE_METHODS and found in BUG_VERDICTS:
                if stop_on is not None and stop_on == (found, method):
                    raise FoundBug(tree, point, k)
                result.findings.append(_finding(row, found, analysis, k))


def _finding(row: dict[str, Any], found: str, analysis: Analysis, k: int) -> dict[str, Any]:
    hp = row["method"] == "engine_hp"
    return {
        "kind": found,
        "method": row["method"],
        "expr_id": row["expr_id"],
        "expr": row["expr"],
        "sympy_expr": row["sympy_expr"],
        "ops": row["ops"],
        "point": row["point"],
        "variable": k,
        "value": row["value"],
        "true_value": row["true_value"],
        "grad": row["grad"],
        "true_grad": row["true_grad"],
        "ulp_err": row["ulp_err"],
        "allowed_abs_err": float(SAFETY * (analysis.grad_bounds_hp[k] if hp else analysis.grad_bounds[k])),
        "exception": row["exception"],
    }
