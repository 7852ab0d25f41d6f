"""The campaign run loop: chunks on an executor, each committed to the run directory as it arrives, bugs shrunk.

A campaign draws expression trees and candidate points in chunks; each chunk
is one seeded Hypothesis run (:mod:`verification.chunks`), so a chunk can be
replayed exactly on any worker and a failure in it shrunk. Each expression is
checked by :func:`verification.case.check_case` and judged by
:mod:`verification.judging`.

Chunks run on local worker processes or a Dask cluster
(:mod:`verification.parallel`, :mod:`verification.dask_executor`), produced
lazily; the parent commits each chunk's records (a Parquet part), findings
and counts to the run directory (:class:`runstore.RunDir`) as it arrives, so
an interrupted or killed campaign keeps what finished and ``resume`` runs only
the chunks that are missing, ending with the records of an uninterrupted run.
Each rule bug found is then shrunk by Hypothesis, replaying its chunk with a
test that fails on that kind of bug, and reported with a sympy expression and
a reproduction (:mod:`verification.shrink`, :mod:`verification.reproduce`).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runstore import (
    FINDINGS_FILE,
    FINDINGS_KEPT,
    OBSERVATIONS_DIR,
    RECORDS,
    WARNINGS_FILE,
    ChunkEntry,
    RunDir,
    RunKind,
    RunStoreError,
    Status,
    read_findings,
)
from verification.campaign_config import CampaignConfig
from verification.campaign_defects import Verdict, campaign_defects, engine_probe, never_judged, set_eval_timeout
from verification.case import CaseResult, check_case, engines_for, high_precision
from verification.chunks import ChunkResult, merge_times, run_chunk
from verification.defects import Observation
from verification.judging import BUG_VERDICTS, judge_float, judge_interval
from verification.parallel import Executor, LocalWorkers
from verification.progress import PROGRESS_INTERVAL, Progress
from verification.reproduce import reproduction
from verification.shrink import shrink_all, shrink_finding
from verification.tallies import FindingTally, RatioSample
from verification.versions import versions

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
    "config_from_options",
    "campaign_meta",
    "FINDINGS_KEPT",
]


@dataclass
class CampaignResult:
    """Summary of a finished or interrupted campaign (``resumed``: expressions a previous session had done)."""

    out_dir: Path
    status: str
    expressions: int
    records: int
    counts: Counter[str]
    findings: list[dict[str, Any]]
    shrunk: list[dict[str, Any]]
    seconds: float
    ratios: RatioSample
    times: dict[str, float]
    resumed: int = 0
    finding_counts: Counter[str] = dataclasses.field(default_factory=Counter)
    verdict: Verdict | None = None

    @property
    def bugs(self) -> list[dict[str, Any]]:
        """The kept findings whose verdict makes the campaign fail (all are counted in ``finding_counts``)."""
        return [f for f in self.findings if f["kind"] in BUG_VERDICTS]

    @property
    def bug_counts(self) -> dict[str, int]:
        """Findings per verdict that makes the campaign fail, over the whole run."""
        return {k: n for k, n in sorted(self.finding_counts.items()) if k in BUG_VERDICTS}


def config_from_options(options: Mapping[str, Any]) -> CampaignConfig:
    """The campaign configuration recorded in ``run.json``'s ``options`` (RunStoreError when it is not one)."""
    names = {f.name for f in dataclasses.fields(CampaignConfig)}
    values = {k: v for k, v in options.items() if k in names}
    for name in ("ops", "plugins"):
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    try:
        return CampaignConfig(**values)
    except TypeError as exc:
        raise RunStoreError(f"run.json options are not a campaign's: {exc}") from None


def _chunk_task(args: tuple[CampaignConfig, int, str]) -> ChunkResult:
    return run_chunk(*args)


def campaign_meta(config: CampaignConfig, jobs: int) -> dict[str, Any]:
    """What ``run.json`` records about a new campaign before it starts."""
    return {
        "engine": config.engine,
        "versions": versions(),
        "seed": config.seed,
        "options": {**asdict(config), "jobs": jobs},
        "command": sys.argv,
    }


