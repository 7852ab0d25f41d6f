"""gradproof's reports: campaign records as pandas DataFrames, tables, plots and Markdown/HTML/CSV.

* :func:`load` / :func:`load_run` -- a run directory as DataFrames (schema in ``runstore.records``);
* :mod:`reports.stats` -- error statistics per method, op, depth, size, engine (DataFrames);
* :func:`compare_by_method`, :func:`compare_by_op`, :func:`new_rule_bugs` -- two runs side by side;
* :func:`mutation_scores`, :func:`detection_limits` -- mutation runs (``mutants.csv``);
* :func:`build_report` -- everything written to a directory, as ``gradproof report`` does.
"""

from reports.build import FORMATS, Report, build_report, parse_formats
from reports.compare import compare_by_method, compare_by_op, new_rule_bugs
from reports.errors import ReportError
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
