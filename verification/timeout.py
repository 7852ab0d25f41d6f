"""Wall-time limits: raise :class:`Timeout` when a block runs longer than allowed.

The one timer of the harness (SIGALRM through ``setitimer``): it works on the
main thread of a POSIX process, which is where campaigns and proofs run; on
other platforms, or off the main thread, the block runs without a limit.
"""

from __future__ import annotations

import contextlib
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
    if seconds <= 0 or not _can_alarm():
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
