"""Building a report from a run directory: tables, figures, Markdown/HTML/CSV files, terminal summary.

Every output file is first written to a temporary file beside its target;
only when all of them are written are they renamed into place
(``os.replace``), so an error leaves no file half-written and, before the
renames, no file touched at all.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from reports import compare, mutation, plots, stats
from reports.aggregate import Aggregate, aggregate
from reports.errors import ReportError
from reports.formats import FORMATS, parse_formats
from reports.load import Run, load_run
from reports.render import Figure, Section, Table, to_html, to_markdown
from reports.vcurve import sample_vcurves
from reports.verdict import DefectRow, RunVerdict, comparability, load_verdict, new_defects, verdict_section

__all__ = ["FORMATS", "Report", "parse_formats", "build_report", "write_atomically"]

HEADLINE: Final = (
    "Headline metric: Herbie's bits of error, log2(ULP distance + 1) between a method's gradient and "
    "the certified derivative rounded to float64: 0 is correctly rounded, 1 is one ULP off, 64 marks a "
    "failure where the truth is finite. Percentiles are nearest-rank."
)
RESOLUTION: Final = (
    "The records are read a batch at a time: counts, shares and maxima are exact; percentiles come from "
    "histograms of 1/1024 bit (relative errors: 1/1024 of an octave, 0.068 %) and are the largest error "
    "in the bin of the exact percentile, never below it, exact when that bin holds one value."
)


@dataclass(frozen=True)
class Report:
    """What :func:`build_report` wrote and found."""

    out_dir: Path
    files: tuple[Path, ...]
    summary: str
    new_rule_bugs: int
    new_defects: int = 0
    regressions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def fails(self) -> bool:
        """Whether the comparison should fail a CI job: a new rule bug or defect, or an accuracy regression."""
        return bool(self.new_rule_bugs or self.new_defects or self.regressions)


def _flatten(meta: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in meta.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _flatten(value, f"{name}.")
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            rows.append((name, text if len(text) <= 160 else text[:159] + "…"))
    return rows


def _headline_text(run: Run, over: dict[str, Any]) -> str:
    parts = [f"Run {run.run_id}."]
    if run.has_records:
        parts.append(
            f"Engine {', '.join(over['engines'])}: {over['rows']} records over {over['expressions']} "
            f"expressions and {over['points']} points; rule bugs: {over['rule_bugs']}, unsamplable rows: "
            f"{over['unsamplable']}, discarded points: {over['discarded_points']}, findings: {over['findings']}."
        )
    if over["status"] != "finished":
        parts.append(f"The run's status is {over['status']!r}: these are the records it finished.")
    if run.notes:
        parts.append("Salvaged from a damaged run: " + "; ".join(run.notes) + ".")
    return " ".join(parts)


def _record_sections(run: Run, totals: Aggregate, vcurves: int) -> list[Section]:
    over = {**stats.overview(None, run.meta, run.findings_total), **totals.overview()}
    by_depth = totals.summary("by_depth")
    sections = [
        Section("Overview", [_headline_text(run, over), HEADLINE, RESOLUTION]),
        Section(
            "Accuracy per method",
            ["Error of each method's gradient against the certified truth, over scored rows."],
            [
                Table("by_method", "Per method", totals.summary("by_method")),
                Table(
                    "excess",
                    "Bits of error beyond sympy's own derivative evaluated in float64 (the problem's cost)",
                    totals.excess_table(),
                ),
            ],
        ),
    ]
    figures = [
        Figure("error_ecdf", "Share of rows within a given bits of error, per method", plots.error_ecdf(totals.ecdf())),
        Figure("error_vs_depth", "Bits of error against expression depth", plots.error_vs_depth(by_depth)),
    ]
    curves = sample_vcurves(totals.curve_candidates(), vcurves) if vcurves else []
    if curves:
        figures.append(
            Figure("fd_vcurve", "Central-difference error against step, chosen step marked", plots.fd_vcurves(curves))
        )
    sections += [
        Section("Figures", figures=figures),
        Section(
            "Verdicts, exceptions and discards",
            tables=[
                Table("verdicts", "Rows per method and verdict", totals.verdict_table()),
                Table("exceptions", "Exceptions per method and kind", totals.exception_table()),
                Table("discards", "Points discarded before scoring (run.json)", stats.discards(run.meta)),
            ],
        ),
        Section(
            "Per op",
            ["A record counts for every op its expression contains; the second table keeps single-op expressions."],
            [
                Table("by_op", "Per op (all expressions containing it)", totals.summary("by_op")),
                Table("single_op", "Per op, single-op expressions", totals.summary("single_op")),
            ],
        ),
        Section(
            "Per expression shape",
            tables=[
                Table("by_depth", "Per depth", by_depth),
                Table("by_size", "Per size (nodes, power-of-two buckets)", totals.summary("by_size")),
                Table("by_engine", "Per engine", totals.summary("by_engine")),
            ],
        ),
    ]
    return sections


def _findings_section(run: Run) -> Section:
    """Shrunk findings as blocks (multi-line values such as the reproduction last), all findings as a table."""
    blocks = []
    for i, finding in enumerate(run.shrunk, 1):
        lines = [f"{k}: {v}" for k, v in finding.items() if not (isinstance(v, str) and "\n" in v)]
        lines += [f"{k}:\n{v}" for k, v in finding.items() if isinstance(v, str) and "\n" in v]
        blocks.append((f"Shrunk finding {i}", "\n".join(lines)))
    if not run.findings_total:
        return Section("Findings", ["No findings."])
    shown = f" (the first {len(run.findings)} kept in findings.json)" if len(run.findings) < run.findings_total else ""
    text = [f"{run.findings_total} finding(s){shown}; {len(run.shrunk)} shrunk to a minimal expression."]
    table = pd.DataFrame(run.findings)
    return Section("Findings", text, [Table("findings", "Findings", table)] if len(table) else [], blocks=blocks)


def _comparison_section(run: Run, base: Run, a: Aggregate, b: Aggregate) -> tuple[Section, int]:
    fresh = compare.new_rule_bugs(*(t.rule_bug_rows().assign(verdict="rule_bug") for t in (a, b)))
    text = [
        f"A = {run.run_id} ({run.path}), B = {base.run_id} ({base.path}). A change counts beyond "
        f"{compare.BITS_TOLERANCE:g} bit in median or max bits of error, or "
        f"{compare.SHARE_TOLERANCE:.0%} in the share within 1 ULP.",
        f"New rule bugs in A: {len(fresh)} expression(s)." if len(fresh) else "No new rule bug in A.",
    ]
    tables = [
        Table("compare_by_method", "A against B, per method", _side_by_side(a, b, "by_method")),
        Table("compare_by_op", "A against B, per op and method", _side_by_side(a, b, "by_op")),
        Table("new_rule_bugs", "Rule bugs in A on expressions without one in B", fresh),
    ]
    return Section(f"Comparison with {base.run_id}", text, tables), len(fresh)


def _side_by_side(a: Aggregate, b: Aggregate, name: str) -> pd.DataFrame:
    """:func:`reports.compare.compare` of two runs' ``name`` summaries (``by_method`` or ``by_op``)."""
    table_a, table_b = a.summary(name), b.summary(name)
    keys = ["method"] if name == "by_method" else ["op", "method"]
    return compare.compare(table_a, table_b, lambda t: t, keys)


