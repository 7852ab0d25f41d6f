"""`gradproof verify --engine FILE:Class` finds each planted bug, shrinks it, and clears a correct engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gradproof.cli import main

PLANTED = "tests/planted_engines.py"

# class -> (op, form) of the wrong defect that is its bug ("-" for a graph defect)
BUGS = {
    "AssignGrad": ("-", "graph"),
    "NoTopo": ("-", "graph"),
    "WrongLog": ("log", "method"),
    "WrongRsub": ("sub", "reflected operator"),
    "MulOffByPpb": ("mul", "operator"),
}
SMALL = 10  # nodes; campaign trees go up to depth 4 with 2 variables (about 30 nodes)


def _verify(cls: str, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any], str]:
    argv = ["verify", "--engine", f"{PLANTED}:{cls}", "--examples", "120", "--jobs", "1", "--out", str(out), *extra]
    code = main(argv)
    text = capsys.readouterr().out
    findings = json.loads((out / "findings.json").read_text())
    return code, findings, text


@pytest.mark.parametrize("cls", sorted(BUGS))
def test_each_planted_bug_is_a_wrong_defect_shrunk_with_a_reproduction(
    cls: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    op, form = BUGS[cls]
    code, findings, text = _verify(cls, tmp_path / cls, capsys)
    assert code == 1, text
    wrong = [d for d in findings["defects"] if d["severity"] == "wrong"]
    (bug,) = [d for d in wrong if d["form"] == form and (form == "graph" or d["ops"] == [op])]
    # nothing else is called wrong, but the ops the class builds on the planted one (its neg is self * -1.0)
    built_on = {"mul": {"mul", "neg", "sub", "truediv"}}.get(op, {op})
    assert all(set(d["ops"]) <= built_on or d is bug for d in wrong), [d["summary"] for d in wrong]
    assert bug["expression"].count("(") <= SMALL, bug
    # the reproduction runs against the class and shows the engine's wrong answer
    scope: dict[str, object] = {}
    exec(compile(bug["reproduction"].replace("print(", "result = ("), "<repro>", "exec"), scope)
    result = scope["result"]
    assert isinstance(result, tuple)
    value, grads = result
    if form != "graph":
        shown = bug["engine_value"] if bug["aspect"] == "value" else bug["engine_grad"][0]
        assert shown in (value, grads[0])


def test_a_textbook_tanh_that_overflows_is_fragile_not_a_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, findings, text = _verify("OverflowTanh", tmp_path / "ot", capsys)
    assert code == 0, text
    tanh = {d["severity"] for d in findings["defects"] if d["ops"] == ["tanh"]}
    assert tanh and tanh <= {"inaccurate", "fragile"}, text


def test_a_correct_engine_has_no_finding_and_gets_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings, text = _verify("Value", tmp_path / "ok", capsys, "--report")
    assert code == 0, text
    assert [d["severity"] for d in findings["defects"]] == ["missing"] * 7
    assert findings["verdict"] == "PASS: 7 missing"
    assert "supported ops (10): add, sub, neg, mul, truediv, pow_const, exp, log, tanh, relu" in text
    assert "kink convention: relu'(0) = 0.0" in text
    html = (tmp_path / "ok" / "report" / "report.html").read_text()
    assert "tests/planted_engines.py:Value" in html
