"""Options of the certified references: which differentiator builds them, and how much precision they may use.

Kept apart from :mod:`verification.references` so that the command line can
offer them without loading mpmath and the symbolic machinery.
"""

from __future__ import annotations

__all__ = ["SYMBOLIC_BACKENDS", "DEFAULT_CAP_BITS", "NARROW_BITS"]

SYMBOLIC_BACKENDS = ("symengine", "sympy")
"""Differentiators the references can use: symengine (fast) or sympy (the reference of record)."""

DEFAULT_CAP_BITS = 2048
"""Highest interval precision tried before a point is declared unsamplable."""

NARROW_BITS = 256
"""Precision of the intervals a high-precision (50-digit, 169-bit) result is judged against."""
