"""The formats a report is written in, and parsing a ``--format`` list of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from reports.errors import ReportError

__all__ = ["FORMATS", "parse_formats"]

FORMATS: Final = ("md", "html", "csv")


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """``"md,html"`` or ``["md", "html"]`` -> ``("md", "html")``; unknown or no format is an error."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    names = tuple(dict.fromkeys(f.strip().lower() for f in items if f.strip()))
    unknown = [f for f in names if f not in FORMATS]
    if unknown:
        raise ReportError(f"unknown format {', '.join(map(repr, unknown))} (choose from {', '.join(FORMATS)})")
    if not names:
        raise ReportError(f"no format given (choose from {', '.join(FORMATS)})")
    return names
