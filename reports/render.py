"""A report as sections of text, tables and figures, rendered to Markdown and self-contained HTML."""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

__all__ = ["Table", "Figure", "Section", "display", "to_markdown", "to_html"]

_EXACT: Final = ("grad", "true_grad", "value", "true_value")
_MARKS: Final = {"new rule bug": "bad", "worse": "bad", "mixed": "warn", "better": "good", "rule bug fixed": "good"}


@dataclass(frozen=True)
class Table:
    """A DataFrame with a file-safe ``name`` (its CSV is ``name.csv``) and a caption."""

    name: str
    caption: str
    data: pd.DataFrame


@dataclass(frozen=True)
class Figure:
    """A PNG figure; ``name.png`` next to the Markdown, embedded as base64 in the HTML."""

    name: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Section:
    """A titled part of the report: paragraphs, then tables, figures and preformatted blocks."""

    title: str
    text: Sequence[str] = ()
    tables: Sequence[Table] = ()
    figures: Sequence[Figure] = ()
    blocks: Sequence[tuple[str, str]] = field(default=())  # (caption, preformatted text)
    html: Sequence[str] = field(default=())  # HTML fragments shown instead of ``text`` in the HTML report

    @property
    def anchor(self) -> str:
        """The section's HTML id."""
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if column == "score" or column.startswith("within_"):
            return f"{value:.1%}"
        if column in _EXACT:
            return repr(value)
        if "bits" in column:
            return f"{value:.2f}"
        if value.is_integer() and abs(value) < 1e15 and "err" not in column:
            return str(int(value))
        return f"{value:.3g}"
    return str(value)


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The table as strings for reading: shares in %, bits to 2 decimals, gradients and values exactly
    (``repr``), other numbers to 3 significant digits."""
    return pd.DataFrame({c: [_cell(str(c), v) for v in table[c].tolist()] for c in table.columns}, dtype=object)


def _md_table(table: pd.DataFrame) -> str:
    shown = display(table)

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    lines = [row([str(c) for c in shown.columns]), row(["---"] * len(shown.columns))]
    lines += [row(r) for r in shown.itertuples(index=False)]
    return "\n".join(lines)


def to_markdown(title: str, sections: Sequence[Section]) -> str:
    """The report as GitHub-flavoured Markdown; figures link to ``name.png`` beside it."""
    out = [f"# {title}", ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        for para in s.text:
            out += [para, ""]
        for t in s.tables:
            out += [f"**{t.caption}**", ""]
            out += [_md_table(t.data) if not t.data.empty else "_(none)_", ""]
        for f in s.figures:
            out += [f"![{f.caption}]({f.name}.png)", "", f"_{f.caption}_", ""]
        for caption, text in s.blocks:
            out += [f"**{caption}**", "", "```", text.rstrip("\n"), "```", ""]
    return "\n".join(out)


_CSS: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1250px; padding: 0 1em; color: #1d232a; line-height: 1.45; }
h1 { border-bottom: 2px solid #3465a4; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccd; padding-bottom: .15em; }
nav ul { columns: 3; font-size: .92em; }
table.report { border-collapse: collapse; margin: .4em 0 1.4em; font-size: .86em; }
table.report th { background: #e9eef6; text-align: left; padding: .3em .6em; border-bottom: 2px solid #9ab; }
table.report th { vertical-align: bottom; max-width: 7em; }
table.report td { padding: .22em .6em; border-bottom: 1px solid #e3e6ea; }
table.report td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
div.scroll { overflow-x: auto; }
table.report tr:nth-child(even) td { background: #f7f9fc; }
td.bad, td.warn, td.good { white-space: nowrap; }
td.bad { color: #a40000; font-weight: bold; }
td.warn { color: #8f5902; font-weight: bold; }
td.good { color: #2e7d32; font-weight: bold; }
.caption { font-weight: 600; margin-top: 1em; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; border: 1px solid #dde; }
figcaption { font-size: .9em; color: #555; }
pre { background: #f4f5f7; padding: .7em; overflow-x: auto; font-size: .85em; }
"""


_NUMBER: Final = re.compile(r"^-?(\d[\d.]*(e[-+]?\d+)?%?|inf|–)$")


def _html_table(table: pd.DataFrame) -> str:
    """An HTML table; numeric cells right-aligned, comparison outcomes coloured, headers wrappable."""
    if table.empty:
        return "<p><em>(none)</em></p>"
    shown = display(table)
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in shown.columns)
    body = []
    for cells in shown.itertuples(index=False):
        tds = []
        for cell in cells:
            css = _MARKS.get(cell, "num" if _NUMBER.match(cell) else "")
            tds.append(f'<td class="{css}">{html.escape(cell)}</td>' if css else f"<td>{html.escape(cell)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'<div class="scroll"><table class="report"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def to_html(title: str, sections: Sequence[Section]) -> str:
    """One self-contained HTML page: inline CSS, figures as base64 PNG data URIs, no external links."""
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "<nav><ul>" + "".join(f'<li><a href="#{s.anchor}">{esc(s.title)}</a></li>' for s in sections) + "</ul></nav>",
    ]
    for s in sections:
        out.append(f'<section id="{s.anchor}"><h2>{esc(s.title)}</h2>')
        out += list(s.html) if s.html else [f"<p>{esc(p)}</p>" for p in s.text]
        for t in s.tables:
            out += [f'<p class="caption">{esc(t.caption)}</p>', _html_table(t.data)]
        for f in s.figures:
            data = base64.b64encode(f.png).decode("ascii")
            out.append(
                f'<figure><img alt="{esc(f.caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{esc(f.caption)}</figcaption></figure>"
            )
        for caption, text in s.blocks:
            out += [f'<p class="caption">{esc(caption)}</p>', f"<pre>{esc(text)}</pre>"]
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
