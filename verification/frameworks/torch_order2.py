"""PyTorch at second order: Hessians and H v by double backward, JVPs and H v forward over reverse by torch.func.

Float64 0-d tensors on the CPU, each op as the first-order torch engine runs
it (its spelling, or the user's custom function), so both orders check the
same code:

* ``hessian`` -- ``torch.autograd.grad(y, xs, create_graph=True)``, then
  ``torch.autograd.grad`` of each partial (reverse over reverse);
* ``hvp_rev`` -- ``torch.autograd.grad`` of ``grad(y) . v`` (double backward);
* ``hvp_fwd`` -- ``torch.func.jvp(torch.func.grad(f), xs, v)`` (forward over reverse);
* ``jvp`` -- ``torch.func.jvp(f, xs, v)`` (forward mode).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autodiff import get_op
from verification.expr import Expr, ops_in
from verification.foreign import EVAL_TIMEOUT
from verification.forms import assignments
from verification.second_check import Mode
from verification.second_framework import FrameworkOrder2

__all__ = ["TorchOrder2"]


class TorchOrder2(FrameworkOrder2):
    """The order-2 adapter of a first-order torch engine (:class:`verification.foreign.TorchEngine`)."""

    name = "torch"

    def __init__(self, first: Any, *, timeout: float = EVAL_TIMEOUT) -> None:
        import torch
        import torch.func

        super().__init__(first, timeout=timeout)
        self.torch: Any = torch

    # --- building the function ----------------------------------------------------

    def apply(self, name: str, args: list[Any], params: tuple[float, ...]) -> Any:
        """One op application in torch, as the first-order engine writes it."""
        return self.first._apply(get_op(name), args, params)

    def constant(self, c: float) -> Any:
        return self.torch.tensor(c, dtype=self.torch.float64)

    def _tensors(self, values: Sequence[float], *, grad: bool = False) -> list[Any]:
        torch = self.torch
        return [torch.tensor(float(p), dtype=torch.float64, requires_grad=grad) for p in values]

    # --- the modes ------------------------------------------------------------------

    def _grads(self, tree: Expr, point: Sequence[float]) -> tuple[list[Any], list[Any]]:
        xs = self._tensors(point, grad=True)
        y = self.build(tree, xs)
        if not y.requires_grad:  # a constant: no graph, every derivative 0
            return xs, [None] * len(xs)
        return xs, list(self.torch.autograd.grad(y, xs, create_graph=True, allow_unused=True))

    def _numbers(self, found: Sequence[Any]) -> list[float]:
        return [0.0 if g is None else float(g.item()) for g in found]

    def _differentiate(self, g: Any, xs: list[Any]) -> list[float]:
        if g is None or not g.requires_grad:
            return [0.0] * len(xs)
        return self._numbers(self.torch.autograd.grad(g, xs, retain_graph=True, allow_unused=True))

    def _hessian(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        xs, grads = self._grads(tree, point)
        return [h for g in grads for h in self._differentiate(g, xs)]

    def _hvp_rev(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        xs, grads = self._grads(tree, point)
        total = None
        for g, c in zip(grads, v):
            if g is not None and g.requires_grad:
                total = g * c if total is None else total + g * c
        return self._differentiate(total, xs)

    def _function(self, tree: Expr) -> Callable[..., Any]:
        return lambda *xs: self.build(tree, xs)

    def _hvp_fwd(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        func = self.torch.func
        grad = func.grad(self._function(tree), argnums=tuple(range(len(point))))
        _, tangents = func.jvp(grad, tuple(self._tensors(point)), tuple(self._tensors(v)))
        return self._numbers(tangents)

    def _jvp(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        _, tangent = self.torch.func.jvp(self._function(tree), tuple(self._tensors(point)), tuple(self._tensors(v)))
        return [float(tangent.item())]

    # --- for localising a finding ------------------------------------------------------

    def values(self, tree: Expr, point: Sequence[float]) -> dict[Expr, float]:
        memo: dict[Expr, Any] = {}
        with self.torch.no_grad():
            self.build(tree, self._tensors(point), memo)
        return {node: float(t.item()) for node, t in memo.items()}

    # --- reproductions ----------------------------------------------------------------------

    def reproduction(self, tree: Expr, point: Sequence[float], v: Sequence[float], mode: Mode) -> str:
        """PyTorch code printing the engine's result for ``mode`` at ``point``."""
        names = [f"x{i}" for i in range(len(point))]
        forms = getattr(self.first, "forms", None)
        resolve = forms.resolve if forms is not None else get_op
        used = set(ops_in(tree))
        lines = ["import torch", *(forms.import_lines({n for n in used if forms.custom(n)}) if forms else [])]
        lines.append(f"def f({', '.join(names)}):")
        lines.extend(f"    {line}" for line in assignments(tree, names, dialect="torch", resolve=resolve))
        lines.append("    return y")
        lines.append(f"point, v = {list(point)!r}, {list(v)!r}")
        if mode in (Mode.HESSIAN, Mode.HVP_REV):
            lines.append("xs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in point]")
            lines.append("g = torch.autograd.grad(f(*xs), xs, create_graph=True, materialize_grads=True)")
            if mode is Mode.HESSIAN:
                lines.append(
                    "print([[float(h) for h in torch.autograd.grad(gi, xs, retain_graph=True, materialize_grads=True)]"
                    " if gi.requires_grad else [0.0] * len(xs) for gi in g])"
                )
            else:
                lines.append("gv = sum(gi * vi for gi, vi in zip(g, v))")
                lines.append("print([float(h) for h in torch.autograd.grad(gv, xs, materialize_grads=True)])")
            return "\n".join(lines)
        lines.append("xs = tuple(torch.tensor(p, dtype=torch.float64) for p in point)")
        lines.append("vs = tuple(torch.tensor(c, dtype=torch.float64) for c in v)")
        if mode is Mode.HVP_FWD:
            argnums = tuple(range(len(point)))
            lines.append(f"_, hv = torch.func.jvp(torch.func.grad(f, argnums={argnums!r}), xs, vs)")
            lines.append("print([float(h) for h in hv])")
        else:
            lines.append("_, jv = torch.func.jvp(f, xs, vs)")
            lines.append("print(float(jv))")
        return "\n".join(lines)
