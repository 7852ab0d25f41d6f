"""What a campaign keeps in memory as chunks arrive: bounded, however many expressions it runs.

:class:`RatioSample` keeps every float64 error/bound ratio up to a cap, then a
uniform random sample of that size (reservoir sampling), and the exact
maximum; :class:`FindingTally` keeps the first findings (and the first of each
kind and method, which shrinking needs) and counts all of them. Every finding
is on disk in ``findings.jsonl``; every ratio in the chunk manifest.
"""

from __future__ import annotations

import math
import random
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["RATIO_CAP", "RatioSample", "FindingTally"]

RATIO_CAP: Final = 1_000_000
"""Ratios kept exactly (8 MB); beyond, a uniform sample of this size."""


@dataclass
class RatioSample:
    """Every ratio up to ``cap``, then a uniform sample of ``cap`` of them; the exact count and maximum."""

    cap: int = RATIO_CAP
    seen: int = 0
    maximum: float = -math.inf
    values: array[float] = field(default_factory=lambda: array("d"))
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def extend(self, ratios: Iterable[float]) -> None:
        """Add ratios (Algorithm R: the ``n``-th replaces a random kept one with probability ``cap / n``)."""
        for x in ratios:
            self.seen += 1
            self.maximum = max(self.maximum, x)
            if len(self.values) < self.cap:
                self.values.append(x)
            else:
                j = self._rng.randrange(self.seen)
                if j < self.cap:
                    self.values[j] = x

    @property
    def sampled(self) -> bool:
        """Whether the median comes from a sample rather than from every ratio."""
        return self.seen > len(self.values)

    def median(self) -> float | None:
        """The upper median of the kept ratios (None when there are none)."""
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[len(ordered) // 2]


@dataclass
class FindingTally:
    """The first ``keep`` findings, the first of each (kind, method), and the count of every kind."""

    keep: int
    kept: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    _firsts: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def extend(self, findings: Iterable[dict[str, Any]]) -> None:
        """Count the findings and keep those the run reports or shrinks."""
        for f in findings:
            self.counts[f["kind"]] += 1
            first = (f["kind"], f.get("method", ""))
            if len(self.kept) < self.keep or first not in self._firsts:
                self.kept.append(f)
            self._firsts.add(first)
