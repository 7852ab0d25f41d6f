"""Error statistics over campaign records, as DataFrames (one row per group).

The headline metric is Herbie's *bits of error*, ``log2(ulp_err + 1)``: 0
for the correctly rounded result, 1 for one ULP off, ~52 when no bit of the
significand is right, 64 when a method returned NaN/inf or raised where the
truth is finite. It is logarithmic in ULPs, so medians and tails of very
different errors stay comparable.

A row is *scored* when its certified truth exists (``true_grad`` is not NaN;
unsamplable points are counted, not scored). In a scored row a missing
``rel_err``/``bits_err`` (the method failed) counts as the worst error:
``inf`` and 64 bits. Percentiles are nearest-rank: the p-th percentile of n
values is the ceil(p/100 * n)-th smallest, a value that occurs in the data,
so a median of 0, 1, 2, 4 bits is 1 bit and infinite errors stay infinite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from runstore import METHODS

__all__ = [
    "MAX_BITS",
    "nearest_rank",
    "summarize",
    "by_method",
    "by_op",
    "single_op",
    "by_depth",
    "by_size",
    "by_engine",
    "verdicts",
    "exceptions",
    "excess",
    "discards",
    "size_bucket",
    "order_sizes",
    "SUMMARY_COLUMNS",
    "overview",
    "ordered",
]

MAX_BITS: Final = 64.0

# Columns of every summary, after the group keys.
SUMMARY_COLUMNS: Final = (
    "rows",
    "scored",
    "unsamplable",
    "median_rel_err",
    "p90_rel_err",
    "p99_rel_err",
    "max_rel_err",
    "median_bits",
    "p90_bits",
    "p99_bits",
    "max_bits",
    "within_1ulp",
    "within_4ulp",
    "rule_bugs",
    "exceptions",
)

_NEEDED: Final = ("method", "true_grad", "rel_err", "ulp_err", "bits_err", "verdict", "outcome")


def nearest_rank(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The ceil(q * n)-th smallest of ``values`` (q in (0, 1]); NaN for no values."""
    arr = np.sort(np.asarray(values, dtype=float))
    if arr.size == 0:
        return math.nan
    return float(arr[max(math.ceil(q * arr.size), 1) - 1])


def _errors(records: pd.DataFrame) -> pd.DataFrame:
    """Per row: scored flag, relative error and bits with failures counted as the worst."""
    scored = records["true_grad"].notna()
    rel = records["rel_err"].where(records["rel_err"].notna() | ~scored, math.inf)
    bits = records["bits_err"].where(records["bits_err"].notna() | ~scored, MAX_BITS)
    ulp = records["ulp_err"]
    return pd.DataFrame(
        {
            "scored": scored,
            "rel": rel,
            "bits": bits,
            "within_1ulp": scored & (ulp <= 1),
            "within_4ulp": scored & (ulp <= 4),
            "rule_bug": records["verdict"] == "rule_bug",
            "unsamplable": records["verdict"] == "unsamplable",
            "exception": records["outcome"] != "ok",
        },
        index=records.index,
    )


