"""Tests for mutation runs: mutants, equivalence proofs, each method's kills, the CLI and the report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import reports
from autodiff import FLOAT, Op, get_op
from gradproof.cli import main
from verification.campaign import CampaignConfig, run_campaign
from verification.engines import BuiltinEngine
from verification.expr import Apply, Var
from verification.mutants import Mutant, all_mutants, rule_mutants
from verification.mutate import (
    EQUIVALENTS_FILE,
    MutantResult,
    MutateConfig,
    gradcheck_failures,
    prove_equivalent,
    run_mutant,
    run_mutation,
)

MUTANTS = {m.name: m for m in all_mutants()}


def mutant(name: str) -> Mutant:
    return MUTANTS[name]


def outcomes(name: str, methods: tuple[str, ...], examples: int = 30) -> dict[str, bool]:
    result = run_mutant(mutant(name), MutateConfig(methods=methods, examples=examples))
    return {o.method: o.killed for o in result.outcomes}


# --- the mutants themselves -----------------------------------------------------------


@pytest.mark.parametrize("m", rule_mutants(get_op("tanh")), ids=lambda m: m.name)
def test_a_tanh_mutant_is_an_unregistered_op_that_differs_where_its_kind_says(m: Mutant) -> None:
    original = get_op("tanh")
    assert m.op is not None and m.op is not original and get_op("tanh") is original
    assert m.op.forward is original.forward

    def partial(op: Op, x: float) -> float:
        return float(op.partials(FLOAT, original.evaluate(FLOAT, x), x)[0])

    mutated = m.op
    differs = {x: partial(mutated, x) != partial(original, x) for x in (0.7, -0.7)}
    expected = {
        "half_domain": {0.7: False, -0.7: True},
        "input_for_ans": {0.7: False, -0.7: False},
    }.get(m.kind, {0.7: True, -0.7: True})
    assert differs == expected


def test_kink_mutants_change_only_the_kink() -> None:
    inside = mutant("relu:kink:0.5 at 0 (inside Clarke)").op
    assert inside is not None
    relu = get_op("relu")
    assert inside.partials(FLOAT, 0.0, 0.0) == (0.5,) and relu.partials(FLOAT, 0.0, 0.0) == (0.0,)
    assert inside.partials(FLOAT, 2.0, 2.0) == relu.partials(FLOAT, 2.0, 2.0) == (1.0,)


# --- equivalence -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "because"),
    [
        ("log:half_domain:-d0 for x0<0", "every region of the domain: x > 0"),
        ("sqrt:half_domain:-d0 for x0<0", "x > 0; x = 0"),
        ("tanh:input_for_ans:x0 as ans", "never reads ans"),
        ("relu:ans_for_input:ans as x0", "every real input"),
        ("add:swap:d0<->d1", "every real input"),
    ],
)
def test_equivalent_mutants_are_proven_equivalent(name: str, because: str) -> None:
    verdict = prove_equivalent(mutant(name))
    assert verdict.equivalent, verdict.reason
    assert because in verdict.reason


@pytest.mark.parametrize(
    "name",
    [
        "relu:kink:0.5 at 0 (inside Clarke)",  # inside the subdifferential, but not the declared convention
        "abs:half_domain:-d0 for x0<0",
        "tanh:relative:d0*(1+1e-12)",
        "pow:half_domain:-d1 for x1<0",
        "sqrt:input_for_ans:x0 as ans",
    ],
)
def test_wrong_mutants_are_not_called_equivalent(name: str) -> None:
    assert not prove_equivalent(mutant(name)).equivalent


def test_an_engine_fault_is_never_equivalent() -> None:
    verdict = prove_equivalent(mutant("engine:assign"))
    assert not verdict.equivalent and "engine fault" in verdict.reason


# --- gradcheck-style check ------------------------------------------------------------


def test_gradcheck_passes_the_correct_engine_and_fails_a_one_percent_error() -> None:
    tree = Apply("tanh", (Var(0),))
    assert gradcheck_failures(BuiltinEngine(), tree, (0.3,)) == ()
    wrong = mutant("tanh:relative:d0*(1+0.01)")
    engine = BuiltinEngine(resolve=wrong.resolver(get_op))
    assert gradcheck_failures(engine, tree, (0.3,)) == (0,)


def test_gradcheck_cannot_see_a_relative_error_below_its_rtol() -> None:
    tree = Apply("tanh", (Var(0),))
    wrong = mutant("tanh:relative:d0*(1+0.0001)")
    engine = BuiltinEngine(resolve=wrong.resolver(get_op))
    assert gradcheck_failures(engine, tree, (0.3,)) == ()


# --- each method's kills ---------------------------------------------------------------


def test_a_1e12_relative_error_is_caught_by_prover_and_high_precision_but_not_gradcheck() -> None:
    killed = outcomes("tanh:relative:d0*(1+1e-12)", ("prover", "engine_hp", "gradcheck"))
    assert killed == {"prover": True, "engine_hp": True, "gradcheck": False}


def test_sampling_methods_count_the_expressions_they_tried() -> None:
    """A survivor was tried on every expression; a method that kills stops at the killing one."""
    result = run_mutant(
        mutant("tanh:relative:d0*(1+1e-12)"), MutateConfig(methods=("engine_f64", "gradcheck"), examples=7)
    )
    tried = {o.method: (o.killed, o.examples_tried, o.examples_to_kill) for o in result.outcomes}
    assert tried["engine_f64"] == (True, 1, 1)
    assert tried["gradcheck"][:2] == (False, 7)


def test_a_one_percent_error_is_caught_by_every_method() -> None:
    killed = outcomes("sigmoid:relative:d0*(1+0.01)", ("prover", "engine_f64", "engine_hp", "gradcheck"))
    assert killed == {"prover": True, "engine_f64": True, "engine_hp": True, "gradcheck": True}


@pytest.mark.parametrize("name", ["engine:assign", "engine:order"])
def test_engine_faults_are_killed_by_the_campaign_and_not_given_to_the_prover(name: str) -> None:
    result = run_mutant(mutant(name), MutateConfig(examples=40))
    killed = {o.method: o.killed for o in result.outcomes}
    assert killed == {"engine_f64": True, "engine_hp": True, "gradcheck": True}
    f64 = next(o for o in result.outcomes if o.method == "engine_f64")
    assert 1 <= f64.examples_to_kill <= 40 and f64.time_to_kill > 0 and "rule_bug" in f64.detail


def test_a_kink_convention_mutant_is_caught_by_the_prover_only() -> None:
    killed = outcomes("abs:kink:0.5 at 0 (inside Clarke)", ("prover", "engine_f64", "gradcheck"), examples=10)
    assert killed == {"prover": True, "engine_f64": False, "gradcheck": False}


# --- a run, the CLI and the report ------------------------------------------------------


def test_a_run_writes_the_report_columns_and_keeps_equivalents_apart(tmp_path: Path) -> None:
    config = MutateConfig(ops=("neg",), methods=("prover", "engine_f64"), examples=10)
    result = run_mutation(config, tmp_path / "run", progress=False)
    assert result.status == "finished" and result.survivors == []
    with open(tmp_path / "run" / "mutants.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == ["mutant", "kind", "size", "method", "killed", "examples_to_kill", "time_to_kill"]
    assert {r["mutant"] for r in rows} == {m.name for m in rule_mutants(get_op("neg"))} - {
        "neg:input_for_ans:x0 as ans",
        "neg:ans_for_input:ans as x0",
    }
    with open(tmp_path / "run" / EQUIVALENTS_FILE) as fh:
        equivalent = list(csv.DictReader(fh))
    assert {r["mutant"] for r in equivalent} == {"neg:input_for_ans:x0 as ans", "neg:ans_for_input:ans as x0"}
    assert all(r["killed"] == "no" and r["reason"] for r in equivalent)
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["status"] == "finished" and meta["kind"] == "mutation"
    assert meta["counts"]["per_method"]["prover"]["smallest_size_killed"] == 1e-12
    run = reports.load_run(tmp_path / "run")
    assert run.mutants is not None
    scores = reports.mutation_scores(run.mutants).set_index("method")
    assert scores.loc["prover", "score"] == 1.0 and scores.loc["prover", "mutants"] == 12


def test_an_interrupted_run_keeps_the_finished_mutants(tmp_path: Path) -> None:
    def stop(result: MutantResult) -> None:
        raise KeyboardInterrupt

    config = MutateConfig(ops=("neg",), methods=("prover",))
    result = run_mutation(config, tmp_path / "run", progress=False, on_result=stop)
    assert result.status == "interrupted" and len(result.results) == 1
    with open(tmp_path / "run" / "mutants.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["mutant"] for r in rows] == [result.results[0].mutant]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "interrupted"


def test_cli_exit_0_when_every_mutant_dies_and_report_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m"
    status = main(
        ["mutate", "--ops", "engine", "--methods", "engine_f64", "--examples", "40", "--jobs", "1", "--out", str(out)]
    )
    text = capsys.readouterr().out
    assert status == 0, text
    assert "survivors: none" in text and "engine_f64" in text
    assert main(["report", str(out)]) == 0
    assert "mutation score engine_f64: 100.0% (2/2)" in capsys.readouterr().out


def test_cli_exit_1_when_a_mutant_survives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "mutate",
            "--ops",
            "abs",
            "--methods",
            "gradcheck",
            "--examples",
            "5",
            "--jobs",
            "1",
            "--out",
            str(tmp_path / "m"),
        ]
    )
    text = capsys.readouterr().out
    assert status == 1
    assert "SURVIVORS:" in text and "abs:kink:0.5 at 0 (inside Clarke)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ops", "nosuch"], "unknown op 'nosuch'; known ops: add"),
        (["--methods", "prover,magic"], "unknown method 'magic'; methods: prover, engine_f64, engine_hp, gradcheck"),
        (["--examples", "0"], "--examples must be at least 1, got 0"),
        (["--jobs", "0"], "--jobs must be at least 1, got 0"),
        (["--ops", " , "], "--ops names nothing"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mutate", *args, "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradproof mutate: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "m" / "run.json").exists()


# --- false alarms ----------------------------------------------------------------------


def test_the_correct_engine_raises_no_rule_bug_on_a_derandomized_slice(tmp_path: Path) -> None:
    config = CampaignConfig(examples=60, chunk=30, seed=3, max_shrinks=0)
    result = run_campaign(config, tmp_path / "fa", progress=False)
    assert result.status == "finished" and result.expressions == 60
    assert result.counts["points"] > 60
    assert result.counts["verdict_engine_hp_ok"] > 0 and result.counts["verdict_engine_f64_ok"] > 0
    assert result.bugs == []
