"""``gradproof verify --order 2 --modes ...``: the order-2 campaign from the command line."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from autodiff import Value
from gradproof.cli import main
from tests.planting import planted
from verification.second_campaign import SecondConfig, run_second
from verification.second_gradgradcheck import GradGradCheck


def _detached_sin_rule(m: Any, ans: Any, x: Any) -> tuple[Any]:
    """sin' = cos, computed from the number under the node (no graph): right value, no second derivative."""
    return (m.base.cos(x.data) if isinstance(x, Value) else m.cos(x),)


def test_order_2_campaign_on_the_builtin_engine_finds_no_defect(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "run"
    code = main(["verify", "--order", "2", "--examples", "25", "--points", "2", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "no second-order or forward-mode defect found" in text
    with open(out / "records_order2.csv") as fh:
        rows = list(csv.DictReader(fh))
    modes = {(r["order"], r["mode"], r["method"]) for r in rows}
    for mode in ("hessian", "hvp_rev", "hvp_fwd"):
        assert ("2", mode, "engine_f64") in modes and ("2", mode, "engine_hp") in modes
    assert ("1", "jvp", "engine_hp") in modes
    assert sum(r["verdict"] == "ok" for r in rows) > 0.8 * len(rows)
    assert {r["verdict"] for r in rows} <= {"ok", "unjudged"}


def test_modes_select_the_rows(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "run"
    assert main(["verify", "--order", "2", "--modes", "fwd", "--examples", "10", "--out", str(out)]) == 0
    with open(out / "records_order2.csv") as fh:
        assert {r["mode"] for r in csv.DictReader(fh)} == {"jvp"}


def test_a_planted_second_order_bug_is_found_shrunk_and_reproduced(tmp_path: Path, capsys: Any) -> None:
    argv = ["verify", "--order", "2", "--ops", "sin,mul,add", "--examples", "20", "--out", str(tmp_path / "r")]
    with planted("sin", _detached_sin_rule):
        code = main(argv)
        text = capsys.readouterr().out
        assert code == 1, text
        assert "FOUND" in text and "reproduce with:" in text
        result = run_second(SecondConfig(examples=20, ops=("sin", "mul", "add"), modes=("rev",)))
    assert result.shrunk is not None
    assert result.per_mode[(2, "hessian", "bug")] > 0
    # first order is right: forward mode alone finds nothing
    fwd = run_second(SecondConfig(examples=20, ops=("sin", "mul", "add"), modes=("fwd",)))
    assert not fwd.findings and fwd.judged > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "--order", "2", "--modes", "rev,sideways"], "unknown mode 'sideways'"),
        (["verify", "--modes", "fwd"], "--modes needs --order 2"),
        (["verify", "--order", "2", "--per-op"], "drop --order 2"),
        (["verify", "--order", "2", "--modes", ","], "--modes names no mode"),
    ],
)
def test_bad_order_2_usage_is_one_line_and_exit_2(argv: list[str], message: str, capsys: Any) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_second_order_mutants_are_killed_at_second_order_only(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "m"
    code = main(["mutate", "--order", "2", "--ops", "mul,tanh,add", "--examples", "15", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "killed by a second-order method: 8/8" in text and "survivors: none" in text
    with open(out / "mutants_order2.csv") as fh:
        rows = {r["mutant"]: r for r in csv.DictReader(fh)}
    detached = {"mul:detached", "mul:detached_x0", "mul:detached_x1", "tanh:detached"}
    nudged = {f"{op}:nudged_{eps}" for op in ("mul", "tanh") for eps in ("1e-6", "2^-70")}
    assert set(rows) == detached | nudged  # add: none
    for r in rows.values():
        assert r["hessian_hp"] and r["hvp_fwd_hp"] and r["hvp_rev_hp"]
        assert not r["jvp_f64"] and not r["jvp_hp"]  # right at first order
    # the gradgradcheck baseline sees a detached rule; a second derivative off by 1e-6 only where the
    # expression amplifies it above its atol, by 2**-70 never
    assert all(rows[m]["gradgradcheck"] for m in detached)
    assert not rows["mul:nudged_1e-6"]["gradgradcheck"]
    assert not any(rows[m]["gradgradcheck"] for m in nudged if m.endswith("2^-70"))


def test_mutate_order_2_usage_errors(capsys: Any) -> None:
    assert main(["mutate", "--order", "2", "--ops", "add,neg"]) == 2
    assert "constant partials" in capsys.readouterr().err
    assert main(["mutate", "--order", "2", "--methods", "prover"]) == 2
    assert "--methods" in capsys.readouterr().err


def test_a_seed_made_a_node_is_an_engine_fault_killed_at_second_order(tmp_path: Path, capsys: Any) -> None:
    code = main(["mutate", "--order", "2", "--ops", "engine", "--examples", "10", "--out", str(tmp_path / "m")])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "engine:seed_node" in text and "killed by a second-order method: 1/1" in text


def test_gradgradcheck_passes_a_right_hessian_fails_a_wrong_one_and_owns_its_false_alarms() -> None:
    from verification.second_gradgradcheck import gradgradcheck

    def gradient(p: Sequence[float]) -> tuple[float, float]:  # of x**2 * y
        return (2 * p[0] * p[1], p[0] ** 2)

    point = (0.75, -1.5)
    right = [2 * point[1], 2 * point[0], 2 * point[0], 0.0]
    assert gradgradcheck(gradient, right, right, point) == GradGradCheck((), ())
    wrong = [right[0], 0.0, right[2], 1e-3]
    found = gradgradcheck(gradient, wrong, right, point)
    assert found is not None and found.kills == ((0, 1), (1, 1))
    assert gradgradcheck(gradient, [r + 1e-6 for r in right], right, point) == GradGradCheck((), ())  # below atol

    def steep(p: Sequence[float]) -> tuple[float]:  # d/dx sin(1e6 x): a difference with eps 1e-6 is meaningless
        return (1e6 * math.cos(1e6 * p[0]),)

    true = [-1e12 * math.sin(1e6 * 0.3)]
    for hessian in (true, [0.0]):  # right or wrong, the check fails, and so does the truth: no kill
        found = gradgradcheck(steep, hessian, true, (0.3,))
        assert found is not None and found.failing == found.false_alarms == ((0, 0),) and not found.kills


def test_an_op_declared_by_a_formula_alone_is_left_out_at_order_2(restore_registry: None, capsys: Any) -> None:
    from verification.frameworks.specop import spec_op
    from verification.second_campaign import graph_ops

    spec_op("softplus_spec", "log(1 + exp(x))")
    assert graph_ops(("mul", "softplus_spec", "tanh")) == (("mul", "tanh"), ("softplus_spec",))
    assert main(["verify", "--order", "2", "--ops", "softplus_spec,mul"]) == 2
    assert "softplus_spec has no rule that runs on Values" in capsys.readouterr().err


class _GraphGrad:
    """A Value class whose backward(create_graph=True) leaves a Value in .grad (of x * x: 2 x)."""

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad: Any = 0.0
        self._x: _GraphGrad | None = None

    def __mul__(self, other: _GraphGrad) -> _GraphGrad:
        out = _GraphGrad(self.data * other.data)
        out._x = self
        return out

    def backward(self, *, create_graph: bool = False) -> None:
        assert self._x is not None
        self._x.grad = _GraphGrad(2 * self._x.data) if create_graph else 2 * self._x.data


def test_what_a_foreign_class_lacks_at_order_2_is_said_as_it_is() -> None:
    from types import SimpleNamespace

    from verification.errors import UsageError
    from verification.second_foreign import order2_engine

    with pytest.raises(
        UsageError, match=r"has backward\(create_graph=True\) \(its \.grad is a Value\), but no order-2"
    ):
        order2_engine("m.py:GraphGrad", SimpleNamespace(cls=_GraphGrad, name="m.py:GraphGrad"))
    assert order2_engine("gradproof", None) is None
