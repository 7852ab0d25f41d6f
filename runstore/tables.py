"""Writing and reading a run's tables: Parquet datasets one part per chunk, small tables as CSV.

A Parquet table is a directory of part files ``part-000042.parquet``, one per
chunk (keyed by the chunk's index, so writing a chunk twice replaces it, never
duplicates it), each written atomically and zstd-compressed. Reading scans
only parts whose footer is whole (a torn part is skipped and named) and
selects columns and filters rows in pyarrow, before anything reaches pandas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from runstore.atomic import write_bytes
from runstore.schema import ColumnType, Format, TableSpec

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

__all__ = [
    "arrow_schema",
    "part_path",
    "write_part",
    "write_csv",
    "Parts",
    "scan_parts",
    "dataset",
    "read_table",
    "iter_batches",
]

_PART: Final = re.compile(r"^part-(\d{6,})\.parquet$")
_COMPRESSION: Final = "zstd"


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The table's columns as an Arrow schema."""
    import pyarrow as pa

    types = {ColumnType.INT: pa.int64(), ColumnType.FLOAT: pa.float64(), ColumnType.STR: pa.string()}
    types[ColumnType.BOOL] = pa.bool_()
    return pa.schema([pa.field(c.name, types[c.type], nullable=False) for c in spec.columns])


def part_path(table_dir: Path, index: int) -> Path:
    """Where chunk ``index``'s part of a Parquet table lives."""
    return table_dir / f"part-{index:06d}.parquet"


def _to_arrow(spec: TableSpec, rows: Sequence[Any]) -> pa.Table:
    import pyarrow as pa

    schema = arrow_schema(spec)
    data = {c.name: [getattr(r, c.name) for r in rows] for c in spec.columns}
    return pa.Table.from_pydict(data, schema=schema)


def write_part(table_dir: Path, spec: TableSpec, index: int, rows: Sequence[Any]) -> Path:
    """Write chunk ``index``'s rows (instances of ``spec.row``) as one compressed part, atomically."""
    import pyarrow.parquet as pq

    if spec.format is not Format.PARQUET:
        raise ValueError(f"table {spec.name!r} is not a Parquet table")
    buffer = io.BytesIO()
    pq.write_table(_to_arrow(spec, rows), buffer, compression=_COMPRESSION)
    path = part_path(table_dir, index)
    write_bytes(path, buffer.getvalue())
    return path


def write_csv(path: Path, spec: TableSpec, rows: Sequence[Any]) -> None:
    """Replace the CSV table at ``path`` by ``rows`` atomically (booleans as yes/no)."""
    names = [c.name for c in spec.columns]
    bools = {c.name for c in spec.columns if c.type is ColumnType.BOOL}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([("yes" if getattr(row, n) else "no") if n in bools else getattr(row, n) for n in names])
    write_bytes(path, buffer.getvalue().encode())


@dataclass(frozen=True)
class Parts:
    """The whole part files of a Parquet table, by chunk index, and the ones that could not be read."""

    files: dict[int, Path]
    damaged: dict[Path, str]

    @property
    def rows(self) -> int:
        """Rows in the whole parts (read from their footers)."""
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files.values())


def scan_parts(table_dir: Path) -> Parts:
    """Every part file of the table whose footer reads, and the damaged ones with the reason."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files: dict[int, Path] = {}
    damaged: dict[Path, str] = {}
    if not table_dir.is_dir():
        return Parts(files, damaged)
    for path in sorted(table_dir.iterdir()):
        match = _PART.match(path.name)
        if match is None:
            continue
        try:
            pq.ParquetFile(path).metadata  # noqa: B018 -- reading the footer is the check
        except (OSError, pa.ArrowException) as exc:
            damaged[path] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            continue
        files[int(match.group(1))] = path
    return Parts(files, damaged)


def dataset(table_dir: Path, spec: TableSpec, parts: Parts | None = None) -> ds.Dataset:
    """The whole parts of a Parquet table as one pyarrow dataset with the declared schema."""
    import pyarrow.dataset as ds

    found = parts if parts is not None else scan_parts(table_dir)
    files = [str(found.files[i]) for i in sorted(found.files)]
    return ds.dataset(files, schema=arrow_schema(spec), format="parquet")


def read_table(
    table_dir: Path,
    spec: TableSpec,
    *,
    columns: Sequence[str] | None = None,
    where: ds.Expression | None = None,
    parts: Parts | None = None,
) -> pa.Table:
    """The table's rows (only ``columns``, only rows matching ``where``), in chunk order."""
    return dataset(table_dir, spec, parts).to_table(columns=list(columns) if columns else None, filter=where)


def iter_batches(
    table_dir: Path,
    spec: TableSpec,
    *,
    columns: Sequence[str] | None = None,
    where: ds.Expression | None = None,
    batch_size: int = 65_536,
) -> Iterator[pa.RecordBatch]:
    """The table's rows as record batches of at most ``batch_size`` rows: memory bounded by a batch."""
    data = dataset(table_dir, spec)
    yield from data.to_batches(columns=list(columns) if columns else None, filter=where, batch_size=batch_size)
