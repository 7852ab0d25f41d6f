"""`gradproof verify --engine` on planted micrograd clones: the verdict, the severities and the ops it names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autodiff import op_names, unregister
from gradproof.cli import main

CLONES = "tests/planted_clones.py"
OPS = "add,sub,mul,truediv,neg,pow_const,exp,log,tanh,sigmoid,relu"


def _verify(out: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["verify", "--jobs", "1", "--out", str(out), *argv])
    text = capsys.readouterr().out
    return code, json.loads((out / "findings.json").read_text()), text


@pytest.fixture
def planted_ops() -> Iterator[None]:
    """The plugin's ops leave the registry after the test (other tests run all registered ops)."""
    yield
    for name in ("softclip", "shift"):
        if name in op_names():
            unregister(name)


def _by_severity(findings: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for d in findings["defects"]:
        for op in d["ops"] or ["-"]:
            found.setdefault(d["severity"], set()).add((op, d["form"]))
    return found


# class, --ops, exit status, (severity, op, form) that must be found, severities that must not appear
CASES = [
    ("Textbook", OPS, 0, [], {"wrong", "broken"}),
    ("NoReflected", "add,sub,mul,truediv,exp", 0, [("missing", "sub", "reflected operator")], {"wrong", "broken"}),
    ("RaisingExp", "add,mul,exp", 1, [("broken", "exp", "method")], {"wrong"}),
    ("DataIsValue", "add,mul,relu", 1, [("broken", "relu", "method")], {"wrong"}),
    (
        "WrongReflected",
        "sub,truediv,mul",
        1,
        [("wrong", "sub", "reflected operator"), ("wrong", "truediv", "reflected operator")],
        set(),
    ),
    ("TanhOffByPpb", "add,mul,tanh", 1, [("wrong", "tanh", "method")], set()),
    ("PerPath", "add,mul,tanh", 1, [("wrong", "-", "graph")], {"broken"}),
]


@pytest.mark.parametrize(("cls", "ops", "status", "expected", "absent"), CASES, ids=[c[0] for c in CASES])
def test_each_clone_gets_its_verdict(
    cls: str,
    ops: str,
    status: int,
    expected: list[tuple[str, str, str]],
    absent: set[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, findings, text = _verify(tmp_path, capsys, "--engine", f"{CLONES}:{cls}", "--ops", ops, "--examples", "60")
    assert code == status, text
    found = _by_severity(findings)
    for severity, op, form in expected:
        if form == "graph":
            assert any(d["form"] == "graph" and d["severity"] == severity for d in findings["defects"]), text
        else:
            assert (op, form) in found.get(severity, set()), (severity, op, form, text)
    assert not absent & set(found), text
    assert findings["verdict"] in text and ("FAIL" if status else "PASS") in findings["verdict"]
    # every defect shows its expression and, unless missing, a reproduction that runs
    for d in findings["defects"]:
        assert d["expression"] and d["summary"]
        if d["severity"] != "missing" and d["aspect"] != "hangs":
            assert d["reproduction"].count("backward()") == 1
            snippet = compile(d["reproduction"].replace("print(", "_ = ("), "<repro>", "exec")
            if d["aspect"] == "raises":
                with pytest.raises(Exception):  # noqa: B017 - the engine's own exception, whatever it is
                    exec(snippet, {})
            else:
                exec(snippet, {})


def test_textbook_formulas_are_inaccurate_and_fail_only_under_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("--engine", f"{CLONES}:Textbook", "--ops", "mul,tanh,sigmoid", "--examples", "60")
    code, findings, text = _verify(tmp_path / "plain", capsys, *argv)
    assert code == 0, text
    inaccurate = {op for d in findings["defects"] if d["severity"] == "inaccurate" for op in d["ops"]}
    assert inaccurate <= {"tanh", "sigmoid"} and inaccurate, text
    assert "loses up to" in text
    strict, _, _ = _verify(tmp_path / "strict", capsys, *argv, "--strict")
    assert strict == 1


def test_a_hanging_backward_is_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings, text = _verify(
        tmp_path,
        capsys,
        "--engine",
        f"{CLONES}:HangingBackward",
        "--ops",
        "add,mul",
        "--examples",
        "20",
        "--eval-timeout",
        "0.5",
    )
    assert code == 1, text
    (hang,) = [d for d in findings["defects"] if d["severity"] == "broken"]
    assert hang["form"] == "graph" and "no answer within 0.5 s" in hang["summary"]


def test_a_plugin_op_raising_everywhere_is_broken_and_never_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planted_ops: None
) -> None:
    argv = ("--plugin", "tests/planted_ops.py", "--examples", "20")
    code, findings, text = _verify(tmp_path / "mixed", capsys, *argv, "--ops", "softclip,mul")
    assert code == 1, text
    assert [d["ops"] for d in findings["defects"] if d["severity"] == "broken"] == [["softclip"]]
    assert findings["never_judged_ops"] == ["softclip"] and "never judged" in text
    alone, findings, text = _verify(tmp_path / "alone", capsys, *argv, "--ops", "softclip")
    assert alone == 1 and "NOTHING JUDGED" in text


def test_a_rule_returning_a_plain_constant_runs_and_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planted_ops: None
) -> None:
    code, findings, text = _verify(
        tmp_path, capsys, "--plugin", "tests/planted_ops.py", "--ops", "shift,mul", "--examples", "20"
    )
    assert code == 0, text
    assert findings["defects"] == [] and "PASS: no defect" in text
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["status"] == "finished"


def test_an_op_probing_judged_is_left_out_with_its_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """exp raising on every input is named with the status probing gave it, not a generic 'unsupported'."""
    code, findings, text = _verify(
        tmp_path / "exp", capsys, "--engine", f"{CLONES}:RaisingExp", "--ops", "exp,mul", "--examples", "10"
    )
    assert code == 1, text
    assert "left out of the campaign, as probing judged them (see the defects): exp (broken)" in text
    assert [d["ops"] for d in findings["defects"] if d["severity"] == "broken"] == [["exp"]]
