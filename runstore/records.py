"""The files a run writes and their columns: the contract between ``verification`` and ``reports``.

Campaigns and mutation runs write these files; reports read them. Neither
side imports the other: both import this module. Columns are stable; add new
ones at the end, never rename.

A run directory holds

* ``run.json`` -- metadata: run id, versions, seed, options, start/end times,
  counts (expressions, points, discards by reason, unsamplable points,
  findings), and whether the run finished or was interrupted;
* ``records.csv`` -- the rows below, appended as the campaign goes;
* ``findings.json`` -- rule bugs and other findings, each with the shrunk
  expression, point, values, truth and a reproduction snippet;
* ``mutants.csv`` -- for a mutation run, one row per mutant x detection
  method (:data:`MUTANT_COLUMNS`).
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any, Final

__all__ = [
    "COLUMNS",
    "METHODS",
    "VERDICTS",
    "RUN_FILE",
    "RECORDS_FILE",
    "FINDINGS_FILE",
    "MUTANTS_FILE",
    "PER_OP_FILE",
    "MUTANT_COLUMNS",
    "versions",
    "write_json",
]

RUN_FILE: Final = "run.json"
RECORDS_FILE: Final = "records.csv"
FINDINGS_FILE: Final = "findings.json"
MUTANTS_FILE: Final = "mutants.csv"
PER_OP_FILE: Final = "per_op.csv"
"""Per-op sweep of an engine (columns ``verification.sweep.PER_OP_COLUMNS``), beside or instead of records."""

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
    "rule_bug",  # a wrong derivative (see docs/verify.md for the criterion)
    "value_bug",  # a wrong forward value
    "exception_mismatch",  # the method raised or gave non-finite where the truth is finite (or vice versa)
    "unsamplable",  # the certified truth could not be established within the precision cap
)

COLUMNS: Final[dict[str, str]] = {
    "run_id": "str: the run's id (also in run.json)",
    "engine": "str: name of the engine under test",
    "expr_id": "int: index of the expression within the run",
    "expr": "str: the expression as Python source over x0, x1, ...",
    "sympy_expr": "str: the expression as sympy prints it",
    "depth": "int: ops on the longest root-to-leaf path",
    "size": "int: number of nodes (ops, variables, constants)",
    "ops": "str: comma-separated sorted names of the ops in the expression",
    "n_vars": "int: number of variables",
    "point_id": "int: index of the point within the expression",
    "point": "str: JSON list of the float64 inputs (repr, round-trips exactly)",
    "variable": "int: index of the variable this row's gradient is with respect to",
    "method": f"str: one of {', '.join(METHODS)}",
    "value": "float: forward value computed by the method's engine (NaN when not applicable)",
    "true_value": "float: certified forward value rounded to float64 (NaN when unsamplable)",
    "value_ulp": "float: ULP distance between value and true_value",
    "grad": "float: the gradient the method computed (NaN when it failed)",
    "true_grad": "float: certified derivative rounded to float64 (NaN when unsamplable)",
    "abs_err": "float: |grad - true_grad|",
    "rel_err": "float: |grad - true_grad| / |true_grad| (abs_err when true_grad is 0)",
    "ulp_err": "float: ULP distance between grad and true_grad (0 and -0 equal)",
    "bits_err": "float: Herbie's bits of error, log2(ulp_err + 1); 64 for NaN/inf where the truth is finite",
    "cond": "float: condition estimate of the gradient (absolute-value backward pass / |gradient|)",
    "verdict": f"str: one of {', '.join(VERDICTS)}",
    "outcome": "str: 'ok', or the exception type the method raised",
    "exception": "str: the exception message ('' when none)",
    "time_s": "float: seconds the method took for this expression and point",
}


MUTANT_COLUMNS: Final[dict[str, str]] = {
    "mutant": "str: name of the wrong variant of a rule or of the engine",
    "kind": "str: the kind of mutation (sign flip, relative perturbation, ...)",
    "size": "float: relative size of the rule error for perturbations (NaN for other kinds)",
    "method": "str: the detection method the row is about",
    "killed": "bool: whether the method detected the mutant",
    "examples_to_kill": "float: examples the method needed to detect it (NaN when not killed)",
    "time_to_kill": "float: seconds the method needed to detect it (NaN when not killed)",
}


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a run's results depend on, for run.json."""
    import hypothesis
    import mpmath
    import sympy

    from autodiff import __version__

    out = {
        "python": platform.python_version(),
        "gradproof": __version__,
        "sympy": sympy.__version__,
        "mpmath": mpmath.__version__,
        "hypothesis": hypothesis.__version__,
    }
    try:
        import symengine

        out["symengine"] = symengine.__version__
    except ImportError:
        pass
    return out


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON atomically (temp file + rename): a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)
