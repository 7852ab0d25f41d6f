"""The chunk manifest and ``run.json`` as read back: which chunks a run finished, and its metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runstore.atomic import read_json_lines
from runstore.errors import RunStoreError
from runstore.layout import MANIFEST_FILE, RUN_FILE

__all__ = ["ChunkEntry", "read_meta", "read_manifest"]


@dataclass(frozen=True)
class ChunkEntry:
    """A finished chunk as the manifest records it: rows per table, findings, and its counts."""

    index: int
    rows: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChunkEntry:
        """The entry of a manifest line (raises KeyError/TypeError/ValueError on a malformed one)."""
        return cls(
            index=int(data["index"]),
            rows={str(k): int(v) for k, v in data.get("rows", {}).items()},
            findings=int(data.get("findings", 0)),
            counts={str(k): int(v) for k, v in data.get("counts", {}).items()},
            times={str(k): float(v) for k, v in data.get("times", {}).items()},
            samples={str(k): [float(x) for x in v] for k, v in data.get("samples", {}).items()},
        )


def read_meta(path: Path) -> dict[str, Any]:
    """``run.json`` of the run at ``path`` (RunStoreError naming the problem)."""
    file = path / RUN_FILE
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunStoreError(f"{path} is not a gradproof run: {file} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunStoreError(f"{file} is corrupt: {exc}") from None
    except OSError as exc:
        raise RunStoreError(f"cannot read {file}: {exc.strerror or exc}") from None
    if not isinstance(meta, dict):
        raise RunStoreError(f"{file} is corrupt: expected a JSON object, found {type(meta).__name__}")
    return meta


def read_manifest(path: Path) -> tuple[dict[int, ChunkEntry], int]:
    """The finished chunks listed in the manifest (first entry per index), and the lines dropped as damaged."""
    lines = read_json_lines(path / MANIFEST_FILE)
    chunks: dict[int, ChunkEntry] = {}
    dropped = lines.dropped
    for item in lines.items:
        try:
            entry = ChunkEntry.from_json(item)
        except (KeyError, TypeError, ValueError, AttributeError):
            dropped += 1
            continue
        chunks.setdefault(entry.index, entry)
    return chunks, dropped
