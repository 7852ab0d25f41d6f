"""The campaign run loop: chunks in worker processes, records written as they arrive, bugs shrunk.

A campaign draws expression trees and candidate points in chunks; each chunk
is one seeded Hypothesis run (:mod:`verification.chunks`), so a chunk can be
replayed exactly and a failure in it shrunk. Each expression is checked by
:func:`verification.case.check_case` and judged by :mod:`verification.judging`.

Chunks run in worker processes; the parent appends their records to
``records.csv`` as they arrive, so an interrupted campaign keeps what
finished. Each rule bug found is then shrunk by Hypothesis, replaying its
chunk with a test that fails on that kind of bug, and reported with a sympy
expression and a reproduction (:mod:`verification.shrink`,
:mod:`verification.reproduce`).
"""

from __future__ import annotations

import csv
import io
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runstore.records import COLUMNS, FINDINGS_FILE, RECORDS_FILE, RUN_FILE, versions, write_json
from verification.campaign_config import CampaignConfig
from verification.case import CaseResult, check_case, high_precision
from verification.chunks import ChunkResult, merge_times, run_chunk
from verification.judging import BUG_VERDICTS, judge_float, judge_interval
from verification.parallel import init_worker, unordered_map
from verification.progress import PROGRESS_INTERVAL, Progress
from verification.reproduce import reproduction
from verification.shrink import shrink_all, shrink_finding

# The names this module exported before it was split stay importable from it.
__all__ = [
    "CampaignConfig",
    "CaseResult",
    "CampaignResult",
    "BUG_VERDICTS",
    "judge_float",
    "judge_interval",
    "check_case",
    "run_chunk",
    "run_campaign",
    "shrink_finding",
    "reproduction",
    "high_precision",
    "FINDINGS_KEPT",
]

FINDINGS_KEPT = 200
"""Findings written in full to ``findings.json`` (the file stays readable; every finding's record is in
``records.csv`` and the file states the total)."""


@dataclass
class CampaignResult:
    """Summary of a finished or interrupted campaign."""

    out_dir: Path
    status: str
    expressions: int
    records: int
    counts: Counter[str]
    findings: list[dict[str, Any]]
    shrunk: list[dict[str, Any]]
    seconds: float
    ratios: list[float]
    times: dict[str, float]

    @property
    def bugs(self) -> list[dict[str, Any]]:
        """Findings whose verdict makes the campaign fail."""
        return [f for f in self.findings if f["kind"] in BUG_VERDICTS]


def _chunk_task(args: tuple[CampaignConfig, int, str]) -> ChunkResult:
    return run_chunk(*args)


def _iter_chunks(config: CampaignConfig, jobs: int, run_id: str) -> Iterator[ChunkResult]:
    tasks = [(config, i, run_id) for i in range(len(config.chunks()))]
    return unordered_map(_chunk_task, tasks, jobs=jobs, initializer=init_worker, initargs=(config.plugins,))


def run_campaign(
    config: CampaignConfig,
    out_dir: Path,
    *,
    jobs: int = 1,
    progress: bool = True,
    progress_interval: float = PROGRESS_INTERVAL,
) -> CampaignResult:
    """Run the campaign, writing ``run.json``, ``records.csv`` and ``findings.json`` into ``out_dir``.

    ``KeyboardInterrupt`` stops it: what finished stays on disk, ``run.json``
    says ``"status": "interrupted"``, and the result is returned with that status.
    Progress goes to stderr (:class:`~verification.progress.Progress`) unless ``progress`` is false.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = out_dir.name
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    meta: dict[str, Any] = {
        "run_id": run_id,
        "kind": "campaign",
        "engine": config.engine,
        "versions": versions(),
        "seed": config.seed,
        "options": {**asdict(config), "jobs": jobs},
        "command": sys.argv,
        "started": started.isoformat(),
        "status": "running",
    }
    write_json(out_dir / RUN_FILE, meta)
    counts: Counter[str] = Counter()
    findings: list[dict[str, Any]] = []
    ratios: list[float] = []
    times: dict[str, float] = {}
    expressions = records = 0
    status = "finished"
    bar = Progress(config.examples, "expr", enabled=progress, interval=progress_interval)
    with open(out_dir / RECORDS_FILE, "w", newline="") as fh:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
        writer.writeheader()
        fh.write(buffer.getvalue())
        fh.flush()
        try:
            for chunk in _iter_chunks(config, jobs, run_id):
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(chunk.rows)
                fh.write(buffer.getvalue())  # one write: an interrupt never leaves half a chunk
                fh.flush()
                records += len(chunk.rows)
                expressions += chunk.expressions
                counts.update(chunk.counts)
                findings.extend(chunk.findings)
                ratios.extend(chunk.ratios)
                merge_times(times, chunk.times)
                bar.update(chunk.expressions, bugs=sum(1 for f in findings if f["kind"] in BUG_VERDICTS))
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            bar.close()
    shrunk: list[dict[str, Any]] = []
    if status == "finished":
        try:
            shrunk = shrink_all(config, findings)
        except KeyboardInterrupt:
            status = "interrupted"
    seconds = time.perf_counter() - t0
    result = CampaignResult(out_dir, status, expressions, records, counts, findings, shrunk, seconds, ratios, times)
    write_json(
        out_dir / FINDINGS_FILE, {"shrunk": shrunk, "findings": findings[:FINDINGS_KEPT], "total": len(findings)}
    )
    meta.update(
        finished=datetime.now(UTC).isoformat(),
        status=status,
        seconds=round(seconds, 3),
        counts=_count_summary(result),
        throughput={
            "expressions_per_second": round(expressions / seconds, 2) if seconds > 0 else None,
            "jobs": jobs,
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
    )
    write_json(out_dir / RUN_FILE, meta)
    return result


def _count_summary(result: CampaignResult) -> dict[str, Any]:
    c = result.counts
    ratios = sorted(result.ratios)
    return {
        "expressions": result.expressions,
        "points": c["points"],
        "records": result.records,
        "discards": {r: c[f"discard_{r}"] for r in ("undefined", "near_kink", "non_finite")},
        "unsamplable": c["unsamplable"],
        "unsupported_expressions": c["unsupported_expressions"],
        "timeouts": c["timeouts"],
        "findings": dict(Counter(f["kind"] for f in result.findings)),
        "rule_bugs": sum(1 for f in result.findings if f["kind"] == "rule_bug"),
        "oracle_checks": c["oracle_checks"],
        "oracle_mismatches": c["oracle_mismatches"],
        "f64_error_over_bound": {
            "median": ratios[len(ratios) // 2] if ratios else None,
            "max": ratios[-1] if ratios else None,
        },
        "verdicts": {k[len("verdict_") :]: v for k, v in sorted(c.items()) if k.startswith("verdict_")},
        "seconds_by_stage": {k: round(v, 3) for k, v in sorted(result.times.items())},
    }
