"""``gradproof mutate``: how many wrong rules and engine faults each detection method kills.

Exit status 0 when every mutant not proven equivalent is killed by some
chosen method, 1 when one survives, 2 for bad usage, 130 when interrupted
(what finished is kept on disk).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gradproof.paths import make_output_dir
from runstore.records import RUN_FILE
from verification.detection import ENGINE_TARGET, METHODS
from verification.errors import UsageError

if TYPE_CHECKING:
    from verification.mutate import MutationResult

NAME = "mutate"
HELP = "run wrong variants of every rule and of the engine through each detection method"

EPILOG = """\
exit status:
  0    every mutant not proven equivalent is killed by some chosen method
  1    a mutant survives every chosen method
  2    bad usage: unknown op or method, bad option value
  130  interrupted (what finished is kept in the run directory)
  141  the reader of the output went away (e.g. piped into head)
"""

DEFAULT_EXAMPLES = 200
DEFAULT_RUNS_DIR = "gradproof-runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ops", help=f"comma-separated ops whose rules to mutate, {ENGINE_TARGET!r} for the engine faults (all)"
    )
    parser.add_argument("--methods", help=f"comma-separated detection methods ({','.join(METHODS)})")
    parser.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"expressions per mutant for the sampling methods ({DEFAULT_EXAMPLES})",
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--out", metavar="DIR", help=f"run directory (default ./{DEFAULT_RUNS_DIR}/mutate-<UTC time>)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the expressions (0)")


def _names(arg: str | None, what: str) -> tuple[str, ...] | None:
    if arg is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in arg.split(",") if n.strip()))
    if not names:
        raise UsageError(f"--{what} names nothing")
    return names


def _out_dir(arg: str | None) -> Path:
    if arg is not None:
        path = Path(arg)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = Path(DEFAULT_RUNS_DIR) / f"mutate-{stamp}"
    if (path / RUN_FILE).exists():
        raise UsageError(f"{str(path)!r} already holds a run; choose another --out")
    return make_output_dir(path)


def _size(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:g}"


def _print_summary(result: MutationResult) -> None:
    s = result.summary
    header = f"{'method':<12}{'mutants':>8}{'killed':>8}{'score':>9}"
    print(f"{header}  {'smallest size killed':>21}  {'largest missed':>15}")
    for method, m in s["per_method"].items():
        print(
            f"{method:<12}{m['mutants']:>8}{m['killed']:>8}{m['score']:>9.1%}  "
            f"{_size(m['smallest_size_killed']):>21}  {_size(m['largest_size_missed']):>15}"
        )
    print(f"{'any method':<12}{s['scored']:>8}{s['killed_by_any_method']:>8}{s['score_any_method']:>9.1%}")
    print("relative perturbations d*(1+eps) killed, per eps:")
    for size, per in s["relative_by_size"].items():
        print(f"  {size:<8}" + "  ".join(f"{m} {n}/{t}" for m, (n, t) in per.items()))
    for method, names in result.not_applicable.items():
        if names:
            print(f"not applicable to {method}: {', '.join(names)}")
    print(f"equivalent (proven, excluded from the score): {s['equivalent']}")
    for name, reason in s["equivalent_mutants"].items():
        print(f"  {name}: {reason}")
    if s["equivalent_killed"]:
        print(f"FALSE ALARMS: equivalent mutants killed: {', '.join(s['equivalent_killed'])}")
    print(f"gradcheck false alarms on the correct engine (never counted as kills): {s['gradcheck_false_alarms']}")
    survivors = s["survivors"]
    print(f"SURVIVORS: {', '.join(survivors)}" if survivors else "survivors: none")
    print(f"{len(result.results)} mutants in {result.seconds:.1f} s; table: {result.out_dir / 'mutants.csv'}")


def run(args: argparse.Namespace) -> int:
    from verification.mutate import MutateConfig, run_mutation, select_mutants

    if args.examples < 1:
        raise UsageError(f"--examples must be at least 1, got {args.examples}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    methods = _names(args.methods, "methods") or METHODS
    config = MutateConfig(ops=_names(args.ops, "ops"), methods=methods, examples=args.examples, seed=args.seed)
    count = len(select_mutants(config.ops))  # an unknown op is a usage error before anything is written
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    out = _out_dir(args.out)
    print(f"gradproof mutate: {count} mutants x {len(methods)} method(s), {jobs} job(s) -> {out}")
    result = run_mutation(config, out, jobs=jobs, progress=args.progress, progress_interval=args.progress_interval)
    _print_summary(result)
    if result.status == "interrupted":
        print(f"gradproof mutate: interrupted; kept {len(result.results)} mutants in {out}", file=sys.stderr)
        return 130
    return 1 if result.survivors else 0
