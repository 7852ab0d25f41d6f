"""``gradproof prove``: prove every backward rule (or the named ones) with sympy.

Exit status: 0 when every rule and forward is proven, 1 when any is refuted,
3 when none is refuted but some are undecided, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import TYPE_CHECKING

from autodiff import Op, UnknownOpError, all_ops, get_op
from verification.errors import UsageError

if TYPE_CHECKING:
    from verification.prove import OpProof, PartialProof, Verdict

NAME = "prove"
HELP = "prove every op's backward rule against sympy.diff of its definition"

EPILOG = """\
exit status:
  0    every rule and forward proven
  1    some rule or forward refuted (a counterexample is shown)
  2    bad usage: unknown op, plugin that fails to load, bad option value
  3    none refuted but some undecided
  141  the reader of the output went away (e.g. piped into head)
"""

EXIT_PROVEN = 0
EXIT_REFUTED = 1
EXIT_UNDECIDED = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ops", nargs="*", metavar="OP", help="ops to prove (default: every registered op)")
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module (name or .py path) that declares ops; repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time one simplification attempt may take (default: the prover's DEFAULT_BUDGET)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="random points per region in the search for a counterexample (default: the prover's DEFAULT_SAMPLES)",
    )


def _select(names: list[str]) -> list[Op]:
    if not names:
        return list(all_ops())
    selected = []
    for name in names:
        try:
            selected.append(get_op(name))
        except UnknownOpError as exc:
            raise UsageError(str(exc)) from None
    return selected


def _detail(p: PartialProof) -> str:
    failure = p.failure
    if failure is not None:
        return failure.describe()
    regions = f"{len(p.checks)} region{'s' if len(p.checks) != 1 else ''}"
    kinks = "".join(f"; kink {k.at}: rule {k.convention.candidate}, in [{k.left}, {k.right}]" for k in p.kinks)
    return regions + kinks


def _line(op: str, what: str, verdict: Verdict, seconds: float, detail: str) -> str:
    return f"{op:<12} {what:<10} {verdict:<9} {seconds:6.2f}s  {detail}"


def _print_text(proofs: list[OpProof], total: float, status: int) -> None:
    from verification.prove import Verdict

    for proof in proofs:
        for p in proof.inputs:
            print(_line(proof.op, f"d/d{p.variable}", p.verdict, p.seconds, _detail(p)))
        if proof.forward_verdict is not Verdict.PROVEN:
            failure = next(c for c in proof.forward if c.verdict is proof.forward_verdict)
            print(_line(proof.op, "forward", proof.forward_verdict, 0.0, failure.describe()))
    rules = [p.verdict for proof in proofs for p in proof.inputs]
    forwards = [proof.forward_verdict for proof in proofs]
    counts = ", ".join(f"{rules.count(v)} {v}" for v in Verdict)
    fwd = ", ".join(f"{forwards.count(v)} {v}" for v in Verdict if forwards.count(v))
    print(
        f"{len(proofs)} op(s), {len(rules)} partial(s): {counts}; "
        f"forward = definition: {fwd}; {total:.2f}s; exit {status}"
    )


def run(args: argparse.Namespace) -> int:
    from verification.plugins import load_plugins
    from verification.prove import DEFAULT_BUDGET, DEFAULT_SAMPLES, Verdict, combine, prove

    budget = DEFAULT_BUDGET if args.budget is None else args.budget
    samples = DEFAULT_SAMPLES if args.samples is None else args.samples
    if not 0 < budget < math.inf:  # the timer takes a finite number of seconds
        raise UsageError(f"--budget must be a positive finite number of seconds, got {budget}")
    if samples < 0:
        raise UsageError(f"--samples must be at least 0, got {samples}")
    load_plugins(args.plugin)
    ops = _select(args.ops)
    start = time.perf_counter()
    proofs = [prove(op, budget=budget, samples=samples) for op in ops]
    total = time.perf_counter() - start
    verdict = combine(p.verdict for p in proofs)
    status = {Verdict.PROVEN: EXIT_PROVEN, Verdict.REFUTED: EXIT_REFUTED, Verdict.UNDECIDED: EXIT_UNDECIDED}[verdict]
    if args.json:
        document = {
            "ops": [p.to_dict() for p in proofs],
            "verdict": str(verdict),
            "seconds": round(total, 3),
            "exit_status": status,
        }
        print(json.dumps(document, indent=2))
    else:
        _print_text(proofs, total, status)
    return status
