"""Values as a number system: rules run on Values build the gradient itself as a graph.

Every rule is written against a backend ``m``; :class:`ValueBackend` is one more
backend, whose numbers are :class:`~autodiff.engine.Value` nodes over a base
backend (float, mpmath or sympy). ``m.exp(x)`` on a Value applies the ``exp``
op, ``m.pow`` the ``pow``/``pow_const``/``const_pow`` op that fits its operands,
arithmetic and comparisons are the Value's own. A partial computed this way is a
node whose parents are the forward nodes, so reverse mode over it gives second
derivatives with no second rule anywhere:

* ``m.where(cond, a, b)`` with a decided condition (a bool) is the chosen
  branch, graph and all, so its derivative is the chosen branch's derivative;
  an undecided (symbolic) condition builds a ``select`` node whose partials are
  1 on the chosen branch and 0 on the other, piecewise;
* ``m.sign`` and ``m.isnormal`` are piecewise constant: they read the data and
  give a plain number, which carries no derivative;
* ``m.expm1`` and ``m.log1p``, which no built-in op covers, are the ops
  :data:`EXPM1` and :data:`LOG1P` declared here (unregistered).

:func:`backward_graph` is ``Value.backward(create_graph=True)``;
:func:`gradients` returns d(output)/d(input) for chosen inputs without touching
``.grad``, as numbers or (``create_graph=True``) as Values.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any

from autodiff import ops
from autodiff.backends import Backend, backend_of
from autodiff.engine import Value, _propagate, _rule_error, node_of, set_backward_graph, topological_order
from autodiff.registry import Interval, Op, defop

__all__ = ["ValueBackend", "value_backend", "backward_graph", "gradients", "SELECT", "EXPM1", "LOG1P"]


def _select(m: Backend, a: Any, b: Any, cond: Any) -> Any:
    """a where cond holds, else b."""
    return m.where(cond, a, b)


def _select_grad(m: Backend, ans: Any, a: Any, b: Any, cond: Any) -> tuple[Any, Any]:
    return (m.where(cond, m.one, m.zero), m.where(cond, m.zero, m.one))


def _expm1(m: Backend, x: Any) -> Any:
    """e**x - 1; d/dx = e**x."""
    return m.expm1(x)


def _expm1_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (m.exp(x),)


def _log1p(m: Backend, x: Any) -> Any:
    """log(1 + x) for x > -1; d/dx = 1/(1 + x)."""
    return m.log1p(x)


def _log1p_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (1 / (1 + x),)


SELECT: Op = defop("select", forward=_select, grad=_select_grad, params=("cond",), register=False)
EXPM1: Op = defop("expm1", forward=_expm1, grad=_expm1_grad, spec=lambda sp, x: sp.exp(x) - 1, register=False)
LOG1P: Op = defop(
    "log1p",
    forward=_log1p,
    grad=_log1p_grad,
    domain=((Interval(-1.0),),),
    spec=lambda sp, x: sp.log(1 + x),
    register=False,
)


def _unary_fn(op: Op, base_fn: Any, vb: ValueBackend) -> Any:
    base = vb.base

    def fn(x: Any) -> Any:
        if isinstance(x, Value):
            return node_of(op, (x,), (), base)
        return base_fn(x)

    fn.__name__ = op.name
    return fn


class ValueBackend(Backend):
    """Numbers are Values over ``base``; functions of them are graph nodes."""

    def __init__(self, base: Backend) -> None:
        self.base = base
        self.name = f"value[{base.name}]"
        self.symbolic = False
        self.zero = base.zero
        self.one = base.one
        self.exp = _unary_fn(ops.exp, base.exp, self)
        self.expm1 = _unary_fn(EXPM1, base.expm1, self)
        self.log = _unary_fn(ops.log, base.log, self)
        self.log1p = _unary_fn(LOG1P, base.log1p, self)
        self.sqrt = _unary_fn(ops.sqrt, base.sqrt, self)
        self.tanh = _unary_fn(ops.tanh, base.tanh, self)
        self.sin = _unary_fn(ops.sin, base.sin, self)
        self.cos = _unary_fn(ops.cos, base.cos, self)
        self.abs = _unary_fn(ops.abs, base.abs, self)

    def lift(self, x: Any) -> Value:
        """``x`` as a Value: itself, or a constant leaf over the base backend."""
        return x if isinstance(x, Value) else Value(self.base.num(x))

    def num(self, value: Any) -> Any:
        return self.base.num(value)

    def pow(self, x: Any, y: Any) -> Any:
        """x**y through the op that fits: pow (both Values), pow_const or const_pow."""
        xv, yv = isinstance(x, Value), isinstance(y, Value)
        if xv and yv:
            return node_of(ops.pow, (x, y), (), self.base)
        if xv:
            return node_of(ops.pow_const, (x,), (y,), self.base)
        if yv:
            return node_of(ops.const_pow, (y,), (x,), self.base)
        return self.base.pow(x, y)

    def sign(self, x: Any) -> Any:
        """sign of the data: piecewise constant, so a plain number (no derivative)."""
        return self.base.sign(x.data if isinstance(x, Value) else x)

    def isnormal(self, x: Any) -> Any:
        return self.base.isnormal(x.data if isinstance(x, Value) else x)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """The chosen branch when ``cond`` is decided, else a ``select`` node."""
        try:
            chosen = bool(cond)
        except TypeError:  # a symbolic relation sympy cannot decide
            if not isinstance(a, Value) and not isinstance(b, Value):
                return self.base.where(cond, a, b)
            return node_of(SELECT, (self.lift(a), self.lift(b)), (cond,), self.base)
        return a if chosen else b


_BACKENDS: dict[int, ValueBackend] = {}


def value_backend(base: Backend) -> ValueBackend:
    """The (shared) Value backend over ``base``."""
    vb = _BACKENDS.get(id(base))
    if vb is None or vb.base is not base:
        vb = _BACKENDS[id(base)] = ValueBackend(base)
    return vb


def _base_of(node: Value) -> Backend:
    m = backend_of(node.data)
    if m is None:
        raise TypeError(f"not a number: {node.data!r}")
    return m


def _finite(v: Any) -> bool:
    """Whether a number (or a Value's data) is finite: x - x is 0 exactly then (also on sympy)."""
    d = v.data if isinstance(v, Value) else v
    return bool(d - d == 0)


def _times(d: Any, g: Any) -> Any:
    """d * g with no node for a factor of 1, -1 or an exact 0 (times a finite adjoint); None is 0."""
    if not isinstance(d, Value):
        if not isinstance(g, Value):
            return d * g
        if d == 1:
            return g
        if d == -1:
            return -g
        if d == 0 and _finite(g):
            return None
    elif not isinstance(g, Value) and g == 1:
        return d
    return d * g


def _reverse(root: Value, seed: Any) -> list[tuple[Value, Any]]:
    """Every node of ``root``'s graph with its adjoint (None for 0), each rule run on Values."""
    m = value_backend(_base_of(root))
    topo = topological_order(root)
    collecting = gc.isenabled()
    gc.disable()  # the sweep makes no reference cycles (see Value.backward)
    try:
        for node in topo:
            node._g = None
        root._g = seed
        for node in reversed(topo):
            g = node._g
            op = node._op
            if g is None or op is None:
                continue
            parents = node._prev
            partials: Any = None
            try:
                partials = op.grad(m, node, *parents, *node._params)
                for parent, d in zip(parents, partials, strict=True):
                    c = _times(d, g)
                    if c is not None:
                        old = parent._g
                        parent._g = c if old is None else old + c
            except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
                raise _rule_error(op, node, partials, exc) from exc
        return [(node, node._g) for node in topo]
    finally:
        for node in topo:
            del node._g
        if collecting:
            gc.enable()


def backward_graph(root: Value, grad: Any = None) -> None:
    """``root.backward(grad, create_graph=True)``: accumulate Value gradients into ``.grad``."""
    seed = _base_of(root).one if grad is None else grad
    for node, g in _reverse(root, seed):
        if g is None:
            continue
        old = node.grad
        node.grad = g if (not isinstance(old, Value) and old == 0) else old + g


def gradients(
    output: Value, inputs: Sequence[Value], *, create_graph: bool = False, seed: Any = None
) -> tuple[Any, ...]:
    """d(output)/d(input) for each input, leaving every ``.grad`` untouched.

    Inputs ``output`` does not depend on get 0. With ``create_graph=True`` a
    gradient that depends on the graph is a Value (differentiate it again);
    one that does not is a plain number.
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients: output must be a Value, got {type(output).__name__}")
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"gradients: every input must be a Value, got {type(x).__name__}")
    base = _base_of(output)
    if not create_graph:
        collecting = gc.isenabled()
        gc.disable()  # see Value.backward
        try:
            plain = _propagate(base, topological_order(output), output, base.one if seed is None else seed, inputs)
        finally:
            if collecting:
                gc.enable()
        return tuple(plain or ())
    adjoints = dict(_reverse(output, base.one if seed is None else seed))
    return tuple(base.zero if adjoints.get(x) is None else adjoints[x] for x in inputs)


set_backward_graph(backward_graph)
