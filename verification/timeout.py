"""Wall-time limits: raise :class:`Timeout` when a block runs longer than allowed.

The one timer of the harness (SIGALRM through ``setitimer``): it works on the
main thread of a POSIX process, which is where campaigns and proofs run; on
other platforms, or off the main thread, the block runs without a limit.
Limits nest: an inner limit saves the outer one's timer and re-arms it with
the time left when it exits, and each limit raises its own instance (the one
the ``with`` statement binds), so a caller can tell its limit from an outer one.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

__all__ = ["Timeout", "time_limit"]


class Timeout(BaseException):
    """A block exceeded its wall-time limit (a BaseException, so no ``except Exception`` swallows it)."""

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[Timeout]:
    """Raise :class:`Timeout` inside the block after ``seconds`` of wall time (no limit when ``seconds <= 0``).

    Yields the instance it would raise. The previous SIGALRM handler and timer
    are restored on exit (an outer timer with the time it has left), so limits
    do not leak into the caller; an outer limit that expires first fires as usual.
    """
    own = Timeout(seconds)
    if seconds <= 0 or not _can_alarm():
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
