"""Progress of a long run on stderr: a bar on a terminal, a plain line every so often in a log.

A bar redrawn in place is unreadable in a CI log, and silence for minutes
looks like a hang; so off a terminal the progress is a line such as::

    gradproof: 1250/7000 expr (18%), 12.3 expr/s, 1 min 41 s elapsed, about 7 min 48 s left, bugs=0

every ``interval`` seconds, and one last line when the run ends.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["PROGRESS_INTERVAL", "VERBOSE_INTERVAL", "Progress", "duration"]

PROGRESS_INTERVAL = 30.0
"""Seconds between two progress lines off a terminal."""

VERBOSE_INTERVAL = 5.0
"""Seconds between two progress lines with ``--verbose``."""


def duration(seconds: float) -> str:
    """``95.2`` -> ``"1 min 35 s"``; whole seconds, hours when it takes that long."""
    s = round(seconds)
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


class Progress:
    """Counts finished units of a run of ``total`` and shows it: bar on a terminal, periodic lines otherwise."""

    def __init__(
        self,
        total: int,
        unit: str,
        *,
        enabled: bool = True,
        interval: float = PROGRESS_INTERVAL,
        stream: TextIO | None = None,
        label: str = "gradproof",
    ) -> None:
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.done = 0
        self.notes: dict[str, Any] = {}
        self._start = self._last = time.monotonic()
        self._lines = 0
        self._bar: Any = None
        if enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=unit, file=self.stream, leave=False)

    def update(self, n: int, **notes: Any) -> None:
        """``n`` more units finished; ``notes`` (e.g. ``bugs=0``) are shown after the count."""
        self.done += n
        self.notes.update(notes)
        if self._bar is not None:
            self._bar.update(n)
            if notes:
                self._bar.set_postfix(**self.notes)
            return
        now = time.monotonic()
        if self.enabled and now - self._last >= self.interval:
            self._last = now
            self._line(now)

    def close(self) -> None:
        """End the display: the bar is removed; off a terminal a last line is written if any was."""
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self._lines:
            self._line(time.monotonic())

    def _line(self, now: float) -> None:
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.done}/{self.total} {self.unit}"]
        if self.total:
            parts[0] += f" ({self.done / self.total:.0%})"
        parts.append(f"{rate:.3g} {self.unit}/s")
        parts.append(f"{duration(elapsed)} elapsed")
        if 0 < self.done < self.total and rate > 0:
            parts.append(f"about {duration((self.total - self.done) / rate)} left")
        parts.extend(f"{k}={v}" for k, v in self.notes.items())
        print(f"{self.label}: " + ", ".join(parts), file=self.stream, flush=True)
        self._lines += 1


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False
