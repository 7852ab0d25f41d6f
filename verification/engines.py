"""The built-in engine as an engine under test (the interface itself is :mod:`verification.engine_api`).

Adapters for engines that are not ours (:mod:`verification.foreign`) implement
the same interface; :mod:`verification.engine_spec` turns an ``--engine`` spec
into any of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from autodiff import Backend, Op, Value, get_op, mpmath_backend, op_names
from verification.engine_api import Engine, Evaluation
from verification.expr import Expr, Resolver, evaluate_values

__all__ = ["Evaluation", "Engine", "BuiltinEngine", "BUILTIN_SPECS"]


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
