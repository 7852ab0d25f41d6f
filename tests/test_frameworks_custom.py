"""Users' custom ops in torch and JAX: planted bugs are found as wrong, shrunk and reproduced; correct ops pass."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from typing import Any

import pytest

from verification.frameworks import framework_engine, load_custom, remove_custom
from verification.frameworks.check import SPECIAL_POINTS, OpCheck, check_op
from verification.testing import assert_gradient_certified

OPS = "tests.framework_ops"
SOFTPLUS = "log(1 + exp(x))"
LOG_SIGMOID = "-log(1 + exp(-x))"
POINTS = 60


def _needs(framework: str) -> None:
    pytest.importorskip(framework, reason=f"{framework} is not installed (pip install 'gradproof[{framework}]')")


@pytest.fixture
def custom() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        remove_custom(name)


def _check(custom: list[str], framework: str, attr: str, spec: str) -> tuple[OpCheck, Any]:
    _needs(framework)
    op = load_custom(f"{OPS}:{attr}", spec=spec, framework=framework)
    custom.append(op.name)
    engine = framework_engine(framework)
    return check_op(op, engine, points=POINTS, seed=1), engine


def _run_snippet(snippet: str) -> tuple[float, list[float]]:
    scope: dict[str, Any] = {}
    exec(compile(snippet.replace("print(", "result = ("), "<repro>", "exec"), scope)
    value, grads = scope["result"]
    return float(value), [float(g) for g in grads]


PLANTED = [
    ("torch", "SignFlipSoftplus", -1.0),
    ("torch", "PpbSoftplus", 0.0),
    ("jax", "sign_flip_softplus", -1.0),
    ("jax", "ppb_softplus", 0.0),
]


@pytest.mark.parametrize(("framework", "attr", "shrunk_to"), PLANTED)
def test_planted_custom_op_is_wrong_shrunk_and_reproduced(
    custom: list[str], framework: str, attr: str, shrunk_to: float
) -> None:
    check, _ = _check(custom, framework, attr, SOFTPLUS)
    # wrong at ordinary inputs; the same error where the results are tiny is inaccurate or fragile
    assert not check.ok and "wrong" in check.severities() and "broken" not in check.severities()
    (finding,) = check.shrunk
    assert finding.point == (shrunk_to,)
    assert finding.severity == "wrong" and finding.ulps > 1e6
    snippet = check.reproductions[0]
    assert ("import torch" if framework == "torch" else "import jax") in snippet and "autodiff" not in snippet
    value, grads = _run_snippet(snippet)
    assert grads[0] == finding.grad and value == finding.value


def test_one_part_per_billion_is_wrong_but_rounding_is_not(custom: list[str]) -> None:
    """1e-9 relative is ~4.5e6 ULPs: far outside the one-op bound; the stable op stays within 1 ULP."""
    bad, _ = _check(custom, "torch", "PpbSoftplus", SOFTPLUS)
    good, _ = _check(custom, "torch", "StableSoftplus", SOFTPLUS)
    assert bad.accuracy[0].median_ulp > 1e6
    assert good.ok and good.accuracy[0].max_ulp <= 1.0


CORRECT = [
    ("torch", "StableSoftplus", SOFTPLUS),
    ("torch", "StableLogSigmoid", LOG_SIGMOID),
    ("jax", "softplus", SOFTPLUS),
    ("jax", "softplus_jvp", SOFTPLUS),
    ("jax", "log_sigmoid", LOG_SIGMOID),
]


@pytest.mark.parametrize(("framework", "attr", "spec"), CORRECT)
def test_correct_custom_op_passes_everywhere(custom: list[str], framework: str, attr: str, spec: str) -> None:
    check, engine = _check(custom, framework, attr, spec)
    assert check.ok, [f.describe() for f in check.findings[:3]]
    # only the subnormal inputs ±5e-324, which an engine flushing subnormals reads as 0, are left out
    assert check.skipped == 0 and check.unsamplable == 0
    assert check.flushed_inputs == (2 if engine.probe.flushes_subnormals else 0)
    assert check.judged + check.flushed_inputs >= len(SPECIAL_POINTS) + POINTS
    for must in (0.0, -30.0, 30.0, -745.0, 745.0, 5e-324, -1.7976931348623157e308, 1.7976931348623157e308):
        assert must in SPECIAL_POINTS


def test_jax_flushing_subnormals_is_a_stated_limit_not_a_defect(custom: list[str]) -> None:
    check, engine = _check(custom, "jax", "softplus", SOFTPLUS)
    assert engine.probe.flushes_subnormals
    assert "flushed to zero" in engine.probe.describe()
    assert check.ok and check.accuracy[0].max_ulp > 1e12  # the flushed tail shows in the ULP table


def test_assert_gradient_certified_passes_and_fails_with_a_clear_message() -> None:
    _needs("torch")
    ops = importlib.import_module(OPS)
    check = assert_gradient_certified(ops.StableLogSigmoid, spec=LOG_SIGMOID, framework="torch", points=POINTS)
    assert check.ok
    with pytest.raises(AssertionError) as info:
        assert_gradient_certified(ops.SignFlipSoftplus, spec=SOFTPLUS, framework="torch", points=POINTS)
    text = str(info.value)
    assert "the gradient of SignFlipSoftplus (torch) is not certified against log(1 + exp(x))" in text
    assert "wrong, shrunk to input x = -1.0" in text
    assert "gradient: -0.2689414213699951   truth 0.2689414213699951" in text
    assert "ULPs" in text and "SignFlipSoftplus.apply(x0)" in text
    assert "SignFlipSoftplus" not in __import__("autodiff").op_names()


def test_assert_gradient_certified_for_jax_custom_vjp() -> None:
    _needs("jax")
    ops = importlib.import_module(OPS)
    assert_gradient_certified(ops.log_sigmoid, spec=LOG_SIGMOID, framework="jax", points=POINTS)
    with pytest.raises(AssertionError, match=r"wrong, shrunk to input x = 0.0"):
        assert_gradient_certified(ops.ppb_softplus, spec=SOFTPLUS, framework="jax", points=POINTS)


def test_a_custom_op_on_a_restricted_domain(custom: list[str]) -> None:
    _needs("torch")
    torch = importlib.import_module("torch")
    check = assert_gradient_certified(torch.log1p, spec="log(1 + x)", framework="torch", domain="x > -1", points=POINTS)
    assert check.judged > 0 and all(math.isfinite(a.max_ulp) for a in check.accuracy)


def test_an_engine_built_before_a_custom_op_runs_it_and_forgets_it_when_removed() -> None:
    _needs("autograd")
    anp = importlib.import_module("autograd.numpy")
    engine = framework_engine("autograd")
    from verification.expr import Apply, Var
    from verification.frameworks import custom_op

    custom_op("cube_late", spec="x**3", autograd=lambda x: x * x * x)
    try:
        assert "cube_late" in engine.supported_ops()
        r = engine.evaluate(Apply("cube_late", (Var(0),)), [2.0])
        assert (r.value, r.grads) == (8.0, (12.0,))
        custom_op("cube_late", spec="x**3", autograd=lambda x: anp.power(x, 3.0) + 1.0)  # redeclared
        assert engine.evaluate(Apply("cube_late", (Var(0),)), [2.0]).value == 9.0
    finally:
        remove_custom("cube_late")
    assert "cube_late" not in engine.supported_ops()


def test_a_loss_only_in_the_far_tail_is_found_and_called_inaccurate(custom: list[str]) -> None:
    """0 where the derivative is 1e-261 is what a correct textbook formula (``1 - 1/(1 + exp(-x))``) also gives:
    not certified, inaccurate, not wrong (a campaign says the same of the op alone); exit status 0."""
    check, _ = _check(custom, "torch", "TailSoftplus", SOFTPLUS)
    assert set(check.severities()) == {"inaccurate"} and check.ok and not check.certified
    (finding,) = check.shrunk
    assert finding.point[0] < -600 and finding.grad == 0.0 and finding.true_grad > 0


def test_an_op_that_raises_is_broken_with_the_error_named(custom: list[str]) -> None:
    check, _ = _check(custom, "torch", "RaisingSoftplus", SOFTPLUS)
    assert check.severities().get("broken", 0) > 0 and "wrong" not in check.severities()
    (finding,) = check.shrunk
    assert finding.point == (1000.0,) or finding.point[0] > 100
    assert finding.error is not None and "ValueError: backward not implemented beyond 100.0" in finding.error
