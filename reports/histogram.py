"""Fine fixed-bin histograms per group: exact counts and maxima, nearest-rank quantiles to one bin's width.

A report over millions of records cannot sort every error to take its
percentiles, so it counts them in fixed bins instead, and in each occupied
(group, bin) keeps the count and the *largest value seen*. The p-th
percentile of a group is then the largest value of the bin holding the
ceil(p/100 * n)-th smallest value: a value that occurs in the data, never
below the exact nearest-rank percentile and less than one bin above it, and
exactly it whenever that bin holds one distinct value. Maxima are exact.

The bins (:data:`BITS`, :data:`REL`, :data:`EXCESS`):

* bits of error, 0 to 64: 1/1024 bit wide. ``log2(u + 1)`` for different
  whole ULP counts ``u`` fall in different bins up to u = 1477, so medians
  and percentiles of errors up to about a thousand ULPs are exact, and above
  that within 0.001 bit (the report shows 2 decimals);
* relative error: 0 and infinity each a bin of their own, finite values in
  bins 1/1024 of an octave wide on a log2 scale (2**-1080 to 2**1025), so a
  percentile is within a factor 2**(1/1024), 0.068 %, of the exact one (the
  report shows 3 significant digits);
* excess bits, -64 to 64: 1/1024 bit wide.

Values outside a scale's range land in its end bins (and are still the exact
maximum there). The histograms are sparse: memory grows with the occupied
(group, bin) pairs, never with the number of values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

__all__ = ["Scale", "BITS", "REL", "EXCESS", "Histogram"]


@dataclass(frozen=True)
class Scale:
    """How values map to bin numbers 0 .. ``bins - 1``, and the width of a bin (in the scale's unit)."""

    name: str
    bins: int
    width: str
    index: Callable[[np.ndarray], np.ndarray]


_PER_BIT: Final = 1024
_REL_LOW: Final = -1080  # octaves below 1 of the lowest finite bin; 2**-1074 is the least subnormal
_REL_HIGH: Final = 1025


def _linear(low: float, high: float) -> Callable[[np.ndarray], np.ndarray]:
    top = int((high - low) * _PER_BIT)

    def index(values: np.ndarray) -> np.ndarray:
        filled = np.where(np.isnan(values), high, values)
        return np.clip(np.floor((filled - low) * _PER_BIT), 0, top).astype(np.int64)

    return index


_REL_TOP: Final = (_REL_HIGH - _REL_LOW) * _PER_BIT + 1  # the bin of infinity (and NaN)


def _rel_index(values: np.ndarray) -> np.ndarray:
    positive = values > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        octaves = np.log2(np.where(positive & np.isfinite(values), values, 1.0))
    finite = np.clip(np.floor((octaves - _REL_LOW) * _PER_BIT) + 1, 1, _REL_TOP - 1).astype(np.int64)
    out = np.where(positive, finite, 0)
    return np.where(np.isinf(values) | np.isnan(values), _REL_TOP, out)


BITS: Final = Scale("bits", 64 * _PER_BIT + 1, f"1/{_PER_BIT} bit", _linear(0.0, 64.0))
REL: Final = Scale("relative error", _REL_TOP + 1, f"1/{_PER_BIT} octave", _rel_index)
EXCESS: Final = Scale("excess bits", 128 * _PER_BIT + 1, f"1/{_PER_BIT} bit", _linear(-64.0, 64.0))


class Histogram:
    """Per group (a whole number from 0): count and largest value of each occupied bin of ``scale``."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.keys = np.empty(0, np.int64)  # group * bins + bin, sorted
        self.counts = np.empty(0, np.int64)
        self.top = np.empty(0, np.float64)

    def add(self, groups: np.ndarray, values: np.ndarray) -> None:
        """Count ``values[i]`` in group ``groups[i]``."""
        if not len(values):
            return
        new = groups.astype(np.int64) * self.scale.bins + self.scale.index(values)
        order = np.argsort(new, kind="stable")
        keys, tops = new[order], np.where(np.isnan(values), np.inf, values)[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        keys, tops, counts = keys[starts], np.maximum.reduceat(tops, starts), np.diff(np.r_[starts, len(new)])
        at = np.searchsorted(self.keys, keys)
        known = at < len(self.keys)
        known[known] = self.keys[at[known]] == keys[known]
        hit = at[known]
        self.counts[hit] += counts[known]
        self.top[hit] = np.maximum(self.top[hit], tops[known])
        fresh, where = ~known, at[~known]
        self.keys = np.insert(self.keys, where, keys[fresh])
        self.counts = np.insert(self.counts, where, counts[fresh])
        self.top = np.insert(self.top, where, tops[fresh])

    def _span(self, group: int) -> tuple[int, int]:
        lo, hi = np.searchsorted(self.keys, [group * self.scale.bins, (group + 1) * self.scale.bins])
        return int(lo), int(hi)

    def count(self, group: int) -> int:
        """How many values the group holds."""
        lo, hi = self._span(group)
        return int(self.counts[lo:hi].sum())

    def quantile(self, group: int, q: float) -> float:
        """The nearest-rank ``q``-quantile (q in (0, 1]) to one bin (see the module); NaN for no values."""
        lo, hi = self._span(group)
        if lo == hi:
            return math.nan
        cum = np.cumsum(self.counts[lo:hi])
        rank = max(math.ceil(q * int(cum[-1])), 1)
        return float(self.top[lo + int(np.searchsorted(cum, rank))])

    def maximum(self, group: int) -> float:
        """The group's largest value (exact); NaN for no values."""
        lo, hi = self._span(group)
        return float(self.top[hi - 1]) if hi > lo else math.nan

    def steps(self, group: int) -> tuple[np.ndarray, np.ndarray]:
        """The group's occupied bins in order: (largest value in each, count in each)."""
        lo, hi = self._span(group)
        return self.top[lo:hi], self.counts[lo:hi]
