"""``gradproof verify``: cross-check an engine's gradients over generated expressions.

Exit status 0 when no bug was found, 1 when one was, 2 for bad usage, 130
when interrupted (what finished is kept on disk).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from autodiff import AutodiffError, Op, get_op, op_names
from gradproof.paths import make_output_dir
from runstore.records import PER_OP_FILE, RUN_FILE, versions, write_json
from verification.errors import UsageError
from verification.frameworks.verify import add_custom_arguments, check_customs, prepare_custom
from verification.reference_options import SYMBOLIC_BACKENDS

if TYPE_CHECKING:
    from verification.campaign import CampaignResult
    from verification.engines import Engine
    from verification.sweep import OpAccuracy

NAME = "verify"
HELP = "cross-check gradients over generated expressions against certified references"

EPILOG = """\
engine under test (--engine SPEC):
  gradproof, builtin       the built-in engine (default)
  torch                    PyTorch, float64 (needs pip install '.[torch]')
  jax, autograd, tinygrad  JAX, HIPS autograd, tinygrad, float64 (pip install '.[jax]' ...)
  MODULE:CLASS             a micrograd-like Value class importable as MODULE
  path/to/file.py:CLASS    a Value class in a Python file
  mutant:NAME              the built-in engine with one mutant (see gradproof mutate)

exit status:
  0    no bug found
  1    a rule bug, value bug or exception mismatch was found, or the --custom op is wrong or broken
  2    bad usage: unknown op, engine or plugin that fails to load, bad option value
  130  interrupted (what finished is kept in the run directory)
  141  the reader of the output went away (e.g. piped into head)
