"""Reading a run directory into pandas: records, run metadata, findings and mutants.

The layout, file names and every column's type come from :mod:`runstore`
(:data:`runstore.TABLES`); this module keeps no copy of a schema. Records
are a Parquet dataset read with column selection and row filters in pyarrow
(:func:`load`), so a report needs only the columns it uses in memory; runs
written before records were Parquet (``records.csv``) still load. A damaged
run is salvaged: every complete record is kept and :attr:`Run.notes` says
what was dropped. Every other problem raises
:class:`~reports.errors.ReportError` naming the file.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from reports.errors import ReportError
from runstore import (
    MUTANTS,
    RECORDS,
    ColumnType,
    Parts,
    RunStoreError,
    TableSpec,
    open_run,
    read_findings,
    read_table,
)

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

__all__ = ["Run", "load", "load_run", "MUTANTS_FILE", "MUTANT_COLUMNS", "LEGACY_RECORDS_FILE"]

MUTANTS_FILE: Final = MUTANTS.path
MUTANT_COLUMNS: Final = tuple(c.name for c in MUTANTS.columns[:7])
"""The columns of ``mutants.csv`` the report reads."""
LEGACY_RECORDS_FILE: Final = "records.csv"
"""Where runs written before records were Parquet kept them (``gradproof export --csv`` writes it too)."""

_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})


@dataclass(frozen=True)
class Run:
    """Everything a run directory holds; ``records``/``mutants`` are None when the run has none."""

    path: Path
    meta: dict[str, Any]
    records: pd.DataFrame | None
    findings: list[dict[str, Any]]
    mutants: pd.DataFrame | None
    shrunk: list[dict[str, Any]] = field(default_factory=list)
    findings_total: int = 0
    notes: tuple[str, ...] = ()
    parts: Parts | None = None
    """The whole Parquet parts of the records when they were not read (``load_run(..., records=False)``)."""

    @property
    def has_records(self) -> bool:
        """Whether the run holds records (read into :attr:`records`, or left on disk in :attr:`parts`)."""
        return self.records is not None or self.parts is not None

    @property
    def run_id(self) -> str:
        """The run's id from run.json, else the directory name."""
        return str(self.meta.get("run_id") or self.path.name)


def load(
    run_dir: str | Path, *, columns: Sequence[str] | None = None, where: ds.Expression | None = None
) -> pd.DataFrame:
    """The records of a run as a DataFrame with the columns of :data:`runstore.RECORDS`.

    ``columns`` selects columns and ``where`` (a ``pyarrow.dataset`` expression,
    e.g. ``pyarrow.dataset.field("method") == "engine_f64"``) selects rows before
    anything is converted, so memory holds only what was asked for. ``int``
    columns are int64, ``float`` columns float64, ``str`` columns pandas
    strings ('' for empty).
    """
    path = Path(run_dir)
    run = _open(path)
    parts = run.parts.get(RECORDS.name)
    if parts is not None and parts.files:
        return _frame(read_table(path / RECORDS.path, RECORDS, columns=columns, where=where, parts=parts))
    df = load_run(path).records  # records.csv of an older run; the same errors as a report
    if df is None:
        raise ReportError(f"{path / RECORDS.path} is missing: {path} holds mutants only, no records")
    if where is not None:
        import pyarrow as pa

        df = _frame_types(pa.Table.from_pandas(df, preserve_index=False).filter(where).to_pandas())
    return df[list(columns)] if columns else df


def _open(path: Path) -> Any:
    try:
        return open_run(path)
    except RunStoreError as exc:
        raise ReportError(str(exc)) from None


_STRINGS: Final = "string[pyarrow]"
"""pandas strings kept in Arrow buffers: a million repeated expressions cost bytes, not Python objects."""


def _frame(table: pa.Table) -> pd.DataFrame:
    import pyarrow as pa

    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _frame_types(df: pd.DataFrame) -> pd.DataFrame:
    kinds = {c.name: c.type for c in RECORDS.columns}
    for name in df.columns:
        if kinds.get(name) is ColumnType.STR:
            df[name] = df[name].astype(_STRINGS)
    return df


