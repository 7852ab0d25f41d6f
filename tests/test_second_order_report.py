"""``gradproof report`` on an order-2 run: rows per order and mode, per mode and op, and the defects."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from gradproof.cli import main
from reports.order2 import is_order2_run, mode_table, op_table
from runstore import FINDINGS_FILE, RunDir, RunKind, Status
from verification.second_campaign import COLUMNS, RECORDS_FILE


def _row(mode: str, verdict: str, ulps: float, *, method: str = "engine_f64", ops: str = "mul,tanh") -> dict[str, Any]:
    bits = {0.0: 0.0, 1.0: 1.0, 3.0: 2.0, 7.0: 3.0}.get(ulps, float("nan"))
    return {
        "expr_id": 0,
        "expression": "(tanh(x0) * x1)",
        "point": "(0.5, 0.25)",
        "direction": "(1.0, -0.5)",
        "order": 1 if mode == "jvp" else 2,
        "mode": mode,
        "method": method,
        "entry": "0,1" if mode == "hessian" else "0",
        "computed": "1.0",
        "truth_lo": "1.0",
        "truth_hi": "1.0",
        "bound": "1e-16",
        "verdict": verdict,
        "engine": "torch",
        "ops": ops,
        "ulp_err": repr(ulps),
        "bits_err": repr(bits),
    }


def _tiny_run(path: Path) -> None:
    rows = [
        _row("hessian", "ok", 0.0),
        _row("hessian", "ok", 1.0),
        _row("hessian", "bug", 7.0, ops="exp"),
        _row("hessian", "unjudged", 3.0),  # not judged: left out of the accuracy columns
        _row("hessian", "ok", 0.0, method="engine_hp"),
        _row("jvp", "ok", 3.0, ops="exp"),
        _row("hvp_fwd", "raised", float("nan")),
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    defect = {"severity": "wrong", "ops": ["mul"], "form": "operator", "aspect": "second derivative", "records": 3}
    with RunDir.create(path, RunKind.ORDER2, {"engine": "torch", "seed": 0}) as run:
        run.write_text(RECORDS_FILE, buffer.getvalue())
        run.write_json(FINDINGS_FILE, {"findings": [], "total": 1, "defects": [defect]})
        run.finish(Status.FINISHED)


def test_tables_per_order_mode_and_op_hold_hand_checked_figures(tmp_path: Path) -> None:
    import pandas as pd

    _tiny_run(tmp_path / "r")
    assert is_order2_run(tmp_path / "r") and not is_order2_run(tmp_path)
    df = pd.read_csv(tmp_path / "r" / RECORDS_FILE, dtype={"entry": str, "ops": str})
    modes = mode_table(df).set_index(["order", "mode", "method"])
    h = modes.loc[(2, "hessian", "engine_f64")]
    assert (h["entries"], h["ok"], h["bug"], h["unjudged"]) == (4, 2, 1, 1)
    assert h["judged %"] == 75.0
    assert (h["median ULP"], h["max ULP"], h["max bits"]) == (1.0, 7.0, 3.0)  # over 0, 1, 7: the judged ones
    assert pd.isna(modes.loc[(2, "hessian", "engine_hp")]["max ULP"])  # 50 digits: no float64 accuracy
    assert modes.loc[(2, "hvp_fwd", "engine_f64")]["raised"] == 1
    assert modes.loc[(1, "jvp", "engine_f64")]["median ULP"] == 3.0
    ops = op_table(df).set_index(["mode", "method", "op"])
    assert ops.loc[("hessian", "engine_f64", "exp")]["bug"] == 1
    assert ops.loc[("hessian", "engine_f64", "tanh")]["entries"] == 3  # every op of the expression counts


def test_gradproof_report_on_an_order_2_run(tmp_path: Path, capsys: Any) -> None:
    _tiny_run(tmp_path / "r")
    assert main(["report", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    assert "verdict: defects 1 wrong" in text and "hvp_fwd" in text and "jvp" in text
    md = (tmp_path / "r" / "report" / "report.md").read_text()
    assert "## Per order and mode" in md and "## Per mode and op" in md and "| wrong | mul | operator |" in md
    html = (tmp_path / "r" / "report" / "report.html").read_text()
    assert "<table" in html and "Per mode and op" in html and "defects 1 wrong" in html
    assert {p.name for p in (tmp_path / "r" / "report").iterdir()} == {
        "report.md",
        "report.html",
        "order2_modes.csv",
        "order2_ops.csv",
        "order2_defects.csv",
    }
    assert main(["report", str(tmp_path / "r"), "--against", str(tmp_path / "r")]) == 2
    assert "reported alone" in capsys.readouterr().err


def test_a_real_order_2_run_is_reported(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "run"
    assert main(["verify", "--order", "2", "--examples", "6", "--points", "1", "--out", str(out)]) == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["kind"] == "order2"
    with open(out / RECORDS_FILE) as fh:
        header = next(csv.reader(fh))
    assert {"order", "mode", "method", "engine", "ops", "ulp_err", "bits_err"} <= set(header)
    capsys.readouterr()
    assert main(["report", str(out), "--format", "csv"]) == 0
    table = (out / "report" / "order2_modes.csv").read_text().splitlines()
    assert len(table) == 1 + 8  # 4 modes x (float64, 50 digits)


def test_a_torn_last_record_is_dropped_and_said(tmp_path: Path, capsys: Any) -> None:
    _tiny_run(tmp_path / "r")
    records = tmp_path / "r" / RECORDS_FILE
    whole = records.read_bytes()
    records.write_bytes(whole + whole.splitlines(keepends=True)[-1][:-9])  # a last row cut short
    assert main(["report", str(tmp_path / "r"), "--format", "csv"]) == 0
    assert "dropped a torn last line" in capsys.readouterr().out
    kept = (tmp_path / "r" / "report" / "order2_modes.csv").read_text()
    records.write_bytes(whole)
    assert main(["report", str(tmp_path / "r"), "--format", "csv"]) == 0
    assert "dropped a torn last line" not in capsys.readouterr().out
    assert (tmp_path / "r" / "report" / "order2_modes.csv").read_text() == kept
