"""Loading and statistics of campaign records, checked against hand-computed values on a tiny run."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import reports
from reports import stats
from runstore.records import COLUMNS, FINDINGS_FILE, MUTANT_COLUMNS, MUTANTS_FILE, RECORDS_FILE, RUN_FILE

nan = math.nan

# expr_id -> (expr, sympy_expr, depth, size, ops, points)
EXPRESSIONS: dict[int, tuple[str, str, int, int, str, list[list[float]]]] = {
    0: ("exp(x0)", "exp(x0)", 1, 2, "exp", [[0.5], [1.0]]),
    1: ("(x0 * sin(x1))", "x0*sin(x1)", 2, 4, "mul,sin", [[2.0, 0.5], [3.0, 1.0]]),
}


def true_grad(expr_id: int, point: list[float], variable: int) -> float:
    if expr_id == 0:
        return math.exp(point[0])
    return math.sin(point[1]) if variable == 0 else point[0] * math.cos(point[1])


# (method, expr_id, point_id, variable, ulp_err, rel_err, verdict, outcome, exception); point 1 of
# expression 1 is unsamplable for every method.
SCORED: list[tuple[str, int, int, int, float, float, str, str, str]] = [
    ("engine_f64", 0, 0, 0, 0, 0.0, "ok", "ok", ""),
    ("engine_f64", 0, 1, 0, 1, 1e-16, "ok", "ok", ""),
    ("engine_f64", 1, 0, 0, 3, 3e-16, "ok", "ok", ""),
    ("engine_f64", 1, 0, 1, 15, 2e-15, "rule_bug", "ok", ""),
    ("central_fd", 0, 0, 0, 1023, 1e-13, "ok", "ok", ""),
    ("central_fd", 0, 1, 0, 3, 4e-16, "ok", "ok", ""),
    ("central_fd", 1, 0, 0, 7, 8e-16, "ok", "ok", ""),
    ("central_fd", 1, 0, 1, math.inf, nan, "exception_mismatch", "OverflowError", "math range error"),
    ("sympy_f64", 0, 0, 0, 0, 0.0, "ok", "ok", ""),
    ("sympy_f64", 0, 1, 0, 1, 1e-16, "ok", "ok", ""),
    ("sympy_f64", 1, 0, 0, 1, 1e-16, "ok", "ok", ""),
    ("sympy_f64", 1, 0, 1, 0, 0.0, "ok", "ok", ""),
]

META: dict[str, Any] = {
    "run_id": "tiny",
    "seed": 0,
    "options": {"examples": 2, "max_depth": 2},
    "counts": {"expressions": 2, "points": 4, "discards": {"domain": 3, "kink": 1}},
    "status": "finished",
}


def record(
    method: str,
    expr_id: int,
    point_id: int,
    variable: int,
    ulp: float,
    rel: float,
    verdict: str,
    outcome: str,
    exception: str,
    *,
    engine: str = "gradproof",
    run_id: str = "tiny",
) -> dict[str, Any]:
    """One row following runstore.records.COLUMNS; bits_err = log2(ulp + 1), 64 for a failure."""
    expr, sexpr, depth, size, ops, points = EXPRESSIONS[expr_id]
    point = points[point_id]
    unsamplable = verdict == "unsamplable"
    truth = nan if unsamplable else true_grad(expr_id, point, variable)
    failed = outcome != "ok"
    return {
        "run_id": run_id,
        "engine": engine,
        "expr_id": expr_id,
        "expr": expr,
        "sympy_expr": sexpr,
        "depth": depth,
        "size": size,
        "ops": ops,
        "n_vars": len(point),
        "point_id": point_id,
        "point": json.dumps(point),
        "variable": variable,
        "method": method,
        "value": nan if failed else 1.0,
        "true_value": nan if unsamplable else 1.0,
        "value_ulp": 0.0,
        "grad": nan if failed else truth * (1 + rel),
        "true_grad": truth,
        "abs_err": nan if failed or unsamplable else abs(truth) * rel,
        "rel_err": rel,
        "ulp_err": ulp,
        "bits_err": nan if unsamplable else (64.0 if failed else math.log2(ulp + 1)),
        "cond": 1.0,
        "verdict": verdict,
        "outcome": outcome,
        "exception": exception,
        "time_s": 0.001,
    }


def tiny_records(**kw: Any) -> list[dict[str, Any]]:
    rows = [record(*r, **kw) for r in SCORED]
    for method in ("engine_f64", "central_fd", "sympy_f64"):
        rows += [record(method, 1, 1, v, nan, nan, "unsamplable", "ok", "", **kw) for v in (0, 1)]
    return rows


MUTANTS = """mutant,kind,size,method,killed,examples_to_kill,time_to_kill
sign,sign_flip,nan,prover,yes,1,0.01
sign,sign_flip,nan,gradcheck,yes,3,0.02
p2,perturbation,1e-2,prover,yes,1,0.01
p2,perturbation,1e-2,gradcheck,yes,5,0.03
p6,perturbation,1e-6,prover,true,1,0.01
p6,perturbation,1e-6,gradcheck,no,,
p12,perturbation,1e-12,prover,1,2,0.04
p12,perturbation,1e-12,gradcheck,false,,
"""


def write_run(
    path: Path,
    rows: list[dict[str, Any]] | None,
    *,
    meta: dict[str, Any] | None = None,
    findings: Any = None,
    mutants: str | None = None,
) -> Path:
    """A run directory in the layout of runstore.records."""
    path.mkdir(parents=True, exist_ok=True)
    (path / RUN_FILE).write_text(json.dumps(META if meta is None else meta))
    if rows is not None:
        with open(path / RECORDS_FILE, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    if findings is not None:
        (path / FINDINGS_FILE).write_text(json.dumps(findings))
    if mutants is not None:
        (path / MUTANTS_FILE).write_text(mutants)
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> pd.DataFrame:
    return reports.load(write_run(tmp_path / "run", tiny_records()))


def row(table: pd.DataFrame, **keys: Any) -> pd.Series:
    match = table
    for k, v in keys.items():
        match = match[match[k] == v]
    assert len(match) == 1, f"{keys}: {len(match)} rows"
    return match.iloc[0]


# --- loading ---------------------------------------------------------------


def test_load_has_documented_columns_and_dtypes(tiny: pd.DataFrame) -> None:
    assert list(tiny.columns) == list(COLUMNS)
    assert len(tiny) == 18
    for name, text in COLUMNS.items():
        kind = text.split(":")[0]
        check = {
            "int": pd.api.types.is_integer_dtype,
            "float": pd.api.types.is_float_dtype,
            "str": pd.api.types.is_string_dtype,
        }[kind]
        assert check(tiny[name]), (name, tiny[name].dtype)
    assert tiny["ulp_err"].max() == math.inf
    assert tiny["true_grad"].isna().sum() == 6
    assert (tiny["exception"] == "").sum() == 17


def test_load_keeps_columns_appended_by_newer_campaigns(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", tiny_records())
    lines = (run / RECORDS_FILE).read_text().splitlines()
    text = "\n".join([lines[0] + ",extra"] + [line + ",x" for line in lines[1:]]) + "\n"
    (run / RECORDS_FILE).write_text(text)
    df = reports.load(run)
    assert list(df.columns) == [*COLUMNS, "extra"]
    assert set(df["extra"]) == {"x"}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: (run / RUN_FILE).unlink(), "is not a gradproof run: {run}/run.json is missing"),
        (lambda run: (run / RUN_FILE).write_text("{oops"), "{run}/run.json is corrupt: Expecting property name"),
        (lambda run: (run / RUN_FILE).write_text("[1, 2]"), "{run}/run.json is corrupt: expected a JSON object"),
        (lambda run: (run / RECORDS_FILE).unlink(), "{run} holds no records: {run}/records.csv is missing"),
        (lambda run: (run / RECORDS_FILE).write_text(""), "{run}/records.csv is empty"),
        (
            lambda run: (run / RECORDS_FILE).write_text(",".join(COLUMNS) + "\n"),
            "{run}/records.csv has no rows: the run is empty",
        ),
        (
            lambda run: (run / RECORDS_FILE).write_bytes(b"\xff\xfe\x00garbage"),
            "{run}/records.csv is corrupt: not UTF-8",
        ),
        (
            lambda run: (run / RECORDS_FILE).write_text("run_id,engine\ntiny,gradproof\n"),
            "{run}/records.csv is corrupt: missing column(s) expr_id",
        ),
        (
            lambda run: (run / RECORDS_FILE).write_text(
                (run / RECORDS_FILE).read_text().replace("exp(x0),exp(x0),1,", "exp(x0),exp(x0),one,", 1)
            ),
            "{run}/records.csv is corrupt: line 2, column 'depth': expected a whole number, got 'one'",
        ),
        (
            lambda run: (run / RECORDS_FILE).write_text((run / RECORDS_FILE).read_text().replace("1e-13", "1e-1x", 1)),
            "{run}/records.csv is corrupt: line 6, column 'rel_err': expected a number, got '1e-1x'",
        ),
        (
            lambda run: (run / RECORDS_FILE).write_text((run / RECORDS_FILE).read_text() + "tiny,gradproof,0\n"),
            "{run}/records.csv is corrupt: line 20 has 3 fields, expected 27",
        ),
        (
            lambda run: (run / FINDINGS_FILE).write_text('{"findings": 3}'),
            "{run}/findings.json is corrupt: 'findings' is not a list of finding objects",
        ),
        (
            lambda run: (run / FINDINGS_FILE).write_text('{"findings": [], "total": "many"}'),
            "{run}/findings.json is corrupt: 'total' is not a whole number",
        ),
        (
            lambda run: ((run / RECORDS_FILE).unlink(), (run / RECORDS_FILE).mkdir()),
            "cannot read {run}/records.csv: Is a directory",
        ),
    ],
)
def test_bad_run_directories_name_the_file(tmp_path: Path, damage: Any, message: str) -> None:
    run = write_run(tmp_path / "run", tiny_records())
    damage(run)
    with pytest.raises(reports.ReportError) as info:
        reports.load(run)
    assert message.format(run=run) in str(info.value)


def test_bad_cell_line_counts_multi_line_messages(tmp_path: Path) -> None:
    rows = tiny_records()
    rows[0]["exception"] = "first line\nsecond line"
    rows[2]["depth"] = "deep"
    run = write_run(tmp_path / "run", rows)
    with pytest.raises(reports.ReportError, match="line 5, column 'depth'"):  # header, 2 lines, row 2, row 3
        reports.load(run)


def test_findings_file_shapes(tmp_path: Path) -> None:
    one = {"kind": "rule_bug", "method": "engine_f64", "expr": "(x0 * sin(x1))"}
    run = reports.load_run(write_run(tmp_path / "a", tiny_records(), findings={"findings": [one], "total": 7}))
    assert (run.findings, run.shrunk, run.findings_total) == ([one], [], 7)
    run = reports.load_run(write_run(tmp_path / "b", tiny_records(), findings=[one, one]))
    assert (len(run.findings), run.findings_total) == (2, 2)
    assert reports.load_run(write_run(tmp_path / "c", tiny_records())).findings_total == 0


def test_docs_schema_tables_match_the_contract() -> None:
    text = (Path(__file__).parent.parent / "docs" / "reports.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (.*) \|$", text, re.MULTILINE)
    documented = [(name, f"{kind}: {meaning}".replace("\\|", "|")) for name, kind, meaning in rows]
    assert documented == [*COLUMNS.items(), *MUTANT_COLUMNS.items()]


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(reports.ReportError, match="no such directory"):
        reports.load(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(reports.ReportError, match="is not a directory"):
        reports.load(tmp_path / "file")


# --- statistics --------------------------------------------------------------


def test_by_method_matches_hand_computed_values(tiny: pd.DataFrame) -> None:
    table = reports.by_method(tiny)
    assert table["method"].tolist() == ["engine_f64", "central_fd", "sympy_f64"]  # METHODS order
    f64 = row(table, method="engine_f64")
    # scored bits 0, 1, 2, 4: nearest-rank median is the 2nd smallest, p90 the 4th
    assert (f64["rows"], f64["scored"], f64["unsamplable"]) == (6, 4, 2)
    assert (f64["median_bits"], f64["p90_bits"], f64["p99_bits"], f64["max_bits"]) == (1.0, 4.0, 4.0, 4.0)
    assert (f64["median_rel_err"], f64["max_rel_err"]) == (1e-16, 2e-15)
    assert (f64["within_1ulp"], f64["within_4ulp"]) == (0.5, 0.75)
    assert (f64["rule_bugs"], f64["exceptions"]) == (1, 0)
    fd = row(table, method="central_fd")
    # bits 10, 2, 3 and 64 for the overflow; its missing rel_err counts as inf
    assert (fd["median_bits"], fd["p90_bits"], fd["max_bits"]) == (3.0, 64.0, 64.0)
    assert (fd["median_rel_err"], fd["max_rel_err"]) == (8e-16, math.inf)
    assert (fd["within_1ulp"], fd["within_4ulp"]) == (0.0, 0.25)
    assert (fd["rule_bugs"], fd["exceptions"]) == (0, 1)
    sym = row(table, method="sympy_f64")
    assert (sym["median_bits"], sym["max_bits"], sym["within_1ulp"]) == (0.0, 1.0, 1.0)


def test_per_op_attributes_records_to_every_op_and_single_op_keeps_one(tiny: pd.DataFrame) -> None:
    table = reports.by_op(tiny)
    assert sorted(set(table["op"])) == ["exp", "mul", "sin"]
    exp, mul, sin = (row(table, op=o, method="engine_f64") for o in ("exp", "mul", "sin"))
    assert (exp["rows"], exp["median_bits"], exp["max_bits"], exp["rule_bugs"]) == (2, 0.0, 1.0, 0)
    for op_row in (mul, sin):  # both ops of x0 * sin(x1) get its 4 rows, 2 of them scored
        assert (op_row["rows"], op_row["scored"], op_row["median_bits"], op_row["max_bits"]) == (4, 2, 2.0, 4.0)
        assert op_row["rule_bugs"] == 1
    single = reports.single_op(tiny)
    assert set(single["op"]) == {"exp"}
    assert row(single, op="exp", method="central_fd")["max_bits"] == 10.0


def test_depth_size_and_engine_groups(tiny: pd.DataFrame) -> None:
    depth = reports.by_depth(tiny)
    assert row(depth, depth=1, method="central_fd")["median_bits"] == 2.0  # bits 10, 2
    assert row(depth, depth=2, method="central_fd")["max_bits"] == 64.0
    size = reports.by_size(tiny)
    assert size["size"].drop_duplicates().tolist() == ["2-3", "4-7"]
    assert row(size, size="4-7", method="engine_f64")["within_1ulp"] == 0.0
    engine = reports.by_engine(tiny)
    assert row(engine, engine="gradproof", method="engine_f64")["rows"] == 6


@pytest.mark.parametrize(
    ("size", "bucket"), [(1, "1"), (2, "2-3"), (3, "2-3"), (4, "4-7"), (15, "8-15"), (16, "16-31")]
)
def test_size_bucket(size: int, bucket: str) -> None:
    assert stats.size_bucket(size) == bucket


def test_verdicts_exceptions_discards_excess(tiny: pd.DataFrame) -> None:
    v = reports.verdicts(tiny)
    assert row(v, method="engine_f64", verdict="rule_bug")["rows"] == 1
    assert row(v, method="central_fd", verdict="unsamplable")["rows"] == 2
    e = reports.exceptions(tiny)
    assert e[["method", "outcome", "rows", "example"]].values.tolist() == [
        ["central_fd", "OverflowError", 1, "math range error"]
    ]
    d = stats.discards(META)
    assert d.values.tolist() == [["domain", 3], ["kink", 1]]
    x = reports.excess(tiny)
    # engine_f64 minus sympy_f64 bits: 0-0, 1-1, 2-1, 4-0; central_fd: 10-0, 2-1, 3-1, 64-0
    f64, fd = row(x, method="engine_f64"), row(x, method="central_fd")
    assert (f64["pairs"], f64["median_excess_bits"], f64["max_excess_bits"]) == (4, 0.0, 4.0)
    assert (fd["median_excess_bits"], fd["p90_excess_bits"], fd["max_excess_bits"]) == (2.0, 64.0, 64.0)


def test_nearest_rank() -> None:
    assert stats.nearest_rank([4.0, 0.0, 2.0, 1.0], 0.5) == 1.0
    assert stats.nearest_rank([1.0, 2.0, 3.0], 0.5) == 2.0
    assert stats.nearest_rank(list(range(1, 101)), 0.99) == 99
    assert math.isnan(stats.nearest_rank([], 0.5))


def test_overview(tiny: pd.DataFrame) -> None:
    over = stats.overview(tiny, META, 1)
    assert over["expressions"] == 2 and over["points"] == 4 and over["rows"] == 18
    assert (over["rule_bugs"], over["unsamplable"], over["discarded_points"], over["findings"]) == (1, 6, 4, 1)


# --- comparison ----------------------------------------------------------------


def baseline_records() -> list[dict[str, Any]]:
    """Run B: no rule bug, the engine 8 bits worse on exp, no sympy_f64 method."""
    rows = [r for r in tiny_records(run_id="base") if r["method"] != "sympy_f64"]
    for r in rows:
        if r["verdict"] == "rule_bug":
            r["verdict"] = "ok"
        if r["method"] == "engine_f64" and r["expr_id"] == 0:
            r["ulp_err"] = 255.0 if r["point_id"] == 0 else 511.0
            r["bits_err"] = math.log2(r["ulp_err"] + 1)
    return rows


def test_compare_names_changes_and_new_rule_bugs(tiny: pd.DataFrame, tmp_path: Path) -> None:
    base = reports.load(write_run(tmp_path / "base", baseline_records(), meta={**META, "run_id": "base"}))
    by_method = reports.compare_by_method(tiny, base)
    assert row(by_method, method="engine_f64")["change"] == "new rule bug"
    assert row(by_method, method="central_fd")["change"] == "same"
    assert row(by_method, method="sympy_f64")["change"] == "only in A"
    by_op = reports.compare_by_op(tiny, base)
    exp = row(by_op, op="exp", method="engine_f64")
    assert (exp["median_bits_a"], exp["median_bits_b"], exp["change"]) == (0.0, 8.0, "better")
    assert row(by_op, op="sin", method="engine_f64")["change"] == "new rule bug"
    assert row(reports.compare_by_op(base, tiny), op="exp", method="engine_f64")["change"] == "worse"
    fresh = reports.new_rule_bugs(tiny, base)
    assert fresh[["expr", "method"]].values.tolist() == [["(x0 * sin(x1))", "engine_f64"]]
    assert reports.new_rule_bugs(tiny, tiny).empty


# --- mutation runs ---------------------------------------------------------------


def test_mutation_scores_and_detection_limits(tmp_path: Path) -> None:
    run = reports.load_run(write_run(tmp_path / "mut", None, mutants=MUTANTS))
    assert run.records is None and run.mutants is not None
    scores = reports.mutation_scores(run.mutants)
    prover, grad = row(scores, method="prover"), row(scores, method="gradcheck")
    assert (prover["killed"], prover["mutants"], prover["score"], prover["median_examples_to_kill"]) == (4, 4, 1.0, 1)
    assert (grad["killed"], grad["score"], grad["median_examples_to_kill"]) == (2, 0.5, 3.0)
    limits = reports.detection_limits(run.mutants)
    p, g = row(limits, method="prover"), row(limits, method="gradcheck")
    assert (p["sized_mutants"], p["smallest_detected"], p["detects_all_from"]) == (3, 1e-12, 1e-12)
    assert math.isnan(p["largest_missed"])
    assert (g["smallest_detected"], g["largest_missed"], g["detects_all_from"]) == (1e-2, 1e-6, 1e-2)


def test_mutants_file_with_a_bad_killed_value(tmp_path: Path) -> None:
    run = write_run(tmp_path / "mut", None, mutants=MUTANTS.replace("yes,5", "maybe,5"))
    with pytest.raises(reports.ReportError, match=r"mutants.csv is corrupt: line 5, column 'killed'"):
        reports.load_run(run)
