"""``gradproof report``: tables, figures and a summary of a campaign run, optionally against another run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports.errors import ReportError
from reports.formats import FORMATS

NAME = "report"
HELP = "write the accuracy report (Markdown, HTML, CSV) of a run directory and print a summary"

EPILOG = """\
exit status:
  0    report written
  1    report written, and RUN_DIR has a rule bug that the --against run does not
  2    bad usage: missing or damaged run directory or file, unknown format
  141  the reader of the output went away (e.g. piped into head)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        nargs="+",
        help="run directory written by `gradproof verify`; several: one table with a row per run (engine)",
    )
    parser.add_argument("--out", metavar="DIR", help="output directory (default RUN_DIR/report)")
    parser.add_argument(
        "--format",
        default=",".join(FORMATS),
        help=f"comma-separated output formats among {', '.join(FORMATS)} (default: all)",
    )
    parser.add_argument(
        "--against",
        metavar="RUN_B",
        help="baseline run to compare with; exit status 1 when RUN_DIR has a rule bug or a defect RUN_B does not, "
        "or its engine's accuracy got worse (beyond 1 bit in median or max bits, or 1%% of results within 1 ULP)",
    )


def run(args: argparse.Namespace) -> int:
    from reports.build import build_report
    from reports.order2 import build_order2_report, is_order2_run

    if any(is_order2_run(r) for r in args.run_dir):  # gradproof verify --order 2: tables per order and mode
        if len(args.run_dir) > 1 or args.against is not None:
            raise ReportError("an order-2 run is reported alone (no --against, no other RUN_DIR)")
        print(build_order2_report(args.run_dir[0], args.out, args.format).summary)
        return 0

    if len(args.run_dir) > 1:
        from reports.engines import build_engines_report

        if args.against is not None:
            raise ReportError("--against compares two runs; with several RUN_DIRs drop it")
        out = args.out or str(Path(args.run_dir[0]).parent / "engines-report")
        print(build_engines_report(args.run_dir, out, args.format).summary)
        return 0
    report = build_report(args.run_dir[0], args.out, args.format, against=args.against)
    print(report.summary)
    for warning in report.warnings:
        print(f"gradproof report: warning: {warning}; the comparison may not mean what it seems", file=sys.stderr)
    return 1 if report.fails else 0
