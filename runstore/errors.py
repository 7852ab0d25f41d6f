"""The error a run directory raises for a problem a user can act on (its message is one line)."""

from __future__ import annotations

__all__ = ["RunStoreError"]


class RunStoreError(Exception):
    """A run directory cannot be claimed, resumed or read; the message says why and what to do."""
