"""Campaigns: generated expressions, checked against the references, recorded as they go.

A campaign draws expression trees and candidate points with the strategies of
:mod:`verification.strategies`, in chunks; each chunk is one seeded Hypothesis
run (so a chunk can be replayed exactly, and a failure in it shrunk). For each
expression it

1. keeps up to ``points`` candidate points that the high-precision run
   (:mod:`verification.bounds`) accepts, counting the discards by reason;
2. certifies value and gradient (:mod:`verification.references`), or counts
   the point unsamplable;
3. runs the engine under test in float64 and, when it has one, at high
   precision, and the float64 references (sympy's derivative in float64,
   central differences, Richardson, complex step);
4. writes one record per point x variable x method (:mod:`verification.records`)
   with the verdict of :func:`judge`.

Chunks run in worker processes; the parent appends their records to
``records.csv`` as they arrive, so an interrupted campaign keeps what
finished. Each rule bug found is then shrunk by Hypothesis, replaying its
chunk with a test that fails on that kind of bug, and reported with a sympy
expression and a reproduction.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autodiff import get_op
from verification.bounds import HP_DPS, SAFETY, Analysis, analyse
from verification.engine_api import Engine, Evaluation
from verification.engine_spec import resolve_engine
from verification.engines import BuiltinEngine
from verification.expr import Apply, Expr, depth, ops_in, size, to_source, variables
from verification.metrics import measure, ulp
from verification.numeric import Unsupported
from verification.parallel import init_worker, unordered_map
from verification.records import COLUMNS, FINDINGS_FILE, RECORDS_FILE, RUN_FILE, versions, write_json
from verification.references import DEFAULT_CAP_BITS, Certified, Reference, reference

__all__ = [
    "CampaignConfig",
    "CaseResult",
    "CampaignResult",
    "BUG_VERDICTS",
    "judge_float",
    "judge_interval",
    "check_case",
    "run_chunk",
    "run_campaign",
    "shrink_finding",
    "reproduction",
    "high_precision",
]

BUG_VERDICTS = ("rule_bug", "value_bug", "exception_mismatch")
"""Verdicts of an engine method that make a campaign fail."""

_ENGINE_METHODS = ("engine_f64", "engine_hp")


@dataclass(frozen=True)
class CampaignConfig:
    """Everything that determines a campaign's expressions and checks."""

    examples: int = 2000
    ops: tuple[str, ...] | None = None
    max_depth: int = 4
    n_vars: int = 2
    seed: int = 0
    points: int = 3
    candidates: int = 6
    engine: str = "gradproof"
    plugins: tuple[str, ...] = ()
    symbolic: str = "symengine"
    cap_bits: int = DEFAULT_CAP_BITS
    chunk: int = 25
    oracle_every: int = 10
    max_shrinks: int = 3
    expr_timeout: float = 30.0

    def chunks(self) -> list[int]:
        """Number of expressions of each chunk."""
        full, rest = divmod(self.examples, self.chunk)
        return [self.chunk] * full + ([rest] if rest else [])


# --- verdicts -------------------------------------------------------------------


def judge_float(computed: float, truth: float, bound: float) -> str:
    """Verdict of a float64 result: ``ok`` within ``SAFETY * bound + ulp(truth)`` of the truth.

    A non-finite result where the truth is finite is ``exception_mismatch``;
    a larger error is ``bug``.
    """
    if not math.isfinite(computed):
        return "exception_mismatch"
    allowed = SAFETY * bound + ulp(truth)
    if not allowed < math.inf or abs(computed - truth) <= allowed:
        return "ok"  # an unbounded (or NaN) bound means the result cannot be judged
    return "bug"


_EXACT: Any = None


def _exact(x: Any) -> Any:
    """``x`` (an mpmath number of any context) in a context wide enough to subtract without rounding."""
    global _EXACT
    if _EXACT is None:
        import mpmath

        _EXACT = mpmath.MPContext()
        _EXACT.prec = 8192
    return _EXACT.make_mpf(x._mpf_) if hasattr(x, "_mpf_") else _EXACT.mpf(x)


