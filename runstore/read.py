"""Opening a run directory to read it: its metadata (a killed run marked so), whole parts, salvaged findings.

Nothing here refuses a damaged run that still holds complete data: a torn
Parquet part, a torn manifest or findings line, a truncated ``findings.json``
are skipped, and :attr:`StoredRun.notes` says what was dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runstore.atomic import read_json_lines
from runstore.errors import RunStoreError
from runstore.layout import FINDINGS_FILE, FINDINGS_LOG, MANIFEST_FILE
from runstore.manifest import ChunkEntry, read_manifest, read_meta
from runstore.rundir import mark_if_stale
from runstore.schema import TABLES, Format
from runstore.tables import Parts, scan_parts

__all__ = ["StoredRun", "StoredFindings", "open_run", "read_findings"]


@dataclass(frozen=True)
class StoredRun:
    """A run directory as found: metadata, finished chunks, whole parts per Parquet table, salvage notes."""

    path: Path
    meta: dict[str, Any]
    chunks: dict[int, ChunkEntry]
    parts: dict[str, Parts]
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """The run's status (``killed`` for a run found running with nobody holding its lock)."""
        return str(self.meta.get("status", "finished"))


@dataclass(frozen=True)
class StoredFindings:
    """Findings (``findings.json``, else salvaged from ``findings.jsonl``), shrunk ones, the total, notes."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    shrunk: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    notes: tuple[str, ...] = ()


def open_run(path: Path) -> StoredRun:
    """Open the run at ``path`` for reading (RunStoreError when it is not a run)."""
    if not path.exists():
        raise RunStoreError(f"{path}: no such directory")
    if not path.is_dir():
        raise RunStoreError(f"{path} is not a directory (expected a run directory)")
    meta = mark_if_stale(path, read_meta(path))
    notes: list[str] = []
    chunks, dropped = read_manifest(path)
    if dropped:
        notes.append(f"{path / MANIFEST_FILE}: dropped {dropped} damaged line(s)")
    parts: dict[str, Parts] = {}
    for spec in TABLES.values():
        if spec.format is not Format.PARQUET or not (path / spec.path).is_dir():
            continue
        found = scan_parts(path / spec.path)
        for file, reason in found.damaged.items():
            notes.append(f"{file}: dropped a damaged part ({reason})")
        parts[spec.name] = found
    return StoredRun(path, meta, chunks, parts, tuple(notes))


def _from_log(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Findings appended to the log, each once (a chunk run again appends the same findings again)."""
    lines = read_json_lines(path / FINDINGS_LOG)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for item in lines.items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out, lines.dropped


def read_findings(path: Path) -> StoredFindings:
    """The run's findings: ``findings.json`` when it is whole, else every whole line of ``findings.jsonl``."""
    file = path / FINDINGS_FILE
    notes: list[str] = []
    if file.exists():
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            found = _summary(data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            notes.append(f"{file} is damaged ({str(exc).splitlines()[0]}); findings read from {FINDINGS_LOG}")
        else:
            return StoredFindings(*found)
    items, dropped = _from_log(path)
    if dropped:
        notes.append(f"{path / FINDINGS_LOG}: dropped {dropped} damaged line(s)")
    return StoredFindings(items, [], len(items), tuple(notes))


def _summary(data: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """``{"findings": [...], "shrunk": [...], "total": n}`` (a bare list is the findings themselves)."""
    if isinstance(data, list):
        data = {"findings": data}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with a findings list")
    findings, shrunk, total = data.get("findings", []), data.get("shrunk", []), data.get("total")
    for name, items in (("findings", findings), ("shrunk", shrunk)):
        if not isinstance(items, list) or not all(isinstance(f, dict) for f in items):
            raise ValueError(f"{name!r} is not a list of finding objects")
    if total is not None and not isinstance(total, int):
        raise ValueError("'total' is not a whole number")
    return findings, shrunk, len(findings) if total is None else total