"""

DEFAULT_EXAMPLES = 7000
DEFAULT_RUNS_DIR = "gradproof-runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ops", help="comma-separated ops the expressions use (default: all the engine supports)")
    parser.add_argument(
        "--examples", type=int, default=DEFAULT_EXAMPLES, help=f"expressions to generate ({DEFAULT_EXAMPLES})"
    )
    parser.add_argument("--max-depth", type=int, default=4, help="ops on the longest root-to-leaf path (4)")
    parser.add_argument("--vars", type=int, default=2, help="number of variables x0, x1, ... (2)")
    parser.add_argument("--points", type=int, default=3, help="points checked per expression (3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the campaign (0)")
    parser.add_argument(
        "--plugin", action="append", default=[], metavar="MODULE", help="module or .py file declaring ops; repeatable"
    )
    parser.add_argument("--engine", default="gradproof", metavar="SPEC", help="engine under test (gradproof)")
    parser.add_argument("--out", metavar="DIR", help=f"run directory (default ./{DEFAULT_RUNS_DIR}/<UTC time>)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument(
        "--symbolic",
        choices=SYMBOLIC_BACKENDS,
        default="symengine",
        help="differentiator for the references: symengine (fast, default) or sympy (reference of record)",
    )
    parser.add_argument(
        "--per-op",
        action="store_true",
        help="instead of a campaign, sweep each op alone over float64 bit patterns and report ULP errors",
    )
    parser.add_argument("--per-op-points", type=int, default=10_000, help="points per op for --per-op (10000)")
    parser.add_argument(
        "--report",
        action="store_true",
        help="write the accuracy report (Markdown, HTML, CSV) into RUN_DIR/report when the campaign ends",
    )
    add_custom_arguments(parser)


def _at_least(name: str, value: int, lowest: int) -> int:
    if value < lowest:
        raise UsageError(f"{name} must be at least {lowest}, got {value}")
    return value


def _out_dir(arg: str | None) -> Path:
    if arg is not None:
        path = Path(arg)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = Path(DEFAULT_RUNS_DIR) / stamp
        n = 1
        while path.exists():
            n += 1
            path = Path(DEFAULT_RUNS_DIR) / f"{stamp}-{n}"
    make_output_dir(path)
    if (path / RUN_FILE).exists():
        raise UsageError(f"{str(path)!r} already holds a run; choose another --out")
    return path


def _ops(arg: str | None, engine: Engine) -> tuple[str, ...] | None:
    if arg is None:
        return None
    names = tuple(n.strip() for n in arg.split(",") if n.strip())
    if not names:
        raise UsageError("--ops names no op")
    supported = engine.supported_ops()
    for name in names:
        try:
            get_op(name)
        except AutodiffError as exc:
            raise UsageError(str(exc)) from None
        if name not in supported:
            raise UsageError(f"engine {engine.name} does not support op {name!r}")
    return names


def run(args: argparse.Namespace) -> int:
    from verification.campaign import CampaignConfig, run_campaign
    from verification.engines import resolve_engine
    from verification.plugins import load_plugins

    _at_least("--examples", args.examples, 1)
    _at_least("--max-depth", args.max_depth, 1)
    _at_least("--vars", args.vars, 1)
    _at_least("--points", args.points, 1)
    _at_least("--per-op-points", args.per_op_points, 1)
    jobs = _at_least("--jobs", args.jobs, 1) if args.jobs is not None else (os.cpu_count() or 1)
    plugins = tuple(args.plugin)
    load_plugins(plugins)
    prepare_custom(args)
    engine = resolve_engine(args.engine)
    ops = _ops(args.ops, engine)
    out = _out_dir(args.out)
    if not getattr(engine, "fork_safe", True) and jobs > 1:
        print(f"{engine.name} cannot run in forked worker processes (its runtime is multithreaded): one process")
        jobs = 1
    if args.per_op:
        return _per_op(args, engine, ops, out, jobs)
    config = CampaignConfig(
        examples=args.examples,
        ops=ops,
        max_depth=args.max_depth,
        n_vars=args.vars,
        seed=args.seed,
        points=args.points,
        candidates=2 * args.points,
        engine=args.engine,
        plugins=plugins,
        symbolic=args.symbolic,
    )
    print(f"gradproof verify: {config.examples} expressions on engine {engine.name}, {jobs} job(s) -> {out}")
    probe = getattr(engine, "probe", None)
    if probe is not None:  # a foreign engine: say what probing found
        print(probe.describe())
    custom_status = check_customs(engine, out, points=args.custom_points, seed=args.seed)
    result = run_campaign(config, out, jobs=jobs, progress=args.progress, progress_interval=args.progress_interval)
    _summary(result, jobs)
    if args.report:
        from reports import build_report

        report = build_report(out)
        print(f"report: {report.out_dir / 'report.html'} (and report.md, CSV tables)")
    if result.status == "interrupted":
        print(
            f"gradproof verify: interrupted; kept {result.expressions} expressions ({result.records} records) in {out}",
            file=sys.stderr,
        )
        return 130
    return 1 if result.bugs or custom_status else 0


def _summary(result: CampaignResult, jobs: int) -> None:
    c = result.counts
    rate = result.expressions / result.seconds if result.seconds > 0 else 0.0
    print(
        f"{result.expressions} expressions, {c['points']} points, {result.records} records in "
        f"{result.seconds:.1f} s ({rate:.0f} expressions/s on {jobs} job(s))"
    )
    print(
        f"discarded points: {c['discard_undefined']} undefined, {c['discard_near_kink']} near a kink, "
        f"{c['discard_non_finite']} non-finite; unsamplable: {c['unsamplable']}"
    )
    if c["timeouts"]:
        print(f"{c['timeouts']} expression(s) exceeded the time limit and were skipped")
    ratios = sorted(result.ratios)
    if ratios:
        print(
            f"float64 engine error / bound: median {ratios[len(ratios) // 2]:.3g}, max {ratios[-1]:.3g} "
            "(a rule bug is > 1)"
        )
    if c["oracle_mismatches"]:
        print(f"symbolic derivative disagreed with mpmath.diff at {c['oracle_mismatches']} point(s)")
    bugs = result.bugs
    if not bugs:
        print("no rule bug found")
    else:
        kinds: dict[str, int] = {}
        for f in bugs:
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        print("FOUND " + ", ".join(f"{n} {k.replace('_', ' ')}(s)" for k, n in sorted(kinds.items())))
        for s in result.shrunk:
            if "error" in s:
                print(f"  could not shrink a {s['kind']} ({s['method']})")
                continue
            print(f"  {s['kind']} ({s['method']}): {s['sympy_expr']} at {s['point']}, d/dx{s['variable']}:")
            print(f"    engine {s['engine_grad'] if s['engine_error'] is None else s['engine_error']}")
            print(f"    truth  {s['true_grad']}")
            print("    reproduce with:")
            for line in s["reproduction"].splitlines():
                print(f"      {line}")
    print(f"records: {result.out_dir / 'records.csv'}; findings: {result.out_dir / 'findings.json'}")


def _sweep_task(task: tuple[str, int, int]) -> list[OpAccuracy]:
    from verification.sweep import sweep_op

    name, points, seed = task
    return sweep_op(get_op(name), points=points, seed=seed)


def _per_op(args: argparse.Namespace, engine: Engine, ops: tuple[str, ...] | None, out: Path, jobs: int) -> int:
    from verification.parallel import ordered_map
    from verification.sweep import MAX_TARGET, MEDIAN_TARGET, PER_OP_COLUMNS

    if args.engine not in ("gradproof", "builtin"):
        raise UsageError("--per-op measures the built-in engine's ops; drop --engine")
    names = ops if ops is not None else op_names()
    ops_list: list[Op] = [get_op(n) for n in names]
    t0 = time.perf_counter()
    tasks = [(op.name, args.per_op_points, args.seed) for op in ops_list]
    print(f"gradproof verify --per-op: {len(tasks)} ops x {args.per_op_points} points, {jobs} job(s) -> {out}")
    per_op = ordered_map(_sweep_task, tasks, jobs=min(jobs, len(tasks)), plugins=tuple(args.plugin))
    results = [r for rs in per_op for r in rs]
    seconds = time.perf_counter() - t0
    with open(out / PER_OP_FILE, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(PER_OP_COLUMNS))
        writer.writeheader()
        writer.writerows(r.row() for r in results)
    failing = [r for r in results if not r.meets_target]
    meta = {
        "run_id": out.name,
        "kind": "per_op",
        "engine": engine.name,
        "seed": args.seed,
        "options": {"ops": list(names), "points": args.per_op_points, "jobs": jobs},
        "targets": {"median_ulp": MEDIAN_TARGET, "max_ulp": MAX_TARGET},
        "seconds": round(seconds, 3),
        "status": "finished",
        "failing": [f"{r.op}[{r.input}]" for r in failing],
    }
    write_json(out / RUN_FILE, {**meta, "versions": versions()})
    print(f"{'op':<12}{'input':>6}{'points':>8}{'skipped':>9}{'median':>8}{'p99':>6}{'max':>6}  target")
    for r in results:
        print(
            f"{r.op:<12}{r.input:>6}{r.points:>8}{r.skipped:>9}{r.median_ulp:>8g}{r.p99_ulp:>6g}{r.max_ulp:>6g}  "
            f"{'ok' if r.meets_target else 'MISSED'}"
        )
    med = statistics.median(r.median_ulp for r in results) if results else 0.0
    print(
        f"{len(results) - len(failing)}/{len(results)} partials within {MEDIAN_TARGET:g} ULP median and "
        f"{MAX_TARGET:g} ULPs max (median of medians {med:g}); {seconds:.1f} s; table: {out / PER_OP_FILE}"
    )
    return 1 if failing else 0
