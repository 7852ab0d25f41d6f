"""``gradproof verify``: cross-check an engine's gradients over generated expressions.

Exit status 0 when no bug was found, 1 when one was, 2 for bad usage, 130
when interrupted (what finished is kept on disk).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from autodiff import AutodiffError, Op, get_op, op_names
from runstore import PER_OP, RunDir, RunKind, Status, claim_new, read_meta
from verification.errors import UsageError
from verification.executors import add_executor_arguments, executor_from_args
from verification.frameworks.verify import add_custom_arguments, check_customs, prepare_custom
from verification.reference_options import SYMBOLIC_BACKENDS

if TYPE_CHECKING:
    from verification.campaign import CampaignConfig, CampaignResult
    from verification.engine_api import Engine
    from verification.parallel import Executor
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
  0    no wrong or broken defect, and something was judged
  1    a wrong or broken defect (--strict: also inaccurate or fragile), nothing
       judged, an op given with --ops never judged, or the --custom op is wrong or broken
  2    bad usage: unknown op, engine or plugin that fails to load, bad option value
  130  interrupted (what finished is kept in the run directory)
  141  the reader of the output went away (e.g. piped into head)
"""

DEFAULT_EXAMPLES = 7000
DEFAULT_RUNS_DIR = "gradproof-runs"
PER_OP_FILE = PER_OP.path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ops", help="comma-separated ops the expressions use (default: all the engine supports)")
    parser.add_argument(
        "--examples",
        type=int,
        default=None,
        help=f"expressions to generate ({DEFAULT_EXAMPLES}; 200 with --order 2)",
    )
    parser.add_argument(
        "--order", type=int, choices=(1, 2), default=1, help="1: reverse-mode gradients (default); 2: see --modes"
    )
    parser.add_argument(
        "--modes",
        metavar="LIST",
        help="with --order 2: rev (Hessian, reverse over reverse), fwd (JVP), hvp (H v both ways); default all",
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
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted or killed campaign in RUN_DIR with the options it was started with",
    )
    add_executor_arguments(parser)
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
        "--eval-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="a foreign engine that takes longer for one expression is hanging: a broken defect (5)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also exit 1 on inaccurate and fragile defects (by default only wrong and broken ones fail)",
    )
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
    """The run directory: ``--out``, or a new ``gradproof-runs/<UTC time>`` claimed atomically."""
    if arg is not None:
        return Path(arg)
    return claim_new(Path(DEFAULT_RUNS_DIR), datetime.now(UTC).strftime("%Y%m%d-%H%M%S"))


def _ops(arg: str | None, engine: Engine) -> tuple[str, ...] | None:
    if arg is None:
        return None
    names = tuple(n.strip() for n in arg.split(",") if n.strip())
    if not names:
        raise UsageError("--ops names no op")
    supported = engine.supported_ops()
    probe = getattr(engine, "probe", None)
    status = {r.op: r.status for r in probe.results if all(r.shape) and r.status != "missing"} if probe else {}
    for name in names:
        try:
            get_op(name)
        except AutodiffError as exc:
            raise UsageError(str(exc)) from None
        if name not in supported and name not in status:
            raise UsageError(f"engine {engine.name} does not support op {name!r}")
    left_out = [n for n in names if n not in supported]
    if left_out:
        shown = ", ".join(f"{n} ({status[n]})" for n in left_out)
        print(f"left out of the campaign, as probing judged them (see the defects): {shown}")
        names = tuple(n for n in names if n in supported)
        if not names:
            raise UsageError(f"every op of --ops failed probing on {engine.name}: {shown}")
    return names


def _config(args: argparse.Namespace, ops: tuple[str, ...] | None, plugins: tuple[str, ...]) -> CampaignConfig:
    from verification.campaign import CampaignConfig

    return CampaignConfig(
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
        eval_timeout=args.eval_timeout,
        # every defect is shrunk by localisation; replaying chunks under Hypothesis's shrinker as well
        # costs about 650 MB and a minute on a 150-expression foreign run, for findings the defects already show
        max_shrinks=0,
    )


