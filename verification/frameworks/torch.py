"""PyTorch with users' custom ops: the torch engine, its ops compiled from its spellings, plus declared functions."""

from __future__ import annotations

from collections.abc import Sequence

from verification.expr import Expr, ops_in
from verification.foreign import TORCH_SOURCE, TorchEngine, assignments
from verification.frameworks.base import FrameworkProbe, OpForms, probe_ops, supported_now

__all__ = ["TorchCustomEngine"]


class TorchCustomEngine(TorchEngine):
    """:class:`~verification.foreign.TorchEngine` that probes its ops and runs custom torch ops (``--custom``)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: OpForms = OpForms("torch", TORCH_SOURCE, {"torch": self.torch})
        self.probe: FrameworkProbe = probe_ops(self, tuple(self.forms))

    def supported_ops(self) -> frozenset[str]:
        return supported_now(self)

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """PyTorch code reproducing ``tree`` at ``point``, importing the custom ops it uses."""
        names = [f"x{i}" for i in range(len(point))]
        used = set(ops_in(tree))
        for op in used:
            self.forms[op]  # a custom op declared since the engine was built: adopt it
        lines = ["import torch", *self.forms.import_lines(used)]
        lines += [f"{n} = torch.tensor({p!r}, dtype=torch.float64, requires_grad=True)" for n, p in zip(names, point)]
        lines += assignments(tree, names, self.forms.templates)
        lines.append(f"grads = torch.autograd.grad(y, [{', '.join(names)}], allow_unused=True)")
        lines.append("print(y.item(), [None if g is None else g.item() for g in grads])")
        return "\n".join(lines)
