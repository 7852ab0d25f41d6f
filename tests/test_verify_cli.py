"""``gradproof verify`` on the command line: exit statuses, outputs and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autodiff import unregister
from gradproof.cli import main
from gradproof.verify import PER_OP_FILE

PLUGIN = str(Path(__file__).with_name("plugin_wrong_rule.py"))


def test_small_campaign_passes_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["verify", "--examples", "20", "--jobs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert str(out) in text
    assert "no rule bug found" in text
    assert "20 expressions" in text
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_planted_bug_exits_1_with_a_reproduction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(
            ["verify", "--plugin", PLUGIN, "--ops", "log2,mul,exp", "--examples", "30", "--jobs", "1",
             "--out", str(tmp_path / "run")]
        )  # fmt: skip
    finally:
        unregister("log2")
    text = capsys.readouterr().out
    assert status == 1
    assert "FOUND" in text and "rule bug" in text
    assert "y = log2(x0)" in text


def test_per_op_sweep_writes_its_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    args = ["verify", "--per-op", "--ops", "exp,truediv", "--per-op-points", "200", "--jobs", "1", "--out", str(out)]
    assert main(args) == 0
    with open(out / PER_OP_FILE, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["op"], r["input"]) for r in rows] == [("exp", "0"), ("truediv", "0"), ("truediv", "1")]
    assert all(r["meets_target"] == "True" and int(r["points"]) == 200 for r in rows)
    assert "3/3 partials within" in capsys.readouterr().out


def _bad(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["verify", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    return err


def test_unknown_op(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "unknown op 'nosuch'" in _bad(["--ops", "mul,nosuch", "--out", str(tmp_path / "r")], capsys)


def test_plugin_that_fails_to_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_anywhere\n")
    err = _bad(["--plugin", str(broken), "--out", str(tmp_path / "r")], capsys)
    assert "broken.py" in err and "no_such_module_anywhere" in err


@pytest.mark.parametrize("n", ["0", "-3"])
def test_examples_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str], n: str) -> None:
    assert "--examples must be at least 1" in _bad(["--examples", n, "--out", str(tmp_path / "r")], capsys)


def test_unwritable_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert f"{str(blocker)!r} is not a directory" in _bad(["--out", str(blocker / "run")], capsys)


def test_out_dir_holding_a_run_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.json").write_text("{}")
    assert "already holds a run" in _bad(["--out", str(tmp_path)], capsys)
