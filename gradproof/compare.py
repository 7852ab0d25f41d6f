"""``gradproof compare``: the same campaign on several engines, and one report with a row per engine."""

from __future__ import annotations

import argparse
import os

from verification.errors import UsageError

NAME = "compare"
HELP = "run one campaign on several engines (builtin, torch, jax, autograd, ...) and compare them per op"

EPILOG = """\
writes DIR/<engine>/ (a verify run directory each, plus per_op.csv) and DIR/report/engines.{md,html}

exit status:
  0    every engine's campaign finished (its findings are in the report)
  2    bad usage: fewer than two engines, an engine that does not load, an op not all engines run
  130  interrupted (the engines that finished are kept)
  141  the reader of the output went away (e.g. piped into head)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engines", required=True, metavar="A,B,...", help="comma-separated engine specs, e.g. builtin,torch,jax"
    )
    parser.add_argument("--examples", type=int, default=300, help="expressions per engine (300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the campaign, the same on every engine (0)")
    parser.add_argument("--ops", help="comma-separated ops (default: every op all the engines run)")
    parser.add_argument("--max-depth", type=int, default=4, help="ops on the longest root-to-leaf path (4)")
    parser.add_argument("--per-op-points", type=int, default=200, help="points per op of each engine's sweep (200)")
    parser.add_argument(
        "--plugin", action="append", default=[], metavar="MODULE", help="module or .py file declaring ops; repeatable"
    )
    parser.add_argument("--out", metavar="DIR", help="directory of the comparison (default ./gradproof-runs/<time>)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")


def run(args: argparse.Namespace) -> int:
    from gradproof.verify import _at_least, _out_dir
    from reports.engines import build_engines_report
    from verification.campaign_config import CampaignConfig
    from verification.frameworks.compare import run_comparison
    from verification.plugins import load_plugins

    specs = [s.strip() for s in args.engines.split(",") if s.strip()]
    _at_least("--examples", args.examples, 1)
    _at_least("--max-depth", args.max_depth, 1)
    _at_least("--per-op-points", args.per_op_points, 0)
    jobs = _at_least("--jobs", args.jobs, 1) if args.jobs is not None else (os.cpu_count() or 1)
    plugins = tuple(args.plugin)
    load_plugins(plugins)
    ops = tuple(o.strip() for o in args.ops.split(",") if o.strip()) if args.ops else None
    if ops == ():
        raise UsageError("--ops names no op")
    out = _out_dir(args.out)
    config = CampaignConfig(
        examples=args.examples, ops=ops, max_depth=args.max_depth, seed=args.seed, plugins=plugins, candidates=6
    )
    runs = run_comparison(specs, out, config=config, jobs=jobs, per_op_points=args.per_op_points)
    if any(r.status != "finished" for r in runs):
        print(f"gradproof compare: interrupted; kept the finished engines' runs in {out}")
        return 130
    report = build_engines_report([r.run_dir for r in runs], out / "report")
    print(report.summary)
    return 0
