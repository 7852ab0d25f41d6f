"""PyTorch with users' custom ops: the torch engine, probed like every engine, plus declared functions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from autodiff import Op
from verification.defect_kinds import Form
from verification.expr import Expr, ops_in
from verification.foreign import TorchEngine
from verification.forms import assignments
from verification.frameworks.base import FrameworkProbe, OpForms, ProbedNow, flushes_subnormals

__all__ = ["TorchCustomEngine"]


class TorchCustomEngine(ProbedNow, TorchEngine):  # type: ignore[misc]  # probe: a property kept current
    """:class:`~verification.foreign.TorchEngine` that also runs custom torch ops (``--custom``)."""

    def __init__(self) -> None:
        super().__init__()  # probes every op, custom ones through the user's function
        found = self._probe
        self.probe = FrameworkProbe(found.results, found.kink_conventions, (), flushes_subnormals(self, found))

    @cached_property
    def forms(self) -> OpForms:  # type: ignore[override]  # built once torch is imported
        """The ops as torch code, and the custom torch ops declared now."""
        return OpForms("torch", {"torch": self.torch})

    def has_form(self, op: Op, form: Form) -> bool:
        """A custom op runs the user's function; any other op is what its torch spelling names."""
        return self.forms.custom(op.name) is not None or super().has_form(op, form)

    def _apply(self, op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        if self.forms.custom(op.name) is not None:
            return self.forms[op.name](*args, *params)
        return super()._apply(op, args, params)

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """PyTorch code reproducing ``tree`` at ``point``, importing the custom ops it uses."""
        names = [f"x{i}" for i in range(len(point))]
        lines = ["import torch", *self.forms.import_lines({n for n in ops_in(tree) if self.forms.custom(n)})]
        lines += [f"{n} = torch.tensor({p!r}, dtype=torch.float64, requires_grad=True)" for n, p in zip(names, point)]
        lines += assignments(tree, names, dialect="torch", resolve=self.forms.resolve)
        lines.append(f"grads = torch.autograd.grad(y, [{', '.join(names)}], allow_unused=True)")
        lines.append("print(y.item(), [None if g is None else g.item() for g in grads])")
        return "\n".join(lines)
