"""Errors the command line turns into a one-line message and exit status 2."""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """Bad input from the user: an unknown op, a plugin that fails, a bad option value."""
