"""Forward mode: tangents pushed through the graph by the same rules reverse mode uses.

The tangent of a node is the sum, over its inputs, of the op's local partial
(its declared rule, run on the node's backend) times that input's tangent:
``dot(y) = sum_i d y / d x_i * dot(x_i)``. Nothing is declared twice: the
partials are the ones :meth:`Value.backward` multiplies by adjoints.

* :func:`push_tangents` -- tangents of chosen nodes, given tangents of leaves;
* :func:`jvp` -- ``(f(x), J_f(x) . v)`` for a function of Values, like JAX's ``jax.jvp``.

It works on every backend (floats, mpmath, sympy) and on any graph of Values,
including a gradient built with ``create_graph=True`` (forward over reverse).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autodiff.backends import Backend, backend_of
from autodiff.engine import Value, _rule_error, topological_order_of

__all__ = ["push_tangents", "jvp"]


def _backend(node: Value) -> Backend:
    m = backend_of(node.data)
    if m is None:
        raise TypeError(f"not a number: {node.data!r}")
    return m


def push_tangents(outputs: Sequence[Value], seeds: Mapping[Value, Any]) -> tuple[Any, ...]:
    """The tangent of each output when each node in ``seeds`` has the given tangent.

    Nodes not seeded and not depending on a seeded node have tangent 0. A
    seeded node's tangent is taken as given (what it depends on is ignored).
    """
    roots = list(outputs)
    if not roots:
        return ()
    for node in roots:
        if not isinstance(node, Value):
            raise TypeError(f"push_tangents: outputs must be Values, got {type(node).__name__}")
    m = _backend(roots[0])
    topo = topological_order_of(roots)
    collecting = gc.isenabled()
    gc.disable()  # no reference cycles are made here (see Value.backward)
    try:
        for node in topo:
            t = seeds.get(node)
            node._g = _tangent(m, node) if t is None and node._op is not None else t
        found = tuple(node._g for node in roots)
    finally:
        for node in topo:
            try:
                del node._g
            except AttributeError:  # not reached before an error
                pass
        if collecting:
            gc.enable()
    return tuple(m.zero if t is None else t for t in found)


def _tangent(m: Backend, node: Value) -> Any:
    """sum_i partial_i * tangent(parent_i) (None for 0), the parents' tangents being in ``_g``."""
    op = node._op
    assert op is not None
    parents = node._prev
    partials: Any = None
    t: Any = None
    try:
        partials = op.grad(m, node.data, *[p.data for p in parents], *node._params)
        for parent, d in zip(parents, partials, strict=True):
            tp = parent._g
            if tp is not None:
                t = d * tp if t is None else t + d * tp
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        raise _rule_error(op, node, partials, exc) from exc
    return t


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), directional derivative of f at primals along tangents)``.

    ``primals`` are numbers (float, mpmath, sympy) or Values; ``f`` maps Values
    to a Value (a plain number is a constant function, tangent 0).
    """
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    leaves = [p if isinstance(p, Value) else Value(p) for p in primals]
    out = f(*leaves)
    if not isinstance(out, Value):
        return out, 0 * out
    (tangent,) = push_tangents([out], dict(zip(leaves, tangents)))
    return out.data, tangent