def run_campaign(
    config: CampaignConfig,
    out_dir: Path | RunDir,
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    progress: bool = True,
    progress_interval: float = PROGRESS_INTERVAL,
    resume: bool = False,
) -> CampaignResult:
    """Run the campaign into the run directory ``out_dir`` (see :mod:`runstore.layout`), or an open one.

    With ``resume``, ``out_dir`` holds an unfinished run of ``config`` and
    only its missing chunks run. ``KeyboardInterrupt`` (Ctrl-C, SIGTERM) stops
    it: what finished stays on disk, ``run.json`` says ``"status":
    "interrupted"``, and the result is returned with that status. Progress
    goes to stderr (:class:`~verification.progress.Progress`) unless ``progress`` is false.
    """
    executor = executor if executor is not None else LocalWorkers(jobs, config.plugins)
    if isinstance(out_dir, RunDir):
        run = out_dir
    elif resume:
        run = RunDir.resume(out_dir, RunKind.CAMPAIGN)
    else:
        run = RunDir.create(out_dir, RunKind.CAMPAIGN, campaign_meta(config, jobs))
    with run:
        return _run(config, run, executor, jobs, progress, progress_interval)


@dataclass
class _Totals:
    """What the committed chunks add up to."""

    expressions: int = 0
    records: int = 0
    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    ratios: RatioSample = dataclasses.field(default_factory=RatioSample)
    times: dict[str, float] = dataclasses.field(default_factory=dict)

    def add(self, entry: ChunkEntry) -> None:
        counts = Counter(entry.counts)
        self.expressions += counts.pop("expressions", 0)
        self.records += entry.rows.get(RECORDS.name, 0)
        self.counts.update(counts)
        self.ratios.extend(entry.samples.get("ratios", ()))
        merge_times(self.times, entry.times)


def _entry(chunk: ChunkResult) -> ChunkEntry:
    return ChunkEntry(
        chunk.index,
        rows={RECORDS.name: len(chunk.rows)},
        findings=len(chunk.findings),
        counts={**chunk.counts, "expressions": chunk.expressions},
        times=chunk.times,
        samples={"ratios": chunk.ratios},
    )


def _chunks(config: CampaignConfig, done: Mapping[int, ChunkEntry], run_id: str) -> Iterator[tuple[Any, ...]]:
    """The tasks of the chunks not yet done, produced one at a time."""
    for index in range(config.chunk_count):
        if index not in done:
            yield (config, index, run_id)


