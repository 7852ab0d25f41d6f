"""The base of the tensor frameworks' order-2 adapters: one computation per mode, under a time limit.

A subclass (:mod:`verification.frameworks.torch_order2`,
:mod:`verification.frameworks.jax_order2`) says how its framework computes
each mode (:meth:`FrameworkOrder2.runs`); what it raises, or a hang past the
limit, is an outcome recorded as the mode's error, never a crash. It
implements :class:`verification.second_foreign.Order2Engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from verification.expr import Expr, evaluate
from verification.foreign import EVAL_TIMEOUT
from verification.second_check import Mode
from verification.timeout import Timeout, time_limit

__all__ = ["FrameworkOrder2", "Run"]

Run = Callable[[Expr, Sequence[float], Sequence[float]], list[float]]


class FrameworkOrder2:
    """Base of the framework adapters: one method per mode, each run under a time limit, errors as outcomes."""

    name = ""

    def __init__(self, first: Any, *, timeout: float = EVAL_TIMEOUT) -> None:
        self.first = first
        self.timeout = timeout

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.first.supported_ops())

    # --- what a subclass provides -------------------------------------------------

    def constant(self, c: float) -> Any:
        """A float64 scalar of the framework."""
        raise NotImplementedError

    def apply(self, name: str, args: list[Any], params: tuple[float, ...]) -> Any:
        """One op application, as the first-order engine writes it."""
        raise NotImplementedError

    def _hessian(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        raise NotImplementedError

    def _hvp_rev(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        raise NotImplementedError

    def _hvp_fwd(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        raise NotImplementedError

    def _jvp(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------

    def runs(self) -> dict[Mode, Run]:
        """The framework's computation of each mode (float64 results, flat)."""
        return {
            Mode.HESSIAN: self._hessian,
            Mode.HVP_REV: self._hvp_rev,
            Mode.HVP_FWD: self._hvp_fwd,
            Mode.JVP: self._jvp,
        }

    def build(self, tree: Expr, leaves: Sequence[Any], memo: dict[Expr, Any] | None = None) -> Any:
        """The tree on ``leaves`` (a repeated subtree computed once; ``memo`` receives each op application)."""
        return evaluate(
            tree,
            leaves,
            const=self.constant,
            apply=lambda op, args, params: self.apply(op.name, args, params),
            memo=memo,
        )

    def second(
        self, tree: Expr, point: Sequence[float], v: Sequence[float], modes: frozenset[Mode]
    ) -> dict[Mode, list[float] | str]:
        runs = self.runs()
        return {mode: self._guarded(runs[mode], tree, point, v) for mode in Mode if mode in modes}

    def _guarded(self, run: Run, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float] | str:
        limit: Timeout | None = None
        try:
            with time_limit(self.timeout) as limit:
                return run(tree, point, v)
        except Timeout as exc:
            if not exc.raised_by(limit):
                raise  # an outer limit
            return f"TimeLimit: no answer within {self.timeout:g} s"
        except Exception as exc:  # what the framework raises is an outcome to record
            return f"{type(exc).__name__}: {str(exc).strip()}"

    def gradient(self, tree: Expr, point: Sequence[float]) -> tuple[float, ...] | None:
        """The first-order engine's gradient (reverse mode), None when it fails."""
        found = self.first.evaluate(tree, point)
        return None if not found.ok or found.grads is None else tuple(float(g) for g in found.grads)
