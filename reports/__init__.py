"""gradproof's reports: campaign records as pandas DataFrames, tables, plots and Markdown/HTML/CSV.

* :func:`load` / :func:`load_run` -- a run directory as DataFrames (schema in :mod:`runstore`);
* :mod:`reports.stats` -- error statistics per method, op, depth, size, engine (DataFrames);
* :func:`compare_by_method`, :func:`compare_by_op`, :func:`new_rule_bugs` -- two runs side by side;
* :func:`mutation_scores`, :func:`detection_limits` -- mutation runs (``mutants.csv``);
* :func:`build_report` -- everything written to a directory, as ``gradproof report`` does.

Names are imported on first use, so ``import reports`` costs nothing until one is used
(pandas and matplotlib load only then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autodiff.lazy import lazy_exports

if TYPE_CHECKING:
    from reports.build import Report, build_report
    from reports.compare import compare_by_method, compare_by_op, new_rule_bugs
    from reports.errors import ReportError
    from reports.formats import FORMATS, parse_formats
    from reports.load import MUTANT_COLUMNS, Run, load, load_run
    from reports.mutation import detection_limits, mutation_scores
    from reports.stats import (
        by_depth,
        by_engine,
        by_method,
        by_op,
        by_size,
        exceptions,
        excess,
        single_op,
        summarize,
        verdicts,
    )

__all__ = [
    "FORMATS",
    "MUTANT_COLUMNS",
    "Report",
    "ReportError",
    "Run",
    "build_report",
    "by_depth",
    "by_engine",
    "by_method",
    "by_op",
    "by_size",
    "compare_by_method",
    "compare_by_op",
    "detection_limits",
    "exceptions",
    "excess",
    "load",
    "load_run",
    "mutation_scores",
    "new_rule_bugs",
    "parse_formats",
    "single_op",
    "summarize",
    "verdicts",
]

_EXPORTS: dict[str, str] = {
    "FORMATS": "reports.formats",
    "Report": "reports.build",
    "build_report": "reports.build",
    "parse_formats": "reports.formats",
    "compare_by_method": "reports.compare",
    "compare_by_op": "reports.compare",
    "new_rule_bugs": "reports.compare",
    "ReportError": "reports.errors",
    "MUTANT_COLUMNS": "reports.load",
    "Run": "reports.load",
    "load": "reports.load",
    "load_run": "reports.load",
    "detection_limits": "reports.mutation",
    "mutation_scores": "reports.mutation",
    "by_depth": "reports.stats",
    "by_engine": "reports.stats",
    "by_method": "reports.stats",
    "by_op": "reports.stats",
    "by_size": "reports.stats",
    "exceptions": "reports.stats",
    "excess": "reports.stats",
    "single_op": "reports.stats",
    "summarize": "reports.stats",
    "verdicts": "reports.stats",
}
"""Public name -> the module defining it, imported on first use."""


__getattr__ = lazy_exports(__name__, _EXPORTS)
"""Import the module behind a public name on first use (keeps ``import`` and ``--help`` fast)."""


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
