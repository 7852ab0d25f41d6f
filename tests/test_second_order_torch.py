"""The order-2 campaign on PyTorch (and JAX): right ops are not called wrong, planted second-order faults are."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from gradproof.cli import main
from verification.defect_kinds import Form, Severity
from verification.expr import Apply, Const, Expr, Var
from verification.second_campaign import SecondConfig, run_second
from verification.second_check import Mode
from verification.second_defects import SecondClassifier
from verification.second_foreign import check_foreign

torch: Any = pytest.importorskip("torch", reason="torch is not installed (pip install 'gradproof[torch]')")

from verification.frameworks.torch_order2 import TorchOrder2  # noqa: E402  (needs torch)

ALL = frozenset(Mode)


@pytest.fixture(scope="module")
def first() -> Any:
    from verification.engine_spec import resolve_engine

    return resolve_engine("torch")


def _forward(ctx: Any, x: Any, y: Any) -> Any:
    ctx.save_for_backward(x, y)
    return x * y


def _backward(ctx: Any, g: Any) -> tuple[Any, Any]:
    x, y = ctx.saved_tensors
    return g * y.detach(), g * x.detach()


_DetachedMul: Any = type(
    "DetachedMul", (torch.autograd.Function,), {"forward": staticmethod(_forward), "backward": staticmethod(_backward)}
)
"""x * y whose backward multiplies by the *detached* saved inputs: right gradient, no cross second derivative."""


class DetachedMulTorch(TorchOrder2):
    """PyTorch with ``mul`` as :class:`_DetachedMul` (a custom op written the way people write one)."""

    def apply(self, name: str, args: list[Any], params: tuple[float, ...]) -> Any:
        if name != "mul":
            return super().apply(name, args, params)
        return _DetachedMul.apply(*(a if torch.is_tensor(a) else torch.tensor(a, dtype=torch.float64) for a in args))


class DoubledCrossTerm(TorchOrder2):
    """A graph fault: every op alone is right, but the Hessian of a composition has its (0, 1) entry doubled."""

    def _hessian(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        h = super()._hessian(tree, point, v)
        if len(point) > 1 and isinstance(tree, Apply) and any(isinstance(a, Apply) for a in tree.args):
            h[1] *= 2.0
        return h


def _defects(engine: Any, ops: tuple[str, ...], modes: tuple[str, ...] = ("rev", "fwd", "hvp"), n: int = 12) -> Any:
    return run_second(SecondConfig(examples=n, ops=ops, modes=modes, seed=3), engine=engine)


def test_correct_torch_gets_no_wrong_or_broken_defect(first: Any) -> None:
    result = _defects(TorchOrder2(first), ("mul", "tanh", "exp", "log", "add", "sigmoid", "truediv"), n=12)
    assert result.judged > 100
    assert not [d for d in result.defects if d.severity in (Severity.WRONG, Severity.BROKEN)], result.defects
    assert {mode for _, mode, _ in result.per_mode} == {"hessian", "hvp_rev", "hvp_fwd", "jvp"}


def test_a_detached_saved_tensor_in_a_backward_is_wrong_at_second_order_and_found(first: Any) -> None:
    result = _defects(DetachedMulTorch(first), ("mul", "tanh", "add"))
    wrong = [d for d in result.defects if d.severity is Severity.WRONG]
    assert wrong and all(d.first.ops == ("mul",) for d in wrong)
    assert {d.first.aspect for d in wrong} == {"second derivative (reverse over reverse)"}
    d = wrong[0]
    assert d.first.form is Form.OPERATOR and "d2/dx0dx1 0.0, true 1.0" in d.first.detail
    assert "torch.autograd.grad" in d.reproduction and "create_graph=True" in d.reproduction
    # an old-style autograd.Function has no forward mode: said as missing, once per mode and written form
    # (x * y, and 2.0 * x), not once per expression
    missing = [d for d in result.defects if d.severity is Severity.MISSING]
    assert {d.first.aspect for d in missing} == {"forward mode", "second derivative (forward over reverse)"}
    assert {d.first.ops for d in missing} == {("mul",)}
    assert len(missing) == len({(d.first.form, d.first.aspect) for d in missing}) <= 4
    assert sum(d.records for d in missing) > len(missing)


def test_the_planted_reproduction_shows_the_wrong_cross_derivative(first: Any) -> None:
    engine = DetachedMulTorch(first)
    tree = Apply("mul", (Var(0), Var(1)))
    assert engine.second(tree, (0.5, 0.25), (1.0, 0.0), ALL)[Mode.HESSIAN] == [0.0, 0.0, 0.0, 0.0]
    assert TorchOrder2(first).second(tree, (0.5, 0.25), (1.0, 0.0), ALL)[Mode.HESSIAN] == [0.0, 1.0, 1.0, 0.0]
    code = TorchOrder2(first).reproduction(tree, (0.5, 0.25), (1.0, 0.0), Mode.HESSIAN)
    printed: list[Any] = []
    exec(code, {"print": printed.append})
    assert printed == [[[0.0, 1.0], [1.0, 0.0]]]


def test_cancellation_in_torch_tanh_is_inaccurate_not_wrong(first: Any) -> None:
    """torch computes tanh' as 1 - tanh(x)**2: at 27 it is 0, the truth 1.4e-23 -- bits lost, formula right."""
    engine = TorchOrder2(first)
    tree = Apply("tanh", (Apply("mul", (Var(0), Const(30.0))),))
    found = check_foreign(tree, (0.9,), (1.0,), engine, ALL)
    assert found is not None and any(r.verdict == "bug" for r in found.rows)
    observations = SecondClassifier(engine).observations(tree, (0.9,), (1.0,), found)
    assert observations and {o.severity for o in observations} == {Severity.INACCURATE}
    assert {o.ops for o in observations} == {("tanh",)}