def load_run(run_dir: str | Path, *, records: bool = True) -> Run:
    """Read a run directory: ``run.json``, the records, the findings and ``mutants.csv``.

    A run needs ``run.json`` and at least one row of records or mutants; a
    run found ``running`` with nobody holding its lock is reported ``killed``.
    With ``records=False`` Parquet records stay on disk (:attr:`Run.parts`
    names their whole parts, :func:`reports.aggregate.aggregate` reads them
    batch by batch); the ``records.csv`` of an older run is read either way.
    """
    path = Path(run_dir)
    stored = _open(path)
    notes = list(stored.notes)
    frame: pd.DataFrame | None = None
    parts = stored.parts.get(RECORDS.name)
    legacy = path / LEGACY_RECORDS_FILE
    on_disk = parts if parts is not None and parts.files and not records else None
    if parts is not None and parts.files and records:
        frame = _frame(read_table(path / RECORDS.path, RECORDS, parts=parts))
    elif legacy.exists() and on_disk is None:
        frame, dropped = _read_csv(legacy, RECORDS)
        notes.extend(dropped)
    mutants_file = path / MUTANTS_FILE
    mutants = _read_csv(mutants_file, MUTANTS)[0] if mutants_file.exists() else None
    _check_rows(path, stored.status, frame, on_disk, mutants)
    found = read_findings(path)
    notes.extend(found.notes)
    return Run(path, stored.meta, frame, found.findings, mutants, found.shrunk, found.total, tuple(notes), on_disk)


def _check_rows(
    path: Path, status: str, frame: pd.DataFrame | None, parts: Parts | None, mutants: pd.DataFrame | None
) -> None:
    """A run needs at least one row of records or mutants."""
    if frame is None and parts is None and mutants is None:
        raise ReportError(f"{path} holds no records: {path / RECORDS.path} is missing")
    no_records = parts.rows == 0 if parts is not None else frame is None or frame.empty
    if no_records and (mutants is None or mutants.empty):
        shown = f" (run.json status: {status})" if status != "finished" else ""
        legacy = path / LEGACY_RECORDS_FILE
        has = frame is not None or parts is not None
        empty = (legacy if legacy.exists() and parts is None else path / RECORDS.path) if has else path / MUTANTS_FILE
        raise ReportError(f"{empty} has no rows: the run is empty{shown}")


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{file} is corrupt: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ReportError(f"cannot read {file}: {exc.strerror or exc}") from None


def _read_csv(file: Path, spec: TableSpec) -> tuple[pd.DataFrame, list[str]]:
    """Parse ``file`` as CSV, then convert each declared column to its type, naming bad cells.

    A torn last line (the file does not end with a newline and the line is
    short of fields) is dropped and named in the returned notes.
    """
    text = _read_text(file)
    notes: list[str] = []
    reader = csv.reader(StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise ReportError(f"{file} is empty: not even a header line")
        body, lines = [], []
        start = reader.line_num + 1
        torn_ok = not text.endswith("\n")
        for fields in reader:
            if not fields:  # a blank line
                start = reader.line_num + 1
                continue
            if len(fields) != len(header):
                last = reader.line_num == text.count("\n") + 1
                if torn_ok and last and len(fields) < len(header):
                    notes.append(f"{file}: dropped a torn last line ({reader.line_num})")
                    break
                raise ReportError(
                    f"{file} is corrupt: line {reader.line_num} has {len(fields)} fields, expected {len(header)}"
                )
            body.append(fields)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ReportError(f"{file} is corrupt: line {reader.line_num}: {exc}") from None
    raw = pd.DataFrame(body, columns=header, dtype=str) if body else pd.DataFrame(columns=header, dtype=str)
    declared = {c.name: c.type for c in spec.columns}
    missing = [c for c in declared if c not in raw.columns and c in _REQUIRED.get(spec.name, declared)]
    if missing:
        raise ReportError(f"{file} is corrupt: missing column(s) {', '.join(missing)}")
    out = {name: _convert(file, name, raw[name], kind, lines) for name, kind in declared.items() if name in raw}
    extra = {name: raw[name] for name in raw.columns if name not in declared}
    return pd.DataFrame({**out, **extra}), notes


_REQUIRED: Final[dict[str, Sequence[str]]] = {MUTANTS.name: MUTANT_COLUMNS}
"""Columns a CSV table must have (default: all declared); ``mutants.csv`` of older runs lacks the last ones."""


def _convert(file: Path, name: str, col: pd.Series, kind: ColumnType, lines: list[int]) -> pd.Series:
    if kind is ColumnType.STR:
        return col.astype(_STRINGS)
    if kind is ColumnType.BOOL:
        low = col.str.strip().str.lower()
        _check(file, name, col, lines, ~low.isin(_TRUE | _FALSE), "true/false")
        return low.isin(_TRUE)
    num = pd.to_numeric(col, errors="coerce")
    blank = col.str.strip().str.lower().isin({"", "nan"})
    if kind is ColumnType.INT:
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
