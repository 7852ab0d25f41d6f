"""Export of a run's Parquet records as one CSV file, batch by batch (memory bounded by a batch)."""

from __future__ import annotations

import os
from pathlib import Path

from runstore.atomic import fsync_dir
from runstore.errors import RunStoreError
from runstore.read import open_run
from runstore.schema import RECORDS
from runstore.tables import arrow_schema, dataset

__all__ = ["export_csv"]


def export_csv(run_path: Path, out: Path | None = None) -> tuple[Path, int]:
    """Write the run's records to ``out`` (default ``RUN/records.csv``) as CSV; the path and the row count."""
    import pyarrow.csv as pacsv

    run = open_run(run_path)
    parts = run.parts.get(RECORDS.name)
    if parts is None or not parts.files:
        raise RunStoreError(f"{run_path} holds no Parquet records to export")
    target = out if out is not None else run_path / "records.csv"
    tmp = target.with_name(f".{target.name}.tmp")
    rows = 0
    try:
        with pacsv.CSVWriter(str(tmp), arrow_schema(RECORDS)) as writer:
            for batch in dataset(run_path / RECORDS.path, RECORDS, parts).to_batches():
                writer.write_batch(batch)
                rows += batch.num_rows
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise RunStoreError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    return target, rows
