"""Running per-group statistics over record batches: strings and group keys numbered, counts, error histograms.

Used by :mod:`reports.aggregate`: a batch's group columns become small
whole numbers (:class:`Vocab`, :class:`Groups`), and each grouping keeps
exact counts and the fine histograms of :mod:`reports.histogram`
(:class:`Summary`), so its table is :func:`reports.stats.summarize`'s with
percentiles to one bin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from reports import stats
from reports.histogram import BITS, REL, Histogram

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FLAGS", "Vocab", "Rows", "Groups", "factorize", "Summary", "column"]

FLAGS: Final = ("rows", "scored", "unsamplable", "within_1ulp", "within_4ulp", "rule_bugs", "exceptions")
"""Per-row 0/1 counts every summary adds up, in this order."""


class Vocab:
    """Strings seen in a column, numbered in order of first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def encode(self, column: pa.ChunkedArray) -> np.ndarray:
        """The column's strings as their numbers."""
        import pyarrow.compute as pc

        coded = pc.dictionary_encode(column).combine_chunks()
        lut = np.array([self.id(str(s)) for s in coded.dictionary.to_pylist()] or [0], dtype=np.int64)
        return lut[coded.indices.to_numpy(zero_copy_only=False)]

    def id(self, name: str) -> int:
        """The number of ``name`` (numbered now if new)."""
        if name not in self.ids:
            self.ids[name] = len(self.names)
            self.names.append(name)
        return self.ids[name]


@dataclass
class Rows:
    """One batch of records as numpy arrays: group columns as numbers, errors with failures counted worst."""

    table: pa.Table
    method: np.ndarray
    verdict: np.ndarray
    flags: np.ndarray  # (rows, len(FLAGS)) of 0/1
    scored: np.ndarray
    bits: np.ndarray
    rel: np.ndarray

    def ints(self, name: str) -> np.ndarray:
        """An integer column."""
        return np.asarray(self.table.column(name).to_numpy(), dtype=np.int64)


class Groups:
    """Group keys (tuples of column values) numbered in order of first sight."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.ids: dict[tuple[Any, ...], int] = {}

    def number(self, codes: np.ndarray, decode: Sequence[Callable[[int], Any]]) -> np.ndarray:
        """Each row's group number from its key codes (one column per key; ``decode`` gives each value)."""
        if not len(codes):
            return np.empty(0, np.int64)
        first, inverse = factorize(codes)
        local = []
        for key in codes[first].tolist():
            value = tuple(d(k) for d, k in zip(decode, key))
            local.append(self.ids.setdefault(value, len(self.ids)))
        return np.asarray(local, dtype=np.int64)[inverse]


def factorize(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-d integer array: the index of each one's first row, and each row's distinct number."""
    low, high = codes.min(axis=0), codes.max(axis=0)
    spans = [int(h) - int(lo) + 1 for lo, h in zip(low.tolist(), high.tolist())]
    if math.prod(spans) < 1 << 62:  # one whole number per row: its columns as digits
        key = np.zeros(len(codes), np.int64)
        for j, span in enumerate(spans):
            key = key * span + (codes[:, j] - low[j])
    else:
        key = np.zeros(len(codes), np.int64)
        for j in range(codes.shape[1]):
            values, column = np.unique(codes[:, j], return_inverse=True)
            key = np.unique(key * len(values) + column, return_inverse=True)[1].reshape(-1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


class Summary:
    """Running :func:`reports.stats.summarize` of one grouping: counts, maxima, error histograms."""

    def __init__(self, names: Sequence[str]) -> None:
        self.groups = Groups(names)
        self.counts = np.zeros((0, len(FLAGS)), np.int64)
        self.bits = Histogram(BITS)
        self.rel = Histogram(REL)

    def add(self, rows: Rows, codes: np.ndarray, decode: Sequence[Callable[[int], Any]], take: np.ndarray) -> None:
        """Count rows ``take`` of the batch, whose keys are ``codes``."""
        gid = self.groups.number(codes, decode)
        total = len(self.groups.ids)
        if total > len(self.counts):
            self.counts = np.vstack([self.counts, np.zeros((total - len(self.counts), len(FLAGS)), np.int64)])
        for j in range(len(FLAGS)):
            self.counts[:, j] += np.bincount(gid, weights=rows.flags[take, j], minlength=total).astype(np.int64)
        scored = rows.scored[take]
        self.bits.add(gid[scored], rows.bits[take][scored])
        self.rel.add(gid[scored], rows.rel[take][scored])

    def table(self) -> pd.DataFrame:
        """One row per group with the columns of :data:`reports.stats.SUMMARY_COLUMNS`, in report order."""
        out = []
        for key, g in self.groups.ids.items():
            c = dict(zip(FLAGS, (int(v) for v in self.counts[g])))
            n = c["scored"]
            row: dict[str, Any] = dict(zip(self.groups.names, key))
            row.update(rows=c["rows"], scored=n, unsamplable=c["unsamplable"])
            for name, hist in (("rel_err", self.rel), ("bits", self.bits)):
                for label, q in (("median", 0.5), ("p90", 0.9), ("p99", 0.99)):
                    row[f"{label}_{name}"] = hist.quantile(g, q)
                row[f"max_{name}"] = hist.maximum(g)
            for share in ("within_1ulp", "within_4ulp"):
                row[share] = c[share] / n if n else math.nan
            row.update(rule_bugs=c["rule_bugs"], exceptions=c["exceptions"])
            out.append(row)
        keys = list(self.groups.names)
        return stats.ordered(pd.DataFrame(out, columns=[*keys, *stats.SUMMARY_COLUMNS]), keys)


def column(rows: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64."""
    return np.asarray(rows.column(name).to_numpy(), dtype=np.float64)
