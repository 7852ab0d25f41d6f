"""The ``gradproof`` command line: one subcommand per job.

Each subcommand lives in a module of its own exposing ``NAME``, ``HELP``,
``EPILOG`` (its exit statuses and other notes for ``--help``),
``add_arguments(parser)`` and ``run(args) -> int``. Bad input raises
:class:`~verification.errors.UsageError` (or :class:`~reports.errors.ReportError`), printed as
one line with exit status 2. ``--quiet`` and ``--verbose`` are accepted before or
after the subcommand and reach it as ``args.progress`` and ``args.progress_interval``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from autodiff import AutodiffError, __version__
from reports.errors import ReportError
from runstore import RunStoreError
from verification.errors import UsageError
from verification.progress import PROGRESS_INTERVAL, VERBOSE_INTERVAL

__all__ = ["main", "build_parser"]

# Modules implementing the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "gradproof.train",
    "gradproof.report",
    "gradproof.prove",
    "gradproof.verify",
    "gradproof.compare",
    "gradproof.mutate",
    "gradproof.export",
)


def _modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in SUBCOMMANDS]


EXIT_PIPE_CLOSED = 141
"""Exit status when the reader of the output went away (``gradproof ... | head``), as a shell reports SIGPIPE."""


def _verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=default, help="no progress output on stderr")
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help=f"progress every {VERBOSE_INTERVAL:g} s instead of every {PROGRESS_INTERVAL:g} s when stderr is a log",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gradproof",
        description="Prove and cross-check reverse-mode automatic differentiation.",
        epilog="Run 'gradproof COMMAND --help' for a command's options and exit statuses.",
    )
    parser.add_argument("--version", action="version", version=f"gradproof {__version__}")
    _verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _modules():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=module.EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        _verbosity(p, argparse.SUPPRESS)  # given after the command; SUPPRESS keeps a value given before it
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    args.progress = not args.quiet
    args.progress_interval = VERBOSE_INTERVAL if args.verbose else PROGRESS_INTERVAL
    try:
        return int(args._run(args))
    except (UsageError, ReportError, RunStoreError, AutodiffError) as exc:
        print(f"gradproof {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradproof {args.command}: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    """Console-script entry point; a reader that closes the pipe early ends the program quietly."""
    status: int | str | None
    try:
        try:
            status = main()
        except SystemExit as exc:  # --help, --version and argparse's own errors
            status = exc.code
        sys.stdout.flush()
    except BrokenPipeError:
        # stdout's reader is gone: point stdout at /dev/null so the interpreter's final flush fails no more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = EXIT_PIPE_CLOSED
    sys.exit(status)
