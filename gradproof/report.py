"""``gradproof report``: tables, figures and a summary of a campaign run, optionally against another run."""

from __future__ import annotations

import argparse

from reports import FORMATS, build_report

NAME = "report"
HELP = "write the accuracy report (Markdown, HTML, CSV) of a run directory and print a summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by `gradproof verify`")
    parser.add_argument("--out", metavar="DIR", help="output directory (default RUN_DIR/report)")
    parser.add_argument(
        "--format",
        default=",".join(FORMATS),
        help=f"comma-separated output formats among {', '.join(FORMATS)} (default: all)",
    )
    parser.add_argument(
        "--against",
        metavar="RUN_B",
        help="baseline run to compare with; exit status 1 when RUN_DIR has a rule bug RUN_B does not",
    )


def run(args: argparse.Namespace) -> int:
    report = build_report(args.run_dir, args.out, args.format, against=args.against)
    print(report.summary)
    return 1 if report.new_rule_bugs else 0
