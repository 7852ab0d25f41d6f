"""Reports in bounded memory: batch-wise statistics against the exact pandas ones, histogram resolution, salvage."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reports
from reports import aggregate as agg
from reports import stats
from reports.histogram import BITS, REL, Histogram
from reports.vcurve import sample_vcurves
from tests.test_reports import META, _parquet_run, baseline_records, tiny_records, write_run
from verification.campaign import CampaignConfig, run_campaign

SUMMARIES = ("by_method", "by_op", "single_op", "by_depth", "by_size", "by_engine")
WIDTH = 1 / 1024  # of a bit, and of an octave for relative errors


def _exact(values: list[float], q: float) -> float:
    return stats.nearest_rank(values, q)


@given(st.lists(st.floats(0, 64), min_size=1, max_size=200), st.sampled_from([0.5, 0.9, 0.99, 1.0]))
def test_bits_percentiles_are_never_below_the_exact_one_and_within_a_bin(values: list[float], q: float) -> None:
    hist = Histogram(BITS)
    hist.add(np.zeros(len(values), np.int64), np.array(values))
    got, exact = hist.quantile(0, q), _exact(values, q)
    assert exact <= got < exact + WIDTH and got in values
    assert hist.maximum(0) == max(values) and hist.count(0) == len(values)


@given(st.lists(st.integers(0, 1477), min_size=1, max_size=100), st.sampled_from([0.5, 0.9, 0.99]))
def test_bits_of_whole_ulp_counts_up_to_1477_are_exact(ulps: list[int], q: float) -> None:
    values = [math.log2(u + 1) for u in ulps]
    hist = Histogram(BITS)
    hist.add(np.zeros(len(values), np.int64), np.array(values))
    assert hist.quantile(0, q) == _exact(values, q)


rel_values = st.one_of(
    st.just(0.0), st.just(math.inf), st.floats(5e-324, 1.7e308), st.floats(1e-17, 1e-14), st.floats(0.5, 2.0)
)


@given(st.lists(rel_values, min_size=1, max_size=200), st.sampled_from([0.5, 0.9, 0.99]))
def test_relative_error_percentiles_are_within_a_factor_2_to_the_1_1024(values: list[float], q: float) -> None:
    hist = Histogram(REL)
    hist.add(np.zeros(len(values), np.int64), np.array(values))
    got, exact = hist.quantile(0, q), _exact(values, q)
    assert got in values and got >= exact
    assert got == exact or (0 < exact < math.inf and got / exact < 2**WIDTH)
    assert hist.maximum(0) == max(values)


def test_groups_do_not_mix_and_an_empty_group_is_nan() -> None:
    hist = Histogram(BITS)
    hist.add(np.array([0, 2, 0, 2]), np.array([1.0, 60.0, 3.0, 50.0]))
    assert (hist.quantile(0, 0.5), hist.maximum(0), hist.quantile(2, 0.5), hist.maximum(2)) == (1.0, 3.0, 50.0, 60.0)
    assert math.isnan(hist.quantile(1, 0.5)) and math.isnan(hist.maximum(1)) and hist.count(1) == 0


def _assert_within_resolution(got: pd.DataFrame, exact: pd.DataFrame, keys: int) -> None:
    """Keys and counts equal; bits percentiles within [exact, exact + 1/1024); relative ones within 2**(1/1024)."""
    assert list(got.columns) == list(exact.columns)
    pd.testing.assert_frame_equal(got.iloc[:, :keys].astype(str), exact.iloc[:, :keys].astype(str))
    for name in got.columns[keys:]:
        a, e = got[name].to_numpy(float), exact[name].to_numpy(float)
        same = (a == e) | (np.isnan(a) & np.isnan(e))
        if name.startswith("max_") or ("bits" not in name and "rel_err" not in name):
            assert same.all(), name
        elif "bits" in name:
            assert (same | ((a >= e) & (a < e + WIDTH))).all(), name
        else:
            assert (same | ((a >= e) & (a < e * 2**WIDTH))).all(), name


def test_statistics_of_hand_computed_records_are_exact(tmp_path: Path) -> None:
    run = reports.load_run(_parquet_run(tmp_path / "pq", tiny_records()), records=False)
    assert run.records is None and run.parts is not None
    totals = agg.aggregate(run)
    df = reports.load(run.path)
    for name in SUMMARIES:
        pd.testing.assert_frame_equal(totals.summary(name), getattr(stats, name)(df), check_dtype=False)
    pd.testing.assert_frame_equal(totals.excess_table(), stats.excess(df), check_dtype=False)
    pd.testing.assert_frame_equal(totals.verdict_table(), stats.verdicts(df), check_dtype=False)
    exceptions = stats.exceptions(df).astype({"example": object})
    pd.testing.assert_frame_equal(totals.exception_table(), exceptions, check_dtype=False)
    overview = stats.overview(df, META, 0)
    assert all(overview[k] == v for k, v in totals.overview().items())


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campaign") / "run"
    run_campaign(CampaignConfig(examples=30, seed=3, points=2, max_depth=3, chunk=5), path, jobs=1, progress=False)
    return path


def test_a_real_run_batch_by_batch_matches_exact_pandas(campaign: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agg, "UNIT_ROWS", 1)  # every part a batch of its own
    run = reports.load_run(campaign, records=False)
    parts = [len(t) for t in agg.batches(run)]
    assert len(parts) == 6 and sum(parts) == run.parts.rows  # type: ignore[union-attr]
    totals = agg.aggregate(run)
    df = reports.load(campaign)
    for name in SUMMARIES:
        _assert_within_resolution(totals.summary(name), getattr(stats, name)(df), 1 if name == "by_method" else 2)
    _assert_within_resolution(totals.excess_table(), stats.excess(df), 1)
    pd.testing.assert_frame_equal(totals.verdict_table(), stats.verdicts(df), check_dtype=False)
    overview = stats.overview(df, {}, 0)
    assert all(overview[k] == v for k, v in totals.overview().items())
    assert [c.expr for c in sample_vcurves(totals.curve_candidates())] == [c.expr for c in sample_vcurves(df)]
    monkeypatch.setattr(agg, "UNIT_ROWS", 10**9)  # one batch: the same figures
    whole = agg.aggregate(run)
    for name in SUMMARIES:
        pd.testing.assert_frame_equal(whole.summary(name), totals.summary(name))


def test_a_torn_part_is_dropped_and_named_in_the_report(tmp_path: Path) -> None:
    run = _parquet_run(tmp_path / "pq", tiny_records())
    part = run / "records" / "part-000001.parquet"
    part.write_bytes(part.read_bytes()[:-20])
    report = reports.build_report(run, tmp_path / "out", "csv")
    assert f"Salvaged from a damaged run: {part}: dropped a damaged part (" in report.summary
    assert pd.read_csv(tmp_path / "out" / "by_method.csv")["rows"].sum() == 9


def test_parquet_and_csv_runs_give_the_same_report_and_comparison(tmp_path: Path) -> None:
    base_meta = {**META, "run_id": "base"}
    csv_a = write_run(tmp_path / "csv_a", tiny_records())
    csv_b = write_run(tmp_path / "csv_b", baseline_records(), meta=base_meta)
    pq_a, pq_b = _parquet_run(tmp_path / "pq_a", tiny_records()), _parquet_run(tmp_path / "pq_b", baseline_records())
    from_csv = reports.build_report(csv_a, tmp_path / "out_csv", "csv", against=csv_b)
    from_pq = reports.build_report(pq_a, tmp_path / "out_pq", "csv", against=pq_b)
    assert from_csv.new_rule_bugs == from_pq.new_rule_bugs > 0
    for name in ("by_method", "by_op", "excess", "compare_by_method", "compare_by_op", "new_rule_bugs"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "out_pq" / f"{name}.csv"), pd.read_csv(tmp_path / "out_csv" / f"{name}.csv")
        )
