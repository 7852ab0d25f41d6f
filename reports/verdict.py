"""The report's opening: the run's verdict and its defects, each expression drawn as a small graph.

Reads the ``verdict`` and ``defects`` of ``findings.json`` (written by the
campaign) and renders them as a :class:`~reports.render.Section` whose HTML
is a table of all defects followed by one card per defect: the expression as
an inline SVG graph with the node at fault marked, engine against truth, and
the reproduction. No system binary is needed to draw.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from reports.errors import ReportError
from reports.render import Section, Table

__all__ = [
    "DefectRow",
    "RunVerdict",
    "load_verdict",
    "verdict_section",
    "graph_svg",
    "new_defects",
    "comparability",
    "SEVERITIES",
]

SEVERITIES: Final = ("wrong", "broken", "inaccurate", "fragile", "missing")
_COLOURS: Final = {
    "wrong": "#b00020",
    "broken": "#b00020",
    "inaccurate": "#9a6700",
    "fragile": "#9a6700",
    "missing": "#57606a",
}
_SHOWN: Final = 20  # defect cards drawn in full; the table lists all


@dataclass(frozen=True)
class DefectRow:
    """One defect as ``findings.json`` stores it."""

    severity: str
    ops: tuple[str, ...]
    form: str
    aspect: str
    summary: str
    expression: str
    point: tuple[float, ...]
    engine_value: float | None
    true_value: float | None
    engine_grad: tuple[float | None, ...]
    true_grad: tuple[float | None, ...]
    bits: float
    records: int
    where: str
    reproduction: str
    graph: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DefectRow:
        """Parse one defect; a missing or mistyped field is a :class:`ReportError`."""
        try:
            severity = str(d["severity"])
            if severity not in SEVERITIES:
                raise ValueError(f"unknown severity {severity!r}")
            return cls(
                severity=severity,
                ops=tuple(str(o) for o in d["ops"]),
                form=str(d["form"]),
                aspect=str(d["aspect"]),
                summary=str(d["summary"]),
                expression=str(d["expression"]),
                point=tuple(float(p) for p in d["point"]),
                engine_value=_num(d.get("engine_value")),
                true_value=_num(d.get("true_value")),
                engine_grad=tuple(_num(g) for g in d.get("engine_grad", [])),
                true_grad=tuple(_num(g) for g in d.get("true_grad", [])),
                bits=float(d.get("bits_max", d.get("bits", 0.0))),
                records=int(d["records"]),
                where=str(d.get("where", "")),
                reproduction=str(d.get("reproduction", "")),
                graph=dict(d.get("graph") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"findings.json: a defect is malformed ({type(exc).__name__}: {exc})") from None


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class RunVerdict:
    """The verdict of a run: its headline, exit status, defects and the ops never judged."""

    headline: str
    exit_status: int
    defects: tuple[DefectRow, ...]
    never_judged: tuple[str, ...]
    unjudged_records: int

    def counts(self) -> dict[str, int]:
        """Defects per severity, most severe first (only those present)."""
        return {s: n for s in SEVERITIES if (n := sum(d.severity == s for d in self.defects))}


def load_verdict(run_dir: Path) -> RunVerdict | None:
    """The verdict in ``run_dir/findings.json``; None for a run written before verdicts existed."""
    file = run_dir / "findings.json"
    if not file.exists():
        return None
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {file}: {exc}") from None
    if not isinstance(data, dict) or "defects" not in data:
        return None
    return RunVerdict(
        headline=str(data.get("verdict", "")),
        exit_status=int(data.get("exit_status", 0)),
        defects=tuple(DefectRow.from_json(d) for d in data["defects"]),
        never_judged=tuple(str(o) for o in data.get("never_judged_ops", [])),
        unjudged_records=int(data.get("unjudged_records", 0)),
    )


def _fmt(x: float | None) -> str:
    return "–" if x is None else repr(x)


def _engine_vs_truth(d: DefectRow) -> tuple[str, str]:
    if d.aspect == "value":
        return _fmt(d.engine_value), _fmt(d.true_value)
    if d.engine_grad:
        return ", ".join(map(_fmt, d.engine_grad)), ", ".join(map(_fmt, d.true_grad))
    return "–", _fmt(d.true_value)


def defects_table(verdict: RunVerdict) -> pd.DataFrame:
    """One row per defect: severity, ops, form, expression, point, engine vs truth, records, where."""
    rows = []
    for d in verdict.defects:
        engine, truth = _engine_vs_truth(d)
        rows.append(
            {
                "severity": d.severity,
                "ops": ", ".join(d.ops),
                "form": d.form,
                "aspect": d.aspect,
                "expression": d.expression,
                "point": ", ".join(repr(p) for p in d.point),
                "engine": engine,
                "truth": truth,
                "records": d.records,
                "where": d.where,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["severity", "ops", "form", "aspect", "expression", "point", "engine", "truth", "records", "where"],
    )


def graph_svg(graph: dict[str, Any], *, width_per_node: int = 84, row: int = 48) -> str:
    """The expression graph as inline SVG: children below parents, a shared node drawn once, the blamed node red."""
    nodes = graph.get("nodes") or []
    if not nodes:
        return ""
    root = int(graph.get("root", len(nodes) - 1))
    level = {root: 0}
    for i in sorted(range(len(nodes)), reverse=True):  # parents come after children in the list
        for k in nodes[i]["kids"]:
            level[k] = max(level.get(k, 0), level.get(i, 0) + 1)
    layers: dict[int, list[int]] = {}
    for i in sorted(level, key=lambda i: (level[i], -i)):
        layers.setdefault(level[i], []).append(i)
    widest = max(len(v) for v in layers.values())
    width, height = widest * width_per_node, len(layers) * row
    pos = {}
    for depth, members in layers.items():
        step = width / len(members)
        for j, i in enumerate(members):
            pos[i] = (step * (j + 0.5), row * depth + row / 2)
    esc = html.escape
    parts = [
        f'<svg class="graph" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'role="img" aria-label="expression graph">'
    ]
    for i, node in enumerate(nodes):
        for k in node["kids"]:
            (x1, y1), (x2, y2) = pos[i], pos[k]
            parts.append(f'<line x1="{x1:.0f}" y1="{y1 + 11:.0f}" x2="{x2:.0f}" y2="{y2 - 11:.0f}" stroke="#8c959f"/>')
    for i, node in enumerate(nodes):
        x, y = pos[i]
        label = str(node["label"])
        label = label if len(label) <= 12 else label[:11] + "…"
        blamed = bool(node.get("blamed"))
        fill, stroke = ("#ffd7d5", "#b00020") if blamed else ("#f6f8fa", "#8c959f")
        w = width_per_node - 10
        parts.append(
            f'<rect x="{x - w / 2:.0f}" y="{y - 11:.0f}" width="{w}" height="22" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2 if blamed else 1}"/>'
        )
        parts.append(
            f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" font-size="12" '
            f'font-family="monospace">{esc(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _card(i: int, d: DefectRow) -> str:
    esc = html.escape
    engine, truth = _engine_vs_truth(d)
    colour = _COLOURS[d.severity]
    head = (
        f'<div class="defect-head"><span class="sev" style="background:{colour}">{esc(d.severity)}</span> '
        f"<strong>{esc(', '.join(d.ops) or '–')}</strong> ({esc(d.form)}, {esc(d.aspect)})</div>"
    )
    facts = [
        ("what", d.summary),
        ("expression", d.expression),
        ("point", ", ".join(repr(p) for p in d.point)),
        ("engine", engine),
        ("truth", truth),
        ("records", str(d.records)),
        ("where", d.where),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v)
    snippet = f"<pre>{esc(d.reproduction)}</pre>" if d.reproduction else ""
    svg = graph_svg(d.graph)
    return (
        f'<div class="defect" id="defect-{i}">{head}<div class="defect-body"><div class="defect-graph">{svg}'
        f"</div><dl>{dl}</dl></div>{snippet}</div>"
    )


_CSS: Final = (
    "<style>.defect{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:10px 0;max-width:1240px}"
    ".defect-head{font-size:15px;margin-bottom:6px}.sev{color:#fff;border-radius:4px;padding:1px 6px;"
    "font-weight:bold}.defect-body{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}"
    ".defect-graph{flex:0 0 auto}.defect dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;"
    "margin:0;flex:1 1 420px;min-width:0}.defect dt{font-weight:bold}.defect dd{margin:0;overflow-wrap:anywhere}"
    ".defect pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}"
    ".verdict{font-size:18px;font-weight:bold;padding:8px 12px;border-radius:6px;max-width:1240px}"
    ".verdict.fail{background:#ffebe9;color:#82071e}.verdict.pass{background:#dafbe1;color:#116329}</style>"
)


def verdict_section(verdict: RunVerdict) -> Section:
    """The report's first section: the verdict, a table of every defect, and a card per defect."""
    counts = verdict.counts()
    text = [verdict.headline or "no verdict recorded"]
    if verdict.never_judged:
        text.append(
            f"Never judged (every point of every expression using them was discarded): "
            f"{', '.join(verdict.never_judged)}."
        )
    if verdict.unjudged_records:
        text.append(
            f"{verdict.unjudged_records} record(s) of the float64 engine could not be judged (verdict "
            "'unjudged': first-order error analysis does not hold there)."
        )
    text.append("Defects by severity: " + (", ".join(f"{n} {s}" for s, n in counts.items()) or "none") + ".")
    cls = "fail" if verdict.exit_status else "pass"
    raw = [_CSS, f'<p class="verdict {cls}">{html.escape(text[0])}</p>']
    raw += [f"<p>{html.escape(p)}</p>" for p in text[1:]]
    raw += [_card(i, d) for i, d in enumerate(verdict.defects[:_SHOWN], 1)]
    if len(verdict.defects) > _SHOWN:
        raw.append(f"<p>… and {len(verdict.defects) - _SHOWN} more defect(s), listed in the table below.</p>")
    table = Table("defects", "Every defect, most severe first", defects_table(verdict))
    return Section("Verdict", text, [table], html=raw)


