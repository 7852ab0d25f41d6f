"""Durable file writes: whole files replaced atomically, JSON lines appended whole, torn lines salvaged.

A reader never sees half a file written by :func:`write_bytes` (temporary
file, fsync, ``os.replace``, fsync of the directory). :func:`append_lines`
writes its lines with one ``write`` call and fsyncs; if the process dies in
the middle anyway, :func:`read_json_lines` keeps every complete line and
counts what it dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "write_bytes",
    "write_json",
    "append_lines",
    "read_json_lines",
    "JsonLines",
    "to_json",
    "fsync_dir",
    "to_data",
]


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename into it) to disk, where the platform allows."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically; on any error the old file stays and no temporary is left."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def to_data(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as dicts, enums as their values, anything else unknown as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_data(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def to_json(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON (``NaN`` and ``Infinity`` as Python's json module writes and reads them)."""
    return json.dumps(to_data(value), indent=indent)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON atomically (see :func:`write_bytes`)."""
    write_bytes(path, (to_json(value, indent=2) + "\n").encode())


def append_lines(path: Path, values: Iterable[Any]) -> None:
    """Append one JSON line per value with a single write, then fsync."""
    text = "".join(to_json(v) + "\n" for v in values)
    if not text:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class JsonLines:
    """The complete JSON-object lines of a file, and how many lines were dropped as torn or corrupt."""

    items: list[dict[str, Any]]
    dropped: int


def read_json_lines(path: Path) -> JsonLines:
    """Every line of ``path`` that is a whole JSON object; a missing file has none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return JsonLines([], 0)
    items: list[dict[str, Any]] = []
    dropped = 0
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            item = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            dropped += 1
            continue
        if isinstance(item, dict):
            items.append(item)
        else:
            dropped += 1
    return JsonLines(items, dropped)
