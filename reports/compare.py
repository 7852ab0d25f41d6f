"""Comparing two runs: what got better or worse per op and per method, and new rule bugs.

Run A is the one under study, run B the baseline (an older engine version, or
another engine). For each group present in either run the table puts the
headline figures side by side and names the change:

* ``new rule bug`` -- A has rule bugs in the group, B has none;
* ``rule bug fixed`` -- the reverse;
* ``worse`` / ``better`` / ``mixed`` -- from the median and max bits of error
  (a change counts beyond :data:`BITS_TOLERANCE` bits) and the share within
  1 ULP (beyond :data:`SHARE_TOLERANCE`); ``mixed`` when some got better and
  some worse;
* ``same`` -- none of these moved;
* ``only in A`` / ``only in B`` -- the group exists in one run (an op or a
  method one engine does not support).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import pandas as pd

from reports import stats

__all__ = ["BITS_TOLERANCE", "SHARE_TOLERANCE", "compare", "compare_by_method", "compare_by_op", "new_rule_bugs"]

BITS_TOLERANCE: Final = 1.0
SHARE_TOLERANCE: Final = 0.01

_FIGURES: Final = ("scored", "median_bits", "max_bits", "within_1ulp", "rule_bugs")


def _change(row: pd.Series) -> str:
    if pd.isna(row["scored_b"]):
        return "only in A"
    if pd.isna(row["scored_a"]):
        return "only in B"
    if row["rule_bugs_a"] > 0 and row["rule_bugs_b"] == 0:
        return "new rule bug"
    if row["rule_bugs_a"] == 0 and row["rule_bugs_b"] > 0:
        return "rule bug fixed"
    worse = (
        row["median_bits_a"] > row["median_bits_b"] + BITS_TOLERANCE
        or row["max_bits_a"] > row["max_bits_b"] + BITS_TOLERANCE
        or row["within_1ulp_a"] < row["within_1ulp_b"] - SHARE_TOLERANCE
    )
    better = (
        row["median_bits_a"] < row["median_bits_b"] - BITS_TOLERANCE
        or row["max_bits_a"] < row["max_bits_b"] - BITS_TOLERANCE
        or row["within_1ulp_a"] > row["within_1ulp_b"] + SHARE_TOLERANCE
    )
    return "mixed" if worse and better else "worse" if worse else "better" if better else "same"


def compare(
    a: pd.DataFrame, b: pd.DataFrame, summary: Callable[[pd.DataFrame], pd.DataFrame], keys: Sequence[str]
) -> pd.DataFrame:
    """Side by side ``summary`` of runs A and B (suffixes ``_a``/``_b``), with ``change`` per group."""
    keys = list(keys)
    sa, sb = summary(a)[[*keys, *_FIGURES]], summary(b)[[*keys, *_FIGURES]]
    both = sa.merge(sb, on=keys, how="outer", suffixes=("_a", "_b"))
    both = stats.ordered(both, keys)
    counts = [f"{f}_{s}" for f in ("scored", "rule_bugs") for s in "ab"]
    both[counts] = both[counts].astype("Int64")  # counts stay whole numbers, missing where a group is absent
    both["change"] = both.apply(_change, axis=1).astype("string") if not both.empty else pd.Series(dtype="string")
    return both[[*keys, *(f"{f}_{s}" for f in _FIGURES for s in "ab"), "change"]]


def compare_by_method(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare` per method."""
    return compare(a, b, stats.by_method, ["method"])


def compare_by_op(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare` per op and method (records attributed to every op they contain)."""
    return compare(a, b, stats.by_op, ["op", "method"])


def new_rule_bugs(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Rule-bug rows of A whose expression has no rule bug in B, one row per expression and method."""
    bugs_a = a[a["verdict"] == "rule_bug"]
    known = set(b.loc[b["verdict"] == "rule_bug", "expr"])
    fresh = bugs_a[~bugs_a["expr"].isin(known)]
    cols = ["expr", "method", "ops", "point", "variable", "grad", "true_grad"]
    return fresh.drop_duplicates(["expr", "method"])[cols].reset_index(drop=True)
