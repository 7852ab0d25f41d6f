"""Campaigns: the built-in engine passes, a planted rule bug is found and shrunk, runs are recorded."""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from autodiff import get_op, unregister
from runstore.records import COLUMNS, FINDINGS_FILE, RECORDS_FILE, RUN_FILE
from verification.campaign import BUG_VERDICTS, CampaignConfig, check_case, high_precision, run_campaign
from verification.engines import BuiltinEngine
from verification.expr import Apply, Expr, Var
from verification.plugins import load_plugin
from verification.strategies import candidate_points, expressions
from verification.sweep import sweep_op

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = str(Path(__file__).with_name("plugin_wrong_rule.py"))


def _records(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / RECORDS_FILE, newline="") as fh:
        return list(csv.DictReader(fh))


def test_builtin_engine_has_no_rule_bug_over_a_few_hundred_expressions(tmp_path: Path) -> None:
    result = run_campaign(CampaignConfig(examples=300, seed=1), tmp_path, jobs=1, progress=False)
    assert result.status == "finished"
    assert result.expressions == 300
    assert result.bugs == []
    assert result.counts["points"] > 500
    assert max(result.ratios) <= 1.0
    rows = _records(tmp_path)
    assert len(rows) == result.records
    assert set(rows[0]) == set(COLUMNS)
    assert {r["method"] for r in rows} >= {"engine_f64", "engine_hp", "central_fd", "richardson", "sympy_f64"}
    assert all(r["verdict"] not in BUG_VERDICTS for r in rows if r["method"].startswith("engine"))
    meta = json.loads((tmp_path / RUN_FILE).read_text())
    assert meta["status"] == "finished"
    assert meta["seed"] == 1
    assert meta["counts"]["expressions"] == 300
    assert set(meta["counts"]["discards"]) == {"undefined", "near_kink", "non_finite"}
    assert meta["counts"]["rule_bugs"] == 0
    assert {"sympy", "mpmath", "hypothesis"} <= set(meta["versions"])
    findings = json.loads((tmp_path / FINDINGS_FILE).read_text())
    assert findings["shrunk"] == []


def test_campaigns_are_deterministic(tmp_path: Path) -> None:
    config = CampaignConfig(examples=30, seed=7, ops=("mul", "sin", "exp"))
    a = run_campaign(config, tmp_path / "a", jobs=1, progress=False)
    b = run_campaign(config, tmp_path / "b", jobs=2, progress=False)
    key = lambda r: (int(r["expr_id"]), int(r["point_id"]), r["variable"], r["method"])  # noqa: E731
    rows_a = sorted(_records(a.out_dir), key=key)
    rows_b = sorted(_records(b.out_dir), key=key)
    assert [(r["expr"], r["point"], r["grad"]) for r in rows_a] == [(r["expr"], r["point"], r["grad"]) for r in rows_b]


@given(expressions(n_vars=2, max_depth=3), st.lists(candidate_points(2), min_size=3, max_size=3))
def test_every_generated_case_is_judged_ok(tree: Expr, cands: list[tuple[float, float]]) -> None:
    engine = BuiltinEngine()
    result = check_case(
        tree, cands, config=CampaignConfig(), engine=engine, hp_engine=high_precision(engine), expr_id=1
    )
    assert result.findings == []


@contextlib.contextmanager
def _planted() -> Iterator[None]:
    load_plugin(PLUGIN)
    try:
        yield
    finally:
        unregister("log2")