def test_a_graph_fault_with_every_op_right_alone_is_wrong_in_the_graph(first: Any) -> None:
    engine = DoubledCrossTerm(first)
    tree = Apply("mul", (Apply("exp", (Var(0),)), Apply("sin", (Var(1),))))
    found = check_foreign(tree, (0.5, 0.7), (1.0, 0.0), engine, ALL)
    assert found is not None
    bad = [r for r in found.rows if r.verdict == "bug"]
    assert [(r.mode, r.index) for r in bad] == [(Mode.HESSIAN, (0, 1))]
    (obs,) = SecondClassifier(engine).observations(tree, (0.5, 0.7), (1.0, 0.0), found)
    assert obs.severity is Severity.WRONG and obs.form is Form.GRAPH
    assert "chain rule give" in obs.detail


def test_verify_order_2_on_torch_end_to_end(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "run"
    argv = ["verify", "--order", "2", "--modes", "rev,fwd,hvp", "--engine", "torch", "--examples", "8"]
    code = main([*argv, "--points", "1", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "no wrong or broken second-order or forward-mode defect found" in text
    with open(out / "records_order2.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["engine"] for r in rows} == {"torch"}
    assert {(r["order"], r["mode"]) for r in rows} == {
        ("1", "jvp"),
        ("2", "hessian"),
        ("2", "hvp_rev"),
        ("2", "hvp_fwd"),
    }
    assert (out / "findings.json").exists()


def test_a_micrograd_style_class_is_told_once_it_has_no_second_order(capsys: Any) -> None:
    code = main(["verify", "--order", "2", "--engine", "tests/planted_clones.py:Textbook", "--examples", "5"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "supports neither double backward (backward(create_graph=True)) nor forward mode" in err


@pytest.mark.slow  # building the JAX engine probes every op through XLA (about 10 s)
def test_jax_runs_through_the_same_campaign() -> None:
    pytest.importorskip("jax", reason="jax is not installed (pip install 'gradproof[jax]')")
    from verification.frameworks.jax import JaxEngine
    from verification.frameworks.jax_order2 import JaxOrder2

    engine = JaxOrder2(JaxEngine())
    tree = Apply("mul", (Apply("tanh", (Var(0),)), Apply("exp", (Var(1),))))
    found = check_foreign(tree, (0.3, 0.8), (1.0, -0.5), engine, ALL)
    assert found is not None and not found.errors
    assert {r.verdict for r in found.rows} == {"ok"} and len(found.rows) == 9
    printed: list[Any] = []
    exec(engine.reproduction(tree, (0.3, 0.8), (1.0, -0.5), Mode.HVP_FWD), {"print": printed.append})
    hv = [float(h) for h in printed[0]]
    assert hv == engine.second(tree, (0.3, 0.8), (1.0, -0.5), ALL)[Mode.HVP_FWD]


class NoLocalGradient(DoubledCrossTerm):
    """The graph fault above, on an engine whose first-order gradient of an op alone fails: no cause can be shown."""

    def gradient(self, tree: Expr, point: Sequence[float]) -> tuple[float, ...] | None:
        return None


def test_a_finding_no_cause_can_be_given_for_is_unexplained_not_inaccurate(first: Any) -> None:
    engine = NoLocalGradient(first)
    tree = Apply("mul", (Apply("exp", (Var(0),)), Apply("sin", (Var(1),))))
    found = check_foreign(tree, (0.5, 0.7), (1.0, 0.0), engine, ALL)
    assert found is not None
    classifier = SecondClassifier(engine)
    assert classifier.observations(tree, (0.5, 0.7), (1.0, 0.0), found) == []
    assert len(classifier.unexplained) == 1 and "hessian entry (0, 1)" in classifier.unexplained[0]
