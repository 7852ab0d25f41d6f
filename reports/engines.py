"""Several runs of one campaign on different engines, side by side: a row per engine, per-op accuracy per engine.

``build_engines_report(run_dirs)`` is what ``gradproof report RUN1 RUN2 RUN3 ...``
and ``gradproof compare`` write: the engine table (expressions, points,
accuracy of the engine's float64 gradient in bits, findings by kind,
exceptions, speed), and, from each run's ``per_op.csv`` when there is one,
the accuracy of every op alone on every engine in ULPs and bits. Runs that
differ in seed or ops are flagged: their rows are not the same campaign.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from reports.aggregate import aggregate
from reports.build import FORMATS, HEADLINE, Report, parse_formats, write_atomically
from reports.errors import ReportError
from reports.load import Run, load_run
from reports.render import Section, Table, to_html, to_markdown
from runstore import PER_OP

__all__ = ["ENGINE_COLUMNS", "engine_table", "per_op_table", "per_op_matrix", "build_engines_report"]

ENGINE_COLUMNS = (
    "engine",
    "expressions",
    "points",
    "scored",
    "median_bits",
    "p99_bits",
    "max_bits",
    "within_1ulp",
    "findings",
    "exceptions",
    "seconds",
    "expressions_per_s",
)

_ENGINE_METHOD = "engine_f64"


def _name(run: Run) -> str:
    return str(run.meta.get("engine") or run.run_id)


def engine_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: its engine's float64 gradients against the certified truth, findings and speed."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        counts = run.meta.get("counts") or {}
        seconds = float(run.meta.get("seconds") or math.nan)
        expressions = int(counts.get("expressions", 0))
        row: dict[str, Any] = {"engine": _name(run), "expressions": expressions, "points": counts.get("points", 0)}
        own = _engine_rows(run)
        if not own.empty:
            s = own.iloc[0]
            row.update({k: s[k] for k in ("scored", "median_bits", "p99_bits", "max_bits", "within_1ulp")})
            row["exceptions"] = int(s["exceptions"])
        kinds = Counter(str(f.get("kind")) for f in run.findings)
        row["findings"] = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        row["seconds"] = seconds
        row["expressions_per_s"] = expressions / seconds if seconds > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(ENGINE_COLUMNS))


def _engine_rows(run: Run) -> pd.DataFrame:
    """The run's ``engine_f64`` row of :func:`reports.stats.by_method`, read batch by batch (empty without one)."""
    import pyarrow.dataset as ds

    if not run.has_records:
        return pd.DataFrame()
    return aggregate(run, ds.field("method") == _ENGINE_METHOD).summary("by_method")


def per_op_table(runs: Sequence[Run]) -> pd.DataFrame:
    """Each op alone on each engine (from ``per_op.csv``): median, p99 and max ULPs and the bits they cost."""
    frames = []
    for run in runs:
        path = run.path / PER_OP.path
        if path.exists():
            try:
                table = pd.read_csv(path)
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise ReportError(f"{path} is unreadable: {exc}") from None
            frames.append(table.assign(engine=_name(run)))
    if not frames:
        return pd.DataFrame(columns=["op", "input", "engine", "points", "median_ulp", "p99_ulp", "max_ulp"])
    table = pd.concat(frames, ignore_index=True)
    for col in ("median", "p99", "max"):
        table[f"{col}_bits"] = (table[f"{col}_ulp"] + 1).map(math.log2)
    keep = ["op", "input", "engine", "points", "median_ulp", "p99_ulp", "max_ulp", "median_bits", "max_bits"]
    keep += [c for c in ("beyond_bound", "worst_point") if c in table.columns]
    return table[keep].sort_values(["op", "input"], kind="stable").reset_index(drop=True)


