"""The report opens with the verdict and the defects; `report --against` fails on new defects and regressions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gradproof.cli import main
from reports import build_report
from reports.verdict import graph_svg
from tests.test_reports import META, baseline_records, tiny_records, write_run

# tanh(x0 * x1) + tanh(x0 * x1): the shared tanh node is drawn once, and it is the one at fault
NODES: list[dict[str, Any]] = [
    {"label": "x0", "kids": [], "blamed": False},
    {"label": "x1", "kids": [], "blamed": False},
    {"label": "mul", "kids": [0, 1], "blamed": False},
    {"label": "tanh", "kids": [2], "blamed": True},
    {"label": "add", "kids": [3, 3], "blamed": False},
]
GRAPH: dict[str, Any] = {"nodes": NODES, "root": 4}


def defect(severity: str = "wrong", op: str = "tanh", form: str = "method") -> dict[str, Any]:
    return {
        "severity": severity,
        "ops": [op],
        "form": form,
        "aspect": "gradient",
        "summary": f"the rule of `{op}` ({form}) at t3 = tanh((x0 * x1)): local partial d/dx 0.0, true 1.7e-17",
        "expression": f"{op}(x0)",
        "point": [20.5],
        "engine_value": 1.0,
        "true_value": 1.0,
        "engine_grad": [0.0],
        "true_grad": [1.7e-17],
        "ulps": 4.0e18,
        "bits": 62.0,
        "bits_max": 62.0,
        "records": 7,
        "where": "loses up to 62.0 bits; inputs |x| from 19.2 to 40",
        "found_in": ["(tanh((x0 * x1)) + tanh((x0 * x1)))"],
        "reproduction": "x0 = Value(20.5)\ny = x0.tanh()\ny.backward()\nprint(y.data, [x0.grad])",
        "graph": GRAPH,
    }


def findings(*defects: dict[str, Any], status: int = 1) -> dict[str, Any]:
    head = "FAIL: 1 wrong" if status else "PASS: no defect"
    return {"verdict": head, "exit_status": status, "defects": list(defects), "never_judged_ops": [],
            "unjudged_records": 3, "shrunk": [], "findings": [], "total": 0}  # fmt: skip


def test_the_html_report_opens_with_the_verdict_and_draws_each_defect(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a", tiny_records(), findings=findings(defect()))
    report = build_report(run, formats="html,md", vcurves=0)
    page = (report.out_dir / "report.html").read_text()
    sections = re.findall(r'<section id="([^"]+)"', page)
    assert sections[0] == "verdict" and sections.index("verdict") < sections.index("overview")
    first = page[page.index('<section id="verdict"') : page.index("</section>")]
    assert '<p class="verdict fail">FAIL: 1 wrong</p>' in first
    assert "3 record(s) of the float64 engine could not be judged" in first
    for shown in ("wrong", "tanh", "method", "tanh(x0)", "20.5", "1.7e-17", "y = x0.tanh()"):
        assert shown in first, shown
    (svg,) = re.findall(r"<svg.*?</svg>", first)
    assert svg.count("<rect") == 5  # the shared tanh node once
    assert svg.count('stroke="#b00020"') == 1 and ">tanh<" in svg
    assert "Every defect, most severe first" in page and "\n  verdict: FAIL: 1 wrong\n" in report.summary
    markdown = (report.out_dir / "report.md").read_text()
    assert markdown.index("Verdict") < markdown.index("Overview") and "FAIL: 1 wrong" in markdown


def test_an_old_run_without_a_verdict_still_reports(tmp_path: Path) -> None:
    run = write_run(tmp_path / "old", tiny_records(), findings={"shrunk": [], "findings": [], "total": 0})
    page = (build_report(run, formats="html", vcurves=0).out_dir / "report.html").read_text()
    assert 'id="verdict"' not in page and 'id="overview"' in page


def test_graph_svg_marks_only_the_blamed_node() -> None:
    svg = graph_svg({**GRAPH, "nodes": [{**n, "blamed": False} for n in NODES]})
    assert svg.startswith("<svg") and 'stroke="#b00020"' not in svg
    assert graph_svg({}) == ""


def _clean_baseline() -> list[dict[str, Any]]:
    rows = tiny_records(run_id="base")
    for r in rows:
        if r["verdict"] == "rule_bug":
            r["verdict"] = "ok"
    return rows


def test_against_fails_on_a_new_defect_and_not_on_a_known_one(tmp_path: Path) -> None:
    base = write_run(tmp_path / "b", _clean_baseline(), meta={**META, "run_id": "b"}, findings=findings(status=0))
    a = write_run(tmp_path / "a", _clean_baseline(), findings=findings(defect()))
    report = build_report(a, tmp_path / "ra", "csv", against=base, vcurves=0)
    assert report.new_defects == 1 and report.fails
    assert "NEW DEFECT: [wrong] tanh (method)" in report.summary
    same = build_report(a, tmp_path / "rs", "csv", against=a, vcurves=0)
    assert (same.new_defects, same.regressions, same.fails) == (0, (), False)


def test_against_fails_on_an_accuracy_regression_without_any_rule_bug(tmp_path: Path) -> None:
    worse = write_run(tmp_path / "w", baseline_records(), findings=findings(status=0))  # exp 8 bits worse
    good = write_run(tmp_path / "g", _clean_baseline(), findings=findings(status=0))
    report = build_report(worse, tmp_path / "r", "csv", against=good, vcurves=0)
    assert report.new_rule_bugs == 0 and report.new_defects == 0
    assert report.regressions and report.regressions[0].startswith("engine_f64: median bits")
    assert report.fails and "ACCURACY REGRESSION" in report.summary


def test_against_warns_when_runs_are_not_comparable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = {**META, "run_id": "b", "seed": 7, "engine": "torch", "options": {**META["options"], "ops": ["exp"]}}
    base = write_run(tmp_path / "b", _clean_baseline(), meta=other, findings=findings(status=0))
    a = write_run(tmp_path / "a", _clean_baseline(), findings=findings(status=0))
    status = main(["report", str(a), "--out", str(tmp_path / "r"), "--format", "csv", "--against", str(base)])
    err = capsys.readouterr().err
    assert status == 0
    for what in ("seed: 0 against 7", "ops: None against ['exp']"):
        assert f"warning: the runs differ in {what}" in err, err
