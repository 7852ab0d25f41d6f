"""``gradproof verify`` for users' framework ops: ``--custom``, ``--spec``, ``--domain``, and the per-op check report.

``--custom module:function --spec FORMULA`` registers the function as an op of
the ``--engine`` framework (see :mod:`verification.frameworks.custom`); before
the campaign, every custom op of that framework (from ``--custom`` or from a
plugin's ``custom_op``) is checked alone (:mod:`verification.frameworks.check`):
its ULP table is printed, its findings written to ``custom_ops.json``, and a
``wrong`` or ``broken`` op makes the command exit 1. The campaign then mixes it
with the framework's built-in ops.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from verification.errors import UsageError
from verification.frameworks.custom import FRAMEWORKS

if TYPE_CHECKING:
    from autodiff import Op
    from runstore import RunDir
    from verification.frameworks.check import OpCheck

__all__ = ["CUSTOM_FILE", "add_custom_arguments", "prepare_custom", "check_customs", "print_check"]

CUSTOM_FILE = "custom_ops.json"


def add_custom_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``verify`` for a user's framework op."""
    parser.add_argument(
        "--custom",
        metavar="MODULE:FUNCTION",
        help="your framework op (module:function or path/file.py:function; a torch.autograd.Function class, "
        "a jax.custom_vjp/custom_jvp function ...) to verify on --engine against --spec",
    )
    parser.add_argument("--spec", metavar="FORMULA", help='what --custom computes, in sympy, e.g. "log(1 + exp(x))"')
    parser.add_argument(
        "--domain",
        metavar="RANGE",
        help="where --custom is defined when not on all reals, e.g. 'x > 0' or '-1 < x < 1'",
    )
    parser.add_argument(
        "--custom-points", type=int, default=1000, help="random float64 bit patterns per custom op check (1000)"
    )


def prepare_custom(args: argparse.Namespace) -> Op | None:
    """Register ``--custom`` (before the engine is built, so that the engine runs it); None without it."""
    if args.custom is None:
        if args.spec is not None or args.domain is not None:
            raise UsageError("--spec and --domain describe a --custom op; give --custom too")
        return None
    if args.spec is None:
        raise UsageError("--custom needs --spec: the formula the op computes, e.g. --spec 'log(1 + exp(x))'")
    if args.engine not in FRAMEWORKS:
        raise UsageError(f"--custom runs on a framework engine: --engine {' | '.join(FRAMEWORKS)}")
    if args.custom_points < 1:
        raise UsageError(f"--custom-points must be at least 1, got {args.custom_points}")
    from verification.frameworks.custom import load_custom
    from verification.frameworks.specop import parse_domain

    return load_custom(args.custom, spec=args.spec, framework=args.engine, domain=parse_domain(args.domain))


def check_customs(engine: Any, run: RunDir, *, points: int, seed: int) -> int:
    """Check every custom op ``engine`` runs; print each, write ``custom_ops.json``; 1 when one is wrong or broken."""
    from verification.frameworks.base import OpForms
    from verification.frameworks.check import OpCheck, check_op

    forms = getattr(engine, "forms", None)
    customs = forms.customs() if isinstance(forms, OpForms) else ()
    if not customs:
        return 0
    checks: list[OpCheck] = []
    for custom in customs:
        if custom.name not in engine.supported_ops():
            reason = engine.probe.unsupported.get(custom.name, "probing failed")
            print(f"custom op {custom.name} ({custom.origin}) is BROKEN: it does not run on {engine.name}: {reason}")
            checks.append(OpCheck(custom.name, engine.name, []))
            continue
        check = check_op(custom.op, engine, points=points, seed=seed)
        print_check(check, custom.origin)
        checks.append(check)
    run.write_json(CUSTOM_FILE, [_record(c) for c in checks])
    return 0 if all(c.ok for c in checks) else 1


def print_check(check: OpCheck, origin: str) -> None:
    """The check of one op, as lines a user reads."""
    from verification.frameworks.check import MAX_HANGS

    print(
        f"custom op {check.op} ({origin}) on {check.engine}: {check.judged} points judged, "
        f"{check.skipped} where the truth is not a finite float, {check.unsamplable} unsamplable"
        + (f", {check.flushed_inputs} subnormal inputs left out (flushed to 0)" if check.flushed_inputs else "")
        + (f"; stopped after {check.hangs} points without an answer in time" if check.hangs >= MAX_HANGS else "")
    )
    print(f"  {'input':>5}{'points':>8}{'median':>10}{'p99':>10}{'max ULPs':>12}  worst at")
    for a in check.accuracy:
        print(f"  {a.input:>5}{a.points:>8}{a.median_ulp:>10.3g}{a.p99_ulp:>10.3g}{a.max_ulp:>12.3g}  {a.worst_point}")
    if check.certified:
        print("  verdict: no defect: every gradient within the float64 rounding bound of the certified truth")
        return
    if not check.judged:
        print("  verdict: BROKEN: nothing could be judged")
        return
    counts = ", ".join(f"{n} {k}" for k, n in sorted(check.severities().items()))
    worst = next(s for s in ("wrong", "broken", "inaccurate", "fragile") if s in check.severities())
    print(f"  verdict: {worst.upper()} ({counts} point(s))")
    for line in check.kink_findings:
        print(f"    {line}")
    for finding, repro in zip(check.shrunk, check.reproductions):
        print(f"    shrunk: {finding.describe()}")
        print("    reproduce with:")
        for line in repro.splitlines():
            print(f"      {line}")


def _record(check: OpCheck) -> dict[str, Any]:
    return {
        "op": check.op,
        "engine": check.engine,
        "ok": check.ok,
        "judged": check.judged,
        "skipped": check.skipped,
        "unsamplable": check.unsamplable,
        "flushed_inputs": check.flushed_inputs,
        "hangs": check.hangs,
        "severities": check.severities(),
        "accuracy": [asdict(a.row()) for a in check.accuracy],
        "kink_findings": check.kink_findings,
        "shrunk": [asdict(f) for f in check.shrunk],
        "reproductions": check.reproductions,
        "findings": [asdict(f) for f in check.findings[:100]],
    }
