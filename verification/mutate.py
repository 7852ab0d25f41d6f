"""Mutation runs: every selected mutant through the chosen detection methods, written as a run directory.

How each method kills a mutant, and how equivalent mutants are proven apart, is
:mod:`verification.mutant_checks`; this module selects the mutants, runs them
(in worker processes), writes ``mutants.csv``, ``equivalents.csv`` and
``run.json``, and summarises the scores.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autodiff import get_op, op_names
from runstore.records import MUTANT_COLUMNS, MUTANTS_FILE, RUN_FILE, versions, write_json
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
from verification.parallel import init_worker, unordered_map
from verification.progress import PROGRESS_INTERVAL, Progress

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


EQUIVALENTS_FILE = "equivalents.csv"
_COLUMNS = (*MUTANT_COLUMNS, "target", "examples_tried", "detail")
"""The report's columns, then the mutated target, expressions tried and what killed it."""


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


def _iter_results(mutants: Sequence[Mutant], config: MutateConfig, jobs: int) -> Iterator[MutantResult]:
    if jobs <= 1:
        return (run_mutant(m, config) for m in mutants)
    return unordered_map(_task, [(m.name, config) for m in mutants], jobs=jobs, initializer=init_worker)


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


def _append(fh: Any, rows: list[dict[str, Any]], columns: Sequence[str], *, header: bool = False) -> None:
    """Write ``rows`` in one call, so an interrupt never leaves half a mutant in the file."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    if header:
        writer.writeheader()
    writer.writerows(rows)
    fh.write(buffer.getvalue())
    fh.flush()


def run_mutation(
    config: MutateConfig,
    out_dir: Path,
    *,
    jobs: int = 1,
    progress: bool = True,
    progress_interval: float = PROGRESS_INTERVAL,
    on_result: Callable[[MutantResult], None] | None = None,
) -> MutationResult:
    """Run every selected mutant through the chosen methods, writing the run directory as it goes.

    ``mutants.csv`` gets one row per scored mutant and applicable method,
    ``equivalents.csv`` the same rows (plus the reason) for proven-equivalent
    mutants, ``run.json`` the metadata and the summary. ``KeyboardInterrupt``
    keeps what finished and marks the run ``interrupted``.
    """
    mutants = select_mutants(config.ops)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    not_applicable = {"prover": [m.name for m in mutants if m.op is None]} if "prover" in config.methods else {}
    meta: dict[str, Any] = {
        "run_id": out_dir.name,
        "kind": "mutation",
        "engine": "gradproof",
        "versions": versions(),
        "seed": config.seed,
        "options": {**asdict(config), "jobs": jobs},
        "gradcheck": {"eps": GRADCHECK_EPS, "atol": GRADCHECK_ATOL, "rtol": GRADCHECK_RTOL},
        "command": sys.argv,
        "started": started.isoformat(),
        "status": "running",
        "not_applicable": not_applicable,
    }
    write_json(out_dir / RUN_FILE, meta)
    results: list[MutantResult] = []
    status = "finished"
    bar = Progress(len(mutants), "mutant", enabled=progress, interval=progress_interval)
    eq_columns = (*_COLUMNS, "reason")
    with (
        open(out_dir / MUTANTS_FILE, "w", newline="") as scored,
        open(out_dir / EQUIVALENTS_FILE, "w", newline="") as equivalent,
    ):
        _append(scored, [], _COLUMNS, header=True)
        _append(equivalent, [], eq_columns, header=True)
        try:
            for result in _iter_results(mutants, config, jobs):
                rows = [o.row() for o in result.outcomes]
                if result.equivalence.equivalent:
                    _append(equivalent, [{**r, "reason": result.equivalence.reason} for r in rows], eq_columns)
                else:
                    _append(scored, rows, _COLUMNS)
                results.append(result)
                bar.update(1)
                if on_result is not None:
                    on_result(result)
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            bar.close()
    seconds = time.perf_counter() - t0
    summary = summarise(results, config.methods)
    meta.update(
        finished=datetime.now(UTC).isoformat(),
        status=status,
        seconds=round(seconds, 3),
        counts=summary,
        throughput={
            "mutants_per_second": round(len(results) / seconds, 3) if seconds > 0 else None,
            "jobs": jobs,
            "cpu_count": os.cpu_count(),
        },
    )
    write_json(out_dir / RUN_FILE, meta)
    return MutationResult(out_dir, status, config, results, not_applicable, seconds, summary)
