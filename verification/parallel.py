"""Worker processes for campaigns and mutation runs: results as they finish, Ctrl-C safe."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["init_worker", "ordered_map", "start_method", "unordered_map"]

T = TypeVar("T")
R = TypeVar("R")


def start_method() -> str:
    """``fork`` where the platform has it (workers inherit loaded plugins), else ``spawn``."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def init_worker(plugins: tuple[str, ...] = ()) -> None:
    """Worker start-up: Ctrl-C is the parent's to handle; a spawned worker loads the plugins' ops itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if plugins and start_method() != "fork":
        from verification.plugins import load_plugins

        load_plugins(plugins)


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


def ordered_map(fn: Callable[[T], R], tasks: Iterable[T], *, jobs: int, plugins: tuple[str, ...] = ()) -> list[R]:
    """``fn`` over ``tasks`` in ``jobs`` processes, results in task order."""
    indexed = list(enumerate(tasks))
    done = dict(unordered_map(_Indexed(fn), indexed, jobs=jobs, initializer=init_worker, initargs=(plugins,)))
    return [done[i] for i, _ in indexed]


class _Indexed:
    """``(i, task) -> (i, fn(task))``, picklable for worker processes."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, item: tuple[int, Any]) -> tuple[int, Any]:
        i, task = item
        return i, self.fn(task)