def summarize(records: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Counts, error percentiles, shares within 1/4 ULPs, rule bugs and exceptions per group of ``by``.

    ``within_1ulp``/``within_4ulp`` are shares of the scored rows
    (``ulp_err <= 1`` / ``<= 4``); ``exceptions`` counts rows whose outcome
    is not ``ok``.
    """
    keys = list(by)
    err = pd.concat([records[keys], _errors(records)], axis=1)
    rows: list[dict[str, Any]] = []
    for key, g in err.groupby(keys, sort=False, dropna=False):
        s = g[g["scored"]]
        n = len(s)
        rel, bits = s["rel"].to_numpy(), s["bits"].to_numpy()
        row: dict[str, Any] = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        row.update(
            rows=len(g),
            scored=n,
            unsamplable=int(g["unsamplable"].sum()),
            median_rel_err=nearest_rank(rel, 0.5),
            p90_rel_err=nearest_rank(rel, 0.9),
            p99_rel_err=nearest_rank(rel, 0.99),
            max_rel_err=float(rel.max()) if n else math.nan,
            median_bits=nearest_rank(bits, 0.5),
            p90_bits=nearest_rank(bits, 0.9),
            p99_bits=nearest_rank(bits, 0.99),
            max_bits=float(bits.max()) if n else math.nan,
            within_1ulp=s["within_1ulp"].sum() / n if n else math.nan,
            within_4ulp=s["within_4ulp"].sum() / n if n else math.nan,
            rule_bugs=int(g["rule_bug"].sum()),
            exceptions=int(g["exception"].sum()),
        )
        rows.append(row)
    return ordered(pd.DataFrame(rows, columns=[*keys, *SUMMARY_COLUMNS]), keys)


def ordered(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Sort by the keys, methods in the order of ``METHODS`` (unknown methods last)."""
    if table.empty:
        return table.reset_index(drop=True)

    def key(col: pd.Series) -> pd.Series:
        if col.name == "method":
            rank = {m: i for i, m in enumerate(METHODS)}
            return col.map(lambda m: (rank.get(m, len(rank)), m))
        return col

    return table.sort_values(list(keys), key=key, kind="stable").reset_index(drop=True)


def _subset(records: pd.DataFrame, *extra: str) -> pd.DataFrame:
    return records[[*_NEEDED, *extra]]


def by_method(records: pd.DataFrame) -> pd.DataFrame:
    """One row per method (engine float64, engine high precision, finite differences, ...)."""
    return summarize(records, ["method"])


def by_op(records: pd.DataFrame) -> pd.DataFrame:
    """Per op and method; a record counts for every op its expression contains."""
    exploded = _subset(records, "ops").assign(op=records["ops"].str.split(",")).explode("op")
    return summarize(exploded[exploded["op"] != ""], ["op", "method"])


def single_op(records: pd.DataFrame) -> pd.DataFrame:
    """Per op and method, over expressions that use that one op only."""
    one = records[(records["ops"] != "") & ~records["ops"].str.contains(",", regex=False)]
    return summarize(_subset(one, "ops").rename(columns={"ops": "op"}), ["op", "method"])


def by_depth(records: pd.DataFrame) -> pd.DataFrame:
    """Per expression depth (ops on the longest root-to-leaf path) and method."""
    return summarize(_subset(records, "depth"), ["depth", "method"])


def size_bucket(size: int) -> str:
    """Power-of-two bucket of an expression size: ``1``, ``2-3``, ``4-7``, ``8-15``, ..."""
    lo = 1 << (max(int(size), 1).bit_length() - 1)
    return str(lo) if lo == 1 else f"{lo}-{2 * lo - 1}"


def by_size(records: pd.DataFrame) -> pd.DataFrame:
    """Per size bucket (see :func:`size_bucket`) and method, smallest sizes first."""
    sub = _subset(records, "size")
    return order_sizes(summarize(sub.assign(size=sub["size"].map(size_bucket)), ["size", "method"]))


def order_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """A table ordered by method (:func:`ordered`), sorted again by its size buckets, smallest first."""
    table = ordered(table, ["size", "method"])
    lo = table["size"].map(lambda s: int(str(s).split("-")[0]))
    return table.assign(_lo=lo).sort_values(["_lo"], kind="stable").drop(columns="_lo").reset_index(drop=True)


def by_engine(records: pd.DataFrame) -> pd.DataFrame:
    """Per engine under test and method."""
    return summarize(_subset(records, "engine"), ["engine", "method"])


def verdicts(records: pd.DataFrame) -> pd.DataFrame:
    """Rows per method and verdict (ok, rule_bug, value_bug, exception_mismatch, unsamplable)."""
    table = records.groupby(["method", "verdict"], sort=False).size().reset_index(name="rows")
    return ordered(table, ["method", "verdict"])


def exceptions(records: pd.DataFrame) -> pd.DataFrame:
    """Rows per method and exception kind (outcome other than ``ok``), with one example message."""
    failed = records[records["outcome"] != "ok"]
    table = (
        failed.groupby(["method", "outcome"], sort=False)
        .agg(rows=("outcome", "size"), example=("exception", "first"))
        .reset_index()
    )
    return ordered(table, ["method", "outcome"])


def excess(records: pd.DataFrame, *, baseline: str = "sympy_f64") -> pd.DataFrame:
    """Bits of error each method has beyond ``baseline`` at the same expression, point and variable.

    With the default baseline, float64 evaluation of sympy's own derivative,
    this is the error a method adds over what the expression inherently
    costs in float64: ``bits - bits_baseline`` over scored pairs, per method.
    """
    key = ["run_id", "expr_id", "point_id", "variable"]
    err = pd.concat([records[[*key, "method"]], _errors(records)[["scored", "bits"]]], axis=1)
    err = err[err["scored"]]
    base = err[err["method"] == baseline][[*key, "bits"]].rename(columns={"bits": "base"})
    pairs = err[err["method"] != baseline].merge(base, on=key)
    pairs = pairs.assign(excess=pairs["bits"] - pairs["base"])
    rows = [
        {
            "method": method,
            "pairs": len(g),
            "median_excess_bits": nearest_rank(g["excess"].to_numpy(), 0.5),
            "p90_excess_bits": nearest_rank(g["excess"].to_numpy(), 0.9),
            "max_excess_bits": float(g["excess"].max()),
        }
        for method, g in pairs.groupby("method", sort=False)
    ]
    columns = ["method", "pairs", "median_excess_bits", "p90_excess_bits", "max_excess_bits"]
    return ordered(pd.DataFrame(rows, columns=columns), ["method"])


def discards(meta: dict[str, Any]) -> pd.DataFrame:
    """Points the campaign discarded before scoring, per reason, from run.json's counts."""
    counts = meta.get("counts", {})
    found = counts.get("discards", {}) if isinstance(counts, dict) else {}
    if not isinstance(found, dict):
        found = {"all": found}
    rows = [{"reason": str(r), "points": int(n)} for r, n in found.items()]
    return pd.DataFrame(rows, columns=["reason", "points"])


def overview(records: pd.DataFrame | None, meta: dict[str, Any], findings: int) -> dict[str, Any]:
    """Headline figures of a run: sizes, rule bugs, unsamplable rows, discards, ``findings`` (a count)."""
    out: dict[str, Any] = {
        "run_id": meta.get("run_id", ""),
        "status": str(meta.get("status", "finished")),
        "findings": findings,
        "discarded_points": int(discards(meta)["points"].sum()),
    }
    if records is not None:
        out.update(
            engines=sorted(records["engine"].unique().tolist()),
            rows=len(records),
            expressions=int(records[["run_id", "expr_id"]].drop_duplicates().shape[0]),
            points=int(records[["run_id", "expr_id", "point_id"]].drop_duplicates().shape[0]),
            rule_bugs=int((records["verdict"] == "rule_bug").sum()),
            unsamplable=int((records["verdict"] == "unsamplable").sum()),
        )
    return out
