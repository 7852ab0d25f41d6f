"""`gradproof verify --engine FILE:Class` finds each planted bug, shrinks it, and clears a correct engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradproof.cli import main

PLANTED = "tests/planted_engines.py"

# class -> verdict kinds that count as finding its bug
BUGS = {
    "AssignGrad": {"rule_bug"},
    "NoTopo": {"rule_bug"},
    "WrongLog": {"rule_bug"},
    "OverflowTanh": {"exception_mismatch", "value_bug", "rule_bug"},
    "WrongRsub": {"rule_bug", "value_bug"},
    "MulOffByPpb": {"rule_bug"},
}
SMALL = 10  # nodes; campaign trees go up to depth 4 with 2 variables (about 30 nodes)


def _verify(cls: str, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, object], str]:
    argv = ["verify", "--engine", f"{PLANTED}:{cls}", "--examples", "120", "--jobs", "1", "--out", str(out), *extra]
    code = main(argv)
    text = capsys.readouterr().out
    findings = json.loads((out / "findings.json").read_text())
    return code, findings, text


@pytest.mark.parametrize("cls", sorted(BUGS))
def test_each_planted_bug_is_found_and_shrunk(cls: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kinds = BUGS[cls]
    code, findings, text = _verify(cls, tmp_path / cls, capsys)
    assert code == 1, text
    shrunk = findings["shrunk"]
    assert isinstance(shrunk, list) and shrunk
    best = min((s for s in shrunk if s.get("kind") in kinds and "size" in s), key=lambda s: s["size"])
    assert best["size"] <= SMALL, best
    # the reproduction runs against the class and shows the same wrong answer
    scope: dict[str, object] = {}
    exec(compile(best["reproduction"].replace("print(", "result = ("), "<repro>", "exec"), scope)
    if best["engine_error"] is None:
        result = scope["result"]
        assert isinstance(result, tuple)
        _, grads = result
        assert grads[best["variable"]] == best["engine_grad"]


def test_a_correct_engine_has_no_finding_and_gets_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings, text = _verify("Value", tmp_path / "ok", capsys, "--report")
    assert code == 0, text
    assert findings["findings"] == []
    assert "supported ops (10): add, sub, mul, truediv, neg, pow_const, exp, log, tanh, relu" in text
    assert "kink convention: relu'(0) = 0.0" in text
    html = (tmp_path / "ok" / "report" / "report.html").read_text()
    assert "tests/planted_engines.py:Value" in html
