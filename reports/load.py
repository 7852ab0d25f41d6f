"""Reading a run directory into pandas: records, run metadata, findings and mutants.

The layout and the record columns are fixed by :mod:`runstore.records`;
each column's type is the prefix of its description there (``int:``,
``float:``, ``str:``), so this module never keeps a second copy of the schema.
Every problem with a file raises :class:`~reports.errors.ReportError` naming it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from reports.errors import ReportError
from runstore.records import COLUMNS, FINDINGS_FILE, MUTANT_COLUMNS, MUTANTS_FILE, RECORDS_FILE, RUN_FILE

__all__ = ["Run", "load", "load_run", "MUTANTS_FILE", "MUTANT_COLUMNS", "column_types"]

_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})


def column_types(columns: dict[str, str]) -> dict[str, str]:
    """Column name -> ``int``/``float``/``str``/``bool``, read from the description's prefix."""
    return {name: text.split(":", 1)[0].strip() for name, text in columns.items()}


@dataclass(frozen=True)
class Run:
    """Everything a run directory holds; ``records``/``mutants`` are None when the file is absent."""

    path: Path
    meta: dict[str, Any]
    records: pd.DataFrame | None
    findings: list[dict[str, Any]]
    mutants: pd.DataFrame | None
    shrunk: list[dict[str, Any]] = field(default_factory=list)
    findings_total: int = 0

    @property
    def run_id(self) -> str:
        """The run's id from run.json, else the directory name."""
        return str(self.meta.get("run_id") or self.path.name)


def load(run_dir: str | Path) -> pd.DataFrame:
    """The records of a run as a DataFrame with the columns of ``runstore.records.COLUMNS``.

    ``int`` columns are int64, ``float`` columns float64 (NaN, ``inf`` and
    ``-inf`` as written), ``str`` columns pandas strings ('' for empty).
    Columns appended by newer campaigns are kept, after the documented ones.
    """
    run = load_run(run_dir)
    if run.records is None:
        raise ReportError(f"{run.path / RECORDS_FILE} is missing: {run.path} holds mutants only, no records")
    return run.records


def load_run(run_dir: str | Path) -> Run:
    """Read and validate ``run.json``, ``records.csv``, ``findings.json`` and ``mutants.csv``.

    A run needs ``run.json`` and at least one row of records or mutants;
    ``findings.json`` and ``mutants.csv`` are optional.
    """
    path = Path(run_dir)
    if not path.exists():
        raise ReportError(f"{path}: no such directory")
    if not path.is_dir():
        raise ReportError(f"{path} is not a directory (expected a run directory)")
    run_file = path / RUN_FILE
    if not run_file.exists():
        raise ReportError(f"{path} is not a gradproof run: {run_file} is missing")
    meta = _read_json(run_file)
    if not isinstance(meta, dict):
        raise ReportError(f"{run_file} is corrupt: expected a JSON object, found {type(meta).__name__}")
    records_file, mutants_file = path / RECORDS_FILE, path / MUTANTS_FILE
    records = _read_csv(records_file, COLUMNS) if records_file.exists() else None
    mutants = _read_csv(mutants_file, MUTANT_COLUMNS) if mutants_file.exists() else None
    if records is None and mutants is None:
        raise ReportError(f"{path} holds no records: {records_file} is missing")
    if (records is None or records.empty) and (mutants is None or mutants.empty):
        status = f" (run.json status: {meta['status']})" if meta.get("status", "finished") != "finished" else ""
        empty = records_file if records is not None else mutants_file
        raise ReportError(f"{empty} has no rows: the run is empty{status}")
    findings, shrunk, total = _read_findings(path / FINDINGS_FILE)
    return Run(path, meta, records, findings, mutants, shrunk, total)


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{file} is corrupt: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ReportError(f"cannot read {file}: {exc.strerror or exc}") from None


def _read_json(file: Path) -> Any:
    text = _read_text(file)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{file} is corrupt: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _read_findings(file: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Findings, shrunk findings and the total count from ``{"findings": [...], "shrunk": [...], "total": n}``.

    The file may hold fewer findings than ``total`` (the campaign keeps the
    first ones); a bare JSON list is read as the findings themselves.
    """
    if not file.exists():
        return [], [], 0
    data = _read_json(file)
    if isinstance(data, list):
        data = {"findings": data}
    if not isinstance(data, dict):
        raise ReportError(f"{file} is corrupt: expected a JSON object with a findings list")
    findings, shrunk, total = data.get("findings", []), data.get("shrunk", []), data.get("total")
    for name, items in (("findings", findings), ("shrunk", shrunk)):
        if not isinstance(items, list) or not all(isinstance(f, dict) for f in items):
            raise ReportError(f"{file} is corrupt: {name!r} is not a list of finding objects")
    if total is not None and not isinstance(total, int):
        raise ReportError(f"{file} is corrupt: 'total' is not a whole number")
    return findings, shrunk, len(findings) if total is None else total


def _read_csv(file: Path, columns: dict[str, str]) -> pd.DataFrame:
    """Parse ``file`` as CSV text, then convert each documented column to its type, naming bad cells."""
    text = _read_text(file)
    reader = csv.reader(StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise ReportError(f"{file} is empty: not even a header line")
        body, lines = [], []
        start = reader.line_num + 1
        for fields in reader:
            if not fields:  # a blank line
                start = reader.line_num + 1
                continue
            if len(fields) != len(header):
                raise ReportError(
                    f"{file} is corrupt: line {reader.line_num} has {len(fields)} fields, expected {len(header)}"
                )
            body.append(fields)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ReportError(f"{file} is corrupt: line {reader.line_num}: {exc}") from None
    raw = pd.DataFrame(body, columns=header, dtype=str) if body else pd.DataFrame(columns=header, dtype=str)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ReportError(f"{file} is corrupt: missing column(s) {', '.join(missing)}")
    out = {name: _convert(file, name, raw[name], kind, lines) for name, kind in column_types(columns).items()}
    extra = {name: raw[name] for name in raw.columns if name not in columns}
    return pd.DataFrame({**out, **extra})


def _convert(file: Path, name: str, col: pd.Series, kind: str, lines: list[int]) -> pd.Series:
    if kind == "str":
        return col.astype("string")
    if kind == "bool":
        low = col.str.strip().str.lower()
        _check(file, name, col, lines, ~low.isin(_TRUE | _FALSE), "true/false")
        return low.isin(_TRUE)
    num = pd.to_numeric(col, errors="coerce")
    blank = col.str.strip().str.lower().isin({"", "nan"})
    if kind == "int":
        bad = num.isna() | ~np.isfinite(num) | (num != np.round(num))
        _check(file, name, col, lines, bad, "a whole number")
        return num.astype("int64")
    _check(file, name, col, lines, num.isna() & ~blank, "a number")
    return num.astype("float64")


def _check(file: Path, name: str, col: pd.Series, lines: list[int], bad: pd.Series, expected: str) -> None:
    """Raise naming the file, the line (as a text editor counts it) and the column of the first bad cell."""
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ReportError(
            f"{file} is corrupt: line {lines[row]}, column {name!r}: expected {expected}, got {col.iloc[row]!r}"
        )