def _key(d: DefectRow) -> tuple[str, tuple[str, ...], str, str]:
    return (d.severity, () if d.form == "graph" else d.ops, d.form, d.aspect)


def new_defects(a: RunVerdict, b: RunVerdict) -> list[DefectRow]:
    """Defects of run A (severity, ops, form, aspect) that run B does not have."""
    known = {_key(d) for d in b.defects}
    return [d for d in a.defects if _key(d) not in known]


def comparability(meta_a: dict[str, Any], meta_b: dict[str, Any]) -> list[str]:
    """Why two runs' figures are not comparable (different engine, seed, ops, ...); empty when they are."""
    out = []
    opts_a, opts_b = meta_a.get("options") or {}, meta_b.get("options") or {}
    for what, x, y in (
        ("engine", meta_a.get("engine"), meta_b.get("engine")),
        ("seed", meta_a.get("seed"), meta_b.get("seed")),
        ("ops", opts_a.get("ops"), opts_b.get("ops")),
        ("examples", opts_a.get("examples"), opts_b.get("examples")),
        ("max_depth", opts_a.get("max_depth"), opts_b.get("max_depth")),
        ("vars", opts_a.get("n_vars"), opts_b.get("n_vars")),
    ):
        if x != y:
            out.append(f"the runs differ in {what}: {x!r} against {y!r}")
    return out
