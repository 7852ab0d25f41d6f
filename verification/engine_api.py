"""The engine-under-test interface: what an engine returns at one point, and what it must provide.

A campaign never touches an engine directly; it asks an :class:`Engine` to
evaluate an expression tree at a point and report the value and the gradient
(or the exception the engine raised, as an outcome rather than a crash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from verification.expr import Expr

__all__ = ["Evaluation", "Engine"]


@dataclass(frozen=True)
class Evaluation:
    """What an engine returned at one point: value and gradient, or the error it raised."""

    value: Any = None
    grads: tuple[Any, ...] | None = None
    error: str | None = None  # "ExceptionType: message" when the engine raised

    @property
    def ok(self) -> bool:
        """Whether the engine produced a value and a gradient."""
        return self.error is None


@runtime_checkable
class Engine(Protocol):
    """What the harness needs from an engine under test."""

    name: str

    def supported_ops(self) -> frozenset[str]:
        """Registry names of the ops this engine can run (expressions use only these)."""
        ...

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        """Value of ``tree`` and its gradient w.r.t. every variable, at ``point`` (float64 inputs)."""
        ...
