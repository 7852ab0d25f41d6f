"""Foreign engines: loading, probing their op set, evaluating, and bad specs."""

from __future__ import annotations

import math

import pytest

from verification.errors import UsageError
from verification.expr import Apply, Const, Var
from verification.foreign import load_engine

PLANTED = "tests/planted_engines.py"


def test_probe_discovers_the_supported_ops() -> None:
    engine = load_engine(f"{PLANTED}:Value")
    ops = engine.supported_ops()
    assert {"add", "sub", "mul", "truediv", "neg", "pow_const", "exp", "log", "tanh", "relu"} <= ops
    assert "sin" not in ops and "pow" not in ops and "const_pow" not in ops
    assert "sin" in engine.probe.unsupported
    assert engine.probe.kink_conventions == {"relu": 0.0}


def test_micrograd_package_if_installed() -> None:
    pytest.importorskip("micrograd")
    engine = load_engine("micrograd.engine:Value")
    assert engine.supported_ops() == {"add", "sub", "mul", "truediv", "neg", "pow_const", "relu"}
    assert "AssertionError" in engine.probe.unsupported["pow"]


def test_evaluation_uses_reflected_operators() -> None:
    tree = Apply("sub", (Const(2.0), Var(0)))
    good = load_engine(f"{PLANTED}:Value").evaluate(tree, [0.5])
    bad = load_engine(f"{PLANTED}:WrongRsub").evaluate(tree, [0.5])
    assert (good.value, good.grads) == (1.5, (-1.0,))
    assert (bad.value, bad.grads) == (-1.5, (1.0,))


def test_reuse_exposes_assignment_instead_of_accumulation() -> None:
    tree = Apply("add", (Var(0), Var(0)))
    assert load_engine(f"{PLANTED}:Value").evaluate(tree, [0.5]).grads == (2.0,)
    assert load_engine(f"{PLANTED}:AssignGrad").evaluate(tree, [0.5]).grads == (1.0,)


def test_engine_errors_are_outcomes() -> None:
    engine = load_engine(f"{PLANTED}:OverflowTanh")
    result = engine.evaluate(Apply("tanh", (Var(0),)), [400.0])
    assert not result.ok
    assert result.error is not None and result.error.startswith("OverflowError")
    fine = load_engine(f"{PLANTED}:Value").evaluate(Apply("tanh", (Var(0),)), [400.0])
    assert fine.value == 1.0 and fine.grads == (0.0,)


def test_reproduction_snippet_runs() -> None:
    engine = load_engine(f"{PLANTED}:WrongLog")
    tree = Apply("log", (Apply("mul", (Var(0), Const(3.0))),))
    snippet = engine.reproduction(tree, [0.25])
    scope: dict[str, object] = {}
    exec(compile(snippet.replace("print(", "result = ("), "<repro>", "exec"), scope)
    result = scope["result"]
    assert isinstance(result, tuple)
    value, grads = result
    assert value == pytest.approx(math.log(0.75))
    assert grads == [pytest.approx(2.0)]  # the planted rule: 1/(2x) * 3 at x = 0.25 -> 2, truth 4


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope.mod:Value", "engine module 'nope.mod' not found"),
        (f"{PLANTED}:NotAnEngine", "is not an autodiff engine: it has no backward() method"),
        (f"{PLANTED}:BrokenConstructor", "constructing it from 0.5 raised RuntimeError"),
        (f"{PLANTED}:not_a_class", "is not a class"),
        (f"{PLANTED}:Missing", "has no attribute 'Missing'"),
        ("tests/no_such_file.py:Value", "does not exist"),
        ("Value", "must be 'torch', 'module:Class' or 'path/to/file.py:Class'"),
    ],
)
def test_bad_engine_specs(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_engine(spec)


def test_torch_engine_when_installed() -> None:
    pytest.importorskip("torch")
    engine = load_engine("torch")
    tree = Apply("mul", (Apply("tanh", (Var(0),)), Var(1)))
    r = engine.evaluate(tree, [0.5, 2.0])
    assert r.value == pytest.approx(math.tanh(0.5) * 2.0)
    assert r.grads == (pytest.approx(2.0 / math.cosh(0.5) ** 2), pytest.approx(math.tanh(0.5)))


def test_torch_reproduction_is_torch_code() -> None:
    pytest.importorskip("torch")
    engine = load_engine("torch")
    tree = Apply("sigmoid", (Var(1),))
    snippet = engine.reproduction(tree, [1.0, 9.0])
    assert "import torch" in snippet and "autodiff" not in snippet
    scope: dict[str, object] = {}
    exec(compile(snippet.replace("print(", "result = ("), "<repro>", "exec"), scope)
    result = scope["result"]
    assert isinstance(result, tuple)
    value, grads = result
    r = engine.evaluate(tree, [1.0, 9.0])
    assert r.grads is not None
    assert value == r.value and grads == [None, r.grads[1]]
