"""`gradproof verify --custom/--spec/--domain` and plugin-declared framework ops: exit status, output, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradproof.cli import main

OPS = "tests.framework_ops"


pytestmark = pytest.mark.usefixtures("restore_registry")


def _verify(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, Path]:
    out = tmp_path / "run"
    code = main(["verify", "--examples", "6", "--jobs", "1", "--custom-points", "40", "--out", str(out), *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err, out


def test_wrong_torch_custom_op_exits_1_with_a_shrunk_torch_reproduction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    code, text, out = _verify(
        tmp_path, capsys, "--engine", "torch", "--custom", f"{OPS}:SignFlipSoftplus", "--spec", "log(1 + exp(x))",
        "--ops", "SignFlipSoftplus,mul,add",
    )  # fmt: skip
    assert code == 1, text
    assert "custom op SignFlipSoftplus (tests.framework_ops:SignFlipSoftplus) on torch" in text
    assert "verdict: WRONG" in text
    assert "shrunk: wrong at x = -1.0: d/dx0 = -0.2689414213699951, true 0.2689414213699951" in text
    assert "y = SignFlipSoftplus.apply(x0)" in text
    (record,) = json.loads((out / "custom_ops.json").read_text())
    assert record["ok"] is False and record["severities"]["wrong"] > 0


def test_correct_torch_custom_op_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    code, text, out = _verify(
        tmp_path, capsys, "--engine", "torch", "--custom", f"{OPS}:StableLogSigmoid", "--spec", "-log(1 + exp(-x))",
        "--ops", "StableLogSigmoid,mul,add",
    )  # fmt: skip
    assert code == 0, text
    assert "verdict: no defect" in text
    assert json.loads((out / "custom_ops.json").read_text())[0]["ok"] is True


def test_jax_custom_vjp_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("jax")
    code, text, _ = _verify(
        tmp_path, capsys, "--engine", "jax", "--custom", f"{OPS}:ppb_softplus", "--spec", "log(1 + exp(x))",
        "--ops", "ppb_softplus,mul",
    )  # fmt: skip
    assert code == 1
    assert "shrunk: wrong at x = 0.0: d/dx0 = 0.5000000005, true 0.5" in text
    assert "from tests.framework_ops import ppb_softplus" in text


def test_a_domain_restricts_the_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    code, text, out = _verify(
        tmp_path, capsys, "--engine", "torch", "--custom", "torch:log1p", "--spec", "log(1 + x)",
        "--domain", "x > -1", "--ops", "log1p,mul",
    )  # fmt: skip
    assert code == 0, text
    record = json.loads((out / "custom_ops.json").read_text())[0]
    assert record["judged"] > 0 and "-2.0" not in record["accuracy"][0]["worst_point"]


def test_plugin_declared_op_runs_on_each_framework_it_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    for engine in ("torch", "jax"):
        code, text, _ = _verify(
            tmp_path / engine, capsys, "--engine", engine, "--plugin", "tests/framework_plugin.py",
            "--ops", "softplus_fw,mul",
        )  # fmt: skip
        assert code == 0, text
        assert "custom op softplus_fw (" in text and f"on {engine}" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--engine", "torch", "--custom", f"{OPS}:StableSoftplus"], "--custom needs --spec"),
        (["--spec", "log(x)"], "--spec and --domain describe a --custom op; give --custom too"),
        (["--engine", "builtin", "--custom", f"{OPS}:softplus", "--spec", "x"], "--custom runs on a framework"),
        (["--engine", "jax", "--custom", "nope_module:f", "--spec", "x"], "importing 'nope_module' failed"),
        (["--engine", "jax", "--custom", f"{OPS}", "--spec", "x"], "must be 'module:function'"),
        (["--engine", "jax", "--custom", f"{OPS}:softplus", "--spec", "log(("], "is not a formula sympy can read"),
        (["--engine", "jax", "--custom", f"{OPS}:softplus", "--spec", "2"], "has no variable"),
        (["--engine", "jax", "--custom", f"{OPS}:softplus", "--spec", "x", "--domain", "x ~ 3"], "--domain 'x ~ 3'"),
    ],
)
def test_bad_custom_usage_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", "--out", str(tmp_path / "bad"), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
