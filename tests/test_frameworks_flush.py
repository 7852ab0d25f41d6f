"""JAX flushes subnormals to zero: a difference only that explains is inaccurate (flush-to-zero), never wrong;
a rule that is really wrong at subnormal inputs stays wrong. Exit status of a campaign follows the severity:
``wrong`` exits 1, ``inaccurate`` exits 0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from verification.campaign import CampaignConfig, check_case
from verification.campaign_defects import Verdict, chunk_observations
from verification.defect_kinds import Form, Severity
from verification.defects import DefectLog
from verification.expr import Apply, Expr, Var
from verification.localise import localise
from verification.localjudge import FLUSH, judge_local

SMALLEST_NORMAL = 2.2250738585072014e-308


@pytest.fixture(scope="module")
def jax_engine() -> Any:
    pytest.importorskip("jax", reason="jax is not installed (pip install 'gradproof[jax]')")
    from verification.frameworks import framework_engine

    engine = framework_engine("jax")
    assert engine.flushes_subnormals  # XLA on the CPU: the premise of every test here
    return engine


def _observations(engine: Any, tree: Expr, point: tuple[float, ...]) -> list[Any]:
    """What a campaign finds at ``point``: its records' findings, localised as a chunk localises them."""
    result = check_case(tree, [point], config=CampaignConfig(), engine=engine, hp_engine=None)
    assert result.findings, "the IEEE bound flags the point (the premise: a record finding to explain)"
    return chunk_observations(engine, tree, result.findings)


def _verdict(observations: list[Any]) -> Verdict:
    log = DefectLog()
    log.extend(observations)
    return Verdict(tuple(log.defects()), (), 1, 0)


SIGMOID_SQUARED = Apply("sigmoid", (Apply("pow_const", (Var(1),), (2.0,)),))
FLUSHED = [
    # found by `gradproof verify --engine jax --examples 400 --seed 2`, once called a wrong backward pass:
    # d/dx1 = sigmoid'(x1**2) * 2 x1 = 1.1e-308 is subnormal, and XLA returns 0
    (SIGMOID_SQUARED, (63.0, SMALLEST_NORMAL)),
    # the value exp(-700) * 1e-10 = 9.9e-315 and d/dx0 are flushed
    (Apply("mul", (Apply("exp", (Var(0),)), Var(1))), (-700.0, 1e-10)),
]


@pytest.mark.parametrize(("tree", "point"), FLUSHED)
def test_a_difference_only_flushing_explains_is_inaccurate_not_wrong(
    jax_engine: Any, tree: Expr, point: tuple[float, ...]
) -> None:
    """Expected: severity inaccurate, aspect flush-to-zero; the campaign's exit status 0."""
    observations = _observations(jax_engine, tree, point)
    assert observations and all(o.severity is Severity.INACCURATE for o in observations), observations
    assert any(o.aspect == FLUSH for o in observations)
    assert "flushing subnormal" in " ".join(o.detail for o in observations)
    verdict = _verdict(observations)
    assert verdict.exit_status() == 0 and verdict.headline().startswith("PASS: ")


def test_the_same_difference_on_an_ieee_engine_is_still_a_graph_fault(jax_engine: Any) -> None:
    """The flush allowance is the engine's, not everyone's: without it the chain-rule check still bites."""
    from verification.localise import _chain_fault, distinct_nodes

    tree, point = FLUSHED[0]
    ev = jax_engine.evaluate(tree, point)
    nodes = distinct_nodes(tree)
    checks = [judge_local(jax_engine, n.op, *_inputs(jax_engine, n, point), n.params) for n in nodes]
    ieee = _chain_fault(tree, nodes, checks, point, ev)
    assert ieee is not None and ieee.severity is Severity.WRONG and ieee.form is Form.GRAPH
    assert _chain_fault(tree, nodes, checks, point, ev, flushes=True) is None


def _inputs(engine: Any, node: Apply, point: tuple[float, ...]) -> tuple[list[float], list[bool]]:
    values = []
    for a in node.args:
        if isinstance(a, Var):
            values.append(point[a.index])
        else:
            values.append(float(engine.evaluate(a, point).value))
    return values, [True] * len(values)


def test_an_op_whose_result_is_flushed_is_flush_to_zero_inaccurate(jax_engine: Any) -> None:
    check = judge_local(jax_engine, "exp", [-720.0], [True])  # exp(-720) = 2.03e-313, XLA gives 0.0
    assert check.engine_value == 0.0 and check.true_value == pytest.approx(2.0322308e-313, rel=1e-6)
    assert check.severity is Severity.INACCURATE and check.aspect == FLUSH
    assert check.detail.startswith("value 0.0, true 2.0322308024e-313: only flushing subnormals")


def test_an_op_reading_a_subnormal_as_zero_where_it_is_undefined_is_not_judged(jax_engine: Any) -> None:
    check = judge_local(jax_engine, "sqrt", [1e-310], [True])  # XLA: sqrt(0) = 0, sqrt'(0) = inf
    assert check.severity is None and not check.judged
    assert check.detail == "undefined there once its subnormal operands are read as 0"


@pytest.fixture
def tiny_guard(jax_engine: Any) -> Iterator[str]:
    from verification.frameworks import load_custom, remove_custom

    op = load_custom("tests.framework_ops:tiny_guard_softplus", spec="log(1 + exp(x))", framework="jax")
    yield op.name
    remove_custom(op.name)


@pytest.mark.parametrize("x", [1e-310, 5e-324, -2.5e-320])
def test_a_rule_wrong_at_subnormal_inputs_stays_wrong(jax_engine: Any, tiny_guard: str, x: float) -> None:
    """A backward returning 0 for |x| < 1e-300 where softplus' is 0.5: XLA reads x as 0, an ordinary input,
    and 0.5 is the derivative there too, so flushing explains nothing. Expected: wrong, exit status 1."""
    tree = Apply("mul", (Apply(tiny_guard, (Var(0),)), Var(1)))
    observations = _observations(jax_engine, tree, (x, 3.0))
    wrong = [o for o in observations if o.severity is Severity.WRONG]
    assert wrong and wrong[0].ops == (tiny_guard,) and wrong[0].aspect == "gradient", observations
    assert wrong[0].engine_grad == (0.0,) and wrong[0].true_grad == (0.5,)
    assert _verdict(observations).exit_status() == 1


def test_a_flushed_gradient_next_to_a_real_fault_does_not_hide_it(jax_engine: Any, tiny_guard: str) -> None:
    """At x0 = 1e-310 the custom op is wrong and exp(-720) * x0 is flushed: both are said, each as it is."""
    tree = Apply("add", (Apply(tiny_guard, (Var(0),)), Apply("mul", (Apply("exp", (Var(1),)), Var(0)))))
    blames = localise(jax_engine, tree, (1e-310, -720.0), jax_engine.evaluate(tree, (1e-310, -720.0)))
    kinds = {(b.severity, b.ops, b.aspect) for b in blames}
    assert (Severity.WRONG, (tiny_guard,), "gradient") in kinds, blames
    assert not [b for b in blames if b.severity is Severity.WRONG and b.ops != (tiny_guard,)], blames
