"""What a run writes and how: the run-directory layout, one schema map, and the run life cycle.

Below ``verification`` and ``reports`` (it imports neither): campaigns,
per-op sweeps and mutation runs write through :class:`RunDir`; reports read
through :func:`open_run`, :func:`read_findings` and :func:`read_table`.
"""

from __future__ import annotations

from runstore.atomic import append_lines, read_json_lines, write_json
from runstore.errors import RunStoreError
from runstore.export import export_csv
from runstore.layout import (
    FINDINGS_FILE,
    FINDINGS_KEPT,
    FINDINGS_LOG,
    LOCK_FILE,
    MANIFEST_FILE,
    OBSERVATIONS_DIR,
    ORDER2_RECORDS_FILE,
    RUN_FILE,
    WARNINGS_FILE,
    RunKind,
    Status,
)
from runstore.read import StoredFindings, StoredRun, open_run, read_findings
from runstore.rundir import (
    ChunkEntry,
    RunDir,
    claim_new,
    held_lock_fds,
    mark_if_stale,
    read_manifest,
    read_meta,
    stop_requested,
)
from runstore.schema import (
    EQUIVALENTS,
    METHODS,
    MUTANTS,
    PER_OP,
    RECORDS,
    TABLES,
    VERDICTS,
    Column,
    ColumnType,
    EquivalentRow,
    Format,
    MutantRow,
    PerOpRow,
    Record,
    TableSpec,
    columns,
)
from runstore.tables import Parts, arrow_schema, iter_batches, read_table, scan_parts

__all__ = [
    "FINDINGS_FILE",
    "FINDINGS_KEPT",
    "FINDINGS_LOG",
    "OBSERVATIONS_DIR",
    "ORDER2_RECORDS_FILE",
    "WARNINGS_FILE",
    "LOCK_FILE",
    "MANIFEST_FILE",
    "RUN_FILE",
    "RunKind",
    "Status",
    "RunStoreError",
    "RunDir",
    "ChunkEntry",
    "claim_new",
    "held_lock_fds",
    "mark_if_stale",
    "read_manifest",
    "read_meta",
    "stop_requested",
    "StoredRun",
    "StoredFindings",
    "open_run",
    "read_findings",
    "export_csv",
    "append_lines",
    "read_json_lines",
    "write_json",
    "METHODS",
    "VERDICTS",
    "Column",
    "ColumnType",
    "Format",
    "TableSpec",
    "Record",
    "MutantRow",
    "EquivalentRow",
    "PerOpRow",
    "RECORDS",
    "MUTANTS",
    "EQUIVALENTS",
    "PER_OP",
    "TABLES",
    "columns",
    "Parts",
    "arrow_schema",
    "scan_parts",
    "read_table",
    "iter_batches",
]