def test_planted_rule_bug_is_found_shrunk_and_reproduced(tmp_path: Path) -> None:
    with _planted():
        config = CampaignConfig(examples=60, seed=0, ops=("log2", "mul", "add", "tanh"), plugins=(PLUGIN,))
        result = run_campaign(config, tmp_path, jobs=1, progress=False)
        assert result.bugs, "the wrong log2 rule went unnoticed"
        assert {f["kind"] for f in result.bugs} == {"rule_bug"}
        assert all("log2" in f["ops"] for f in result.bugs)
        (shrunk,) = result.shrunk
        assert shrunk["expr"] == "log2(x0)"
        assert shrunk["sympy_expr"] == "log(x0)/log(2)"
        assert shrunk["engine_grad"] != shrunk["true_grad"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(shrunk["reproduction"], {})
        printed = [float(v) for v in out.getvalue().split()]
        assert printed[1 + shrunk["variable"]] == shrunk["engine_grad"]
    saved = json.loads((tmp_path / FINDINGS_FILE).read_text())
    assert saved["shrunk"][0]["reproduction"] == shrunk["reproduction"]


def test_shrunk_trees_are_small(tmp_path: Path) -> None:
    with _planted():
        config = CampaignConfig(examples=40, seed=3, ops=("exp", "sin", "log2", "sub"), plugins=(PLUGIN,))
        result = run_campaign(config, tmp_path, jobs=1, progress=False)
    (shrunk,) = result.shrunk
    assert shrunk["size"] <= 3, shrunk["expr"]


def test_interrupted_campaign_keeps_what_it_finished(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "verification", "verify", "--examples", "100000", "--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (out / RECORDS_FILE).exists() and len((out / RECORDS_FILE).read_text().splitlines()) > 200:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    meta = json.loads((out / RUN_FILE).read_text())
    assert meta["status"] == "interrupted"
    rows = _records(out)
    assert len(rows) == meta["counts"]["records"] > 0
    assert all(r["time_s"] for r in rows)  # no half-written row


def test_per_op_sweep_meets_the_target_and_catches_a_wrong_rule() -> None:
    tanh = get_op("tanh")
    (acc,) = sweep_op(tanh, points=300)
    assert acc.points == 300 and acc.meets_target
    sloppy = tanh.with_rule(lambda m, ans, x: (1 - ans * ans,), name="tanh")
    (bad,) = sweep_op(sloppy, points=300)
    assert not bad.meets_target  # 1 - tanh**2 cancels for large |x|


def test_a_rule_wrong_below_float64_resolution_is_found_at_high_precision() -> None:
    tanh = get_op("tanh")

    def slightly_off(m: Any, ans: Any, x: Any) -> tuple[Any]:
        e = m.exp(-2 * m.abs(x))
        return (4 * e / (1 + e) ** 2 * (1 + m.num(2.0**-70)),)  # 1 + 2**-70 is 1 in float64

    mutant = tanh.with_rule(slightly_off)
    engine = BuiltinEngine(resolve=lambda name: mutant if name == "tanh" else get_op(name))
    tree = Apply("tanh", (Apply("mul", (Var(0), Var(1))),))
    result = check_case(
        tree, [(0.3, 1.7)], config=CampaignConfig(), engine=engine, hp_engine=high_precision(engine), expr_id=0
    )
    assert {(f["kind"], f["method"]) for f in result.findings} == {("rule_bug", "engine_hp")}


def test_an_expression_over_its_time_limit_is_counted_and_skipped(tmp_path: Path) -> None:
    result = run_campaign(CampaignConfig(examples=3, expr_timeout=1e-6), tmp_path, jobs=1, progress=False)
    assert result.status == "finished"
    assert (result.expressions, result.counts["timeouts"], result.records) == (3, 3, 0)
    assert json.loads((tmp_path / RUN_FILE).read_text())["counts"]["timeouts"] == 3


def test_a_chunk_does_not_depend_on_the_modules_loaded(tmp_path: Path, monkeypatch: Any) -> None:
    """Loading a module full of odd literals changes no case: the cases come from the seed alone."""
    from verification.chunks import run_chunk

    config = CampaignConfig(examples=12, chunk=12, ops=("mul", "add", "log", "pow"), oracle_every=0)

    def cases() -> list[tuple[str, str]]:
        return [(r["expr"], r["point"]) for r in run_chunk(config, 0).rows if r["method"] == "engine_f64"]

    before = cases()
    literals = ", ".join(f"{1.0 + i / 7:.17g}" for i in range(400)) + ", " + ", ".join(str(-i) for i in range(400))
    (tmp_path / "odd_literals.py").write_text(f"VALUES = ({literals})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("odd_literals")  # its literals are what Hypothesis would mine

        assert cases() == before
    finally:  # gone before any other test's Hypothesis run could mine it
        sys.modules.pop("odd_literals", None)
