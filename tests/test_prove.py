"""The prover: built-in rules proven, planted wrong rules refuted, undecided kept apart, CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from autodiff import REALS, Backend, Kink, Op, all_ops, defop, get_op, op_names, unregister
from gradproof.cli import main
from verification import Verdict, assert_gradient_proven, assert_rule_proven, prove, prove_gradient
from verification.expr import Apply, Const, Var

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    """Ops registered by plugins in a test are removed afterwards."""
    before = set(op_names())
    yield
    for name in set(op_names()) - before:
        unregister(name)


@pytest.mark.parametrize("name", [op.name for op in all_ops()])
def test_every_builtin_rule_is_proven(name: str) -> None:
    proof = prove(get_op(name))
    assert proof.verdict is Verdict.PROVEN, [c.describe() for p in proof.inputs for c in p.checks]
    assert len(proof.inputs) == get_op(name).arity


def test_kink_conventions_lie_between_the_one_sided_derivatives() -> None:
    relu = prove(get_op("relu")).inputs[0].kinks[0]
    absolute = prove(get_op("abs")).inputs[0].kinks[0]
    assert (relu.left, relu.right, relu.clarke) == (0, 1, Verdict.PROVEN)
    assert (absolute.left, absolute.right, absolute.clarke) == (-1, 1, Verdict.PROVEN)


def test_a_convention_outside_the_subdifferential_is_refuted() -> None:
    relu = get_op("relu")
    bad = defop(
        "relu_conv2",
        forward=relu.forward,
        grad=lambda m, ans, x: (m.where(x > 0, m.one, m.where(x < 0, m.zero, 2 * m.one)),),
        kinks=(Kink(at=0.0, convention=2.0),),
        spec=relu.spec,
        register=False,
    )
    kink = prove(bad).inputs[0].kinks[0]
    assert kink.convention.verdict is Verdict.PROVEN
    assert kink.clarke is Verdict.REFUTED
    assert prove(bad).verdict is Verdict.REFUTED


def _pad(m: Backend, x: Any) -> Any:
    """log(1 + tanh x) - log 2 - 2x + log(1 + e**2x): identically 0, which no transform reduces."""
    return m.log(1 + m.tanh(x)) - m.log(m.num(2)) - 2 * x + m.log(1 + m.exp(2 * x))


PLANTED: dict[str, tuple[str, Any]] = {
    "sign flipped": ("sin", lambda m, ans, x: (-m.cos(x),)),
    "factor missing": ("sqrt", lambda m, ans, x: (1 / ans,)),
    "x where the forward result belongs": ("exp", lambda m, ans, x: (x,)),
    "off-by-one power rule": ("pow_const", lambda m, ans, x, c: (c * m.pow(x, c),)),
    "wrong by 1e-9 * x": ("sin", lambda m, ans, x: (m.cos(x) + 1e-9 * x,)),
    "abs with the wrong sign for x < 0": (
        "abs",
        lambda m, ans, x: (m.where(x > 0, m.one, m.where(x < 0, m.one, m.zero)),),
    ),
    "second partial of mul swapped": ("mul", lambda m, ans, x, y: (y, y)),
}


@pytest.mark.parametrize("label", list(PLANTED))
def test_planted_wrong_rules_are_refuted_with_a_counterexample(label: str) -> None:
    name, rule = PLANTED[label]
    proof = prove(get_op(name).with_rule(rule, name=f"{name}_mutant"))
    assert proof.rule_verdict is Verdict.REFUTED
    failure = next(p.failure for p in proof.inputs if p.verdict is Verdict.REFUTED)
    assert failure is not None and failure.counterexample is not None
    cx = failure.counterexample
    point = {k: sympy.Rational(v) for k, v in cx.point.items()}
    rule_at = failure.candidate.subs({s: point[s.name] for s in failure.candidate.free_symbols})
    truth_at = failure.truth.subs({s: point[s.name] for s in failure.truth.free_symbols})
    assert abs(sympy.N(rule_at - truth_at, 30)) > 0


def test_the_abs_mutant_is_refuted_on_the_negative_half_only() -> None:
    _, rule = PLANTED["abs with the wrong sign for x < 0"]
    checks = {c.region: c.verdict for c in prove(get_op("abs").with_rule(rule)).inputs[0].checks}
    assert checks == {"x < 0": Verdict.REFUTED, "x > 0": Verdict.PROVEN}


def test_the_tiny_error_is_confirmed_not_rounding() -> None:
    _, rule = PLANTED["wrong by 1e-9 * x"]
    check = next(c for c in prove(get_op("sin").with_rule(rule)).inputs[0].checks if c.verdict is Verdict.REFUTED)
    assert check.counterexample is not None
    x = float(check.counterexample.point["x"])
    assert math.isclose(abs(float(check.counterexample.difference)), 1e-9 * abs(x), rel_tol=1e-6)


def test_correct_rules_written_differently_are_proven() -> None:
    tanh, sigmoid = get_op("tanh"), get_op("sigmoid")
    assert prove(tanh.with_rule(lambda m, ans, x: (1.0 - ans**2.0,))).verdict is Verdict.PROVEN
    assert prove(sigmoid.with_rule(lambda m, ans, x: (ans * (1 - ans),))).verdict is Verdict.PROVEN
    assert prove(get_op("sqrt").with_rule(lambda m, ans, x: (0.5 / m.sqrt(x),))).verdict is Verdict.PROVEN


@given(
    a=st.floats(-4, 4, allow_nan=False).filter(lambda v: v != 0),
    b=st.floats(-4, 4, allow_nan=False),
    e=st.floats(1e-12, 1e3),
)
def test_affine_sine_rules_proven_and_perturbed_ones_refuted(a: float, b: float, e: float) -> None:
    """For f(x) = a*sin(x) + b*x the rule a*cos(x) + b is proven; adding e*x**2 is refuted."""
    op = defop(
        "affine_sine",
        forward=lambda m, x: a * m.sin(x) + b * x,
        grad=lambda m, ans, x: (a * m.cos(x) + b,),
        register=False,
    )
    assert prove(op, samples=4).verdict is Verdict.PROVEN
    wrong = op.with_rule(lambda m, ans, x: (a * m.cos(x) + b + e * x * x,))
    assert prove(wrong, samples=4).rule_verdict is Verdict.REFUTED


def test_an_identity_sympy_cannot_reduce_is_undecided_not_proven() -> None:
    sigmoid = get_op("sigmoid")
    padded = sigmoid.with_rule(
        lambda m, ans, x: (m.exp(-m.abs(x)) / (1 + m.exp(-m.abs(x))) ** 2 + _pad(m, x),), name="padded"
    )
    proof = prove(padded, budget=0.5)
    assert proof.rule_verdict is Verdict.UNDECIDED
    undecided = [c for c in proof.inputs[0].checks if c.verdict is Verdict.UNDECIDED]
    assert undecided and all(c.counterexample is None for c in undecided)
    for check in undecided:
        assert check.evidence is not None and check.evidence.points >= 20
        assert float(check.evidence.max_relative_difference) < 1e-40


def test_a_rule_that_cannot_run_on_symbols_is_a_declaration_error() -> None:
    op = defop("floaty", forward=lambda m, x: x, grad=lambda m, ans, x: (math.cos(x),), register=False)
    with pytest.raises(Exception, match="cannot run on sympy symbols"):
        prove(op)


def test_assert_rule_proven_shows_rule_truth_and_counterexample() -> None:
    assert_rule_proven(get_op("tanh"))
    with pytest.raises(AssertionError) as info:
        assert_rule_proven(get_op("sin").with_rule(PLANTED["sign flipped"][1]))
    text = str(info.value)
    assert "rule:            -cos(x)" in text
    assert "true derivative: cos(x)" in text
    assert "counterexample:  at x = " in text


# --- the whole engine -------------------------------------------------------

x0, x1 = Var(0), Var(1)


@pytest.mark.parametrize(
    "tree",
    [
        Apply("tanh", (Apply("mul", (x0, x1)),)),
        Apply("add", (Apply("sigmoid", (x0,)), Apply("mul", (Apply("relu", (x0,)), x1)))),
        Apply("log", (Apply("add", (Apply("mul", (x0, x0)), Const(1.0))),)),
        Apply("pow_const", (Apply("abs", (Apply("sub", (x0, x1)),)),), (1.5,)),
    ],
    ids=str,
)
def test_engine_gradients_are_proven(tree: Any) -> None:
    assert_gradient_proven(tree)


def test_engine_gradient_of_a_python_function_with_a_reused_node() -> None:
    def f(a: Any, b: Any) -> Any:
        c = a * b
        return (c + c).sin() + a

    proof = prove_gradient(f)
    assert [p.verdict for p in proof.variables] == [Verdict.PROVEN, Verdict.PROVEN]


def test_engine_with_a_wrong_rule_is_refuted() -> None:
    wrong_sin = get_op("sin").with_rule(PLANTED["sign flipped"][1])

    def f(a: Any, b: Any) -> Any:
        return wrong_sin(a * b) + b

    proof = prove_gradient(f)
    assert [p.verdict for p in proof.variables] == [Verdict.REFUTED, Verdict.REFUTED]
    assert proof.variables[0].checks[0].counterexample is not None


# --- command line -----------------------------------------------------------


def test_cli_proves_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == sum(op.arity for op in all_ops()) + 1
    assert "0 refuted, 0 undecided" in out[-1]


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "relu", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_status"] == 0
    assert doc["ops"][0]["inputs"][0]["kinks"][0]["clarke"] == "proven"


def test_cli_proves_a_plugin_op(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "softplus", "--plugin", str(HERE / "user_ops.py")]) == 0
    assert capsys.readouterr().out.startswith("softplus     d/dx       proven")


def _write_plugin(tmp_path: Path, body: str) -> str:
    path = tmp_path / "mine.py"
    path.write_text("from autodiff import defop\n" + body)
    return str(path)


def test_cli_refuted_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = _write_plugin(
        tmp_path, "defop('cube', forward=lambda m, x: x**3, grad=lambda m, ans, x: (3*x,), replace_existing=True)\n"
    )
    assert main(["prove", "cube", "--plugin", plugin]) == 1
    assert "cube         d/dx       refuted" in capsys.readouterr().out


def test_cli_undecided_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = _write_plugin(
        tmp_path,
        "from tests.test_prove import _pad\n"
        "defop('padded_id', forward=lambda m, x: x, grad=lambda m, ans, x: (m.one + _pad(m, x),),\n"
        "      replace_existing=True)\n",
    )
    assert main(["prove", "padded_id", "--plugin", plugin, "--budget", "0.5"]) == 3
    assert "padded_id    d/dx       undecided" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prove", "nosuchop"], "unknown op 'nosuchop'; known ops: abs, add, const_pow"),
        (["prove", "--plugin", "no_such_module_anywhere"], "plugin 'no_such_module_anywhere' not found"),
        (["prove", "twice", "--plugin", str(HERE / "bad_rule_ops.py")], "the rule of twice returned 2 value(s)"),
    ],
)
def test_cli_bad_usage(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_plugin_that_fails_to_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = _write_plugin(tmp_path, "import not_a_real_dependency_xyz\n")
    assert main(["prove", "--plugin", plugin]) == 2
    err = capsys.readouterr().err
    assert "failed to import" in err and "not_a_real_dependency_xyz" in err and "Traceback" not in err


def test_cli_plugin_rule_with_the_wrong_signature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = _write_plugin(tmp_path, "defop('bad', forward=lambda m, x: x, grad=lambda m, ans, x, y: (1, 1))\n")
    assert main(["prove", "--plugin", plugin]) == 2
    err = capsys.readouterr().err
    assert "grad must take (m, ans, x0)" in err and "Traceback" not in err


def test_reals_domain_gives_two_halves_and_the_point() -> None:
    op = defop("ident", forward=lambda m, x: x, grad=lambda m, ans, x: (m.one,), domain=(REALS,), register=False)
    assert isinstance(op, Op)
    assert [c.region for c in prove(op).inputs[0].checks] == ["x < 0", "x > 0", "x = 0"]
