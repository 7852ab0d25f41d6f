"""A report's statistics in bounded memory: records read a batch of parts at a time into running per-group totals.

:func:`aggregate` reads a run's Parquet records with only the columns a
report uses, a batch of whole part files at a time (at least
:data:`UNIT_ROWS` rows, never a part cut in two; each part opened on its
own: read through one ``pyarrow.dataset``, memory grew with the parts read,
585 against 318 MB over the 4,000 parts of 100,000 expressions),
and keeps per group
(method, op x method, depth x method, ...) exact counts and maxima and fine
histograms of the errors (:mod:`reports.histogram`: percentiles to within
1/1024 bit, or 0.068 % of a relative error, and exact whenever the bin holds
one distinct value). What it holds grows with the groups and occupied
histogram bins, the distinct op sets, and the expressions with a rule bug
(kept once per expression and method for the comparison), never with the
records. A part holds whole expressions (one chunk), so the bits each method
has beyond ``sympy_f64`` at the same expression, point and variable are
paired within a batch, and expressions and points are counted exactly.
Records of an older run (``records.csv``) are already in memory and are
taken as one batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from reports import stats
from reports.groups import FLAGS, Groups, Rows, Summary, Vocab, column, factorize
from reports.histogram import EXCESS, Histogram
from reports.load import Run

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

__all__ = ["UNIT_ROWS", "COLUMNS", "Aggregate", "aggregate"]

UNIT_ROWS: Final = 65_536
"""Rows read before a batch of whole parts is added to the totals (a part is never cut)."""

COLUMNS: Final = (
    "run_id", "engine", "expr_id", "expr", "sympy_expr", "depth", "size", "ops", "point_id", "point",
    "variable", "method", "grad", "true_grad", "rel_err", "ulp_err", "bits_err", "verdict", "outcome", "exception",
)  # fmt: skip
"""The record columns a report reads."""

_BUG_COLUMNS: Final = ("expr", "method", "ops", "point", "variable", "grad", "true_grad")
_CURVE_COLUMNS: Final = ("depth", "expr_id", "point_id", "variable", "sympy_expr", "point", "true_grad", "verdict")


class Aggregate:
    """Running totals of every statistic a report shows; add batches with :meth:`add`, read the tables after."""

    def __init__(self) -> None:
        self.methods, self.verdicts, self.outcomes = Vocab(), Vocab(), Vocab()
        self.engines, self.runs, self.opsets, self.ops = Vocab(), Vocab(), Vocab(), Vocab()
        self.opset_ops: list[list[int]] = []  # op numbers of each op set, "" being none
        self.summaries = {
            name: Summary(keys)
            for name, keys in (
                ("by_method", ["method"]),
                ("by_op", ["op", "method"]),
                ("single_op", ["op", "method"]),
                ("by_depth", ["depth", "method"]),
                ("by_size", ["size", "method"]),
                ("by_engine", ["engine", "method"]),
            )
        }
        self.verdict_counts = Groups(["method", "verdict"])
        self.verdict_rows = np.zeros(0, np.int64)
        self.exception_groups = Groups(["method", "outcome"])
        self.exception_rows = np.zeros(0, np.int64)
        self.exception_examples: dict[int, str] = {}
        self.excess = Histogram(EXCESS)
        self.totals = {"rows": 0, "expressions": 0, "points": 0, "rule_bugs": 0, "unsamplable": 0}
        self.bugs: dict[tuple[str, str], dict[str, Any]] = {}
        self.curves: dict[int, dict[str, Any]] = {}

    # --- adding a batch -------------------------------------------------------------------------

    def add(self, table: pa.Table) -> None:
        """Add a batch of records holding whole expressions (the columns :data:`COLUMNS`)."""
        if not table.num_rows:
            return
        rows = self._rows(table)
        self._summaries(rows)
        self._counts(rows)
        self._excess(rows)
        self._overview(rows)
        self._bugs(rows)
        self._curves(rows)

    def _rows(self, table: pa.Table) -> Rows:
        method, verdict = self.methods.encode(table.column("method")), self.verdicts.encode(table.column("verdict"))
        outcome = self.outcomes.encode(table.column("outcome"))
        true_grad, ulp = column(table, "true_grad"), column(table, "ulp_err")
        scored = ~np.isnan(true_grad)
        rel, bits = column(table, "rel_err"), column(table, "bits_err")
        rel = np.where(np.isnan(rel) & scored, math.inf, rel)
        bits = np.where(np.isnan(bits) & scored, stats.MAX_BITS, bits)
        flags = np.column_stack(
            [
                np.ones(len(method), bool),
                scored,
                verdict == self.verdicts.id("unsamplable"),
                scored & (ulp <= 1),
                scored & (ulp <= 4),
                verdict == self.verdicts.id("rule_bug"),
                outcome != self.outcomes.id("ok"),
            ]
        ).astype(np.int64)
        return Rows(table, method, verdict, flags, scored, bits, rel)

    def _op_lists(self, opset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, how many ops its expression has, and all rows' op numbers one after another."""
        for name in self.opsets.names[len(self.opset_ops) :]:
            self.opset_ops.append([self.ops.id(op) for op in name.split(",") if op])
        lengths = np.array([len(ops) for ops in self.opset_ops], dtype=np.int64)
        flat = np.array([op for ops in self.opset_ops for op in ops] or [0], dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        counts = lengths[opset]
        first = np.repeat(starts[opset], counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        return counts, flat[first + within]

    def _summaries(self, rows: Rows) -> None:
        method, everything = rows.method, np.arange(len(rows.method))
        name, same = self.methods.names.__getitem__, int
        s = self.summaries
        s["by_method"].add(rows, method[:, None], [name], everything)
        engine = self.engines.encode(rows.table.column("engine"))
        s["by_engine"].add(rows, np.column_stack([engine, method]), [self.engines.names.__getitem__, name], everything)
        depth = rows.ints("depth")
        s["by_depth"].add(rows, np.column_stack([depth, method]), [same, name], everything)
        _, exponent = np.frexp(np.maximum(rows.ints("size"), 1))
        low = np.left_shift(1, exponent.astype(np.int64) - 1)
        s["by_size"].add(rows, np.column_stack([low, method]), [stats.size_bucket, name], everything)
        opset = self.opsets.encode(rows.table.column("ops"))
        counts, ops = self._op_lists(opset)
        row_of = np.repeat(everything, counts)
        op_name = self.ops.names.__getitem__
        s["by_op"].add(rows, np.column_stack([ops, method[row_of]]), [op_name, name], row_of)
        one = counts == 1
        firsts = np.cumsum(counts) - counts
        s["single_op"].add(rows, np.column_stack([ops[firsts[one]], method[one]]), [op_name, name], everything[one])

    def _counts(self, rows: Rows) -> None:
        names = [self.methods.names.__getitem__, self.verdicts.names.__getitem__]
        gid = self.verdict_counts.number(np.column_stack([rows.method, rows.verdict]), names)
        self.verdict_rows = _grow(self.verdict_rows, gid, len(self.verdict_counts.ids))
        failed = np.flatnonzero(rows.flags[:, FLAGS.index("exceptions")])
        if not len(failed):
            return
        outcome = self.outcomes.encode(rows.table.column("outcome").take(failed))
        names = [self.methods.names.__getitem__, self.outcomes.names.__getitem__]
        gid = self.exception_groups.number(np.column_stack([rows.method[failed], outcome]), names)
        self.exception_rows = _grow(self.exception_rows, gid, len(self.exception_groups.ids))
        groups, first = np.unique(gid, return_index=True)
        for g, i in zip(groups.tolist(), first.tolist()):
            if g not in self.exception_examples:
                self.exception_examples[g] = str(rows.table.column("exception")[int(failed[i])].as_py())

    def _excess(self, rows: Rows) -> None:
        run = self.runs.encode(rows.table.column("run_id"))
        keys = np.column_stack([run, rows.ints("expr_id"), rows.ints("point_id"), rows.ints("variable")])
        key = factorize(keys)[1]
        base_id = self.methods.id("sympy_f64")
        is_base = rows.scored & (rows.method == base_id)
        base = np.full(int(key.max()) + 1, math.nan)
        base[key[is_base]] = rows.bits[is_base]
        pair = rows.scored & (rows.method != base_id) & ~np.isnan(base[key])
        self.excess.add(rows.method[pair], rows.bits[pair] - base[key[pair]])

    def _overview(self, rows: Rows) -> None:
        run = self.runs.encode(rows.table.column("run_id"))
        expr, point = rows.ints("expr_id"), rows.ints("point_id")
        t = self.totals
        t["rows"] += len(run)
        t["expressions"] += len(factorize(np.column_stack([run, expr]))[0])
        t["points"] += len(factorize(np.column_stack([run, expr, point]))[0])
        t["rule_bugs"] += int(rows.flags[:, FLAGS.index("rule_bugs")].sum())
        t["unsamplable"] += int(rows.flags[:, FLAGS.index("unsamplable")].sum())

    def _bugs(self, rows: Rows) -> None:
        found = np.flatnonzero(rows.flags[:, FLAGS.index("rule_bugs")])
        if len(found):
            for r in rows.table.select(list(_BUG_COLUMNS)).take(found).to_pylist():
                self.bugs.setdefault((str(r["expr"]), str(r["method"])), r)

    def _curves(self, rows: Rows) -> None:
        """Per depth, the first ok row (by expression, point, variable) with a finite non-zero truth."""
        true_grad = column(rows.table, "true_grad")
        ok = (rows.verdict == self.verdicts.id("ok")) & np.isfinite(true_grad) & (true_grad != 0)
        found = np.flatnonzero(ok)
        if not len(found):
            return
        depth, expr, point, var = (rows.ints(c)[found] for c in ("depth", "expr_id", "point_id", "variable"))
        order = np.lexsort((var, point, expr, depth))
        firsts = order[np.r_[True, depth[order][1:] != depth[order][:-1]]]
        for i in firsts.tolist():
            key = (int(expr[i]), int(point[i]), int(var[i]))
            known = self.curves.get(int(depth[i]))
            if known is None or key < (known["expr_id"], known["point_id"], known["variable"]):
                table = rows.table.select(list(_CURVE_COLUMNS)).take([int(found[i])])
                self.curves[int(depth[i])] = table.to_pylist()[0]

    # --- the tables -----------------------------------------------------------------------------

    def summary(self, name: str) -> pd.DataFrame:
        """``by_method``, ``by_op``, ``single_op``, ``by_depth``, ``by_size`` or ``by_engine``."""
        table = self.summaries[name].table()
        return stats.order_sizes(table) if name == "by_size" else table

    def verdict_table(self) -> pd.DataFrame:
        """As :func:`reports.stats.verdicts`."""
        keys = list(self.verdict_counts.ids)
        table = pd.DataFrame([(*k, int(self.verdict_rows[g])) for k, g in self.verdict_counts.ids.items()])
        table = table if keys else pd.DataFrame()
        return stats.ordered(table.set_axis(["method", "verdict", "rows"], axis=1), ["method", "verdict"])

    def exception_table(self) -> pd.DataFrame:
        """As :func:`reports.stats.exceptions`."""
        rows = [
            (*k, int(self.exception_rows[g]), self.exception_examples[g]) for k, g in self.exception_groups.ids.items()
        ]
        table = pd.DataFrame(rows, columns=["method", "outcome", "rows", "example"])
        return stats.ordered(table, ["method", "outcome"])

    def excess_table(self) -> pd.DataFrame:
        """As :func:`reports.stats.excess` (percentiles to 1/1024 bit)."""
        out = []
        for method, g in self.methods.ids.items():
            n = self.excess.count(g)
            if n:
                q = self.excess.quantile
                out.append((method, n, q(g, 0.5), q(g, 0.9), self.excess.maximum(g)))
        columns = ["method", "pairs", "median_excess_bits", "p90_excess_bits", "max_excess_bits"]
        return stats.ordered(pd.DataFrame(out, columns=columns), ["method"])

    def overview(self) -> dict[str, Any]:
        """The record figures of :func:`reports.stats.overview`."""
        return {"engines": sorted(self.engines.names), **self.totals}

    def ecdf(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per method (report order): the bits-of-error histogram's steps (largest value per bin, count)."""
        table = self.summary("by_method")
        hist, ids = self.summaries["by_method"].bits, self.summaries["by_method"].groups.ids
        return {m: hist.steps(ids[(m,)]) for m in table["method"]}

    def rule_bug_rows(self) -> pd.DataFrame:
        """Rule-bug rows, the first per expression and method (the columns of :func:`reports.new_rule_bugs`)."""
        return pd.DataFrame(list(self.bugs.values()), columns=list(_BUG_COLUMNS))

    def curve_candidates(self) -> pd.DataFrame:
        """The rows :func:`reports.vcurve.sample_vcurves` picks from: the first ok row per depth."""
        return pd.DataFrame([self.curves[d] for d in sorted(self.curves)], columns=list(_CURVE_COLUMNS))


def _grow(counts: np.ndarray, gid: np.ndarray, total: int) -> np.ndarray:
    out = np.zeros(total, np.int64)
    out[: len(counts)] = counts
    return out + np.bincount(gid, minlength=total)


def batches(run: Run, where: ds.Expression | None = None) -> Iterator[pa.Table]:
    """The run's records (columns :data:`COLUMNS`, rows matching ``where``) in batches of whole parts."""
    import pyarrow as pa

    if run.records is not None:  # records.csv of an older run: in memory already
        table = pa.Table.from_pandas(run.records[list(COLUMNS)], preserve_index=False)
        yield table.filter(where) if where is not None else table
        return
    if run.parts is None:
        return
    import pyarrow.parquet as pq

    held: list[pa.Table] = []
    for index in sorted(run.parts.files):  # each part opened alone: a dataset would keep every footer it read
        table = pq.ParquetFile(run.parts.files[index]).read(columns=list(COLUMNS))
        held.append(table.filter(where) if where is not None else table)
        if sum(t.num_rows for t in held) >= UNIT_ROWS:
            yield pa.concat_tables(held)
            held = []
    if held:
        yield pa.concat_tables(held)


def aggregate(run: Run, where: ds.Expression | None = None) -> Aggregate:
    """Every statistic a report shows over the run's records (rows matching ``where``), batch by batch."""
    totals = Aggregate()
    for table in batches(run, where):
        totals.add(table)
    return totals
