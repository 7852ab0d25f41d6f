"""Local worker processes: tasks fed lazily, a bounded number in flight, results as they finish.

Nothing proportional to the number of tasks is built up front: tasks are
drawn from their iterator only as workers free up, so a run of 10**9
expressions starts at once with flat memory. Workers never outlive the
parent: each asks the kernel to kill it when the parent dies (Linux), ignores
Ctrl-C (the parent's to handle) and drops its inherited copy of the run's lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from runstore import held_lock_fds, stop_requested

__all__ = [
    "Executor",
    "LocalWorkers",
    "init_worker",
    "ordered_map",
    "start_method",
    "unordered_map",
    "IN_FLIGHT_PER_WORKER",
]

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 2
"""Tasks queued per worker: one running, one waiting, so a worker never idles between tasks."""

_PR_SET_PDEATHSIG = 1


def start_method() -> str:
    """``fork`` where the platform has it (workers inherit loaded plugins), else ``spawn``."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def init_worker(plugins: tuple[str, ...] = ()) -> None:
    """Worker start-up: die with the parent, leave Ctrl-C and the run's lock to it, load plugins if spawned."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # terminate() ends a worker at once, without a traceback
    for fd in held_lock_fds():
        with contextlib.suppress(OSError):
            os.close(fd)
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

    At most ``IN_FLIGHT_PER_WORKER * jobs`` tasks are drawn ahead of the
    results. An exception or KeyboardInterrupt in the consumer terminates the
    workers, so an interrupted run stops at once and keeps what it received.
    """
    if jobs <= 1:
        for task in tasks:
            yield fn(task)
        return
    ctx = multiprocessing.get_context(start_method())
    pool = ctx.Pool(jobs, initializer=initializer, initargs=initargs)
    done: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
    pending = 0
    source = iter(tasks)
    try:
        while True:
            while pending < IN_FLIGHT_PER_WORKER * jobs:
                task = next(source, _END)
                if task is _END:
                    break
                pool.apply_async(
                    fn, (task,), callback=lambda r: done.put((True, r)), error_callback=lambda e: done.put((False, e))
                )
                pending += 1
            if pending == 0:
                break
            ok, value = _next_result(done)
            pending -= 1
            if not ok:
                raise value
            yield value
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


_END: Any = object()


def _next_result(done: queue.SimpleQueue[tuple[bool, Any]]) -> tuple[bool, Any]:
    """The next result; a stop requested by a signal whose interrupt was swallowed stops the wait too."""
    while True:
        if stop_requested():
            raise KeyboardInterrupt
        try:
            return done.get(timeout=0.2)
        except queue.Empty:
            continue


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


class Executor(Protocol):
    """Runs a run's tasks somewhere (local processes, a Dask cluster) and yields results as they finish."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T], *, count: int) -> Iterator[R]:
        """``fn`` over ``count`` tasks drawn lazily from ``tasks``, in finishing order."""
        ...

    def describe(self) -> str:
        """Where the tasks run, in a few words."""
        ...


@dataclass(frozen=True)
class LocalWorkers:
    """``jobs`` local worker processes (never more than there are tasks); in this process for one job."""

    jobs: int
    plugins: tuple[str, ...] = ()

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T], *, count: int) -> Iterator[R]:
        """``fn`` over the tasks in at most ``min(jobs, count)`` processes, in finishing order."""
        jobs = min(self.jobs, max(count, 1))
        return unordered_map(fn, tasks, jobs=jobs, initializer=init_worker, initargs=(self.plugins,))

    def describe(self) -> str:
        """``N job(s)``."""
        return f"{self.jobs} job(s)"
