"""How each framework spells an op: read from the op's declaration, never restated here.

An op's declaration says how PyTorch, JAX and HIPS autograd spell it (the
``torch``, ``jax`` and ``autograd`` paths of :class:`autodiff.Spelling`,
derived from its name when not declared); tinygrad's Tensor has the methods
and operators of a micrograd-style class, so its spelling is the op's Python
source. The same string is compiled into the callable the engine runs and
pasted into reproduction snippets (:func:`verification.forms.assignments`
with the framework's dialect), so a snippet runs exactly what the campaign ran.
"""

from __future__ import annotations

from autodiff import Op, all_ops
from verification.forms import template_in

__all__ = ["OWN", "spelling_in", "spellings"]

OWN: dict[str, dict[str, str]] = {
    "tinygrad": {"abs": "{0}.abs()"},  # its Tensor has the method but no __abs__, so abs(x) raises
}
"""What a framework writes differently from every declaration's Python form: its own table, nothing else."""


def spelling_in(op: Op, framework: str) -> str:
    """Source of ``op`` in ``framework`` (``{0}``, ``{1}`` the operands, ``{name}`` each parameter)."""
    own = OWN.get(framework, {}).get(op.name)
    return own if own is not None else template_in(op, framework)  # each framework is a dialect of its own


def spellings(framework: str) -> dict[str, str]:
    """Every registered op's spelling in ``framework``."""
    return {op.name: spelling_in(op, framework) for op in all_ops()}
