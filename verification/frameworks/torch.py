"""PyTorch with users' custom ops: the built-in torch engine, plus each declared torch function for its op."""

from __future__ import annotations

from collections.abc import Sequence

from verification.expr import Expr, ops_in
from verification.foreign import TORCH_SOURCE, TorchEngine, assignments
from verification.frameworks.base import FrameworkProbe, compile_form, probe_ops
from verification.frameworks.custom import customs_for

__all__ = ["TorchCustomEngine"]


class TorchCustomEngine(TorchEngine):
    """:class:`~verification.foreign.TorchEngine` that also runs the custom torch ops (``--custom``, ``custom_op``)."""

    def __init__(self) -> None:
        super().__init__()
        self.customs = customs_for("torch")
        self.templates = dict(TORCH_SOURCE)
        for custom in self.customs:
            self.templates[custom.name] = custom.template()
            self.forms[custom.name] = compile_form(custom.template(), custom.op.arity, {custom.ident: custom.fn})
        self.probe: FrameworkProbe = probe_ops(self, tuple(self.forms))

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.probe.supported)

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """PyTorch code reproducing ``tree`` at ``point``, importing the custom ops it uses."""
        names = [f"x{i}" for i in range(len(point))]
        used = set(ops_in(tree))
        lines = ["import torch"]
        for custom in self.customs:
            if custom.name in used:
                lines.extend(custom.import_lines())
        lines += [f"{n} = torch.tensor({p!r}, dtype=torch.float64, requires_grad=True)" for n, p in zip(names, point)]
        lines += assignments(tree, names, self.templates)
        lines.append(f"grads = torch.autograd.grad(y, [{', '.join(names)}], allow_unused=True)")
        lines.append("print(y.item(), [None if g is None else g.item() for g in grads])")
        return "\n".join(lines)
