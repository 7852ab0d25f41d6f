"""One wrong variant of an op's rule or of the engine: the record every mutant generator makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autodiff import Op

__all__ = ["Mutant"]


@dataclass(frozen=True)
class Mutant:
    """One wrong variant: of an op's rule (``op`` set) or of the engine (``fault`` set)."""

    name: str
    target: str  # the op mutated, or "engine"
    kind: str
    size: float | None = None  # relative error size, for ``relative`` mutants
    op: Op | None = None
    fault: str | None = None

    def resolver(self, base: Callable[[str], Op]) -> Callable[[str], Op]:
        """A name -> op mapping that returns this mutant for its target and ``base`` otherwise."""
        mutated = self.op
        if mutated is None:
            return base
        target = self.target

        def resolve(name: str) -> Op:
            return mutated if name == target else base(name)

        return resolve
