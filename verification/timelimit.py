"""A wall-clock limit on a block of code (SIGALRM), safe to nest inside another limit.

A hang in an engine under test is an outcome to record, not a reason to wait
forever. The inner limit saves the outer one's timer and re-arms it with the
time that is left when it exits, so a per-evaluation limit can run inside a
per-expression one. POSIX main thread only; elsewhere the block runs without
a limit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["TimeLimit", "time_limit"]


class TimeLimit(BaseException):
    """The block ran longer than its limit (a BaseException, so no ``except Exception`` swallows it)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimit` in the block after ``seconds`` of wall time (0 or less: no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds <= 0 or not usable:
        yield
        return
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining < seconds:
        # the outer limit expires first: let it fire as it would have
        yield
        return
    own = TimeLimit(seconds)

    def expire(signum: int, frame: Any) -> None:
        raise own

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
