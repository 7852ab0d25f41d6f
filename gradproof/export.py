"""``gradproof export``: a run's Parquet records as one CSV file, for tools that want CSV.

Exit status 0 when written, 2 for bad usage (not a run, no records, cannot write).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runstore import export_csv

NAME = "export"
HELP = "write a run's records (a Parquet dataset) as CSV"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by `gradproof verify`")
    parser.add_argument("--csv", action="store_true", required=True, help="export as CSV (the one format offered)")
    parser.add_argument("--out", metavar="FILE", help="the CSV file (default RUN_DIR/records.csv)")


def run(args: argparse.Namespace) -> int:
    path, rows = export_csv(Path(args.run_dir), Path(args.out) if args.out else None)
    print(f"{rows} records -> {path}")
    return 0
