"""``gradproof prove --order 2``: second derivatives of the rules, differentiated by the engine, proven or refuted."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import sympy

from autodiff import Value, get_op
from gradproof.cli import main
from verification.prove import Verdict, prove
from verification.prove import ops as prove_ops
from verification.prove.audit import AuditResult
from verification.prove.branches import MAX_RELATIONS, each_assignment
from verification.prove.ladder import reduces_to_zero
from verification.prove_order2 import derived_op, derived_ops

USER_OPS = str(Path(__file__).with_name("user_ops.py"))
ORDER2_OPS = str(Path(__file__).with_name("prove_ops") / "order2.py")


def test_second_derivatives_of_builtin_ops_are_proven(capsys: Any) -> None:
    code = main(["prove", "--order", "2", "mul", "truediv", "exp", "relu", "pow_const"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "mul_dx       d/dy       proven" in out
    # a kink of the first derivative is stated as a point where the second does not exist
    assert "relu_dx      d/dx       proven" in out
    assert (
        "kink x = 0: its value jumps from 0 to 1: no derivative exists there; "
        "rule returns the convention 0, inside [0, 0]" in out
    )
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


def test_abs_kink_at_first_order_is_not_called_a_jump(capsys: Any) -> None:
    assert main(["prove", "abs"]) == 0
    out = capsys.readouterr().out
    assert "kink x = 0: rule returns the convention 0, inside [-1, 1]" in out and "jumps" not in out


# --- each branch: truth assignments of the relations --------------------------------


def _cancels(e: Any) -> bool:
    return sympy.cancel(e).is_zero is True


def test_a_product_of_where_indicators_is_zero_branch_by_branch() -> None:
    x, y = sympy.symbols("x y", real=True)
    a = x > 1
    # 1 * 1 - 1 where a holds, 0 * y - 0 where not: each Piecewise takes its branch under the one assignment
    e = sympy.Piecewise((1, a), (0, True)) * sympy.Piecewise((1, a), (y, True)) - sympy.Piecewise((1, a), (0, True))
    assert each_assignment(e, _cancels)
    assert reduces_to_zero(e, 2.0) is not None
    assert not each_assignment(e + sympy.Piecewise((0, a), (2**-40, True)), _cancels)


def test_every_branch_some_assignment_selects_must_be_zero() -> None:
    x, y = sympy.symbols("x y", real=True)
    assert not each_assignment(sympy.Piecewise((0, x > 1), (7, y > 2), (0, True)), _cancels)
    assert not each_assignment(sympy.Piecewise((0, x > 1), (0, y > 2), (2**-40, True)), _cancels)
    # x > 1 false with x > 2 true is impossible for reals but is enumerated: the step never reasons about numbers
    assert not each_assignment(sympy.Piecewise((0, x > 1), (7, x > 2), (0, True)), _cancels)
    # products of Piecewises: each one takes its own branch under the assignment
    p = sympy.Piecewise((1, x > 1), (0, True)) * sympy.Piecewise((x, y > 0), (1, True))
    q = sympy.Piecewise((x, (x > 1) & (y > 0)), (1, x > 1), (0, True))
    assert each_assignment(p - q, _cancels)
    assert not each_assignment(p - q + sympy.Piecewise((0, y > 0), (2**-40, True)), _cancels)


def test_equalities_are_substituted_only_where_they_hold() -> None:
    x = sympy.Symbol("x", real=True)
    assert each_assignment(sympy.Piecewise((x - 1, sympy.Eq(x, 1)), (0, True)), _cancels)
    assert each_assignment(sympy.Piecewise((0, sympy.Ne(x, 1)), (x - 1, True)), _cancels)
    assert not each_assignment(sympy.Piecewise((x - 1, sympy.Eq(x, 2)), (0, True)), _cancels)
    # x**2 = 1 has two solutions: nothing is substituted (x - 1 is -2 at x = -1)
    assert not each_assignment(sympy.Piecewise((x - 1, sympy.Eq(x**2, 1)), (0, True)), _cancels)


def test_each_branch_gives_up_rather_than_guess() -> None:
    xs = sympy.symbols(f"x0:{MAX_RELATIONS + 1}", real=True)
    many = sum(sympy.Piecewise((0, s > 0), (0, True)) for s in xs)
    assert not each_assignment(many, lambda e: True)  # too many relations: not enumerated
    assert not each_assignment(xs[0] - xs[0], lambda e: True)  # no Piecewise: nothing to enumerate
    c = sympy.Symbol("c")  # a boolean condition that is not a relation
    assert not each_assignment(sympy.Piecewise((0, c), (0, True)), lambda e: True)


# --- pow at second order on x > 0, y < 0 ------------------------------------------------


def _regions(proof: Any, i: int) -> dict[str, Any]:
    return {c.region: c for c in proof.inputs[i].checks}


@pytest.mark.usefixtures("restore_registry")
def test_pow_second_derivatives_proven_branch_by_branch_and_wrong_ones_refuted_without_the_audit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the audit switched off, only the ladder and the search decide: pow's isnormal branches are proven
    on x > 0, y < 0 by each branch; a rule wrong there by a factor 1 + 2**-40 is refuted by the search."""
    monkeypatch.setattr(prove_ops, "audit", lambda *args, **kwargs: AuditResult())
    right = prove(derived_op(get_op("pow"), 0), timeout=None)
    assert right.verdict is Verdict.PROVEN
    for i in (0, 1):
        assert _regions(right, i)["x > 0, y < 0"].method == "each branch"
    importlib.reload(importlib.import_module("tests.prove_ops.order2"))  # registers the planted ops

    wrong = prove(derived_op(get_op("o2_pow_factor"), 0), timeout=None)
    assert wrong.verdict is Verdict.REFUTED
    check = _regions(wrong, 0)["x > 0, y < 0"]
    assert check.verdict is Verdict.REFUTED and check.counterexample is not None
    assert _regions(wrong, 0)["x > 0, y > 0"].verdict is Verdict.PROVEN
    assert all(c.verdict is Verdict.PROVEN for c in wrong.inputs[1].checks)  # d2/dxdy is right


@pytest.mark.usefixtures("restore_registry")
def test_planted_wrong_pow_second_derivatives_are_refuted_with_a_point(capsys: Any) -> None:
    code = main(["prove", "--order", "2", "--plugin", ORDER2_OPS, "o2_pow_factor", "o2_pow_plus_one"])
    out = capsys.readouterr().out
    assert code == 1, out
    lines = {tuple(line.split()[:2]): line for line in out.splitlines() if line.startswith("o2_")}
    for name in ("o2_pow_factor_dx", "o2_pow_plus_one_dx"):
        assert lines[(name, "d/dx")].split()[2] == "refuted" and "refuted at x = " in lines[(name, "d/dx")]
        # d2/dxdy is right: proven region by region, though the audit refuted d2/dx2 of the same op
        assert lines[(name, "d/dy")].split()[2] == "proven" and "3 regions" in lines[(name, "d/dy")]
    assert prove(get_op("o2_pow_factor")).verdict is Verdict.PROVEN  # right at first order


def test_a_partial_with_nothing_checked_is_not_proven() -> None:
    from verification.prove.records import PartialProof

    assert PartialProof("op", "x", 0, None, None, ()).verdict is Verdict.UNDECIDED