def _mutation_section(mutants: pd.DataFrame) -> Section:
    return Section(
        "Mutation score",
        [
            "Wrong variants of rules and of the engine, run through each detection method. The score is "
            "the share of mutants a method killed; the limits are over mutants with a relative rule error "
            "of known size."
        ],
        [
            Table("mutation_scores", "Mutation score per method", mutation.mutation_scores(mutants)),
            Table("detection_limits", "Smallest relative rule error detected", mutation.detection_limits(mutants)),
        ],
    )


def _terminal(headline: str, sections: list[Section], out: Path, written: list[Path], against: str) -> str:
    lines = [f"gradproof report: {headline}"] if headline else []
    by_name = {t.name: t.data for s in sections for t in s.tables}
    if "by_method" in by_name:
        lines.append(f"  {'method':<14}{'rows':>8}{'median bits':>13}{'p99 bits':>10}{'max bits':>10}{'≤1 ULP':>9}")
        for r in by_name["by_method"].itertuples(index=False):
            lines.append(
                f"  {r.method:<14}{r.rows:>8}{r.median_bits:>13.2f}{r.p99_bits:>10.2f}"
                f"{r.max_bits:>10.2f}{r.within_1ulp:>9.1%}"
            )
    if "mutation_scores" in by_name:
        for r in by_name["mutation_scores"].itertuples(index=False):
            lines.append(f"  mutation score {r.method}: {r.score:.1%} ({r.killed}/{r.mutants})")
    if "compare_by_op" in by_name:
        changes = by_name["compare_by_op"]["change"].value_counts()
        counted = ", ".join(f"{n} {c}" for c, n in changes.items())
        lines.append(f"  against {against}, per op and method: {counted or 'nothing to compare'}")
        fresh = len(by_name["new_rule_bugs"])
        lines.append(f"  NEW RULE BUGS: {fresh} expression(s)" if fresh else "  no new rule bug")
    kinds = [p.name for p in written if p.suffix in (".md", ".html")]
    kinds += [f"{n} {ext} file(s)" for ext in ("csv", "png") if (n := sum(p.suffix == f".{ext}" for p in written))]
    lines.append(f"wrote {out}: {', '.join(kinds)}")
    return "\n".join(lines)


