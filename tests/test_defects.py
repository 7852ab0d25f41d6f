"""Localisation and severities: textbook formulas are inaccurate, never wrong; real bugs are wrong and named."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verification.defect_kinds import Form, Severity
from verification.defects import CONSOLE_LIMIT, DefectLog, Observation, exit_status, format_defects, observe
from verification.engines import BuiltinEngine
from verification.expr import Apply, Const, Expr, Var, to_source
from verification.foreign import ForeignEngine, load_engine
from verification.localise import Blame, localise
from verification.strategies import expressions

CLONES = "tests/planted_clones.py"


def _engine(cls: str) -> ForeignEngine:
    engine = load_engine(f"{CLONES}:{cls}")
    assert isinstance(engine, ForeignEngine)
    return engine


def _blames(cls: str, tree: Expr, point: tuple[float, ...]) -> list[Blame]:
    engine = _engine(cls)
    return localise(engine, tree, point, engine.evaluate(tree, point))


def tanh(x: Expr) -> Apply:
    return Apply("tanh", (x,))


def mul(x: Expr, y: Expr) -> Apply:
    return Apply("mul", (x, y))


@pytest.mark.parametrize(
    ("tree", "point"),
    [
        (tanh(mul(Var(0), Var(1))), (5.0, 4.0)),  # 1 - tanh**2 is 0 where the truth is 1.7e-17
        (tanh(Var(0)), (4.0,)),  # about 1e-14 relative at x = 4
        (Apply("sigmoid", (Var(0),)), (40.0,)),  # s * (1 - s)
        (Apply("log", (tanh(Var(0)),)), (1e-9,)),  # (e**2x - 1)/(e**2x + 1) loses 25 bits near 0
    ],
)
def test_textbook_formulas_are_inaccurate_not_wrong(tree: Expr, point: tuple[float, ...]) -> None:
    blames = _blames("Textbook", tree, point)
    assert blames, "the textbook formula loses bits here"
    assert {b.severity for b in blames} == {Severity.INACCURATE}
    assert {b.ops for b in blames} <= {("tanh",), ("sigmoid",)}


def test_a_rule_off_by_1e9_relative_is_wrong_and_names_the_node() -> None:
    tree = tanh(mul(Var(0), Var(1)))
    (blame,) = _blames("TanhOffByPpb", tree, (0.5, 0.7))
    assert (blame.severity, blame.ops, blame.form, blame.aspect) == (Severity.WRONG, ("tanh",), Form.METHOD, "gradient")
    assert "the rule of `tanh` (method) at t1 = tanh((x0 * x1))" in blame.detail
    assert to_source(blame.tree) == "tanh(x0)" and blame.point == (0.35,)


def test_shared_nodes_counted_per_path_are_a_graph_fault() -> None:
    t = Apply("add", (Var(0), Var(1)))
    tree = Apply("add", (mul(t, Var(0)), t))  # t reached by two paths
    (blame,) = _blames("PerPath", tree, (0.5, 0.7))
    assert (blame.severity, blame.form) == (Severity.WRONG, Form.GRAPH)
    assert "chain rule over the engine's own local partials" in blame.detail
    assert _blames("Textbook", tree, (0.5, 0.7)) == []


@pytest.mark.parametrize(("op", "sign"), [("sub", "-"), ("truediv", "/")])
def test_a_wrong_reflected_operator_is_wrong_in_that_form(op: str, sign: str) -> None:
    tree = tanh(Apply(op, (Const(2.0), Var(0))))
    blames = _blames("WrongReflected", tree, (0.7,))
    assert [(b.severity, b.ops, b.form) for b in blames] == [(Severity.WRONG, (op,), Form.REFLECTED)]
    assert to_source(blames[0].tree) == f"(2.0 {sign} x0)"
    assert _blames("WrongReflected", tanh(Apply(op, (Var(0), Const(2.0)))), (0.7,)) == []


@pytest.mark.parametrize(
    ("cls", "tree", "point", "severity", "op"),
    [
        ("Textbook", tanh(Var(0)), (400.0,), Severity.FRAGILE, "tanh"),  # math.exp(800) overflows
        ("Textbook", Apply("truediv", (Var(0), Var(1))), (1e-200, 1e-160), Severity.FRAGILE, "truediv"),
        ("RaisingExp", Apply("exp", (Var(0),)), (0.5,), Severity.BROKEN, "exp"),
        ("Textbook", tanh(Var(0)), (3.0,), None, "tanh"),
    ],
)
def test_failures_are_broken_at_ordinary_inputs_and_fragile_at_extreme_ones(
    cls: str, tree: Expr, point: tuple[float, ...], severity: Severity | None, op: str
) -> None:
    blames = [b for b in _blames(cls, tree, point) if b.severity is not Severity.INACCURATE]
    if severity is None:
        assert blames == []
    else:
        assert [(b.severity, b.ops) for b in blames] == [(severity, (op,))]


_TEXTBOOK_OPS = ("add", "sub", "mul", "truediv", "neg", "pow_const", "exp", "log", "tanh", "sigmoid", "relu")
_ORDINARY = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False).filter(lambda x: abs(x) > 1e-3)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(tree=expressions(ops=_TEXTBOOK_OPS, n_vars=2, max_depth=3), point=st.tuples(_ORDINARY, _ORDINARY))
def test_a_correct_textbook_engine_is_never_called_wrong(tree: Expr, point: tuple[float, float]) -> None:
    engine = _engine("Textbook")
    ev = engine.evaluate(tree, point)
    blames = localise(engine, tree, point, ev)
    assert not [b for b in blames if b.severity is Severity.WRONG], [b.detail for b in blames]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(tree=expressions(n_vars=2, max_depth=3), point=st.tuples(_ORDINARY, _ORDINARY))
def test_our_own_engine_has_no_fault_at_all(tree: Expr, point: tuple[float, float]) -> None:
    engine = BuiltinEngine()
    ev = engine.evaluate(tree, point)
    blames = localise(engine, tree, point, ev)
    assert not [b for b in blames if b.severity is not Severity.FRAGILE], [b.detail for b in blames]


def _obs(severity: Severity, op: str, n: int = 1, aspect: str = "gradient") -> Observation:
    return Observation(severity, (op,), Form.METHOD, aspect, Apply(op, (Var(0),)), (0.5,), "d", records=n)


def test_observations_group_into_defects_most_severe_first() -> None:
    log = DefectLog()
    log.extend(
        [_obs(Severity.INACCURATE, "tanh", 5), _obs(Severity.WRONG, "log"), _obs(Severity.INACCURATE, "tanh", 2)]
    )
    defects = log.defects()
    assert [(d.severity, d.first.ops, d.records) for d in defects] == [
        (Severity.WRONG, ("log",), 1),
        (Severity.INACCURATE, ("tanh",), 7),
    ]
    assert exit_status(defects) == 1
    assert exit_status(defects[1:]) == 0 and exit_status(defects[1:], strict=True) == 1


def test_the_console_prints_every_defect_up_to_the_limit_then_a_count() -> None:
    log = DefectLog()
    unary = ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "neg", "pow_const", "const_pow")
    log.extend(_obs(Severity.WRONG, op, aspect=a) for op in unary for a in ("value", "gradient"))
    assert len(log.defects()) == CONSOLE_LIMIT + 4
    text = format_defects(log.defects())
    assert text.count("[wrong]") == CONSOLE_LIMIT and "... and 4 more: 4 wrong" in text


def test_an_observation_keeps_the_evidence_of_its_local_check() -> None:
    engine = _engine("TanhOffByPpb")
    tree = tanh(Var(0))
    (blame,) = localise(engine, tree, (0.5,), engine.evaluate(tree, (0.5,)))
    obs = observe(blame, found_in="tanh(x0)")
    assert obs.engine_grad[0] == pytest.approx(obs.true_grad[0], rel=2e-9) and obs.engine_grad != obs.true_grad
    assert obs.true_value == pytest.approx(math.tanh(0.5)) and obs.bits > 20


def test_the_local_truth_neither_trusts_the_rule_nor_invents_errors() -> None:
    from autodiff import unregister
    from verification.localjudge import judge_local
    from verification.plugins import load_plugin

    ours = BuiltinEngine()
    assert judge_local(ours, "pow_const", [0.0], [True], [3.0]).severity is None  # x**3 at 0: h**2 is not an error
    assert judge_local(ours, "tanh", [58.5], [True]).severity is None  # tanh' = 6e-51, unresolvable by differences
    assert judge_local(_engine("Textbook"), "tanh", [58.5], [True]).severity is Severity.INACCURATE
    load_plugin("tests/plugin_wrong_rule.py")  # log2 with ln 2 written as 0.693147 in its rule
    try:
        check = judge_local(ours, "log2", [1.5], [True])
    finally:
        unregister("log2")
    assert (check.severity, check.aspect) == (Severity.WRONG, "gradient")
