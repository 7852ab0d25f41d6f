"""The one error a report raises: bad input, named by file, turned into exit status 2 by the CLI."""

from __future__ import annotations

__all__ = ["ReportError"]


class ReportError(Exception):
    """A run directory, file or option the report cannot use; the message names the culprit."""