def judge_interval(computed: Any, lo: Any, hi: Any, bound: float) -> str:
    """Verdict of a high-precision result: ``ok`` within ``SAFETY * bound`` of the certified ``[lo, hi]``."""
    c = _exact(computed)
    if not _EXACT.isfinite(c):
        return "exception_mismatch"
    gap = max(_exact(lo) - c, c - _exact(hi), 0)
    allowed = SAFETY * _exact(bound)
    return "ok" if not allowed < _EXACT.inf or gap <= allowed else "bug"


# --- one expression -----------------------------------------------------------


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


def high_precision(engine: Engine) -> Engine | None:
    """The engine's high-precision counterpart (mpmath at 50 digits), when it has one."""
    if isinstance(engine, BuiltinEngine) and engine.dps is None:
        return BuiltinEngine(dps=HP_DPS, resolve=engine.resolve, name=f"{engine.name}[mp{HP_DPS}]")
    return None


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _split_error(ev: Evaluation) -> tuple[str, str]:
    if ev.error is None:
        return "ok", ""
    kind, _, message = ev.error.partition(": ")
    return kind, message


def _float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def check_case(
    tree: Expr,
    candidates: Sequence[Sequence[float]],
    *,
    config: CampaignConfig,
    engine: Engine,
    hp_engine: Engine | None,
    expr_id: int,
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
    base = {
        "run_id": run_id,
        "engine": engine.name,
        "expr_id": expr_id,
        "expr": to_source(tree, resolve=resolve),
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
            result.counts["oracle_checks"] += 1
            for k in range(n):
                if not ref.oracle_agrees(point, k, certified):
                    result.counts["oracle_mismatches"] += 1
                    result.findings.append(
                        {
                            "kind": "symbolic_mismatch",
                            "method": "symbolic",
                            "expr": base["expr"],
                            "point": list(point),
                            "variable": k,
                            "symbolic_derivative": str(ref.forms[k + 1]),
                            "certified": certified.grads[k],
                            "oracle": str(ref.oracle(point, k)),
                        }
                    )
        _check_point(result, tree, point, kept - 1, base, ref, analysis, certified, engine, hp_engine, stop_on)
    return result


class FoundBug(Exception):
    """Raised while shrinking: this tree fails in the way being shrunk."""

    def __init__(self, tree: Expr, point: tuple[float, ...], variable: int) -> None:
        super().__init__(f"{tree} at {point}")
        self.tree = tree
        self.point = point
        self.variable = variable


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
    result.add_time("references", sum(t for m, _, t in per_method[1:] if m not in _ENGINE_METHODS))
    point_text = json.dumps([repr(p) for p in point]).replace('"', "")
    cond = [analysis.cond(k) for k in range(n)]
    for method, evaluation, seconds in per_method:
        outcome, message = _split_error(evaluation)
        value = _float(evaluation.value) if evaluation.ok else math.nan
        value_m = measure(value, truth_v) if certified is not None else None
        for k in range(n):
            grad = _float(evaluation.grads[k]) if evaluation.ok and evaluation.grads is not None else math.nan
            verdict = _verdict(method, evaluation, k, analysis, certified, grad, value)
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
                verdict=verdict,
                outcome=outcome,
                exception=message,
                time_s=seconds,
            )
            result.rows.append(row)
            result.counts[f"verdict_{method}_{verdict}"] += 1
            if method in _ENGINE_METHODS and verdict in BUG_VERDICTS:
                if stop_on is not None and stop_on == (verdict, method):
                    raise FoundBug(tree, point, k)
                result.findings.append(_finding(row, verdict, analysis, k))


def _verdict(
    method: str,
    evaluation: Evaluation,
    k: int,
    analysis: Analysis,
    certified: Certified | None,
    grad: float,
    value: float,
) -> str:
    if certified is None:
        return "unsamplable"
    if not evaluation.ok:
        return "exception_mismatch"
    if method == "engine_f64":
        verdict = judge_float(grad, certified.grads[k], analysis.grad_bounds[k])
        if verdict == "bug":
            return "rule_bug"
        if verdict != "ok":
            return verdict
        v = judge_float(value, certified.value, analysis.value_bound)
        return "value_bug" if v == "bug" else ("ok" if v == "ok" else v)
    if method == "engine_hp":
        assert evaluation.grads is not None
        verdict = judge_interval(
            evaluation.grads[k], certified.lo[k + 1], certified.hi[k + 1], analysis.grad_bounds_hp[k]
        )
        if verdict == "bug":
            return "rule_bug"
        if verdict != "ok":
            return verdict
        v = judge_interval(evaluation.value, certified.lo[0], certified.hi[0], analysis.value_bound_hp)
        return "value_bug" if v == "bug" else v
    return "ok" if math.isfinite(grad) else "exception_mismatch"


def _finding(row: dict[str, Any], verdict: str, analysis: Analysis, k: int) -> dict[str, Any]:
    hp = row["method"] == "engine_hp"
    return {
        "kind": verdict,
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


# --- chunks ---------------------------------------------------------------------

_ENGINES: dict[str, tuple[Engine, Engine | None]] = {}


def _engines(spec: str) -> tuple[Engine, Engine | None]:
    found = _ENGINES.get(spec)
    if found is None:
        engine = resolve_engine(spec)
        found = (engine, high_precision(engine))
        _ENGINES[spec] = found
    return found


_STRATEGIES: dict[tuple[Any, ...], Any] = {}


def _cases(config: CampaignConfig, engine: Engine) -> Any:
    """The strategy of (tree, candidate points), built once per process (building is costly)."""
    key = (config.ops, config.n_vars, config.max_depth, config.candidates, config.engine)
    found = _STRATEGIES.get(key)
    if found is None:
        found = _STRATEGIES[key] = _build_cases(config, engine)
    return found


def _build_cases(config: CampaignConfig, engine: Engine) -> Any:
    from hypothesis import strategies as st

    from verification.strategies import candidate_points, expressions

    ops = config.ops if config.ops is not None else tuple(sorted(engine.supported_ops()))
    resolve = getattr(engine, "resolve", get_op)
    trees = expressions(ops=ops, n_vars=config.n_vars, max_depth=config.max_depth, resolve=resolve)
    cands = st.lists(candidate_points(config.n_vars), min_size=config.candidates, max_size=config.candidates)
    return st.tuples(trees, cands)


def _hypothesis_run(
    config: CampaignConfig, index: int, n_examples: int, body: Callable[[tuple[Expr, list[Any]]], None], shrink: bool
) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings

    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    engine, _ = _engines(config.engine)

    @seed(config.seed * 1_000_003 + index)
    @settings(
        max_examples=n_examples,
        phases=phases,
        database=None,
        deadline=None,
        derandomize=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(_cases(config, engine))
    def run(case: tuple[Expr, list[Any]]) -> None:
        body(case)

    run()


@dataclass
class ChunkResult:
    """What one chunk sends back to the parent."""

    index: int
    rows: list[dict[str, Any]]
    counts: Counter[str]
    findings: list[dict[str, Any]]
    ratios: list[float]
    expressions: int
    times: dict[str, float] = field(default_factory=dict)


def _merge_times(into: dict[str, float], more: dict[str, float]) -> None:
    for stage, seconds in more.items():
        into[stage] = into.get(stage, 0.0) + seconds


class _Timeout(BaseException):
    """An expression took longer than ``expr_timeout`` (a BaseException, so no handler swallows it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` after ``seconds`` of wall time (POSIX; elsewhere no limit)."""
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_chunk(config: CampaignConfig, index: int, run_id: str = "") -> ChunkResult:
    """Generate and check chunk ``index`` of the campaign (deterministic for a config and index)."""
    engine, hp_engine = _engines(config.engine)
    sizes = config.chunks()
    first = sum(sizes[:index])
    out = ChunkResult(index, [], Counter(), [], [], 0)

    def body(case: tuple[Expr, list[Any]]) -> None:
        if out.expressions >= sizes[index]:
            return
        tree, cands = case
        try:
            with _time_limit(config.expr_timeout):
                res = check_case(
                    tree,
                    cands,
                    config=config,
                    engine=engine,
                    hp_engine=hp_engine,
                    expr_id=first + out.expressions,
                    run_id=run_id,
                )
        except _Timeout:
            out.expressions += 1
            out.counts["timeouts"] += 1
            return
        for f in res.findings:
            f["chunk"] = index
        out.expressions += 1
        out.rows.extend(res.rows)
        out.counts.update(res.counts)
        out.findings.extend(res.findings)
        out.ratios.extend(res.ratios)
        _merge_times(out.times, res.times)

    t0 = time.perf_counter()
    _hypothesis_run(config, index, sizes[index], body, shrink=False)
    out.times["chunk_total"] = time.perf_counter() - t0
    return out


def shrink_finding(config: CampaignConfig, finding: dict[str, Any]) -> tuple[Expr, tuple[float, ...], int] | None:
    """Replay the finding's chunk with a test that fails on its (verdict, method); Hypothesis shrinks it."""
    engine, hp_engine = _engines(config.engine)
    target = (finding["kind"], finding["method"])
    index = int(finding["chunk"])
    sizes = config.chunks()
    caught: list[FoundBug] = []

    def body(case: tuple[Expr, list[Any]]) -> None:
        tree, cands = case
        try:
            check_case(tree, cands, config=config, engine=engine, hp_engine=hp_engine, expr_id=0, stop_on=target)
        except FoundBug as bug:
            caught.append(bug)
            raise

    try:
        _hypothesis_run(config, index, sizes[index], body, shrink=True)
    except FoundBug:
        pass
    if not caught:
        return None
    last = caught[-1]
    return _hoist(config, engine, hp_engine, target, last)


def _hoistings(tree: Expr) -> Iterator[Expr]:
    """Trees with one op node replaced by one of its variable-bearing arguments (the root stays an op)."""
    if not isinstance(tree, Apply):
        return
    for i, arg in enumerate(tree.args):
        if isinstance(arg, Apply):
            yield arg
            for smaller in _hoistings(arg):
                yield Apply(tree.op, (*tree.args[:i], smaller, *tree.args[i + 1 :]), tree.params)
        if isinstance(arg, Apply) and arg.args:
            for inner in arg.args:
                if variables(inner):
                    yield Apply(tree.op, (*tree.args[:i], inner, *tree.args[i + 1 :]), tree.params)


def _hoist(
    config: CampaignConfig, engine: Engine, hp_engine: Engine | None, target: tuple[str, str], bug: FoundBug
) -> tuple[Expr, tuple[float, ...], int]:
    """Finish Hypothesis's shrink: hoist subtrees while the bug persists at the same point.

    Hypothesis minimises the choices behind a tree level by level, which keeps
    an outer op whose index sorts before the failing op; hoisting removes it.
    """
    tree, point, var = bug.tree, bug.point, bug.variable
    probe = replace(config, points=1, oracle_every=0)
    improved = True
    while improved:
        improved = False
        for smaller in sorted(_hoistings(tree), key=size):
            try:
                check_case(
                    smaller, [point], config=probe, engine=engine, hp_engine=hp_engine, expr_id=0, stop_on=target
                )
            except FoundBug as found:
                tree, var = found.tree, found.variable
                improved = True
                break
    return tree, point, var


# --- reproduction ---------------------------------------------------------------


def reproduction(engine: Engine, tree: Expr, point: Sequence[float], plugins: Sequence[str] = ()) -> str:
    """A few lines of Python that evaluate ``tree`` at ``point`` with ``engine`` and print the gradient."""
    custom = getattr(engine, "reproduction", None)
    if callable(custom):
        return str(custom(tree, point))
    names = [f"x{i}" for i in range(len(point))]
    resolve = getattr(engine, "resolve", get_op)
    called = sorted({op for op in ops_in(tree) if resolve(op).template is None})
    lines = ["from autodiff import Value, get_op"]
    if plugins:
        lines.append("from verification.plugins import load_plugin")
        lines.extend(f"load_plugin({p!r})" for p in plugins)
    lines.extend(f"{name} = get_op({name!r})" for name in called)
    lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {', '.join(f'Value({p!r})' for p in point)}")
    lines.append(f"y = {to_source(tree, names, resolve=resolve)}")
    lines.append("y.backward()")
    lines.append(f"print(y.data, {', '.join(n + '.grad' for n in names)})")
    return "\n".join(lines)


# --- the campaign ---------------------------------------------------------------


@dataclass
class CampaignResult:
    """Summary of a finished or interrupted campaign."""

    out_dir: Path
    status: str
    expressions: int
    records: int
    counts: Counter[str]
    findings: list[dict[str, Any]]
    shrunk: list[dict[str, Any]]
    seconds: float
    ratios: list[float]
    times: dict[str, float]

    @property
    def bugs(self) -> list[dict[str, Any]]:
        """Findings whose verdict makes the campaign fail."""
        return [f for f in self.findings if f["kind"] in BUG_VERDICTS]


def _chunk_task(args: tuple[CampaignConfig, int, str]) -> ChunkResult:
    return run_chunk(*args)


def _iter_chunks(config: CampaignConfig, jobs: int, run_id: str) -> Iterator[ChunkResult]:
    tasks = [(config, i, run_id) for i in range(len(config.chunks()))]
    return unordered_map(_chunk_task, tasks, jobs=jobs, initializer=init_worker, initargs=(config.plugins,))


def run_campaign(
    config: CampaignConfig,
    out_dir: Path,
    *,
    jobs: int = 1,
    progress: bool = True,
) -> CampaignResult:
    """Run the campaign, writing ``run.json``, ``records.csv`` and ``findings.json`` into ``out_dir``.

    ``KeyboardInterrupt`` stops it: what finished stays on disk, ``run.json``
    says ``"status": "interrupted"``, and the result is returned with that status.
    """
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = out_dir.name
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    meta: dict[str, Any] = {
        "run_id": run_id,
        "kind": "campaign",
        "engine": config.engine,
        "versions": versions(),
        "seed": config.seed,
        "options": {**asdict(config), "jobs": jobs},
        "command": sys.argv,
        "started": started.isoformat(),
        "status": "running",
    }
    write_json(out_dir / RUN_FILE, meta)
    counts: Counter[str] = Counter()
    findings: list[dict[str, Any]] = []
    ratios: list[float] = []
    times: dict[str, float] = {}
    expressions = records = 0
    status = "finished"
    bar = tqdm(total=config.examples, unit="expr", disable=not progress or None, file=sys.stderr, leave=False)
    with open(out_dir / RECORDS_FILE, "w", newline="") as fh:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
        writer.writeheader()
        fh.write(buffer.getvalue())
        fh.flush()
        try:
            for chunk in _iter_chunks(config, jobs, run_id):
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(chunk.rows)
                fh.write(buffer.getvalue())  # one write: an interrupt never leaves half a chunk
                fh.flush()
                records += len(chunk.rows)
                expressions += chunk.expressions
                counts.update(chunk.counts)
                findings.extend(chunk.findings)
                ratios.extend(chunk.ratios)
                _merge_times(times, chunk.times)
                bar.update(chunk.expressions)
                bar.set_postfix(bugs=sum(1 for f in findings if f["kind"] in BUG_VERDICTS))
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            bar.close()
    shrunk: list[dict[str, Any]] = []
    if status == "finished":
        try:
            shrunk = _shrink_all(config, findings)
        except KeyboardInterrupt:
            status = "interrupted"
    seconds = time.perf_counter() - t0
    result = CampaignResult(out_dir, status, expressions, records, counts, findings, shrunk, seconds, ratios, times)
    write_json(out_dir / FINDINGS_FILE, {"shrunk": shrunk, "findings": findings[:200], "total": len(findings)})
    meta.update(
        finished=datetime.now(UTC).isoformat(),
        status=status,
        seconds=round(seconds, 3),
        counts=_count_summary(result),
        throughput={
            "expressions_per_second": round(expressions / seconds, 2) if seconds > 0 else None,
            "jobs": jobs,
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
    )
    write_json(out_dir / RUN_FILE, meta)
    return result


def _count_summary(result: CampaignResult) -> dict[str, Any]:
    c = result.counts
    ratios = sorted(result.ratios)
    return {
        "expressions": result.expressions,
        "points": c["points"],
        "records": result.records,
        "discards": {r: c[f"discard_{r}"] for r in ("undefined", "near_kink", "non_finite")},
        "unsamplable": c["unsamplable"],
        "unsupported_expressions": c["unsupported_expressions"],
        "timeouts": c["timeouts"],
        "findings": dict(Counter(f["kind"] for f in result.findings)),
        "rule_bugs": sum(1 for f in result.findings if f["kind"] == "rule_bug"),
        "oracle_checks": c["oracle_checks"],
        "oracle_mismatches": c["oracle_mismatches"],
        "f64_error_over_bound": {
            "median": ratios[len(ratios) // 2] if ratios else None,
            "max": ratios[-1] if ratios else None,
        },
        "verdicts": {k[len("verdict_") :]: v for k, v in sorted(c.items()) if k.startswith("verdict_")},
        "seconds_by_stage": {k: round(v, 3) for k, v in sorted(result.times.items())},
    }


def _shrink_all(config: CampaignConfig, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    engine, _ = _engines(config.engine)
    seen: set[str] = set()
    shrunk: list[dict[str, Any]] = []
    # one shrink per kind of bug; the float64 engine's is what a user reproduces
    for f in sorted(findings, key=lambda f: f["method"] != "engine_f64"):
        if f["kind"] not in BUG_VERDICTS or f["kind"] in seen or len(shrunk) >= config.max_shrinks:
            continue
        seen.add(f["kind"])
        try:
            found = shrink_finding(config, f)
            if found is not None:
                shrunk.append(_describe_shrunk(config, engine, f, *found))
        except Exception:  # the report must survive a failure to shrink
            shrunk.append({"kind": f["kind"], "method": f["method"], "error": traceback.format_exc(limit=3)})
    return shrunk


def _describe_shrunk(
    config: CampaignConfig, engine: Engine, finding: dict[str, Any], tree: Expr, point: tuple[float, ...], k: int
) -> dict[str, Any]:
    resolve = getattr(engine, "resolve", get_op)
    ref = Reference(tree, config.n_vars, resolve=resolve, symbolic="sympy")
    certified = ref.certify(point, cap_bits=config.cap_bits)
    ev = engine.evaluate(tree, point)
    return {
        "kind": finding["kind"],
        "method": finding["method"],
        "expr": to_source(tree, resolve=resolve),
        "sympy_expr": str(ref.sympy_form()),
        "size": size(tree),
        "depth": depth(tree),
        "point": list(point),
        "variable": k,
        "engine_value": _float(ev.value) if ev.ok else None,
        "engine_grad": _float(ev.grads[k]) if ev.ok and ev.grads is not None else None,
        "engine_error": ev.error,
        "true_value": certified.value if certified is not None else None,
        "true_grad": certified.grads[k] if certified is not None else None,
        "reproduction": reproduction(engine, tree, point, config.plugins),
    }
