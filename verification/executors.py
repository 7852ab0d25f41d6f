"""Choosing where a run's tasks go: local worker processes by default, a Dask cluster when named."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from verification.dask_executor import Cluster, DaskSession
from verification.errors import UsageError
from verification.parallel import Executor, LocalWorkers

__all__ = ["add_executor_arguments", "executor_from_args"]


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """``--jobs``, ``--scheduler`` and ``--scheduler-file``."""
    parser.add_argument("--jobs", type=int, default=None, help="local worker processes (default: all cores)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the chunks on a Dask cluster: its scheduler, tcp://HOST:8786"
    )
    where.add_argument("--scheduler-file", metavar="FILE", help="run the chunks on the Dask cluster described in FILE")


@contextlib.contextmanager
def executor_from_args(
    args: argparse.Namespace, jobs: int, *, plugins: tuple[str, ...] = (), engine: str | None = None
) -> Iterator[Executor]:
    """The executor the arguments name, connected (and disconnected when the block ends)."""
    address, file = getattr(args, "scheduler", None), getattr(args, "scheduler_file", None)
    if address is None and file is None:
        yield LocalWorkers(jobs, plugins)
        return
    if address is not None and "://" not in address:
        raise UsageError(f"--scheduler {address!r} is not an address like tcp://HOST:8786")
    with DaskSession(Cluster(address, file), plugins=plugins, engine=engine) as session:
        yield session
