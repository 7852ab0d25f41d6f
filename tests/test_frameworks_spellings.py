"""Framework spellings come from each op's declaration: built-ins, derived defaults and a plugin's own jax path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autodiff import Spelling, defop, get_op, op_names, unregister
from verification.expr import Apply, Var
from verification.forms import assignments, template_in
from verification.frameworks.spellings import spellings


@pytest.fixture
def log1p_op() -> Iterator[Any]:
    if "log1p_decl" in op_names():
        unregister("log1p_decl")
    op = defop(
        "log1p_decl",
        forward=lambda m, x: m.log(1 + x),
        grad=lambda m, ans, x: (1 / (1 + x),),
        spec=lambda sp, x: sp.log(1 + x),
        spelling=Spelling(source="{0}.log1p()", method="log1p", torch="log1p", jax="numpy.log1p"),
    )
    yield op
    unregister("log1p_decl")


def test_builtin_spellings_follow_the_declarations() -> None:
    assert template_in(get_op("sigmoid"), "jax") == "jax.nn.sigmoid({0})"
    assert template_in(get_op("sigmoid"), "autograd") == "autograd.scipy.special.expit({0})"
    assert template_in(get_op("relu"), "autograd") == "autograd.numpy.maximum({0}, 0.0)"
    assert template_in(get_op("tanh"), "jax") == "jax.numpy.tanh({0})"  # derived from the name
    assert template_in(get_op("tanh"), "tinygrad") == "{0}.tanh()"  # Tensor methods: the Python form
    assert template_in(get_op("add"), "jax") == get_op("add").template  # operators as written
    for framework in ("torch", "jax", "autograd", "tinygrad"):
        table = spellings(framework)
        assert set(table) == set(op_names()) and table["mul"] == "({0} * {1})"


def test_a_plugin_op_says_how_jax_spells_it(log1p_op: Any) -> None:
    assert template_in(log1p_op, "jax") == "jax.numpy.log1p({0})"
    assert template_in(log1p_op, "autograd") == "{0}.log1p()"  # not declared for autograd: its Python form
    tree = Apply("mul", (Apply("log1p_decl", (Var(0),)), Apply("log1p_decl", (Var(0),))))
    assert assignments(tree, ["x0"], dialect="jax") == ["t0 = jax.numpy.log1p(x0)", "y = (t0 * t0)"]


def test_a_plugin_op_runs_on_jax_as_declared(log1p_op: Any) -> None:
    pytest.importorskip("jax")
    from verification.frameworks import framework_engine

    engine = framework_engine("jax")
    assert "log1p_decl" in engine.supported_ops()
    r = engine.evaluate(Apply("log1p_decl", (Var(0),)), (0.5,))
    assert r.ok and r.grads == (pytest.approx(1 / 1.5, rel=1e-15),)
    assert "jax.numpy.log1p(x0)" in engine.reproduction(Apply("log1p_decl", (Var(0),)), (0.5,))
    unregister("log1p_decl")
    assert "log1p_decl" not in engine.supported_ops()
    assert all(r.op != "log1p_decl" for r in engine.probe.results)  # the probe follows the registry
    log1p_op_again = defop(
        "log1p_decl",
        forward=lambda m, x: m.log(1 + x),
        grad=lambda m, ans, x: (1 / (1 + x),),
        spec=lambda sp, x: sp.log(1 + x),
    )
    assert template_in(log1p_op_again, "jax") == "jax.numpy.log1p_decl({0})"
    assert "log1p_decl" not in engine.supported_ops()  # jax has no such function: missing
    assert any(r.op == "log1p_decl" and r.status == "missing" for r in engine.probe.results)


def test_tinygrad_writes_abs_as_its_method() -> None:
    """tinygrad's Tensor has ``abs()`` but no ``__abs__``: its own table says so, and abs is probed as supported."""
    assert spellings("tinygrad")["abs"] == "{0}.abs()"
    assert spellings("tinygrad")["tanh"] == "{0}.tanh()"
    pytest.importorskip("tinygrad")
    from verification.frameworks import framework_engine

    try:
        engine = framework_engine("tinygrad")
    except Exception as exc:  # no C compiler for its CPU device
        pytest.skip(str(exc))
    assert "abs" in engine.supported_ops()
    assert "y = x0.abs()" in engine.reproduction(Apply("abs", (Var(0),)), (-1.5,))
