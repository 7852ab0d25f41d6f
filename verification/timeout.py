"""Wall-time limits: raise :class:`Timeout` when a block runs longer than allowed.

The one timer of the harness: SIGALRM through ``setitimer`` on the main thread
of a POSIX process (where local campaigns and proofs run); on another thread
(a Dask worker runs its tasks on one) a timer thread raises the limit's
exception in the block's thread (CPython's ``PyThreadState_SetAsyncExc``,
delivered at the next bytecode, so a long call into C finishes first).
Limits nest: an inner SIGALRM limit saves the outer one's timer and re-arms it
with the time left when it exits. Each limit raises an exception of its own
class (a subclass of :class:`Timeout`, yielded by the ``with`` statement as an
instance), so a caller tells its limit from an outer one with
:meth:`Timeout.raised_by`.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

__all__ = ["Timeout", "time_limit"]


class Timeout(BaseException):
    """A block exceeded its wall-time limit (a BaseException, so no ``except Exception`` swallows it)."""

    seconds: float = 0.0

    def __init__(self, seconds: float | None = None) -> None:
        if seconds is not None:
            self.seconds = seconds
        super().__init__(f"no answer within {self.seconds:g} s")

    def raised_by(self, limit: Timeout | None) -> bool:
        """Whether this exception is the expiry of ``limit`` (the instance its ``with`` statement bound)."""
        return limit is not None and isinstance(self, type(limit))


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[Timeout]:
    """Raise :class:`Timeout` inside the block after ``seconds`` of wall time (no limit when ``seconds <= 0``).

    Yields an instance of the limit's own exception class. The previous SIGALRM
    handler and timer are restored on exit (an outer timer with the time it has
    left), so limits do not leak into the caller; an outer limit that expires
    first fires as usual.
    """
    kind = type("Timeout", (Timeout,), {"seconds": seconds, "__module__": __name__})
    own = kind()
    if seconds <= 0:
        yield own
        return
    if not _can_alarm():
        with _thread_limit(kind):
            yield own
        return
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_left and outer_left <= seconds:
        yield own  # the outer limit comes first
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise own

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield own
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 1e-3))


@contextlib.contextmanager
def _thread_limit(kind: type[Timeout]) -> Iterator[None]:
    """Raise ``kind`` in this (non-main) thread after ``kind.seconds``, unless the block ended first."""
    target = threading.get_ident()
    guard = threading.Lock()
    inside = [True]

    def expire() -> None:
        with guard:
            if inside[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(kind))

    timer = threading.Timer(kind.seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with guard:
            inside[0] = False
        timer.cancel()
