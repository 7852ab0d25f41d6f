"""Custom ops written to make a framework verdict lie (tests/framework_adversarial.py); each test says the
severity and the exit status ``gradproof verify --custom`` must give (1: wrong or broken, 0 otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gradproof.cli import main
from verification.frameworks import framework_engine, load_custom
from verification.frameworks.check import MAX_HANGS, OpCheck, check_op
from verification.localjudge import judge_local

OPS = "tests.framework_adversarial"
SOFTPLUS = "log(1 + exp(x))"
POINTS = 40


pytestmark = pytest.mark.usefixtures("restore_registry")


def _check(framework: str, attr: str, spec: str, *, timeout: float | None = None) -> tuple[OpCheck, Any, str]:
    pytest.importorskip(framework, reason=f"{framework} is not installed (pip install 'gradproof[{framework}]')")
    op = load_custom(f"{OPS}:{attr}", spec=spec, framework=framework)
    engine = framework_engine(framework)
    if timeout is not None:
        engine.timeout = timeout
    return check_op(op, engine, points=POINTS, seed=2), engine, op.name


@pytest.mark.parametrize(
    ("framework", "attr"),
    [("torch", "ZeroHoleSoftplus"), ("jax", "zero_hole_softplus"), ("autograd", "ag_zero_hole_softplus")],
)
def test_a_backward_wrong_only_at_zero_of_a_smooth_op_is_wrong(framework: str, attr: str) -> None:
    """softplus has no kink at 0: returning 0 there is wrong (exit 1), shrunk to x = 0."""
    check, _, _ = _check(framework, attr, SOFTPLUS)
    assert not check.ok and check.severities() == {"wrong": 1}
    (finding,) = check.shrunk
    assert finding.point == (0.0,) and finding.grad == 0.0 and finding.true_grad == 0.5


def test_a_relu_convention_at_its_kink_is_no_defect() -> None:
    """relu'(0) = 0 is inside [0, 1]; sympy's Heaviside(0) = 1/2 is not the only right answer (exit 0)."""
    check, engine, name = _check("torch", "ConventionRelu", "Max(x, 0)")
    assert check.certified, [f.describe() for f in check.findings[:3]]
    local = judge_local(engine, name, [0.0], [True])  # as a campaign judges it at its kink
    assert local.judged and local.severity is None and local.engine_partials == (0.0,)


def test_an_abs_backward_outside_the_one_sided_derivatives_is_wrong() -> None:
    """abs'(0) = 2 is outside [-1, 1] (exit 1)."""
    check, engine, name = _check("torch", "KinkTwoAbs", "Abs(x)")
    assert not check.ok and check.kink_findings == [
        "at the kink x0 = 0.0 the engine's partial 2.0 is outside [-1.0, 1.0]"
    ]
    assert judge_local(engine, name, [0.0], [True]).severity is not None


def test_a_six_digit_constant_is_the_float_it_names() -> None:
    """1.442695 in the spec is the float the code uses: certified (exit 0); against the exact 1/ln 2 the op is
    off by 2.4e-7 relative, far beyond rounding: wrong (exit 1)."""
    same, _, _ = _check("jax", "softplus_log2", "1.442695 * log(1 + exp(x))")
    assert same.certified, [f.describe() for f in same.findings[:3]]
    exact, _, _ = _check("jax", "softplus_log2", "log(1 + exp(x)) / log(2)")
    assert not exact.ok and "wrong" in exact.severities()
    assert exact.shrunk[0].point == (0.0,) and exact.shrunk[0].ulps > 1e8


HANGING = [("torch", "HangingBeyond100", 0.3), ("autograd", "ag_hanging_beyond_100", 0.3)]


@pytest.mark.parametrize(("framework", "attr", "seconds"), [*HANGING, ("jax", "hanging_beyond_100", 3.0)])
def test_a_backward_that_never_returns_is_broken_and_the_check_stops(
    framework: str, attr: str, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broken (exit 1) after MAX_HANGS points without an answer; the check does not wait on every point."""
    if framework == "jax":
        from verification.frameworks.jax import JaxEngine

        assert JaxEngine.min_timeout == 30.0  # what a compiling framework gets in a run
        monkeypatch.setattr(JaxEngine, "min_timeout", 0.0)  # (only so that the test waits seconds, not minutes)
    check, _, _ = _check(framework, attr, SOFTPLUS, timeout=seconds)
    assert not check.ok and check.hangs == MAX_HANGS
    assert check.severities().get("broken") == MAX_HANGS and "wrong" not in check.severities()
    assert check.shrunk[0].error is not None and check.shrunk[0].error.startswith("TimeLimit")


@pytest.mark.parametrize(("framework", "attr"), [("torch", "RaisingEverywhere"), ("autograd", "ag_raising")])
def test_an_op_that_raises_everywhere_fails_the_run(
    framework: str, attr: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Never PASS: the op is broken, the verdict line FAIL, exit 1."""
    pytest.importorskip(framework)
    argv = ["verify", "--engine", framework, "--custom", f"{OPS}:{attr}", "--spec", SOFTPLUS, "--ops", f"{attr},mul"]
    code = main([*argv, "--examples", "2", "--jobs", "1", "--custom-points", "10", "--out", str(tmp_path / "r")])
    text = capsys.readouterr().out
    assert code == 1, text
    assert f"custom op {attr} ({OPS}:{attr}) is BROKEN" in text
    assert "FAIL: " in text and "PASS" not in text and "[broken]" in text
