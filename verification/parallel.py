"""Worker processes for campaigns and mutation runs: results as they finish, Ctrl-C safe."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["start_method", "unordered_map"]

T = TypeVar("T")
R = TypeVar("R")


def start_method() -> str:
    """``fork`` where the platform has it (workers inherit loaded plugins), else ``spawn``."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def unordered_map(
    fn: Callable[[T], R],
    tasks: Iterable[T],
    *,
    jobs: int,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """``fn`` over ``tasks`` in ``jobs`` processes (in this process when ``jobs <= 1``), in finishing order.

    An exception or KeyboardInterrupt in the consumer terminates the workers,
    so an interrupted run stops at once and keeps what it already received.
    """
    if jobs <= 1:
        for task in tasks:
            yield fn(task)
        return
    ctx = multiprocessing.get_context(start_method())
    pool = ctx.Pool(jobs, initializer=initializer, initargs=initargs)
    try:
        yield from pool.imap_unordered(fn, list(tasks))
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
