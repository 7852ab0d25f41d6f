"""Engines that are not ours at second order: the adapter protocol, the check of one point, and which engines have one.

An :class:`Order2Engine` computes, in float64, what the built-in engine
computes at second order (:class:`verification.second_check.Mode`): Hessian
entries reverse over reverse, H v reverse over reverse and forward over
reverse, and the JVP. :func:`check_foreign` judges its results against the
same certified truth and the same error bounds as the built-in engine's
float64 rows (the bound is the running error analysis of a careful
implementation of each op's rule, see :mod:`verification.second_check`); a
result outside it is a *finding*, which :mod:`verification.second_defects`
then classifies (wrong, inaccurate, fragile, broken, missing), since a
foreign op may lose more bits than our careful rules without being wrong.

:func:`order2_engine` maps the engine of ``--engine`` to its order-2 adapter:
PyTorch and JAX have one; a micrograd-style class with neither double
backward nor forward mode gets a one-line refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from verification.errors import UsageError
from verification.expr import Expr
from verification.second_check import Mode, SecondRow, check_second, judge_entry

__all__ = ["Order2Engine", "ForeignCheck", "check_foreign", "order2_engine", "mode_of"]


class Order2Engine(Protocol):
    """What the order-2 campaign needs from an engine that is not ours."""

    name: str

    def supported_ops(self) -> frozenset[str]:
        """Registry names of the ops the engine runs."""
        ...

    def second(
        self, tree: Expr, point: Sequence[float], v: Sequence[float], modes: frozenset[Mode]
    ) -> dict[Mode, list[float] | str]:
        """Per mode, the float64 results (row-major Hessian, H v, ``[grad . v]``) or the error it raised."""
        ...

    def values(self, tree: Expr, point: Sequence[float]) -> dict[Expr, float]:
        """The float64 value the engine computes at each op application of ``tree``."""
        ...

    def gradient(self, tree: Expr, point: Sequence[float]) -> tuple[float, ...] | None:
        """The engine's first-order (reverse) gradient, None when it fails."""
        ...

    def reproduction(self, tree: Expr, point: Sequence[float], v: Sequence[float], mode: Mode) -> str:
        """The engine's own code printing its result for ``mode`` at ``point``."""
        ...


class ForeignCheck:
    """The judged rows of one point for a foreign engine, and the modes that raised (with the error)."""

    def __init__(self, rows: list[SecondRow], errors: dict[Mode, str]) -> None:
        self.rows = rows
        self.errors = errors


def mode_of(name: str) -> Mode:
    """The mode named ``name`` (``hessian``, ``hvp_rev``, ``hvp_fwd``, ``jvp``)."""
    return Mode(name)


def check_foreign(
    tree: Expr, point: Sequence[float], v: Sequence[float], engine: Order2Engine, modes: frozenset[Mode]
) -> ForeignCheck | None:
    """The engine's float64 results judged like the built-in engine's float64 rows (None: truth not certified).

    The truth and the bound of each entry are those of the built-in engine's
    ``engine_f64`` row of the same entry: the certified enclosure, and the
    bound a careful float64 implementation of the same derivative meets
    (which a forward sweep leaving the float64 range makes infinite:
    ``unjudged``).
    """
    base = check_second(tree, point, v)
    if base is None:
        return None
    computed = engine.second(tree, point, v, modes)
    rows: list[SecondRow] = []
    errors: dict[Mode, str] = {}
    for mode, got in computed.items():
        if isinstance(got, str):
            errors[mode] = got
    for row in base:
        found = computed.get(row.mode)
        if row.method != "engine_f64" or found is None or isinstance(found, str):
            continue
        c = found[_flat_index(row, len(point))]
        rows.append(replace(row, computed=c, verdict=judge_entry("engine_f64", c, row.truth, row.bound)))
    return ForeignCheck(rows, errors)


def _flat_index(row: SecondRow, n: int) -> int:
    if row.mode is Mode.HESSIAN:
        return row.index[0] * n + row.index[1]
    return row.index[0] if row.index else 0


def order2_engine(spec: str, engine: Any) -> Order2Engine | None:
    """The order-2 adapter of ``engine`` (None for the built-in engine); UsageError when it has none."""
    if spec in ("gradproof", "builtin"):
        return None
    if spec == "torch":
        from verification.frameworks.torch_order2 import TorchOrder2

        return TorchOrder2(engine)
    if spec == "jax":
        from verification.frameworks.jax_order2 import JaxOrder2

        return JaxOrder2(engine)
    cls = getattr(engine, "cls", None)
    if cls is not None:
        raise UsageError(f"--order 2: engine {engine.name} {_lacks(cls)}; nothing to judge at second order")
    raise UsageError(
        f"--order 2: engine {engine.name} has no second-order adapter (torch and jax have one); nothing to judge"
    )


def _lacks(cls: type) -> str:
    """What a micrograd-style class lacks: ``backward(create_graph=True)`` building a graph, and forward mode."""
    double = _double_backward(cls)
    forward = any(callable(getattr(cls, name, None)) for name in ("jvp", "forward_grad", "push_tangents"))
    if double is None and not forward:
        return "supports neither double backward (backward(create_graph=True)) nor forward mode"
    if double is None:
        return "has no double backward (backward(create_graph=True)); its forward mode is not adapted"
    return f"has backward(create_graph=True) ({double}), but no order-2 adapter is written for such a class"


def _double_backward(cls: type) -> str | None:
    """How ``backward(create_graph=True)`` behaves on ``x * x`` (None: refused or no graph built)."""
    try:
        x = cls(0.5)
        y = x * x
        y.backward(create_graph=True)
    except Exception:  # a class without the keyword, or one that fails on it: no double backward
        return None
    grad = getattr(x, "grad", None)
    return "its .grad is a Value" if isinstance(grad, cls) else None
