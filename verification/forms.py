"""Ops as engines that are not ours write them: callables and source derived from each op's spelling.

The registry says how an op is spelled (:mod:`autodiff.spelling`); from that
this module makes the callable that applies it to a micrograd-style Value or
a tensor, the Python source of an application (for reproductions), and the
*form* an application takes: a method, an operator, or the reflected operator
Python calls when a plain number stands on the left.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from autodiff import Op, get_op, spelling_of
from verification.defect_kinds import Form
from verification.expr import Apply, Const, Expr, Resolver, Var, shared_subtrees

__all__ = [
    "DIALECTS",
    "operand_order",
    "python_form",
    "compile_template",
    "form_of",
    "shapes",
    "source",
    "assignments",
    "torch_template",
    "template_in",
    "function_path",
]

DIALECTS = ("python", "gradproof", "torch", "jax", "autograd", "tinygrad")
"""How an application may be written: a micrograd-style class (``python``; tinygrad's Tensor methods are
the same), our own functions (``gradproof``), or a framework's functions below its module."""

_MODULE_DIALECTS = ("torch", "jax", "autograd")


@lru_cache(maxsize=256)
def operand_order(template: str) -> tuple[str, ...]:
    """Placeholders of a source template in the order they are written: ``"({c} ** {0})"`` -> ``("c", "0")``."""
    return tuple(field for _, field, _, _ in string.Formatter().parse(template) if field is not None)


def compile_template(op: Op, template: str, namespace: dict[str, Any] | None = None) -> Callable[..., Any]:
    """``f(*inputs, *params)`` running ``template`` (an op's source in some dialect) with ``namespace``'s names."""
    inputs = [f"x{i}" for i in range(op.arity)]
    params = [f"p_{p}" for p in op.params]
    body = template.format(*inputs, **{p: f"p_{p}" for p in op.params})
    fn: Callable[..., Any] = eval(f"lambda {', '.join(inputs + params)}: {body}", {"abs": abs, **(namespace or {})})
    return fn


_FORMS: dict[tuple[str, int], Callable[..., Any]] = {}


def python_form(op: Op) -> Callable[..., Any]:
    """``f(*inputs, *params)`` applying ``op`` as its spelling writes it (operators work on tensors too)."""
    key = (op.name, id(op))
    if key not in _FORMS:
        _FORMS[key] = compile_template(op, spelling_of(op).source)
    return _FORMS[key]


def function_path(op: Op, dialect: str) -> str | None:
    """The op's function below the framework module of ``dialect`` (``"numpy.tanh"``), None for a Python form."""
    if dialect not in _MODULE_DIALECTS:
        return None
    path: str | None = getattr(spelling_of(op), dialect)
    return None if path is None else path.partition("(")[0]


def template_in(op: Op, dialect: str) -> str:
    """Source of the op in ``dialect``: ``jax.<path>(...)`` for a framework's function, else the Python form."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r} (one of {', '.join(DIALECTS)})")
    s = spelling_of(op)
    path: str | None = getattr(s, dialect) if dialect in _MODULE_DIALECTS else None
    if path is None:
        return s.source
    if "{" in path:  # a call written below the module
        return f"{dialect}.{path}"
    args = [f"{{{i}}}" for i in range(op.arity)] + [f"{{{p}}}" for p in op.params]
    return f"{dialect}.{path}({', '.join(args)})"


def torch_template(op: Op) -> str:
    """Source of the op on PyTorch: ``torch.<path>(...)`` for a function, else the Python form."""
    return template_in(op, "torch")


def shapes(op: Op) -> tuple[tuple[bool, ...], ...]:
    """The operand shapes worth probing: per input, whether it is a Value (True) or a plain number (False).

    A binary operator over two inputs has three (``v op v``, ``v op c``,
    ``c op v``); every other op has one, all inputs Values.
    """
    s = spelling_of(op)
    if s.operator is not None and op.arity == 2 and not op.params:
        return ((True, True), (True, False), (False, True))
    return ((True,) * op.arity,)


def form_of(op: Op, is_value: Sequence[bool]) -> Form:
    """The written form of ``op`` applied to operands of which ``is_value[i]`` tells the Values."""
    s = spelling_of(op)
    if s.operator is None:
        return Form.METHOD
    first = operand_order(s.source)[0] if operand_order(s.source) else "0"
    left_is_value = is_value[int(first)] if first.isdigit() else False
    return Form.OPERATOR if left_is_value else Form.REFLECTED


def source(
    tree: Expr,
    names: Sequence[str],
    bound: dict[Expr, str] | None = None,
    *,
    dialect: str = "python",
    resolve: Resolver = get_op,
) -> str:
    """The tree as an engine's source; ``bound`` names shared subtrees.

    ``dialect`` is ``"python"`` (a micrograd-style class: operators and
    methods; ``"tinygrad"`` is the same), ``"torch"``, ``"jax"``,
    ``"autograd"`` (each framework's functions, :func:`template_in`) or
    ``"gradproof"`` (our own: ops without an operator are called, ``tanh(x0)``).
    """
    if bound and tree in bound:
        return bound[tree]
    if isinstance(tree, Var):
        return names[tree.index]
    if isinstance(tree, Const):
        return repr(tree.value)
    assert isinstance(tree, Apply)
    op = resolve(tree.op)
    args = [source(a, names, bound, dialect=dialect, resolve=resolve) for a in tree.args]
    if dialect == "gradproof":
        return op.format(*args, *(repr(p) for p in tree.params))
    template = template_in(op, dialect)
    return template.format(*args, **{p: repr(v) for p, v in zip(op.params, tree.params)})


def assignments(tree: Expr, names: Sequence[str], *, dialect: str = "python", resolve: Resolver = get_op) -> list[str]:
    """``t0 = ...`` for each repeated subtree (innermost first), then ``y = ...``: the same shared graph."""
    bound: dict[Expr, str] = {}
    lines = []
    for k, sub in enumerate(shared_subtrees(tree)):
        lines.append(f"t{k} = {source(sub, names, bound, dialect=dialect, resolve=resolve)}")
        bound[sub] = f"t{k}"
    lines.append(f"y = {source(tree, names, bound, dialect=dialect, resolve=resolve)}")
    return lines
