"""Probing tells a missing form from a broken one, tries every operator form, and never waits for ever."""

from __future__ import annotations

import time

import pytest

from verification.defect_kinds import Form
from verification.foreign import load_engine
from verification.probe import ProbeResult

CLONES = "tests/planted_clones.py"


def _results(cls: str) -> dict[str, ProbeResult]:
    """Probe results by the form as written, e.g. ``v - v``, ``c - v``, ``v.tanh()``."""
    engine = load_engine(f"{CLONES}:{cls}")
    return {r.written(): r for r in engine.probe.results if not r.at_kink}


def test_a_textbook_clone_probes_clean() -> None:
    results = _results("Textbook")
    bad = {k: r for k, r in results.items() if r.status not in ("ok", "missing")}
    assert bad == {}
    engine = load_engine(f"{CLONES}:Textbook")
    assert {"add", "sub", "mul", "truediv", "neg", "pow_const", "exp", "log", "tanh", "sigmoid", "relu"} <= set(
        engine.supported_ops()
    )
    assert results["v ** v"].status == "missing"  # micrograd's assertion: an explicit refusal
    assert results["v.sin()"].status == "missing"


def test_missing_reflected_operators_are_missing_forms_and_avoided() -> None:
    engine = load_engine(f"{CLONES}:NoReflected")
    results = {r.written(): r for r in engine.probe.results}
    for op, sign in (("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/")):
        assert results[f"c {sign} v"].status == "missing", op
        assert results[f"c {sign} v"].form is Form.REFLECTED
        assert results[f"v {sign} v"].status == "ok" and results[f"v {sign} c"].status == "ok", op
        assert op in engine.supported_ops()
    assert "forms avoided" in engine.probe.describe()
    from verification.expr import Apply, Const, Var

    # avoided by lifting the number into a Value: 2 - x still runs, and right
    ev = engine.evaluate(Apply("sub", (Const(2.0), Var(0))), [0.5])
    assert ev.ok and ev.value == 1.5 and ev.grads == (-1.0,)


@pytest.mark.parametrize(
    ("cls", "op", "written", "status", "words"),
    [
        ("RaisingExp", "exp", "v.exp()", "broken", "TypeError"),
        ("DataIsValue", "relu", "v.relu()", "broken", "non-number"),
        ("WrongReflected", "sub", "c - v", "wrong", "value"),
        ("WrongReflected", "truediv", "c / v", "wrong", "value"),
        ("TanhOffByPpb", "tanh", "v.tanh()", "wrong", "local partial"),
    ],
)
def test_each_defective_form_is_named(cls: str, op: str, written: str, status: str, words: str) -> None:
    result = _results(cls)[written]
    assert result.op == op
    assert result.status == status
    assert words in result.detail or (result.check is not None and words in result.check.aspect)
    engine = load_engine(f"{CLONES}:{cls}")
    if status == "broken":
        assert op not in engine.supported_ops()


def test_wrong_reflected_operators_leave_the_normal_forms_alone() -> None:
    results = _results("WrongReflected")
    assert results["v - v"].status == "ok" and results["v - c"].status == "ok"
    assert results["v / v"].status == "ok" and results["v / c"].status == "ok"


def test_an_engine_hanging_in_a_probe_is_broken_within_the_limit() -> None:
    t0 = time.monotonic()
    engine = load_engine(f"{CLONES}:HangingSin")
    assert time.monotonic() - t0 < 30
    result = {r.written(): r for r in engine.probe.results}["v.sin()"]
    assert result.status == "broken" and "no answer within" in result.detail
    assert "sin" not in engine.supported_ops()


def test_the_kink_convention_is_probed_and_judged() -> None:
    engine = load_engine(f"{CLONES}:Textbook")
    assert engine.probe.kink_conventions == {"relu": 0}
    assert not [r for r in engine.probe.results if r.at_kink]
