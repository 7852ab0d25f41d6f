"""The vocabulary of defects: how severe a defect is, and in which written form of an op it shows."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Severity", "Form", "SEVERITY_ORDER", "FAILING", "STRICT_FAILING"]


class Severity(StrEnum):
    """What a user should do about a defect (most severe first)."""

    WRONG = "wrong"  # the gradient or value is mathematically wrong (rule, operator form, graph)
    BROKEN = "broken"  # an exposed op raises, hangs or returns non-numbers at ordinary inputs
    INACCURATE = "inaccurate"  # right formula, more bits lost than the conditioning explains
    FRAGILE = "fragile"  # raises or overflows only at extreme inputs where the math is finite
    MISSING = "missing"  # an operator form or method the engine lacks (reported once, then avoided)


SEVERITY_ORDER: dict[Severity, int] = {s: i for i, s in enumerate(Severity)}
"""Rank of each severity; smaller is more severe."""

FAILING: frozenset[Severity] = frozenset({Severity.WRONG, Severity.BROKEN})
"""Severities that make a run exit 1."""

STRICT_FAILING: frozenset[Severity] = FAILING | {Severity.INACCURATE, Severity.FRAGILE}
"""Severities that make a run exit 1 under ``--strict``."""


class Form(StrEnum):
    """Where a defect shows: one written form of an op, or the engine's graph handling."""

    METHOD = "method"  # x.tanh()
    OPERATOR = "operator"  # x + y, x + 2.0, -x, abs(x)
    REFLECTED = "reflected operator"  # 2.0 + x (the number on the left: __radd__)
    GRAPH = "graph"  # accumulation, topological order, shared nodes
