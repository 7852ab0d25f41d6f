"""The detection methods a mutation run scores, and the name of its engine-fault target."""

from __future__ import annotations

__all__ = ["METHODS", "ENGINE_TARGET"]

METHODS: tuple[str, ...] = ("prover", "engine_f64", "engine_hp", "gradcheck")
"""Detection methods, in the order tables list them."""

ENGINE_TARGET = "engine"
"""The name ``--ops`` uses for the engine faults."""
