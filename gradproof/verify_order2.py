"""``gradproof verify --order 2 --modes rev,fwd,hvp``: the second-order and forward-mode campaign.

On the built-in engine: exit status 0 when every judged entry is right and
something was judged, 1 when an entry is wrong, a method raised, or nothing
could be judged. On a foreign engine (torch, jax) findings are classified
into defects as at first order: exit 1 on a ``wrong`` or ``broken`` defect
(``--strict``: also ``inaccurate`` or ``fragile``), a finding no cause could be
given for, or when nothing was judged.
An engine without second-order support is refused with one line (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from runstore import FINDINGS_FILE, ORDER2_RECORDS_FILE, RunDir, RunKind, Status
from verification.errors import UsageError
from verification.versions import versions

if TYPE_CHECKING:
    from verification.engine_api import Engine
    from verification.second_campaign import SecondResult

DEFAULT_EXAMPLES = 200


def parse_modes(text: str | None) -> tuple[str, ...]:
    """The ``--modes`` list, checked against the modes the campaign knows."""
    from verification.second_campaign import MODES

    if text is None:
        return tuple(MODES)
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise UsageError("--modes names no mode")
    for name in names:
        if name not in MODES:
            raise UsageError(f"unknown mode {name!r} in --modes; choose from {', '.join(MODES)}")
    return names


def run_order2(args: argparse.Namespace, engine: Engine, ops: tuple[str, ...] | None, out: Path) -> int:
    """Run the order-2 campaign on the engine and print its summary."""
    from verification.second_campaign import SecondConfig, run_second
    from verification.second_foreign import order2_engine

    foreign = order2_engine(args.engine, engine)
    _check_graph_ops(ops)
    modes = parse_modes(args.modes)
    examples = args.examples if args.examples_given else DEFAULT_EXAMPLES
    config = SecondConfig(
        examples=examples,
        ops=ops,
        max_depth=min(args.max_depth, 3),
        n_vars=args.vars,
        seed=args.seed,
        points=args.points,
        modes=modes,
    )
    print(
        f"gradproof verify --order 2: {examples} expressions, modes {','.join(modes)}, "
        f"depth <= {config.max_depth} on engine {engine.name} -> {out}"
    )
    meta = {
        "engine": engine.name,
        "seed": args.seed,
        "options": {"examples": examples, "modes": list(modes), "max_depth": config.max_depth},
        "versions": versions(),
    }
    with RunDir.create(out, RunKind.ORDER2, meta) as run:
        result = run_second(config, run.write_text, engine=foreign)
        if result.left_out:
            print(
                f"left out: {', '.join(result.left_out)} (declared by a formula alone: no rule runs on Values, "
                "so no second-order bound)"
            )
        run.write_json(FINDINGS_FILE, _findings_json(result))
        run.finish(Status.FINISHED, seconds=round(result.seconds, 3), verdicts=dict(result.verdicts))
    if foreign is not None:
        return _foreign_summary(result, out, strict=args.strict)
    return _summary(result, out)


def _check_graph_ops(ops: tuple[str, ...] | None) -> None:
    """Ops named with ``--ops`` (a ``--custom`` op among them) must have rules that run on Values."""
    from verification.second_campaign import graph_ops

    if ops is None:
        return
    _, left = graph_ops(ops)
    if left:
        raise UsageError(
            f"--order 2: {', '.join(left)} has no rule that runs on Values (declared by a formula alone), so "
            "no second-order bound; drop it from --ops"
        )


def _findings_json(result: SecondResult) -> dict[str, object]:
    """findings.json of an order-2 run: the wrong entries (first 200) and the defects (foreign engines)."""
    findings = [
        {
            "expression": f.expression,
            "point": list(f.point),
            "direction": list(f.direction),
            "mode": f.row.mode.value,
            "entry": list(f.row.index),
            "computed": float(f.row.computed),
            "truth": [float(f.row.truth.lo), float(f.row.truth.hi)],
            "reproduction": f.reproduction,
        }
        for f in result.findings[:200]
    ]
    return {"findings": findings, "total": len(result.findings), "defects": [d.to_json() for d in result.defects]}


def _table(result: SecondResult) -> None:
    print(f"{'order':>5}  {'mode':<9}{'ok':>8}{'bug':>6}{'unjudged':>10}{'raised':>8}")
    modes = sorted({(order, mode) for order, mode, _ in result.per_mode})
    for order, mode in modes:
        n = {v: result.per_mode[(order, mode, v)] for v in ("ok", "bug", "exception_mismatch", "unjudged", "raised")}
        bugs = n["bug"] + n["exception_mismatch"]
        print(f"{order:>5}  {mode:<9}{n['ok']:>8}{bugs:>6}{n['unjudged']:>10}{n['raised']:>8}")


def _foreign_summary(result: SecondResult, out: Path, *, strict: bool) -> int:
    """Counts per mode, then the defects (most severe first) with reproductions; the exit status."""
    from verification.defects import exit_status, format_defects

    print(
        f"{result.expressions} expressions, {result.points} points, {result.records} entries in "
        f"{result.seconds:.1f} s; {result.uncertified} point(s) the truth could not certify"
    )
    _table(result)
    print("bug: outside the bound of a careful float64 implementation; what each is, below")
    for err in result.errors[:5]:
        print(f"  raised: {err}")
    print(format_defects(result.defects))
    for text in result.unexplained[:5]:
        print(f"  unexplained: {text}")
    if result.unexplained:
        print(f"{len(result.unexplained)} finding(s) no cause could be given for: the run fails")
    print(f"records: {out / ORDER2_RECORDS_FILE}; defects: {out / FINDINGS_FILE}")
    if result.judged == 0:
        print("NOTHING JUDGED: no verdict")
        return 1
    status = exit_status(result.defects, strict=strict)
    failed = bool(result.errors or result.unexplained)
    if status == 0 and not failed:
        print("no wrong or broken second-order or forward-mode defect found")
    return max(status, 1 if failed else 0)


def _summary(result: SecondResult, out: Path) -> int:
    print(
        f"{result.expressions} expressions, {result.points} points, {result.records} entries in "
        f"{result.seconds:.1f} s; {result.uncertified} point(s) the truth could not certify"
    )
    print(f"{'order':>5}  {'mode':<9}{'ok':>8}{'bug':>6}{'unjudged':>10}")
    modes = sorted({(order, mode) for order, mode, _ in result.per_mode})
    for order, mode in modes:
        n = {v: result.per_mode[(order, mode, v)] for v in ("ok", "bug", "exception_mismatch", "unjudged")}
        print(f"{order:>5}  {mode:<9}{n['ok']:>8}{n['bug'] + n['exception_mismatch']:>6}{n['unjudged']:>10}")
    for err in result.errors[:5]:
        print(f"  raised: {err}")
    if result.errors:
        print(f"{len(result.errors)} check(s) raised where the first-order run was defined and finite")
    print(f"records: {out / ORDER2_RECORDS_FILE}")
    if result.findings:
        print(f"FOUND {len(result.findings)} wrong entr{'y' if len(result.findings) == 1 else 'ies'}")
        shown = result.shrunk or result.findings[0]
        r = shown.row
        print(
            f"  {r.mode.value} ({r.method}) entry {r.index} of {shown.expression} at {shown.point}, v = "
            f"{shown.direction}: engine {float(r.computed)!r}, truth in [{float(r.truth.lo)!r}, {float(r.truth.hi)!r}]"
        )
        print("    reproduce with:")
        for line in shown.reproduction.splitlines():
            print(f"      {line}")
        return 1
    if result.errors:
        return 1
    if result.judged == 0:
        print("nothing was judged: no verdict")
        return 1
    print("no second-order or forward-mode defect found")
    return 0
