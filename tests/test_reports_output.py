"""Report files (Markdown, self-contained HTML, CSV), atomic writes, the V-curve and `gradproof report`."""

from __future__ import annotations

import base64
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import reports
from gradproof.cli import main
from reports import build
from reports.vcurve import central_step, sample_vcurves, vcurve
from runstore.records import RECORDS_FILE, RUN_FILE
from tests.test_reports import META, MUTANTS, baseline_records, tiny_records, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run(tmp_path: Path) -> Path:
    bug = {"kind": "rule_bug", "method": "engine_f64", "expr": "(x0 * sin(x1))", "grad": 1.7551651237807493}
    shrunk = {**bug, "reproduction": "from autodiff import Value\nx0 = Value(2.0)\n"}
    findings = {"shrunk": [shrunk], "findings": [bug], "total": 1}
    return write_run(tmp_path / "run", tiny_records(), findings=findings)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write_run(tmp_path / "base", baseline_records(), meta={**META, "run_id": "base"})


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [(tag, k, v or "") for k, v in attrs if k in ("src", "href")]
        if tag in ("table", "section", "figure", "pre"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("table", "section", "figure", "pre"):
            assert self.open.pop() == tag


def test_report_files_hold_the_statistics(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = reports.build_report(run, out)
    names = {p.name for p in report.files}
    assert {"report.md", "report.html", "by_method.csv", "by_op.csv", "error_ecdf.png", "fd_vcurve.png"} <= names
    by_method = pd.read_csv(out / "by_method.csv")
    f64 = by_method[by_method["method"] == "engine_f64"].iloc[0]
    assert (f64["median_bits"], f64["max_bits"], f64["within_4ulp"], f64["rule_bugs"]) == (1.0, 4.0, 0.75, 1)
    md = (out / "report.md").read_text()
    line = "| engine_f64 | 6 | 4 | 2 | 1e-16 | 2e-15 | 2e-15 | 2e-15 | 1.00 | 4.00 | 4.00 | 4.00 | 50.0% | 75.0% "
    assert line + "| 1 | 0 |" in md
    assert "![Share of rows within a given bits of error, per method](error_ecdf.png)" in md
    assert "**Shrunk finding 1**\n\n```\nkind: rule_bug" in md and "x0 = Value(2.0)\n```" in md
    assert "| rule_bug | engine_f64 | (x0 * sin(x1)) | 1.7551651237807493 |" in md
    assert "engine_f64" in report.summary and "rule bugs: 1" in report.summary
    assert report.new_rule_bugs == 0
    assert not list(out.glob(".*.tmp"))


def test_html_is_self_contained(run: Path, tmp_path: Path) -> None:
    reports.build_report(run, tmp_path / "out", "html")
    text = (tmp_path / "out" / "report.html").read_text()
    parser = _Tags()
    parser.feed(text)
    assert parser.open == []
    external = [(t, k, v) for t, k, v in parser.refs if not (v.startswith("data:") or v.startswith("#"))]
    assert external == []
    assert not re.search(r"https?://|url\(|@import", text)
    images = [v for t, k, v in parser.refs if t == "img"]
    assert len(images) == 3
    for src in images:
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert text.count('<table class="report">') == 12  # run.json, ten statistics tables, findings
    assert '<td class="num">50.0%</td>' in text
    assert '<td class="bad">' not in text  # no comparison in this report


@pytest.mark.parametrize(
    ("formats", "expected"),
    [
        ("csv", {"by_method.csv"}),
        ("html", {"report.html"}),
        ("md", {"report.md", "error_ecdf.png"}),
        ("HTML, md", {"report.html", "report.md"}),
    ],
)
def test_formats_select_the_files(run: Path, tmp_path: Path, formats: str, expected: set[str]) -> None:
    report = reports.build_report(run, tmp_path / "out", formats, vcurves=0)
    names = {p.name for p in report.files}
    assert expected <= names
    assert ("report.html" in names) == ("html" in formats.lower())
    assert ("report.md" in names) == ("md" in formats)
    assert any(n.endswith(".csv") for n in names) == ("csv" in formats)
    assert "fd_vcurve.png" not in names


@pytest.mark.parametrize(("formats", "message"), [("md,pdf", "unknown format 'pdf'"), (" , ", "no format given")])
def test_bad_formats(formats: str, message: str) -> None:
    with pytest.raises(reports.ReportError, match=message):
        reports.parse_formats(formats)


def test_comparison_flags_new_rule_bugs(run: Path, base: Path, tmp_path: Path) -> None:
    report = reports.build_report(run, tmp_path / "out", against=base)
    assert report.new_rule_bugs == 1
    assert "NEW RULE BUGS: 1 expression(s)" in report.summary
    html = (tmp_path / "out" / "report.html").read_text()
    assert '<td class="bad">new rule bug</td>' in html and '<td class="good">better</td>' in html
    table = pd.read_csv(tmp_path / "out" / "compare_by_method.csv")
    assert table.set_index("method")["change"].to_dict() == {
        "engine_f64": "new rule bug",
        "central_fd": "same",
        "sympy_f64": "only in A",
    }
    reverse = reports.build_report(base, tmp_path / "rev", against=run)
    assert reverse.new_rule_bugs == 0 and "no new rule bug" in reverse.summary


def test_mutation_only_run(tmp_path: Path) -> None:
    mut = write_run(tmp_path / "mut", None, mutants=MUTANTS)
    report = reports.build_report(mut, tmp_path / "out", "md,csv")
    assert "mutation score prover: 100.0% (4/4)" in report.summary
    limits = pd.read_csv(tmp_path / "out" / "detection_limits.csv").set_index("method")
    assert limits.loc["gradcheck", "smallest_detected"] == 1e-2
    assert "## Mutation score" in (tmp_path / "out" / "report.md").read_text()
    with pytest.raises(reports.ReportError, match="holds mutants only"):
        reports.load(mut)


def test_interrupted_run_says_so(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", tiny_records(), meta={**META, "status": "interrupted"})
    report = reports.build_report(run, tmp_path / "out", "md")
    assert "The run's status is 'interrupted': these are the records it finished." in report.summary


# --- atomic writes -------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_report_untouched(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("old report")
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(build.os, "fsync", failing_fsync)
    with pytest.raises(reports.ReportError, match="No space left on device"):
        reports.build_report(run, out)
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert (out / "report.md").read_text() == "old report"


def test_a_failed_write_removes_the_directory_it_created(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(build.os, "fsync", failing_fsync)
    with pytest.raises(reports.ReportError, match="Input/output error"):
        reports.build_report(run, tmp_path / "new" / "out")
    assert not (tmp_path / "new" / "out").exists()


def test_a_directory_in_the_way_stops_before_writing(run: Path, tmp_path: Path) -> None:
    (tmp_path / "out" / "report.html").mkdir(parents=True)
    with pytest.raises(reports.ReportError, match="a directory is in the way"):
        reports.build_report(run, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.html"]


# --- the V-curve -----------------------------------------------------------------------


def test_vcurve_of_exp_has_its_bottom_near_the_chosen_step() -> None:
    curve = vcurve("exp(x0)", (0.5,), 0, math.exp(0.5))
    h = curve.steps
    assert curve.chosen_step == central_step(0.5) == pytest.approx(6.055e-6, rel=1e-3)
    # truncation: (h^2 / 6) f'''/f' = h^2 / 6 at h = 1e-2; rounding dominates at tiny h
    assert curve.errors[np.argmin(abs(h - 1e-2))] == pytest.approx(1e-4 / 6, rel=1e-3)
    assert curve.errors[0] > 1e-3
    assert curve.chosen_error < 1e-10
    best = h[np.nanargmin(curve.errors)]
    assert 1e-7 < best < 1e-4


def test_vcurve_samples_span_depths_and_skip_unparsable(run: Path) -> None:
    records = reports.load(run)
    assert [c.expr for c in sample_vcurves(records, 3)] == ["exp(x0)", "x0*sin(x1)"]
    assert [c.expr for c in sample_vcurves(records, 1)] == ["exp(x0)"]
    broken = records.assign(sympy_expr=records["sympy_expr"].where(records["depth"] != 1, "exp(("))
    assert [c.expr for c in sample_vcurves(broken, 3)] == ["x0*sin(x1)"]


# --- the command line --------------------------------------------------------------------


def test_cli_report(run: Path, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run), "--format", "md,csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gradproof report: Run tiny.")
    assert f"wrote {run / 'report'}: report.md" in out
    assert (run / "report" / "report.md").exists()
    assert main(["report", str(run), "--out", str(tmp_path / "cmp"), "--against", str(base)]) == 1
    assert "NEW RULE BUGS: 1" in capsys.readouterr().out


def _damage_records(run: Path) -> None:
    (run / RECORDS_FILE).write_text((run / RECORDS_FILE).read_text().replace("1e-13", "zz", 1))


@pytest.mark.parametrize(
    ("args", "damage", "message"),
    [
        (["--format", "pdf"], None, "unknown format 'pdf' (choose from md, html, csv)"),
        ([], lambda run: (run / RUN_FILE).unlink(), "is not a gradproof run: {run}/run.json is missing"),
        ([], lambda run: (run / RUN_FILE).write_text("{"), "{run}/run.json is corrupt"),
        ([], lambda run: (run / RECORDS_FILE).write_text(""), "{run}/records.csv is empty"),
        ([], lambda run: (run / RECORDS_FILE).write_bytes(b"\x80\x81"), "{run}/records.csv is corrupt: not UTF-8"),
        ([], _damage_records, "{run}/records.csv is corrupt: line 6, column 'rel_err'"),
        (["--against", "{run}/../nowhere"], None, "nowhere: no such directory"),
    ],
)
def test_cli_bad_input(
    run: Path, capsys: pytest.CaptureFixture[str], args: list[str], damage: Any, message: str
) -> None:
    if damage is not None:
        damage(run)
    code = main(["report", str(run), *(a.format(run=run) for a in args)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("gradproof report: error: ")
    assert message.format(run=run) in err
    assert "Traceback" not in err
    assert not (run / "report").exists()


def test_cli_out_dir_that_cannot_be_created(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["report", str(run), "--out", str(tmp_path / "file" / "out")]) == 2
    assert "cannot create output directory" in capsys.readouterr().err
    assert set(os.listdir(run)) == {"run.json", "records.csv", "findings.json"}
