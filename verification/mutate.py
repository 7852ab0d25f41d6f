"""Mutation runs: every selected mutant through the chosen detection methods, written as a run directory.

How each method kills a mutant, and how equivalent mutants are proven apart, is
:mod:`verification.mutant_checks`; this module selects the mutants, runs them
(in worker processes), writes ``mutants.csv``, ``equivalents.csv`` and
``run.json``, and summarises the scores.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autodiff import get_op, op_names
from runstore import EQUIVALENTS, MUTANTS, EquivalentRow, MutantRow, RunDir, RunKind, Status
from verification.detection import ENGINE_TARGET, METHODS
from verification.errors import UsageError
from verification.mutant_checks import (
    GRADCHECK_ATOL,
    GRADCHECK_EPS,
    GRADCHECK_RTOL,
    Equivalence,
    MutantResult,
    MutateConfig,
    Outcome,
    gradcheck_failures,
    prove_equivalent,
    run_mutant,
)
from verification.mutants import RELATIVE_SIZES, Mutant, all_mutants, engine_mutants, rule_mutants
from verification.parallel import Executor, LocalWorkers
from verification.progress import PROGRESS_INTERVAL, Progress
from verification.versions import versions

__all__ = [
    "METHODS",
    "ENGINE_TARGET",
    "GRADCHECK_EPS",
    "GRADCHECK_ATOL",
    "GRADCHECK_RTOL",
    "MutateConfig",
    "Equivalence",
    "Outcome",
    "MutantResult",
    "MutationResult",
    "EQUIVALENTS_FILE",
    "select_mutants",
    "prove_equivalent",
    "gradcheck_failures",
    "run_mutant",
    "run_mutation",
    "summarise",
]


EQUIVALENTS_FILE = EQUIVALENTS.path


@dataclass
class MutationResult:
    """Summary of a finished or interrupted mutation run."""

    out_dir: Path
    status: str
    config: MutateConfig
    results: list[MutantResult]
    not_applicable: dict[str, list[str]]
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def survivors(self) -> list[str]:
        """Non-equivalent mutants that no method killed."""
        scored = [r for r in self.results if not r.equivalence.equivalent]
        return [r.mutant for r in scored if not any(o.killed for o in r.outcomes)]


# --- selection -------------------------------------------------------------------


def select_mutants(targets: Sequence[str] | None) -> list[Mutant]:
    """Mutants of the named ops (``"engine"`` for the engine faults); every op and the engine by default."""
    if targets is None:
        return all_mutants()
    out: list[Mutant] = []
    for name in targets:
        if name == ENGINE_TARGET:
            out.extend(engine_mutants())
            continue
        if name not in op_names():
            raise UsageError(
                f"unknown op {name!r}; known ops: {', '.join(op_names())} (or {ENGINE_TARGET!r} for the engine faults)"
            )
        out.extend(rule_mutants(get_op(name)))
    return out


_TASK_MUTANTS: dict[str, Mutant] = {}


def _task(args: tuple[str, MutateConfig]) -> MutantResult:
    name, config = args
    if not _TASK_MUTANTS:
        _TASK_MUTANTS.update((m.name, m) for m in all_mutants())
    return run_mutant(_TASK_MUTANTS[name], config)


def summarise(results: Sequence[MutantResult], methods: Sequence[str]) -> dict[str, Any]:
    """Per method: scored mutants, kills, score and smallest relative size killed; plus the whole harness."""
    scored = [r for r in results if not r.equivalence.equivalent]
    per_method: dict[str, Any] = {}
    for method in methods:
        rows = [o for r in scored for o in r.outcomes if o.method == method]
        killed = [o for o in rows if o.killed]
        sizes = [o.size for o in killed if math.isfinite(o.size)]
        missed = [o.size for o in rows if not o.killed and math.isfinite(o.size)]
        per_method[method] = {
            "mutants": len(rows),
            "killed": len(killed),
            "score": len(killed) / len(rows) if rows else math.nan,
            "smallest_size_killed": min(sizes) if sizes else None,
            "largest_size_missed": max(missed) if missed else None,
        }
    by_size: dict[str, dict[str, tuple[int, int]]] = {}
    for size in RELATIVE_SIZES:
        per = {}
        for method in methods:
            rows = [o for r in scored for o in r.outcomes if o.method == method and o.size == size]
            if rows:
                per[method] = (sum(o.killed for o in rows), len(rows))
        if per:
            by_size[f"{size:g}"] = per
    harness_killed = sum(1 for r in scored if any(o.killed for o in r.outcomes))
    equivalents = [r for r in results if r.equivalence.equivalent]
    return {
        "mutants": len(results),
        "scored": len(scored),
        "equivalent": len(equivalents),
        "killed_by_any_method": harness_killed,
        "score_any_method": harness_killed / len(scored) if scored else math.nan,
        "per_method": per_method,
        "relative_by_size": by_size,
        "equivalent_mutants": {r.mutant: r.equivalence.reason for r in equivalents},
        "equivalent_killed": sorted({f"{r.mutant} ({o.method})" for r in equivalents for o in r.outcomes if o.killed}),
        "survivors": [r.mutant for r in scored if not any(o.killed for o in r.outcomes)],
        "gradcheck_false_alarms": sum(r.gradcheck_false_alarms for r in results),
    }


def run_mutation(
    config: MutateConfig,
    out_dir: Path,
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    progress: bool = True,
    progress_interval: float = PROGRESS_INTERVAL,
    on_result: Callable[[MutantResult], None] | None = None,
) -> MutationResult:
    """Run every selected mutant through the chosen methods, writing the run directory as it goes.

    ``mutants.csv`` gets one row per scored mutant and applicable method,
    ``equivalents.csv`` the same rows (plus the reason) for proven-equivalent
    mutants, both rewritten atomically as each mutant finishes; ``run.json``
    the metadata and the summary. ``KeyboardInterrupt`` (Ctrl-C, SIGTERM)
    keeps what finished and marks the run ``interrupted``.
    """
    mutants = select_mutants(config.ops)
    executor = executor if executor is not None else LocalWorkers(jobs)
    t0 = time.perf_counter()
    not_applicable = {"prover": [m.name for m in mutants if m.op is None]} if "prover" in config.methods else {}
    meta: dict[str, Any] = {
        "engine": "gradproof",
        "versions": versions(),
        "seed": config.seed,
        "options": {**asdict(config), "jobs": jobs},
        "gradcheck": {"eps": GRADCHECK_EPS, "atol": GRADCHECK_ATOL, "rtol": GRADCHECK_RTOL},
        "command": sys.argv,
        "not_applicable": not_applicable,
    }
    results: list[MutantResult] = []
    scored: list[MutantRow] = []
    equivalent: list[EquivalentRow] = []
    status = Status.FINISHED
    with RunDir.create(out_dir, RunKind.MUTATION, meta) as run:
        run.write_table(MUTANTS, scored)
        run.write_table(EQUIVALENTS, equivalent)
        bar = Progress(len(mutants), "mutant", enabled=progress, interval=progress_interval)
        try:
            tasks = ((m.name, config) for m in mutants)
            for result in executor.map_unordered(_task, tasks, count=len(mutants)):
                if result.equivalence.equivalent:
                    reason = result.equivalence.reason
                    equivalent.extend(EquivalentRow(**asdict(o), reason=reason) for o in result.outcomes)
                    run.write_table(EQUIVALENTS, equivalent)
                else:
                    scored.extend(result.outcomes)
                    run.write_table(MUTANTS, scored)
                results.append(result)
                bar.update(1)
                if on_result is not None:
                    on_result(result)
                run.check_stop()
        except KeyboardInterrupt:
            status = Status.INTERRUPTED
        finally:
            bar.close()
        seconds = time.perf_counter() - t0
        summary = summarise(results, config.methods)
        run.finish(
            status,
            seconds=round(seconds, 3),
            counts=summary,
            throughput={
                "mutants_per_second": round(len(results) / seconds, 3) if seconds > 0 else None,
                "jobs": jobs,
                "executor": executor.describe(),
                "cpu_count": os.cpu_count(),
            },
        )
    return MutationResult(out_dir, status.value, config, results, not_applicable, seconds, summary)