def _resumed_config(args: argparse.Namespace) -> CampaignConfig:
    from verification.campaign import config_from_options

    if args.out is not None or args.per_op:
        raise UsageError("--resume continues the run in RUN_DIR with its own options; drop --out and --per-op")
    path = Path(args.resume)
    if not path.is_dir():
        raise UsageError(f"{str(path)!r} is not a directory" if path.exists() else f"{path}: no such directory")
    meta = read_meta(path)
    if meta.get("kind", "campaign") != "campaign":
        raise UsageError(f"{path} holds a {meta.get('kind')} run; only campaigns resume")
    return config_from_options(meta.get("options", {}))


def _check_order(args: argparse.Namespace) -> None:
    """``--examples`` (defaulted by order), ``--order`` and ``--modes`` fit together."""
    args.examples_given = args.examples is not None
    if args.examples is None:
        args.examples = DEFAULT_EXAMPLES
    _at_least("--examples", args.examples, 1)
    if args.order == 2 and (args.per_op or args.resume is not None):
        raise UsageError("--per-op and --resume are for first-order runs; drop --order 2")
    if args.modes is not None and args.order != 2:
        raise UsageError("--modes needs --order 2 (order 1 checks reverse-mode gradients)")


def run(args: argparse.Namespace) -> int:
    from verification.campaign import campaign_meta, run_campaign
    from verification.engine_spec import resolve_engine
    from verification.plugins import load_plugins

    _check_order(args)
    _at_least("--max-depth", args.max_depth, 1)
    _at_least("--vars", args.vars, 1)
    _at_least("--points", args.points, 1)
    _at_least("--per-op-points", args.per_op_points, 1)
    if not args.eval_timeout > 0:
        raise UsageError(f"--eval-timeout must be a positive number of seconds, got {args.eval_timeout}")
    jobs = _at_least("--jobs", args.jobs, 1) if args.jobs is not None else (os.cpu_count() or 1)
    resumed = _resumed_config(args) if args.resume is not None else None
    plugins = resumed.plugins if resumed is not None else tuple(args.plugin)
    load_plugins(plugins)
    prepare_custom(args)
    engine_spec = resumed.engine if resumed is not None else args.engine
    engine = resolve_engine(engine_spec)
    ops = resumed.ops if resumed is not None else _ops(args.ops, engine)
    if args.order == 2:
        from gradproof.verify_order2 import parse_modes, run_order2

        parse_modes(args.modes)  # a bad list is a usage error before anything is written
        return run_order2(args, engine, ops, _out_dir(args.out))
    if not getattr(engine, "fork_safe", True) and jobs > 1:
        print(f"{engine.name} cannot run in forked worker processes (its runtime is multithreaded): one process")
        jobs = 1
    with executor_from_args(args, jobs, plugins=plugins, engine=engine_spec) as executor:
        if args.per_op:
            return _per_op(args, engine, ops, _out_dir(args.out), jobs, executor)
        config = resumed if resumed is not None else _config(args, ops, plugins)
        if resumed is not None:
            out = Path(args.resume)
            run_dir = RunDir.resume(out, RunKind.CAMPAIGN)
        else:
            out = _out_dir(args.out)
            run_dir = RunDir.create(out, RunKind.CAMPAIGN, campaign_meta(config, jobs))
        print(
            f"gradproof verify: {config.examples} expressions on engine {engine.name}, {executor.describe()} -> {out}"
        )
        if resumed is not None:
            print(f"resuming: {len(run_dir.chunks)} of {config.chunk_count} chunks already done")
        probe = getattr(engine, "probe", None)
        if probe is not None:  # a foreign engine: say what probing found
            print(probe.describe())
        custom_status = check_customs(engine, run_dir, points=args.custom_points, seed=args.seed)
        result = run_campaign(
            config,
            run_dir,
            jobs=jobs,
            executor=executor,
            progress=args.progress,
            progress_interval=args.progress_interval,
        )
    _summary(result, executor.describe())
    if args.report:
        from reports import build_report

        report = build_report(out)
        print(f"report: {report.out_dir / 'report.html'} (and report.md, CSV tables)")
    if result.status == "interrupted":
        print(
            f"gradproof verify: interrupted; kept {result.expressions} expressions ({result.records} records) "
            f"in {out}; continue with: gradproof verify --resume {out}",
            file=sys.stderr,
        )
        return 130
    verdict = result.verdict
    status = verdict.exit_status(strict=args.strict) if verdict is not None else (1 if result.bug_counts else 0)
    return max(status, custom_status)