def write_atomically(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` (name -> content) into ``out_dir``: all to temporaries first, then rename each.

    Temporaries are created with mode 0o666 less the umask, like ``open``; on
    an error they are removed, and so is ``out_dir`` if this call created it.
    """
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create output directory {out_dir}: {exc.strerror or exc}") from None
    clash = [name for name in files if (out_dir / name).is_dir()]
    if clash:
        raise ReportError(f"cannot write {out_dir / clash[0]}: a directory is in the way")
    staged: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            tmp = out_dir / f".{name}.{uuid.uuid4().hex}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            staged.append((tmp, out_dir / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise ReportError(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    return [target for _, target in staged]


def build_report(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    formats: str | Iterable[str] = FORMATS,
    *,
    against: str | Path | None = None,
    vcurves: int = 3,
) -> Report:
    """Build the report of the run in ``run_dir`` into ``out_dir`` (default ``run_dir/report``).

    ``formats``: any of ``md`` (``report.md`` plus its PNG figures), ``html``
    (one self-contained ``report.html``) and ``csv`` (one file per table).
    ``against``: a baseline run to compare with. ``vcurves``: how many sample
    expressions get a finite-difference V-curve (0 for none). Raises
    :class:`ReportError` on bad input before writing anything.
    """
    chosen = parse_formats(formats)
    run = load_run(run_dir, records=False)
    base = load_run(against, records=False) if against is not None else None
    if base is not None and not (base.has_records and run.has_records):
        raise ReportError("--against compares records: both runs need records")
    out = Path(out_dir) if out_dir is not None else run.path / "report"
    sections: list[Section] = []
    verdict = load_verdict(run.path)
    if verdict is not None:
        sections.append(verdict_section(verdict))
    totals = aggregate(run) if run.has_records else None
    if totals is not None:
        sections += _record_sections(run, totals, vcurves)
    else:
        over = stats.overview(None, run.meta, run.findings_total)
        sections.append(Section("Overview", [_headline_text(run, over)]))
    comparison = _compare_runs(run, totals, base, verdict) if base is not None else _Comparison()
    if comparison.section is not None:
        sections.append(comparison.section)
    if run.mutants is not None:
        sections.append(_mutation_section(run.mutants))
    sections.append(_findings_section(run))
    meta = pd.DataFrame(_flatten(run.meta), columns=["key", "value"])
    sections.append(Section("Run metadata", tables=[Table("run", "run.json", meta)]))

    files = _render(f"gradproof report: {run.run_id}", sections, chosen)
    written = write_atomically(out, files)
    overview = next(s for s in sections if s.title != "Verdict")
    summary = _terminal(overview.text[0] if overview.text else "", sections, out, written, str(against))
    if verdict is not None:
        first, _, rest = summary.partition("\n")
        summary = f"{first}\n  verdict: {verdict.headline}" + (f"\n{rest}" if rest else "")
    lines = [f"  NOT COMPARABLE: {w}" for w in comparison.warnings]
    lines += [f"  NEW DEFECT: [{d.severity}] {', '.join(d.ops)} ({d.form}): {d.summary}" for d in comparison.defects]
    lines += [f"  ACCURACY REGRESSION: {r}" for r in comparison.regressions]
    summary += "\n" + "\n".join(lines) if lines else ""
    c = comparison
    return Report(out, tuple(written), summary, c.rule_bugs, len(c.defects), c.regressions, c.warnings)


def _render(title: str, sections: list[Section], chosen: tuple[str, ...]) -> dict[str, bytes]:
    """The report's files in the chosen formats (name -> content)."""
    files: dict[str, bytes] = {}
    if "md" in chosen:
        files["report.md"] = to_markdown(title, sections).encode("utf-8")
        files.update({f"{f.name}.png": f.png for s in sections for f in s.figures})
    if "html" in chosen:
        files["report.html"] = to_html(title, sections).encode("utf-8")
    if "csv" in chosen:
        files.update({f"{t.name}.csv": t.data.to_csv(index=False).encode("utf-8") for s in sections for t in s.tables})
    return files


@dataclass(frozen=True)
class _Comparison:
    """What comparing run A with a baseline B found."""

    section: Section | None = None
    rule_bugs: int = 0
    defects: tuple[DefectRow, ...] = ()
    regressions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _compare_runs(run: Run, totals: Aggregate | None, base: Run, verdict: RunVerdict | None) -> _Comparison:
    """New rule bugs and defects of ``run`` against ``base``, engine accuracy regressions, comparability."""
    if totals is None or not base.has_records:
        return _Comparison()
    base_totals = aggregate(base)
    section, fresh = _comparison_section(run, base, totals, base_totals)
    base_verdict = load_verdict(base.path)
    fresh_defects = new_defects(verdict, base_verdict) if verdict is not None and base_verdict is not None else []
    return _Comparison(
        section,
        fresh,
        tuple(fresh_defects),
        tuple(_regressions(_side_by_side(totals, base_totals, "by_method"))),
        tuple(comparability(run.meta, base.meta)),
    )


def _regressions(by_method: pd.DataFrame) -> list[str]:
    """Engine methods whose accuracy got worse beyond the comparison's thresholds (see :mod:`reports.compare`)."""
    out = []
    for r in by_method.itertuples(index=False):
        if str(r.method).startswith("engine") and r.change in ("worse", "mixed"):
            out.append(
                f"{r.method}: median bits {r.median_bits_b:.2f} -> {r.median_bits_a:.2f}, max bits "
                f"{r.max_bits_b:.2f} -> {r.max_bits_a:.2f}, within 1 ULP {r.within_1ulp_b:.1%} -> "
                f"{r.within_1ulp_a:.1%} (thresholds: {compare.BITS_TOLERANCE:g} bit, "
                f"{compare.SHARE_TOLERANCE:.0%} of results)"
            )
    return out
