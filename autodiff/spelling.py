"""How engines that are not ours write an op: a method, a Python operator, and PyTorch's function.

An op's spelling belongs to its declaration (``defop(..., spelling=...)``);
by default it is derived from the op's name and source template:

* an op whose template is a Python operator (``"({0} + {1})"``, ``"(-{0})"``,
  ``"({c} ** {0})"``) is spelled with that operator on a micrograd-style
  class and on tensors; a binary operator also has its reflected dunder
  (``__radd__``), which Python calls when a number stands on the left;
* any other op is the method of its name (``x.tanh()``) and, on PyTorch,
  the function ``torch.<name>`` when torch has one; on JAX and HIPS autograd,
  ``jax.numpy.<name>`` and ``autograd.numpy.<name>``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Spelling", "derive_spelling", "spelling_of", "OPERATOR_DUNDERS"]

OPERATOR_DUNDERS: dict[str, tuple[str, str]] = {
    "+": ("__add__", "__radd__"),
    "-": ("__sub__", "__rsub__"),
    "*": ("__mul__", "__rmul__"),
    "/": ("__truediv__", "__rtruediv__"),
    "**": ("__pow__", "__rpow__"),
}
"""Binary operator -> (dunder, reflected dunder)."""

_BINOPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


@dataclass(frozen=True)
class Spelling:
    """An op's spellings; ``source`` is Python with ``{0}``, ``{1}`` for inputs and ``{name}`` for parameters.

    ``method`` is set for an op written ``x.method(*params)``; ``operator`` for
    one written with a Python operator (``"+"``, unary ``"-"``) or the builtin
    ``abs``; ``reflected`` names the dunder a number on the left calls;
    ``torch`` is a path below the ``torch`` module (``"tanh"``,
    ``"nn.functional.softplus"``), or None where the Python source works on
    tensors as written (operators); ``jax`` and ``autograd`` likewise name a
    function below their modules (``"numpy.tanh"``, ``"nn.sigmoid"``,
    ``"scipy.special.expit"``), or a call written below them where there is
    no function of the op's own (``"numpy.maximum({0}, 0.0)"``).
    """

    source: str
    method: str | None = None
    operator: str | None = None
    reflected: str | None = None
    torch: str | None = None
    jax: str | None = None
    autograd: str | None = None

    @property
    def is_method(self) -> bool:
        """Whether engines call this op as a method of a Value."""
        return self.method is not None


def _operator_of(template: str, arity: int, params: tuple[str, ...]) -> tuple[str, str | None] | None:
    """(operator, reflected dunder) when ``template`` is one Python operator over its inputs and parameters."""
    names = {**{str(i): f"x{i}" for i in range(arity)}, **{p: f"p_{p}" for p in params}}
    try:
        text = template.format(*(names[str(i)] for i in range(arity)), **{p: names[p] for p in params})
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, KeyError, IndexError, ValueError):
        return None
    leaves = set(names.values())

    def is_leaf(n: ast.expr) -> bool:
        return isinstance(n, ast.Name) and n.id in leaves

    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS and is_leaf(node.left) and is_leaf(node.right):
        symbol = _BINOPS[type(node.op)]
        return symbol, OPERATOR_DUNDERS[symbol][1]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and is_leaf(node.operand):
        return "-", None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and is_leaf(node.args[0])
    ):
        return "abs", None
    return None


def derive_spelling(
    name: str, template: str | None, arity: int, params: tuple[str, ...], given: Spelling | None = None
) -> Spelling:
    """The spelling of an op: ``given`` when declared, else derived from the name and template."""
    if given is not None:
        return given
    if template is not None:
        found = _operator_of(template, arity, params)
        if found is not None:
            return Spelling(source=template, operator=found[0], reflected=found[1])
    args = ", ".join(f"{{{p}}}" for p in params)
    extra = ", ".join(f"{{{i}}}" for i in range(1, arity))
    inner = ", ".join(a for a in (extra, args) if a)
    return Spelling(
        source=f"{{0}}.{name}({inner})", method=name, torch=name, jax=f"numpy.{name}", autograd=f"numpy.{name}"
    )


class Declared(Protocol):
    """What an op declaration (:class:`autodiff.Op`) gives for its spelling."""

    @property
    def name(self) -> str: ...
    @property
    def template(self) -> str | None: ...
    @property
    def arity(self) -> int: ...
    @property
    def params(self) -> tuple[str, ...]: ...
    @property
    def spelling(self) -> Spelling | None: ...


def spelling_of(op: Declared) -> Spelling:
    """How engines that are not ours write ``op``: its declared spelling, or one derived from name and template."""
    return derive_spelling(op.name, op.template, op.arity, op.params, op.spelling)
