"""The run-directory layout: file names, kinds of run and the statuses a run can be in.

A run directory holds

* ``run.json`` -- metadata: run id, kind, versions, seed, options, start and
  end times, counts, and ``status`` (:class:`Status`);
* ``.lock`` -- held (``flock``) by the process running the run; its text is that process's pid and host;
* ``records/part-NNNNNN.parquet`` -- the records, one part per finished chunk;
* ``chunks.jsonl`` -- the chunk manifest: one line per finished chunk with
  its counts, written after its part (``--resume`` skips the chunks listed here);
* ``findings.jsonl`` -- every finding, appended as its chunk finishes;
* ``findings.json`` -- the findings summary written when the run ends (shrunk findings with reproductions);
* ``mutants.csv``, ``equivalents.csv``, ``per_op.csv`` -- the small tables of
  mutation runs and per-op sweeps (see :data:`runstore.schema.TABLES`).
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = [
    "RUN_FILE",
    "LOCK_FILE",
    "MANIFEST_FILE",
    "FINDINGS_LOG",
    "FINDINGS_FILE",
    "FINDINGS_KEPT",
    "OBSERVATIONS_DIR",
    "WARNINGS_FILE",
    "ORDER2_RECORDS_FILE",
    "RunKind",
    "Status",
]

RUN_FILE: Final = "run.json"
LOCK_FILE: Final = ".lock"
MANIFEST_FILE: Final = "chunks.jsonl"
FINDINGS_LOG: Final = "findings.jsonl"
FINDINGS_FILE: Final = "findings.json"
OBSERVATIONS_DIR: Final = "observations"
"""Per-chunk side data a run needs again on resume (one file per chunk, written before its manifest line)."""
WARNINGS_FILE: Final = "warnings.log"
"""Warnings raised by libraries and engines during the run (kept off the console)."""
ORDER2_RECORDS_FILE: Final = "records_order2.csv"
"""An order-2 run's records: one CSV row per judged entry (order, mode, op, method, verdict, error)."""
FINDINGS_KEPT: Final = 200
"""Findings listed in ``findings.json`` (all of them are in ``findings.jsonl``); a report table stays readable."""


class RunKind(enum.Enum):
    """What a run does."""

    CAMPAIGN = "campaign"
    PER_OP = "per_op"
    MUTATION = "mutation"
    ORDER2 = "order2"


class Status(enum.Enum):
    """Where a run is in its life."""

    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # SIGINT or SIGTERM: what finished is kept, --resume continues
    FAILED = "failed"  # an error (a full disk, a bug); run.json says which
    KILLED = "killed"  # found 'running' with nobody holding its lock: SIGKILL, a crash, power loss
