"""`gradproof compare` and `gradproof report RUN1 RUN2 ...`: a row per engine, per-op accuracy, planted bugs seen."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gradproof.cli import main

PLANTED = "tests/planted_engines.py"


def _compare(tmp_path: Path, engines: str, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "cmp"
    argv = ["compare", "--engines", engines, "--examples", "6", "--per-op-points", "12", "--jobs", "1"]
    return main([*argv, "--out", str(out), "--seed", "2", *extra]), out


def _per_op(run_dir: Path) -> dict[str, dict[str, str]]:
    with open(run_dir / "per_op.csv", newline="") as fh:
        return {f"{r['op']}[{r['input']}]": r for r in csv.DictReader(fh)}


def test_a_planted_rule_bug_shows_in_its_engines_row_and_per_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _compare(tmp_path, f"builtin,{PLANTED}:WrongLog", "--ops", "log,mul")
    text = capsys.readouterr().out
    assert code == 0, text
    rows = [line.split() for line in text.splitlines() if line.startswith("  ") and "ULP" not in line]
    by_engine = {r[0]: r for r in rows}
    assert by_engine["builtin"][-1] == "none"
    assert "rule_bug" in " ".join(by_engine[f"{PLANTED}:WrongLog"])
    wrong = _per_op(out / "tests_planted_engines.py_WrongLog")
    right = _per_op(out / "builtin")
    assert int(wrong["log[0]"]["beyond_bound"]) > 0 and float(wrong["log[0]"]["median_ulp"]) > 1e15
    assert int(right["log[0]"]["beyond_bound"]) == 0 and float(right["log[0]"]["max_ulp"]) <= 1
    md = (out / "report" / "engines.md").read_text()
    log_row = next(line for line in md.splitlines() if line.startswith("| log |"))  # the bits matrix comes first
    builtin_cell, planted_cell = log_row.split("|")[2:4]
    assert "beyond" not in builtin_cell and f"({wrong['log[0]']['beyond_bound']} beyond)" in planted_cell


def test_report_takes_several_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("autograd")
    code, out = _compare(tmp_path, "builtin,autograd", "--ops", "tanh,mul")
    assert code == 0
    capsys.readouterr()
    code = main(["report", str(out / "builtin"), str(out / "autograd"), "--out", str(tmp_path / "r")])
    text = capsys.readouterr().out
    assert code == 0
    assert "builtin" in text and "autograd" in text
    html = (tmp_path / "r" / "engines.html").read_text()
    assert "autograd" in html and "tanh" in html
    assert (tmp_path / "r" / "per_op_bits.csv").exists()


def test_runs_of_different_campaigns_are_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / f"s{seed}"
        assert (
            main(["verify", "--examples", "3", "--jobs", "1", "--seed", seed, "--ops", "mul", "--out", str(out)]) == 0
        )
        runs.append(str(out))
    capsys.readouterr()
    assert main(["report", *runs, "--out", str(tmp_path / "r")]) == 0
    assert "the runs differ in seed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "--engines", "builtin"], "--engines needs at least two different engines"),
        (["compare", "--engines", "builtin,builtin"], "--engines needs at least two different engines"),
        (["compare", "--engines", "builtin,nope.mod:V"], "engine module 'nope.mod' not found"),
        (["compare", "--engines", f"builtin,{PLANTED}:Value", "--ops", "sin"], "--ops sin: not run by every engine"),
    ],
)
def test_bad_compare_usage(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_report_against_with_several_runs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path), str(tmp_path), "--against", str(tmp_path)]) == 2
    assert "--against compares two runs" in capsys.readouterr().err
