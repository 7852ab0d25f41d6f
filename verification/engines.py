"""The engine under test: a small interface, and the built-in engine's adapter.

A campaign never touches an engine directly; it asks an :class:`Engine` to
evaluate an expression tree at a point and report the value and the gradient
(or the exception the engine raised, as an outcome rather than a crash).
Adapters for engines that are not ours implement the same interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from autodiff import Backend, Op, Value, get_op, mpmath_backend, op_names
from verification.expr import Expr, Resolver, evaluate_values

__all__ = ["Evaluation", "Engine", "BuiltinEngine", "BUILTIN_SPECS", "resolve_engine"]


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


class BuiltinEngine:
    """gradproof's own engine, in float64 or (``dps`` given) in mpmath at that precision.

    ``resolve`` maps op names to op objects, so a campaign can run the engine
    with mutated rules without touching the registry.
    """

    def __init__(self, *, dps: int | None = None, resolve: Resolver = get_op, name: str | None = None) -> None:
        self.dps = dps
        self.resolve = resolve
        self._backend: Backend | None = mpmath_backend(dps) if dps is not None else None
        self.name = name or ("gradproof" if dps is None else f"gradproof[mp{dps}]")

    def supported_ops(self) -> frozenset[str]:
        return frozenset(op_names())

    def op(self, name: str) -> Op:
        """The op object this engine runs for ``name``."""
        return self.resolve(name)

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        m = self._backend
        leaves = [Value(m.num(p) if m is not None else float(p)) for p in point]
        try:
            out = evaluate_values(tree, leaves, resolve=self.resolve)
            out.backward()
        except Exception as exc:  # the engine's failure is an outcome to record
            return Evaluation(error=f"{type(exc).__name__}: {exc}")
        return Evaluation(value=out.data, grads=tuple(v.grad for v in leaves))


BUILTIN_SPECS = ("gradproof", "builtin")
"""Engine specs that name the built-in engine."""


def resolve_engine(spec: str) -> Engine:
    """The engine named by ``spec``.

    * ``gradproof`` / ``builtin``: the built-in engine;
    * ``mutant:NAME``: the built-in engine with one mutant of
      :mod:`verification.mutants` (a wrong rule, or a traversal fault);
    * ``jax``, ``autograd``, ``tinygrad``: a framework adapter (see
      :mod:`verification.frameworks`);
    * ``torch``, ``module:Class`` or ``path/to/file.py:Class``: a foreign engine
      (see :mod:`verification.foreign`).

    A spec that cannot be loaded is a UsageError naming the cause.
    """
    if spec in BUILTIN_SPECS:
        return BuiltinEngine()
    if spec.startswith("mutant:"):
        from verification.mutants import mutant_engine

        return mutant_engine(spec[len("mutant:") :])
    from verification.frameworks import framework_engine

    engine: Engine | None = framework_engine(spec)  # jax, autograd, tinygrad, torch
    if engine is not None:
        return engine
    from verification.foreign import load_engine

    engine = load_engine(spec)
    return engine
