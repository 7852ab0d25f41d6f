"""The report of an order-2 run (``gradproof verify --order 2``): per order and mode, per mode and op, defects.

Reads the run directory's ``records_order2.csv`` (one row per judged entry:
order, mode, method, the engine's number, the truth's enclosure, the bound,
the verdict, the ops of the expression, the ULP and bits error against the
truth rounded to float64) and ``findings.json`` (the defects a foreign
engine's findings were classified into), and writes

* ``order2_modes`` -- per order, mode and method: entries, verdicts, the
  share judged, ULP error (median, 99th percentile, max) and bits (median, max);
* ``order2_ops`` -- the same per mode and op (an entry counts for every op of
  its expression);
  ULP and bits columns are over the judged entries (``ok`` or outside the bound);
* ``order2_defects`` -- severity, ops, form, aspect, records, where, summary;

as Markdown, HTML and CSV, and returns a terminal summary. ULPs are those of
float64 results only (``engine_f64``); the 50-digit rows say nothing of float64 accuracy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.build import write_atomically
from reports.errors import ReportError
from reports.formats import parse_formats
from reports.render import Section, Table, to_html, to_markdown
from runstore import FINDINGS_FILE, ORDER2_RECORDS_FILE, RunStoreError, read_meta

__all__ = ["ORDER2_RECORDS", "Order2Report", "is_order2_run", "build_order2_report", "mode_table", "op_table"]

ORDER2_RECORDS = ORDER2_RECORDS_FILE
"""The records file of an order-2 run (written by :mod:`verification.second_campaign`)."""

_VERDICTS = ("ok", "bug", "exception_mismatch", "unjudged", "raised")


@dataclass(frozen=True)
class Order2Report:
    """What :func:`build_order2_report` wrote, and its terminal summary."""

    out_dir: Path
    files: tuple[Path, ...]
    summary: str


def is_order2_run(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds an order-2 run (its ``run.json`` says kind ``order2``)."""
    path = Path(run_dir)
    if not (path / "run.json").exists():
        return False
    try:
        return read_meta(path).get("kind") == "order2"
    except RunStoreError:
        return False


def _load(path: Path) -> tuple[Any, str | None]:
    """The records, and a note when a torn last line (a write cut short) was dropped."""
    import io

    import pandas as pd

    file = path / ORDER2_RECORDS
    if not file.exists():
        raise ReportError(f"{path} holds no order-2 records: {file} is missing")
    try:
        data = file.read_bytes()
        note = None
        if data and not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
            note = f"dropped a torn last line of {file} (a record cut short)"
        df = pd.read_csv(io.BytesIO(data), dtype={"entry": str, "ops": str})
    except (OSError, ValueError) as exc:
        raise ReportError(f"{file} cannot be read: {str(exc).splitlines()[0]}") from None
    for name in ("order", "mode", "method", "verdict"):
        if name not in df.columns:
            raise ReportError(f"{file} has no column {name!r}")
    if "ops" not in df.columns:  # written before the accuracy columns existed
        df["ops"], df["ulp_err"], df["bits_err"] = "", math.nan, math.nan
    df["ops"] = df["ops"].fillna("")
    return df, note


def _accuracy(group: Any) -> dict[str, Any]:
    counts = group["verdict"].value_counts()
    n = len(group)
    row: dict[str, Any] = {"entries": n}
    for v in _VERDICTS:
        row[v] = int(counts.get(v, 0))
    row["judged %"] = round(100.0 * (row["ok"] + row["bug"] + row["exception_mismatch"]) / n, 1) if n else 0.0
    judged = group[group["verdict"].isin(["ok", "bug", "exception_mismatch"])]
    ulps = judged["ulp_err"].astype(float)
    ulps = ulps[ulps == ulps]
    bits = judged["bits_err"].astype(float)
    bits = bits[bits == bits]
    f64 = bool(len(ulps)) and (group["method"] == "engine_f64").all()
    row["median ULP"] = float(ulps.median()) if f64 else math.nan
    row["p99 ULP"] = float(ulps.quantile(0.99, interpolation="higher")) if f64 else math.nan
    row["max ULP"] = float(ulps.max()) if f64 else math.nan
    row["median bits"] = round(float(bits.median()), 2) if f64 else math.nan
    row["max bits"] = round(float(bits.max()), 2) if f64 else math.nan
    return row


def mode_table(df: Any) -> Any:
    """Per order, mode and method: entries, verdict counts, share judged, ULP and bits error (float64 rows)."""
    import pandas as pd

    rows = [
        {"order": int(order), "mode": mode, "method": method, **_accuracy(g)}
        for (order, mode, method), g in df.groupby(["order", "mode", "method"], sort=True)
    ]
    return pd.DataFrame(rows)


