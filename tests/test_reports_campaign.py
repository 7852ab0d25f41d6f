"""A small derandomized real campaign, reported end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import reports
from gradproof.cli import main
from runstore.records import COLUMNS
from verification.campaign import CampaignConfig, run_campaign


def test_report_of_a_real_campaign(tmp_path: Path) -> None:
    config = CampaignConfig(examples=20, seed=0, points=2, max_depth=3, chunk=10)
    result = run_campaign(config, tmp_path / "run", jobs=1, progress=False)
    records = reports.load(tmp_path / "run")
    assert list(records.columns)[: len(COLUMNS)] == list(COLUMNS)
    assert len(records) == result.records > 0
    by_method = reports.by_method(records).set_index("method")
    assert by_method["rows"].sum() == len(records)
    f64 = records[(records["method"] == "engine_f64") & records["true_grad"].notna()]
    assert by_method.loc["engine_f64", "scored"] == len(f64)
    assert by_method.loc["engine_f64", "max_bits"] == f64["bits_err"].max()
    assert by_method.loc["engine_f64", "within_1ulp"] == (f64["ulp_err"] <= 1).mean()
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 0
    written = pd.read_csv(tmp_path / "out" / "by_method.csv").set_index("method")
    assert written["rows"].to_dict() == by_method["rows"].to_dict()
    discards = pd.read_csv(tmp_path / "out" / "discards.csv")
    assert discards["points"].sum() == sum(result.counts[k] for k in result.counts if k.startswith("discard_"))
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 3
