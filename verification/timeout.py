"""Wall-time limits: raise :class:`Timeout` when a block runs longer than allowed.

The one timer of the harness: SIGALRM through ``setitimer`` on the main thread
of a POSIX process (where local campaigns and proofs run); on another thread
(a Dask worker runs its tasks on one) a timer thread raises :class:`Timeout`
in the block's thread (CPython's ``PyThreadState_SetAsyncExc``, delivered at
the next bytecode, so a long call into C finishes first).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Timeout", "time_limit"]


class Timeout(BaseException):
    """A block exceeded its wall-time limit (a BaseException, so no ``except Exception`` swallows it)."""


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Timeout` inside the block after ``seconds`` of wall time (no limit when ``seconds <= 0``).

    The previous SIGALRM handler and timer are restored on exit, so limits
    do not leak into the caller.
    """
    if seconds <= 0:
        yield
        return
    if not _can_alarm():
        with _thread_limit(seconds):
            yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _thread_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Timeout` in this (non-main) thread after ``seconds``, unless the block ended first."""
    target = threading.get_ident()
    guard = threading.Lock()
    inside = [True]

    def expire() -> None:
        with guard:
            if inside[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(Timeout))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with guard:
            inside[0] = False
        timer.cancel()