def _summary(result: CampaignResult, where: str) -> None:
    c = result.counts
    rate = (result.expressions - result.resumed) / result.seconds if result.seconds > 0 else 0.0
    print(
        f"{result.expressions} expressions, {c['points']} points, {result.records} records in "
        f"{result.seconds:.1f} s ({rate:.0f} expressions/s on {where})"
    )
    print(
        f"discarded points: {c['discard_undefined']} undefined, {c['discard_near_kink']} near a kink, "
        f"{c['discard_non_finite']} non-finite; unsamplable: {c['unsamplable']}"
    )
    if c["timeouts"]:
        print(f"{c['timeouts']} expression(s) exceeded the time limit and were skipped")
    ratios = result.ratios
    median = ratios.median()
    if median is not None:
        sample = f" (median of a sample of {len(ratios.values)})" if ratios.sampled else ""
        print(
            f"float64 engine error / bound: median {median:.3g}, max {ratios.maximum:.3g} (a rule bug is > 1){sample}"
        )
    if c["oracle_mismatches"]:
        print(f"symbolic derivative disagreed with mpmath.diff at {c['oracle_mismatches']} point(s)")
    verdict = result.verdict
    if verdict is not None:
        if verdict.unjudged_records:
            print(f"unjudged: {verdict.unjudged_records} record(s) of the float64 engine could not be judged")
        if verdict.unjudged_ops:
            print(
                f"never judged (every point of every expression using them was discarded): "
                f"{', '.join(verdict.unjudged_ops)}"
            )
        from verification.defects import format_defects

        print(format_defects(verdict.defects))
        print(verdict.headline())
    print(
        f"records: {result.out_dir / 'records'} (Parquet; CSV with: gradproof export {result.out_dir} --csv); "
        f"findings: {result.out_dir / 'findings.json'}"
    )


def _sweep_task(task: tuple[str, int, int]) -> list[OpAccuracy]:
    from verification.sweep import sweep_op

    name, points, seed = task
    return sweep_op(get_op(name), points=points, seed=seed)


def _per_op(
    args: argparse.Namespace, engine: Engine, ops: tuple[str, ...] | None, out: Path, jobs: int, executor: Executor
) -> int:
    from verification.sweep import MAX_TARGET, MEDIAN_TARGET
    from verification.versions import versions

    if args.engine not in ("gradproof", "builtin"):
        raise UsageError("--per-op measures the built-in engine's ops; drop --engine")
    names = ops if ops is not None else op_names()
    ops_list: list[Op] = [get_op(n) for n in names]
    order = {op.name: i for i, op in enumerate(ops_list)}
    meta = {
        "engine": engine.name,
        "versions": versions(),
        "seed": args.seed,
        "options": {"ops": list(names), "points": args.per_op_points, "jobs": jobs},
        "targets": {"median_ulp": MEDIAN_TARGET, "max_ulp": MAX_TARGET},
    }
    with RunDir.create(out, RunKind.PER_OP, meta) as run_dir:
        t0 = time.perf_counter()
        tasks = ((op.name, args.per_op_points, args.seed) for op in ops_list)
        print(
            f"gradproof verify --per-op: {len(ops_list)} ops x {args.per_op_points} points, "
            f"{executor.describe()} -> {out}"
        )
        results: list[OpAccuracy] = []
        for found in executor.map_unordered(_sweep_task, tasks, count=len(ops_list)):
            results.extend(found)
            results.sort(key=lambda r: (order[r.op], r.input))
            run_dir.write_table(PER_OP, [r.row() for r in results])
        seconds = time.perf_counter() - t0
        failing = [r for r in results if not r.meets_target]
        run_dir.finish(Status.FINISHED, seconds=round(seconds, 3), failing=[f"{r.op}[{r.input}]" for r in failing])
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