def _run(
    config: CampaignConfig, run: RunDir, executor: Executor, jobs: int, progress: bool, interval: float
) -> CampaignResult:
    t0 = time.perf_counter()
    totals = _Totals()
    for entry in run.chunks.values():
        totals.add(entry)
    resumed = totals.expressions
    findings = FindingTally(FINDINGS_KEPT)
    observations: list[Observation] = []
    noise: Counter[str] = Counter()  # third-party warnings: to the run's log, not the console
    if run.chunks:
        findings.extend(read_findings(run.path).findings)
        for blob in run.read_blobs(OBSERVATIONS_DIR).values():
            seen, warned = pickle.loads(blob)
            observations.extend(seen)
            noise.update(warned)
    status = Status.FINISHED
    remaining = config.chunk_count - len(run.chunks)
    bar = Progress(config.examples - resumed, "expr", enabled=progress, interval=interval)
    try:
        tasks = _chunks(config, run.chunks, str(run.meta["run_id"]))
        for chunk in executor.map_unordered(_chunk_task, tasks, count=remaining):
            if chunk.index in run.chunks:
                continue  # a chunk Dask ran twice: it is written once
            entry = _entry(chunk)
            blob = pickle.dumps((chunk.observations, chunk.warnings))
            run.commit_chunk(entry, {RECORDS.name: chunk.rows}, chunk.findings, blobs={OBSERVATIONS_DIR: blob})
            totals.add(entry)
            findings.extend(chunk.findings)
            observations.extend(chunk.observations)
            noise.update(chunk.warnings)
            bar.update(chunk.expressions, bugs=sum(n for k, n in findings.counts.items() if k in BUG_VERDICTS))
            run.check_stop()
    except KeyboardInterrupt:
        status = Status.INTERRUPTED
    finally:
        bar.close()
    shrunk: list[dict[str, Any]] = []
    if status is Status.FINISHED and config.max_shrinks > 0:
        try:
            shrunk = shrink_all(config, findings.kept)
        except KeyboardInterrupt:
            status = Status.INTERRUPTED
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdict = _verdict(config, totals.counts, observations)
    noise.update(f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught)
    if noise:
        lines = [f"{n} chunk(s): {text}" for text, n in sorted(noise.items())]
        run.write_text(WARNINGS_FILE, "\n".join(lines) + "\n")
    seconds = time.perf_counter() - t0
    result = CampaignResult(
        run.path,
        status.value,
        totals.expressions,
        totals.records,
        totals.counts,
        findings.kept,
        shrunk,
        seconds,
        totals.ratios,
        totals.times,
        resumed,
        findings.counts,
        verdict,
    )
    total = sum(findings.counts.values())
    run.write_json(
        FINDINGS_FILE,
        {
            "verdict": verdict.headline(),
            "exit_status": verdict.exit_status(),
            "defects": [d.to_json() for d in verdict.defects],
            "never_judged_ops": list(verdict.unjudged_ops),
            "unjudged_records": verdict.unjudged_records,
            "shrunk": shrunk,
            "findings": findings.kept[:FINDINGS_KEPT],
            "total": total,
        },
    )
    run.finish(
        status,
        seconds=round(seconds, 3),
        counts=_count_summary(result),
        throughput={
            "expressions_per_second": round((totals.expressions - resumed) / seconds, 2) if seconds > 0 else None,
            "jobs": jobs,
            "executor": executor.describe(),
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
    )
    return result


def _verdict(config: CampaignConfig, counts: Counter[str], observations: list[Observation]) -> Verdict:
    """Defects of probing and of the chunks, and what was never judged."""
    engine, _ = engines_for(config.engine)
    set_eval_timeout(engine, config.eval_timeout)
    defects = campaign_defects(
        engine,
        engine_probe(engine, config.ops),
        observations,
        reproduce=lambda tree, point: reproduction(engine, tree, point, config.plugins),
    )
    ops = config.ops if config.ops is not None else tuple(sorted(engine.supported_ops()))
    judged = Counter({k[len("judged_op_") :]: v for k, v in counts.items() if k.startswith("judged_op_")})
    prefix = "verdict_engine_f64_"
    f64 = {k[len(prefix) :]: v for k, v in counts.items() if k.startswith(prefix)}
    unjudged = f64.get("unjudged", 0) + f64.get("unsamplable", 0)
    return Verdict(
        tuple(defects), tuple(never_judged(ops, judged)), sum(f64.values()) - unjudged, unjudged, config.ops is not None
    )


def _count_summary(result: CampaignResult) -> dict[str, Any]:
    c = result.counts
    ratios = result.ratios
    return {
        "expressions": result.expressions,
        "points": c["points"],
        "records": result.records,
        "discards": {r: c[f"discard_{r}"] for r in ("undefined", "near_kink", "non_finite")},
        "unsamplable": c["unsamplable"],
        "unsupported_expressions": c["unsupported_expressions"],
        "timeouts": c["timeouts"],
        "findings": dict(result.finding_counts),
        "rule_bugs": result.finding_counts["rule_bug"],
        "oracle_checks": c["oracle_checks"],
        "oracle_mismatches": c["oracle_mismatches"],
        "f64_error_over_bound": {
            "median": ratios.median(),
            "max": ratios.maximum if ratios.seen else None,
            "median_from_sample": ratios.sampled,
        },
        "verdicts": {k[len("verdict_") :]: v for k, v in sorted(c.items()) if k.startswith("verdict_")},
        "defects": dict(Counter(d.severity.value for d in result.verdict.defects)) if result.verdict else {},
        "never_judged_ops": list(result.verdict.unjudged_ops) if result.verdict else [],
        "seconds_by_stage": {k: round(v, 3) for k, v in sorted(result.times.items())},
    }
