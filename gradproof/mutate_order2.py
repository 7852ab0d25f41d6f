"""``gradproof mutate --order 2``: rules right at first order and wrong at second, and which method kills each.

Exit status 0 when every mutant is killed by a second-order method and no
first-order (JVP) check calls one wrong; 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from runstore import RunDir, RunKind, Status
from verification.detection import ENGINE_TARGET
from verification.errors import UsageError

TABLE_FILE = "mutants_order2.csv"
DEFAULT_EXAMPLES = 40


def _width(method: str) -> int:
    return max(12, len(method) + 2)


def run_order2_table(args: argparse.Namespace, targets: tuple[str, ...] | None, out: Path) -> int:
    """Run every second-order mutant of ``targets`` (all ops by default) and print the kill table."""
    from autodiff import AutodiffError, get_op
    from verification.mutants_order2 import (
        FIRST_ORDER_METHODS,
        GRADGRADCHECK,
        ORDER2_METHODS,
        SECOND_ORDER_METHODS,
        engine_faults,
        run_order2_mutant,
        second_order_mutants,
    )

    try:
        ops = None if targets is None else [get_op(n) for n in targets if n != ENGINE_TARGET]
    except AutodiffError as exc:
        raise UsageError(str(exc)) from None
    mutants = second_order_mutants(ops)
    if targets is None or ENGINE_TARGET in targets:
        mutants += engine_faults()
    if not mutants:
        raise UsageError("no second-order mutant: the ops named have constant partials")
    examples = args.examples if args.examples_given else DEFAULT_EXAMPLES
    print(f"gradproof mutate --order 2: {len(mutants)} mutants, up to {examples} expressions each -> {out}")
    short = {m: m.replace("_f64", "/64").replace("_hp", "/hp") for m in ORDER2_METHODS}
    print(f"{'mutant':<24}" + "".join(f"{short[m]:>{_width(m)}}" for m in ORDER2_METHODS))
    with RunDir.create(out, RunKind.MUTATION, {"order": 2, "seed": args.seed, "examples": examples}) as run:
        survivors, false_alarms = [], []
        rows = []
        kills = dict.fromkeys(ORDER2_METHODS, 0)
        ggc_false_alarms = 0
        for mutant in mutants:
            o = run_order2_mutant(mutant, examples=examples, seed=args.seed)
            cells = [str(o.killed_at[m]) if m in o.killed_at else "-" for m in ORDER2_METHODS]
            print(f"{o.mutant:<24}" + "".join(f"{c:>{_width(m)}}" for c, m in zip(cells, ORDER2_METHODS)))
            for m in o.killed_at:
                kills[m] += 1
            ggc_false_alarms += o.gradgradcheck_false_alarms
            if not o.killed_by(SECOND_ORDER_METHODS):
                survivors.append(o.mutant)
            if o.killed_by(FIRST_ORDER_METHODS):
                false_alarms.append(o.mutant)
            rows.append(
                {
                    "mutant": o.mutant,
                    "target": o.target,
                    "kind": o.kind,
                    "expressions": o.tried,
                    "seconds": round(o.seconds, 3),
                    **{m: o.killed_at.get(m, "") for m in ORDER2_METHODS},
                    "gradgradcheck_false_alarms": o.gradgradcheck_false_alarms,
                }
            )
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        run.write_text(TABLE_FILE, buffer.getvalue())
        run.finish(Status.FINISHED, survivors=survivors, false_alarms=false_alarms, kills=kills)
    print(f"{'killed':<24}" + "".join(f"{kills[m]:>{_width(m)}}" for m in ORDER2_METHODS))
    print("cells: the expression (1-based) at which the method first called the mutant wrong; - never")
    print(
        f"{GRADGRADCHECK}: float64 Hessian vs central differences of the float64 gradient (eps 1e-6, atol 1e-5, "
        f"rtol 1e-3); {ggc_false_alarms} entr{'y' if ggc_false_alarms == 1 else 'ies'} where the true Hessian "
        "failed it too (its own false alarms, not kills)"
    )
    print(f"killed by a second-order method: {len(mutants) - len(survivors)}/{len(mutants)}")
    if false_alarms:
        print(f"FALSE ALARMS (first order is right, yet the JVP check called it wrong): {', '.join(false_alarms)}")
    print(f"SURVIVORS: {', '.join(survivors)}" if survivors else "survivors: none")
    print(f"table: {out / TABLE_FILE}")
    return 1 if survivors or false_alarms else 0
