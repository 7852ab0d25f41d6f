"""One schema map for every table a run writes: typed row dataclasses, their columns and file formats.

A table's columns are the fields of its row dataclass, in order; a column's
type is the field's annotation (``int``, ``float``, ``str``, ``bool``) and its
meaning the field's ``doc`` metadata. Readers and writers (Parquet, CSV) take
both from here, so no module keeps a second copy of a schema.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

__all__ = [
    "METHODS",
    "VERDICTS",
    "ColumnType",
    "Column",
    "Format",
    "TableSpec",
    "Record",
    "MutantRow",
    "EquivalentRow",
    "PerOpRow",
    "RECORDS",
    "MUTANTS",
    "EQUIVALENTS",
    "PER_OP",
    "TABLES",
    "columns",
]

METHODS: Final = (
    "engine_f64",  # the engine under test in float64
    "engine_hp",  # the same engine at high precision (mpmath), when it can
    "central_fd",  # central finite difference in float64
    "richardson",  # Richardson-extrapolated central differences in float64
    "complex_step",  # complex-step derivative (complex-analytic expressions only)
    "sympy_f64",  # sympy's own derivative evaluated in float64: the problem's inherent cost
)

VERDICTS: Final = (
    "ok",  # within what the problem's conditioning explains
    "unjudged",  # first-order error analysis does not hold there: recorded, not judged
    "rule_bug",  # a wrong derivative (see docs/verify.md for the criterion)
    "value_bug",  # a wrong forward value
    "exception_mismatch",  # the method raised or gave non-finite where the truth is finite (or vice versa)
    "unsamplable",  # the certified truth could not be established within the precision cap
)


class ColumnType(enum.Enum):
    """The type of a column's cells."""

    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"


class Format(enum.Enum):
    """How a table is stored: a Parquet dataset (one part per chunk) or one CSV file rewritten atomically."""

    PARQUET = "parquet"
    CSV = "csv"


@dataclass(frozen=True)
class Column:
    """One column: name, type and meaning."""

    name: str
    type: ColumnType
    doc: str


def _doc(text: str) -> Any:
    return field(metadata={"doc": text})


@dataclass(slots=True)
class Record:
    """One campaign record: an expression x point x variable x method."""

    run_id: str = _doc("the run's id (also in run.json)")
    engine: str = _doc("name of the engine under test")
    expr_id: int = _doc("index of the expression within the run")
    expr: str = _doc("the expression as Python source over x0, x1, ...")
    sympy_expr: str = _doc("the expression as sympy prints it")
    depth: int = _doc("ops on the longest root-to-leaf path")
    size: int = _doc("number of nodes (ops, variables, constants)")
    ops: str = _doc("comma-separated sorted names of the ops in the expression")
    n_vars: int = _doc("number of variables")
    point_id: int = _doc("index of the point within the expression")
    point: str = _doc("JSON list of the float64 inputs (repr, round-trips exactly)")
    variable: int = _doc("index of the variable this row's gradient is with respect to")
    method: str = _doc(f"one of {', '.join(METHODS)}")
    value: float = _doc("forward value computed by the method's engine (NaN when not applicable)")
    true_value: float = _doc("certified forward value rounded to float64 (NaN when unsamplable)")
    value_ulp: float = _doc("ULP distance between value and true_value")
    grad: float = _doc("the gradient the method computed (NaN when it failed)")
    true_grad: float = _doc("certified derivative rounded to float64 (NaN when unsamplable)")
    abs_err: float = _doc("|grad - true_grad|")
    rel_err: float = _doc("|grad - true_grad| / |true_grad| (abs_err when true_grad is 0)")
    ulp_err: float = _doc("ULP distance between grad and true_grad (0 and -0 equal)")
    bits_err: float = _doc("Herbie's bits of error, log2(ulp_err + 1); 64 for NaN/inf where the truth is finite")
    cond: float = _doc("condition estimate of the gradient (absolute-value backward pass / |gradient|)")
    verdict: str = _doc(f"one of {', '.join(VERDICTS)}")
    outcome: str = _doc("'ok', or the exception type the method raised")
    exception: str = _doc("the exception message ('' when none)")
    time_s: float = _doc("seconds the method took for this expression and point")


@dataclass(frozen=True, slots=True)
class MutantRow:
    """One mutant through one detection method."""

    mutant: str = _doc("name of the wrong variant of a rule or of the engine")
    kind: str = _doc("the kind of mutation (sign flip, relative perturbation, ...)")
    size: float = _doc("relative size of the rule error for perturbations (NaN for other kinds)")
    method: str = _doc("the detection method the row is about")
    killed: bool = _doc("whether the method detected the mutant")
    examples_to_kill: float = _doc("examples the method needed to detect it (NaN when not killed)")
    time_to_kill: float = _doc("seconds the method needed to detect it (NaN when not killed)")
    target: str = _doc("the op whose rule is mutated, or 'engine'")
    examples_tried: int = _doc("expressions the method tried on this mutant")
    detail: str = _doc("what killed it: the counterexample, or the expression and point")


@dataclass(frozen=True, slots=True)
class EquivalentRow(MutantRow):
    """A mutant proven equivalent to the original rule, through one method, with the proof."""

    reason: str = _doc("why the mutant's rule equals the original")


@dataclass(frozen=True, slots=True)
class PerOpRow:
    """The ULP error of an op's partial with respect to one input, over the per-op sweep."""

    op: str = _doc("the op")
    input: int = _doc("index of the input the partial is with respect to")
    points: int = _doc("points kept")
    skipped: int = _doc("points skipped (non-finite value or partial, or on a kink)")
    unsamplable: int = _doc("points whose truth could not be certified")
    median_ulp: float = _doc("median ULP error")
    p99_ulp: float = _doc("99th percentile ULP error")
    max_ulp: float = _doc("largest ULP error")
    worst_point: str = _doc("inputs and parameters of the largest error")
    meets_target: bool = _doc("whether median and max are within the targets")


@dataclass(frozen=True)
class TableSpec:
    """A table a run writes: its name, where it lives in the run directory, its format and row type."""

    name: str
    path: str
    format: Format
    row: type

    @property
    def columns(self) -> tuple[Column, ...]:
        """The table's columns, in order."""
        return columns(self.row)


RECORDS: Final = TableSpec("records", "records", Format.PARQUET, Record)
MUTANTS: Final = TableSpec("mutants", "mutants.csv", Format.CSV, MutantRow)
EQUIVALENTS: Final = TableSpec("equivalents", "equivalents.csv", Format.CSV, EquivalentRow)
PER_OP: Final = TableSpec("per_op", "per_op.csv", Format.CSV, PerOpRow)

TABLES: Final[dict[str, TableSpec]] = {t.name: t for t in (RECORDS, MUTANTS, EQUIVALENTS, PER_OP)}
"""Every table a run can write, by name."""


@cache
def columns(row: type) -> tuple[Column, ...]:
    """The columns of a row dataclass: field names, annotated types and ``doc`` metadata."""
    hints = typing.get_type_hints(row)
    return tuple(
        Column(f.name, ColumnType(hints[f.name].__name__), str(f.metadata.get("doc", "")))
        for f in dataclasses.fields(row)
    )
