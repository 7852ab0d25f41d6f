"""``gradproof prove --order 2``: second derivatives of the rules, differentiated by the engine, proven or refuted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autodiff import Value, get_op
from gradproof.cli import main
from verification.prove import Verdict, prove
from verification.prove_order2 import derived_op, derived_ops

USER_OPS = str(Path(__file__).with_name("user_ops.py"))


def test_second_derivatives_of_builtin_ops_are_proven(capsys: Any) -> None:
    code = main(["prove", "--order", "2", "mul", "truediv", "exp", "relu", "pow_const"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "mul_dx       d/dy       proven" in out
    assert "relu_dx      d/dx       proven" in out and "kink x = 0: rule returns the convention 0, inside [0, 0]" in out
    assert "0 refuted, 0 undecided" in out


def test_one_derived_op_per_input_with_the_kinks_stated() -> None:
    ops = derived_ops([get_op("mul"), get_op("abs")])
    assert [op.name for op in ops] == ["mul_dx", "mul_dy", "abs_dx"]
    assert [(k.at, k.convention) for k in ops[2].kinks] == [(0.0, 0.0)]
    assert ops[0].input_names() == ("x", "y")


def _detached_exp(m: Any, ans: Any, x: Any) -> tuple[Any]:
    """Right at first order: exp' = exp; but read off the graph, so its own derivative is lost."""
    return (ans.data if isinstance(ans, Value) else ans,)


def test_a_planted_wrong_second_derivative_is_refuted_while_first_order_is_proven() -> None:
    bad = get_op("exp").with_rule(_detached_exp)
    assert prove(bad).verdict is Verdict.PROVEN  # first order cannot see it
    proof = prove(derived_op(bad, 0))
    assert proof.verdict is Verdict.REFUTED
    failure = proof.inputs[0].failure
    assert failure is not None and "rule 0" in failure.describe()


def test_a_rule_with_an_implementation_kink_is_refuted_at_second_order(capsys: Any) -> None:
    # softplus's rule reads |x|: at x = 0 the engine's second derivative is abs's convention 0, the truth 1/4
    code = main(["prove", "--order", "2", "--plugin", USER_OPS, "softplus"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "softplus_dx  d/dx       refuted" in out and "x = 0" in out
