"""``gradproof export``: a run's Parquet records as one CSV file, for tools that want CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from runstore import export_csv

NAME = "export"
HELP = "write a run's records (a Parquet dataset) as CSV"

EPILOG = """\
exit status:
  0    written
  2    bad usage: not a run directory, a run without records, a file that cannot be written
  141  the reader of the output went away (e.g. piped into head)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by `gradproof verify`")
    parser.add_argument("--csv", action="store_true", required=True, help="export as CSV (the one format offered)")
    parser.add_argument("--out", metavar="FILE", help="the CSV file (default RUN_DIR/records.csv)")


def run(args: argparse.Namespace) -> int:
    path, rows = export_csv(Path(args.run_dir), Path(args.out) if args.out else None)
    print(f"{rows} records -> {path}")
    return 0
