"""A small expression tree over registered ops, and one generic evaluator.

The same tree runs on engine Values, on raw backend numbers (floats, mpmath,
sympy) through each op's forward, or on sympy through each op's ``spec`` (its
mathematical definition in sympy's own functions, independent of the engine's
code). Trees name ops by registry name so they pickle across processes; an
evaluation may resolve names to other op objects (mutants) with ``resolve``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from autodiff import Op, Value, get_op

__all__ = [
    "Var",
    "Const",
    "Apply",
    "Expr",
    "evaluate",
    "evaluate_values",
    "shared_subtrees",
    "to_sympy",
    "to_source",
    "ops_in",
    "depth",
    "size",
    "variables",
]


@dataclass(frozen=True)
class Var:
    """The ``index``-th input variable."""

    index: int

    def __str__(self) -> str:
        return f"x{self.index}"


@dataclass(frozen=True)
class Const:
    """A float64 constant (exact: converted to sympy/mpmath without rounding)."""

    value: float

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Apply:
    """``op`` applied to ``args``, with the op's constant parameters."""

    op: str
    args: tuple[Expr, ...]
    params: tuple[float, ...] = ()

    def __str__(self) -> str:
        return to_source(self)


Expr = Var | Const | Apply
Resolver = Callable[[str], Op]


def evaluate(
    tree: Expr,
    leaves: Sequence[Any],
    *,
    const: Callable[[float], Any],
    apply: Callable[[Op, list[Any], tuple[float, ...]], Any],
    resolve: Resolver = get_op,
    memo: dict[Expr, Any] | None = None,
) -> Any:
    """Fold ``tree``: variables from ``leaves``, constants through ``const``, ops through ``apply``.

    Identical subtrees are evaluated once and their result reused, so on an
    engine a repeated subexpression is one node with several consumers (the
    graph is a DAG): that is what exercises an engine's accumulation and its
    topological order. ``memo``, when given, receives the result of each op application.
    """
    memo = {} if memo is None else memo

    def fold(node: Expr) -> Any:
        if isinstance(node, Var):
            return leaves[node.index]
        if isinstance(node, Const):
            return const(node.value)
        found = memo.get(node, _MISSING)
        if found is _MISSING:
            args = [fold(a) for a in node.args]
            found = memo[node] = apply(resolve(node.op), args, node.params)
        return found

    return fold(tree)


_MISSING = object()


def shared_subtrees(tree: Expr) -> list[Apply]:
    """Op subtrees that occur more than once, innermost first (each once)."""
    counts: dict[Expr, int] = {}
    order: list[Apply] = []

    def visit(node: Expr) -> None:
        if not isinstance(node, Apply):
            return
        seen_before = node in counts
        counts[node] = counts.get(node, 0) + 1
        if seen_before:
            return
        for a in node.args:
            visit(a)
        order.append(node)

    visit(tree)
    return [n for n in order if counts[n] > 1]


def evaluate_values(tree: Expr, leaves: Sequence[Value], *, resolve: Resolver = get_op) -> Value:
    """Run the tree on engine Values (constants are lifted into the leaves' backend)."""
    backend = leaves[0].backend if leaves else None

    def const(c: float) -> Value:
        return Value(backend.num(c)) if backend is not None else Value(c)

    def apply(op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        return op(*args, *params)

    result: Value = evaluate(tree, leaves, const=const, apply=apply, resolve=resolve)
    return result


def to_sympy(tree: Expr, symbols: Sequence[Any], *, resolve: Resolver = get_op) -> Any:
    """The tree in sympy's own functions, through each op's ``spec``; constants stay exact."""
    import sympy

    def const(c: float) -> Any:
        return sympy.Rational(c) if c == c and abs(c) != float("inf") else sympy.sympify(c)

    def apply(op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        if op.spec is None:
            from autodiff import sympy_backend

            m = sympy_backend()
            return op.forward(m, *args, *(sympy.Rational(p) for p in params))
        return op.spec(sympy, *args, *(sympy.Rational(p) for p in params))

    return evaluate(tree, symbols, const=const, apply=apply, resolve=resolve)


def to_source(tree: Expr, names: Sequence[str] | None = None, *, resolve: Resolver = get_op) -> str:
    """Python source for the tree, e.g. ``tanh((x0 * 2.0))``."""
    if isinstance(tree, Var):
        return names[tree.index] if names is not None else str(tree)
    if isinstance(tree, Const):
        return repr(tree.value)
    args = [to_source(a, names, resolve=resolve) for a in tree.args]
    op = resolve(tree.op)
    return op.format(*args, *(repr(p) for p in tree.params))


def walk(tree: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children."""
    yield tree
    if isinstance(tree, Apply):
        for a in tree.args:
            yield from walk(a)


def ops_in(tree: Expr) -> tuple[str, ...]:
    """Sorted names of the ops the tree uses."""
    return tuple(sorted({n.op for n in walk(tree) if isinstance(n, Apply)}))


def depth(tree: Expr) -> int:
    """Longest path from the root to a leaf, counted in ops (a leaf has depth 0)."""
    if isinstance(tree, Apply):
        return 1 + max(depth(a) for a in tree.args)
    return 0


def size(tree: Expr) -> int:
    """Number of nodes (ops, variables and constants)."""
    return sum(1 for _ in walk(tree))


def variables(tree: Expr) -> tuple[int, ...]:
    """Indices of the variables the tree uses, sorted."""
    return tuple(sorted({n.index for n in walk(tree) if isinstance(n, Var)}))
