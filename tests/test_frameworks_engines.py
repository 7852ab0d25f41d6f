"""The JAX, autograd and tinygrad engines: probing, evaluation, snippets in their own code, and campaigns end to end."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from gradproof.cli import main
from verification.engine_spec import resolve_engine
from verification.engines import BuiltinEngine
from verification.errors import UsageError
from verification.expr import Apply, Const, Var

FRAMEWORKS = ["jax", "autograd", "tinygrad"]
IMPORTS = {"jax": "jax", "autograd": "autograd", "tinygrad": "tinygrad"}

# tanh(x0) used twice, a reflected constant, and x1 through a sigmoid
TREE = Apply(
    "add",
    (
        Apply("mul", (Apply("tanh", (Var(0),)), Apply("sub", (Const(2.0), Apply("tanh", (Var(0),)))))),
        Apply("sigmoid", (Apply("mul", (Var(1), Const(0.5))),)),
    ),
)


def _engine(name: str) -> Any:
    pytest.importorskip(IMPORTS[name], reason=f"{name} is not installed (pip install 'gradproof[{name}]')")
    try:
        return resolve_engine(name)
    except UsageError as exc:  # installed but unusable on this machine (tinygrad without a C compiler)
        pytest.skip(f"{name} does not run here: {exc}")


def _run_snippet(snippet: str) -> tuple[float, list[float]]:
    scope: dict[str, Any] = {}
    exec(compile(snippet.replace("print(", "result = ("), "<repro>", "exec"), scope)
    value, grads = scope["result"]
    return float(value), [float(g) for g in grads]


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_probe_finds_the_builtin_ops(name: str) -> None:
    engine = _engine(name)
    assert {"add", "mul", "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "pow_const"} <= engine.supported_ops()
    assert set(engine.probe.kink_conventions) <= {"relu", "abs"}
    for g in engine.probe.kink_conventions.values():
        assert 0.0 <= g <= 1.0  # inside the one-sided derivatives of relu and abs at 0


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_evaluation_agrees_with_the_builtin_engine(name: str) -> None:
    engine = _engine(name)
    point = [0.75, -1.25]
    ours, theirs = BuiltinEngine().evaluate(TREE, point), engine.evaluate(TREE, point)
    assert theirs.ok, theirs.error
    assert theirs.value == pytest.approx(ours.value, rel=1e-14)
    assert theirs.grads == pytest.approx(ours.grads, rel=1e-13)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_reproduction_is_the_frameworks_own_code_and_reproduces(name: str) -> None:
    engine = _engine(name)
    snippet = engine.reproduction(TREE, [0.75, -1.25])
    assert "autodiff" not in snippet and "verification" not in snippet
    assert snippet.count("tanh") == 1  # the shared subtree is bound once, as in the campaign's graph
    value, grads = _run_snippet(snippet)
    r = engine.evaluate(TREE, [0.75, -1.25])
    assert value == r.value and tuple(grads) == r.grads


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_errors_are_outcomes_not_crashes(name: str) -> None:
    engine = _engine(name)
    r = engine.evaluate(Apply("log", (Var(0),)), [-1.0])
    assert not r.ok or r.value is None or not math.isfinite(r.value)


@pytest.mark.parametrize("name", ["jax", "autograd"])
def test_missing_framework_is_a_one_line_usage_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, IMPORTS[name], None)  # import now raises ImportError
    with pytest.raises(UsageError, match=rf"--engine {name} needs {name}: pip install 'gradproof\[{name}\]'"):
        resolve_engine(name)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_campaign_end_to_end(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _engine(name)
    out = tmp_path / name
    code = main(["verify", "--engine", name, "--examples", "12", "--jobs", "1", "--out", str(out), "--seed", "3"])
    text = capsys.readouterr().out
    assert code in (0, 1), text
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished" and run["counts"]["points"] > 0
    assert "supported ops (" in text
    findings = json.loads((out / "findings.json").read_text())
    verdict = findings["verdict"]
    assert verdict in text and verdict.startswith(("PASS: ", "FAIL: ")), text
    assert (code == 1) == verdict.startswith("FAIL") == (findings["exit_status"] == 1)
    assert verdict.startswith("FAIL") == any(d["severity"] in ("wrong", "broken") for d in findings["defects"])
    for shrunk in findings["shrunk"]:
        if "reproduction" in shrunk and shrunk["engine_error"] is None:
            _, grads = _run_snippet(shrunk["reproduction"])
            assert grads[shrunk["variable"]] == shrunk["engine_grad"]


def test_jax_runs_in_one_process_when_jobs_are_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _engine("jax")
    code = main(["verify", "--engine", "jax", "--examples", "2", "--jobs", "2", "--out", str(tmp_path / "j")])
    text = capsys.readouterr().out
    assert code in (0, 1)
    assert "jax cannot run in forked worker processes (its runtime is multithreaded): one process" in text
    assert json.loads((tmp_path / "j" / "run.json").read_text())["options"]["jobs"] == 1


def test_a_partial_rounded_another_way_inside_the_graph_is_not_a_graph_fault() -> None:
    """XLA computes the gradient of ``sqrt(2 ** (1.5 ** tanh(x1)))`` a few ULPs from the chain of its ops'
    partials run alone; that is rounding (tanh's partial is inaccurate on its own), never a graph fault."""
    pytest.importorskip("jax")
    from verification.defect_kinds import Form, Severity
    from verification.expr import Apply, Var
    from verification.localise import localise

    engine = resolve_engine("jax")
    t = Apply("tanh", (Var(1),))
    tree = Apply("sqrt", (Apply("const_pow", (Apply("const_pow", (t,), (1.5,)),), (2.0,)),))
    point = (1.434429694415102, -3.4546273534217953)
    blames = localise(engine, tree, point, engine.evaluate(tree, point))
    assert not [b for b in blames if b.form is Form.GRAPH], blames
    assert not [b for b in blames if b.severity is Severity.WRONG], blames


def test_tinygrad_variables_are_nodes_of_their_own() -> None:
    """tinygrad hash-conses ``CONST`` nodes: ``Tensor(1.0)`` twice is one node, and it is the ``1`` inside
    ``abs`` (``x * x.sign()``). Variables made that way gave ``|x|'(1) = 2`` and an unused ``x1`` the gradient
    of ``x0`` (two false ``wrong`` defects); the engine's variables are buffers, whatever their values."""
    engine = _engine("tinygrad")
    tinygrad = pytest.importorskip("tinygrad")
    t, f64 = tinygrad.Tensor, tinygrad.dtypes.float64
    x = t(1.0, dtype=f64)
    assert x.abs().gradient(x)[0].item() == 2.0  # tinygrad's own behaviour on a constant "variable"
    a, b = t(3.0, dtype=f64), t(3.0, dtype=f64)
    assert [g.item() for g in (a * 2.0).gradient(a, b)] == [2.0, 2.0]
    tree = Apply("abs", (Var(0),))
    for point, grads in (((1.0, 1.0), (1.0, 0.0)), ((-1.0, -1.0), (-1.0, 0.0)), ((1.0,), (1.0,))):
        r = engine.evaluate(tree, point)
        assert r.ok and r.value == abs(point[0]) and r.grads == grads, (point, r)
        value, got = _run_snippet(engine.reproduction(tree, point))
        assert (value, tuple(got)) == (r.value, r.grads)
    r = engine.evaluate(Apply("mul", (Var(0), Const(2.0))), (3.0, 3.0))
    assert r.grads == (2.0, 0.0)