def op_table(df: Any) -> Any:
    """Per mode, method and op (an entry counts for every op of its expression): the same columns."""
    import pandas as pd

    exploded = df.assign(op=df["ops"].str.split(",")).explode("op")
    exploded = exploded[exploded["op"].astype(str) != ""]
    rows = [
        {"mode": mode, "method": method, "op": op, **_accuracy(g)}
        for (mode, method, op), g in exploded.groupby(["mode", "method", "op"], sort=True)
    ]
    return pd.DataFrame(rows)


def _defects(path: Path) -> tuple[Any, int | None]:
    """The defects table from findings.json, and the wrong entries it lists (None: no findings file)."""
    import pandas as pd

    file = path / FINDINGS_FILE
    if not file.exists():
        return pd.DataFrame(), None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{file} is damaged: {str(exc).splitlines()[0]}") from None
    defects = data.get("defects", []) if isinstance(data, dict) else []
    rows = [
        {
            "severity": d.get("severity", ""),
            "ops": ", ".join(d.get("ops", [])),
            "form": d.get("form", ""),
            "aspect": d.get("aspect", ""),
            "records": d.get("records", 0),
            "where": d.get("where", ""),
            "summary": d.get("summary", ""),
        }
        for d in defects
        if isinstance(d, dict)
    ]
    total = data.get("total") if isinstance(data, dict) else None
    return pd.DataFrame(rows), total if isinstance(total, int) else None


def _verdict(meta: dict[str, Any], defects: Any, wrong_entries: int | None, df: Any) -> str:
    bugs = int(df["verdict"].isin(["bug", "exception_mismatch"]).sum())
    judged = int(df["verdict"].isin(["ok", "bug", "exception_mismatch"]).sum())
    if judged == 0:
        return "verdict: NOTHING JUDGED"
    if not defects.empty:
        counts = defects["severity"].value_counts()
        parts = ", ".join(f"{int(n)} {s}" for s, n in counts.items())
        return f"verdict: defects {parts} ({bugs} entries outside their bound)"
    if bugs:
        return f"verdict: {bugs} wrong entr{'y' if bugs == 1 else 'ies'}"
    return "verdict: no second-order or forward-mode defect"


def build_order2_report(
    run_dir: str | Path, out: str | Path | None = None, formats: str = "md,html,csv"
) -> Order2Report:
    """Write the order-2 report of ``run_dir`` into ``out`` (default ``run_dir/report``)."""
    path = Path(run_dir)
    chosen = parse_formats(formats)
    meta = read_meta(path)
    df, torn = _load(path)
    modes, ops = mode_table(df), op_table(df)
    defects, wrong_entries = _defects(path)
    verdict = _verdict(meta, defects, wrong_entries, df)
    out_dir = Path(out) if out is not None else path / "report"
    tables = (
        Table("order2_modes", "Per order and mode", modes),
        Table("order2_ops", "Per mode and op", ops),
        Table("order2_defects", "Defects", defects),
    )
    intro = Section(
        "Verdict",
        text=(
            f"run {meta.get('run_id', path.name)}, status {meta.get('status', '?')}, seed {meta.get('seed', '?')}, "
            f"options {json.dumps(meta.get('options', {}))}",
            verdict,
            "ULPs and bits: float64 results (engine_f64) against the certified truth rounded to float64.",
            *([torn] if torn else []),
        ),
    )
    sections = [intro, *(Section(t.caption, tables=(t,)) for t in tables)]
    title = f"Order-2 report: {meta.get('engine', '?')}"
    contents: dict[str, bytes] = {}
    if "md" in chosen:
        contents["report.md"] = to_markdown(title, sections).encode()
    if "html" in chosen:
        contents["report.html"] = to_html(title, sections).encode()
    if "csv" in chosen:
        contents.update({f"{t.name}.csv": t.data.to_csv(index=False).encode() for t in tables})
    files = write_atomically(out_dir, contents)
    summary = "\n".join([*([torn] if torn else []), verdict, _terminal(modes), f"report: {out_dir}"])
    return Order2Report(out_dir, tuple(files), summary)


def _terminal(modes: Any) -> str:
    cols = [
        "order",
        "mode",
        "method",
        "entries",
        "ok",
        "bug",
        "unjudged",
        "raised",
        "median ULP",
        "max ULP",
        "max bits",
    ]
    shown = modes[[c for c in cols if c in modes.columns]]
    return str(shown.to_string(index=False, na_rep="-"))