def per_op_matrix(per_op: pd.DataFrame) -> pd.DataFrame:
    """Ops down, engines across: ``median / max`` bits of error of each op's partial alone.

    ``(n beyond)`` counts the points where the partial lies outside the float64
    rounding bound of one op at exact inputs (when the runs measured it).
    """
    if per_op.empty:
        return pd.DataFrame()
    beyond = per_op["beyond_bound"] if "beyond_bound" in per_op.columns else pd.Series(0, index=per_op.index)
    cell = per_op.assign(
        cell=[
            f"{m:.1f} / {x:.1f}" + (f" ({b:g} beyond)" if b else "")
            for m, x, b in zip(per_op["median_bits"], per_op["max_bits"], beyond)
        ],
        partial=[f"{op}[{i}]" if n > 1 else op for op, i, n in _arity(per_op)],
    )
    matrix = cell.pivot_table(index="partial", columns="engine", values="cell", aggfunc="first", sort=False)
    engines = list(dict.fromkeys(per_op["engine"]))
    return matrix.reindex(columns=engines).reset_index().rename_axis(columns=None)


def _arity(per_op: pd.DataFrame) -> list[tuple[str, int, int]]:
    inputs = per_op.groupby("op")["input"].nunique()
    return [(op, int(i), int(inputs[op])) for op, i in zip(per_op["op"], per_op["input"])]


def _comparable(runs: Sequence[Run]) -> list[str]:
    notes = []
    for key in ("seed", "ops", "examples"):
        values = {repr((r.meta.get("options") or {}).get(key, r.meta.get(key))) for r in runs}
        if len(values) > 1:
            notes.append(f"the runs differ in {key} ({', '.join(sorted(values))}): rows are not the same campaign")
    return notes


def build_engines_report(
    run_dirs: Sequence[str | Path], out_dir: str | Path, formats: str | Sequence[str] = FORMATS
) -> Report:
    """Write ``engines.md``/``engines.html``/CSV tables comparing the runs into ``out_dir``."""
    if len(run_dirs) < 2:
        raise ReportError("comparing engines needs at least two run directories")
    chosen = parse_formats(formats)
    runs = [load_run(d, records=False) for d in run_dirs]
    engines = engine_table(runs)
    per_op = per_op_table(runs)
    notes = _comparable(runs)
    sections = [
        Section(
            "Engines",
            [
                "The same campaign on each engine; accuracy of the engine's float64 gradient against the "
                "certified derivative. " + HEADLINE,
                *notes,
            ],
            tables=[Table("engines", "one row per engine", engines)],
        )
    ]
    if not per_op.empty:
        sections.append(
            Section(
                "Each op alone",
                [
                    "Each shared op alone at special points, random float64 bit patterns and everyday magnitudes: "
                    "bits of error (median / max) per engine, and how many points lie beyond the float64 rounding "
                    "bound of one op at exact inputs.",
                ],
                tables=[
                    Table("per_op_bits", "median / max bits of error", per_op_matrix(per_op)),
                    Table("per_op", "ULPs per op, input and engine", per_op),
                ],
            )
        )
    title = f"gradproof engines: {', '.join(engines['engine'])}"
    files: dict[str, bytes] = {}
    if "md" in chosen:
        files["engines.md"] = to_markdown(title, sections).encode("utf-8")
    if "html" in chosen:
        files["engines.html"] = to_html(title, sections).encode("utf-8")
    if "csv" in chosen:
        files.update({f"{t.name}.csv": t.data.to_csv(index=False).encode("utf-8") for s in sections for t in s.tables})
    out = Path(out_dir)
    written = write_atomically(out, files)
    return Report(out, tuple(written), _summary(engines, notes, out), 0)


def _summary(engines: pd.DataFrame, notes: list[str], out: Path) -> str:
    lines = [f"  {'engine':<12}{'points':>8}{'median bits':>13}{'max bits':>10}{'≤1 ULP':>9}{'expr/s':>9}  findings"]
    for r in engines.itertuples(index=False):
        lines.append(
            f"  {r.engine:<12}{r.points:>8}{r.median_bits:>13.2f}{r.max_bits:>10.2f}{r.within_1ulp:>9.1%}"
            f"{r.expressions_per_s:>9.1f}  {r.findings}"
        )
    lines += [f"  note: {n}" for n in notes]
    lines.append(f"wrote {out}")
    return "\n".join(lines)
