"""The ``gradproof`` command line: one subcommand per job.

Each subcommand lives in a module of its own exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Bad input raises
:class:`~verification.errors.UsageError` (or :class:`~reports.errors.ReportError`), printed as
one line with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from autodiff import AutodiffError
from reports.errors import ReportError
from verification.errors import UsageError

__all__ = ["main", "build_parser"]

# Modules implementing the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "gradproof.train",
    "gradproof.report",
    "gradproof.prove",
    "gradproof.verify",
    "gradproof.compare",
    "gradproof.mutate",
)


def _modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in SUBCOMMANDS]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gradproof",
        description="Prove and cross-check reverse-mode automatic differentiation.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except (UsageError, ReportError, AutodiffError) as exc:
        print(f"gradproof {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradproof {args.command}: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
