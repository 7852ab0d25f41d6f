"""``Value``: a scalar that records the ops applied to it, and reverse mode over them.

A node holds its data, its accumulated gradient, the op that made it, its
parents (in order, so traversal is deterministic) and the op's parameters. It
holds no closure and no reference to its consumers, so graphs contain no
reference cycles and are freed by reference counting alone; a node is a single
tracked object (parents live in two slots, not in a tuple of their own).

``backward`` is iterative (graphs of 10**6 nodes work), gives a node used twice
both contributions, and accumulates into ``.grad`` across calls until
:meth:`Value.zero_grad` or ``Module.zero_grad`` resets it, as PyTorch does.

Longer than 400 lines because the node's operators, :func:`apply` and the
backward walk all read and write the node's private slots (``_a``, ``_b``,
``_g``), which no other module should touch.
"""

from __future__ import annotations

import gc
import numbers
from collections.abc import Sequence
from typing import Any

from autodiff import ops, registry
from autodiff.backends import FLOAT, Backend, backend_of
from autodiff.errors import DomainError, GradientError, OpDeclarationError
from autodiff.registry import Op

__all__ = ["Value", "apply", "topological_order"]

_NO_PARAMS: tuple[Any, ...] = ()
_MANY = object()  # in ``_b``: ``_a`` holds the tuple of all parents (ops of arity >= 3)
_ARITH = (ValueError, ZeroDivisionError, OverflowError, ArithmeticError)


def _backend(data: Any) -> Backend:
    m = backend_of(data)
    if m is None:
        raise TypeError(
            f"Value data must be a real number (int, float, mpmath mpf) or a sympy expression, got {_describe(data)}"
        )
    return m


def _describe(x: Any) -> str:
    return f"{type(x).__name__} ({x!r})"


class Value:
    """A scalar node of the computation graph.

    ``Value(2.0)``, ``Value(mpmath.mpf('0.1'))`` or ``Value(sympy.Symbol('x'))``;
    the type of ``data`` selects the backend every op on it runs with.
    """

    __slots__ = ("_a", "_b", "_g", "_op", "_params", "data", "grad", "label")

    data: Any
    grad: Any
    label: str
    _op: Op | None
    _a: Any
    _b: Any
    _params: tuple[Any, ...]
    _g: Any  # the adjoint during a backward pass; set there, unset otherwise

    def __init__(self, data: Any, *, label: str = "") -> None:
        if type(data) is float:
            zero: Any = 0.0
        else:
            m = _backend(data)
            if m is FLOAT:
                data = float(data)
            zero = m.zero
        self.data = data
        self.grad = zero
        self.label = label
        self._op = None
        self._a = None
        self._b = None
        self._params = _NO_PARAMS

    @property
    def op(self) -> str:
        """Name of the op that produced this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def op_object(self) -> Op | None:
        """The op that produced this node (None for a leaf)."""
        return self._op

    @property
    def params(self) -> tuple[Any, ...]:
        """The op's parameters for this node (e.g. the exponent of ``x**2``)."""
        return self._params

    @property
    def backend(self) -> Backend:
        """The backend this node's data belongs to."""
        return _backend(self.data)

    @property
    def _prev(self) -> tuple[Value, ...]:
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        if b is _MANY:
            return a
        return (a, b)

    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in order."""
        return self._prev

    def __repr__(self) -> str:
        data, grad = self.data, self.grad
        if type(data) is float and isinstance(grad, float):
            return f"Value(data={data:.4f}, grad={grad:.4f})"
        return f"Value(data={data}, grad={grad})"

    # --- operators -------------------------------------------------------

    def __add__(self, other: Any) -> Value:
        return _binary(ops.add, self, other)

    def __radd__(self, other: Any) -> Value:
        return _binary(ops.add, other, self)

    def __sub__(self, other: Any) -> Value:
        return _binary(ops.sub, self, other)

    def __rsub__(self, other: Any) -> Value:
        return _binary(ops.sub, other, self)

    def __mul__(self, other: Any) -> Value:
        return _binary(ops.mul, self, other)

    def __rmul__(self, other: Any) -> Value:
        return _binary(ops.mul, other, self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(ops.truediv, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _binary(ops.truediv, other, self)

    def __neg__(self) -> Value:
        return _unary(ops.neg, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(ops.abs, self)

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return _binary(ops.pow, self, other)
        if _is_number(other):
            return apply(ops.pow_const, self, other)
        raise _operand_error("pow", other)

    def __rpow__(self, other: Any) -> Value:
        if _is_number(other):
            return apply(ops.const_pow, self, other)
        raise _operand_error("pow", other)

    # --- named ops ---------------------------------------------------------

    def exp(self) -> Value:
        """e**self."""
        return _unary(ops.exp, self)

    def log(self) -> Value:
        """Natural logarithm."""
        return _unary(ops.log, self)

    def sqrt(self) -> Value:
        """Square root."""
        return _unary(ops.sqrt, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(ops.tanh, self)

    def sigmoid(self) -> Value:
        """Logistic function 1/(1 + e**-self)."""
        return _unary(ops.sigmoid, self)

    def relu(self) -> Value:
        """max(0, self)."""
        return _unary(ops.relu, self)

    def sin(self) -> Value:
        """Sine."""
        return _unary(ops.sin, self)

    def cos(self) -> Value:
        """Cosine."""
        return _unary(ops.cos, self)

    def abs(self) -> Value:
        """Absolute value."""
        return _unary(ops.abs, self)

    def __getattr__(self, name: str) -> Any:
        # Ops declared by users become methods too: x.softplus(), x.myop(y).
        if name.startswith("_"):
            raise AttributeError(name)
        op = registry._REGISTRY.get(name)
        if op is None:
            raise AttributeError(f"'Value' object has no attribute {name!r} (and no op of that name is registered)")

        def method(*args: Any) -> Value:
            return apply(op, self, *args)

        method.__name__ = name
        method.__doc__ = op.doc
        return method

    # --- reverse mode ------------------------------------------------------

    def backward(self, grad: Any = None) -> None:
        """Add d(self)/d(node) to ``node.grad`` for every node of the graph.

        ``grad`` seeds the output (1 by default). Gradients accumulate across
        calls until zeroed.
        """
        m = _backend(self.data)
        # The pass creates no reference cycles, so the cyclic collector has
        # nothing to find while it runs; pausing it saves rescanning the whole
        # live graph every few thousand allocations.
        collecting = gc.isenabled()
        gc.disable()
        try:
            topo = topological_order(self)
            _propagate(m, topo, self, m.one if grad is None else grad)
        finally:
            if collecting:
                gc.enable()

    def zero_grad(self) -> None:
        """Reset ``grad`` to zero on every node of this value's graph."""
        zero = _backend(self.data).zero
        for node in topological_order(self):
            node.grad = zero


def topological_order(root: Value) -> list[Value]:  # noqa: C901 -- one iterative walk: a helper call per node would slow every backward
    """Every node ``root`` depends on, each after all of its parents (iterative DFS).

    The stack holds nodes and a marker meaning "the node below me is finished",
    so the walk allocates nothing per node. Nodes hash by identity.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Any] = [root]
    push, pop, add, append = stack.append, stack.pop, seen.add, order.append
    done = _DONE
    while stack:
        node = pop()
        if node is done:
            append(pop())
            continue
        if node in seen:
            continue
        add(node)
        push(node)
        push(done)
        a = node._a
        if a is None:
            continue
        b = node._b
        if b is None:
            if a not in seen:
                push(a)
        elif b is _MANY:
            for parent in a:
                if parent not in seen:
                    push(parent)
        else:
            if b not in seen:
                push(b)
            if a not in seen:
                push(a)
    return order


_DONE = object()


def _propagate(m: Backend, topo: list[Value], root: Value, seed: Any) -> None:  # noqa: C901 -- the backward loop: a helper call per node would slow every backward
    """The reverse sweep: each node's adjoint times its local partials, into its parents."""
    zero = m.zero
    for node in topo:
        node._g = zero
    root._g = seed
    try:
        for node in reversed(topo):
            g = node._g
            node.grad += g
            op = node._op
            if op is None:
                continue
            a, b = node._a, node._b
            partials: Any = None
            try:
                if b is None:
                    params = node._params
                    if params:
                        partials = op.grad(m, node.data, a.data, *params)
                    else:
                        partials = op.grad(m, node.data, a.data)
                    (da,) = partials
                    a._g += da * g
                elif b is _MANY:
                    partials = op.grad(m, node.data, *[p.data for p in a], *node._params)
                    for parent, d in zip(a, partials, strict=True):
                        parent._g += d * g
                else:
                    params = node._params
                    if params:
                        partials = op.grad(m, node.data, a.data, b.data, *params)
                    else:
                        partials = op.grad(m, node.data, a.data, b.data)
                    da, db = partials
                    a._g += da * g
                    b._g += db * g
            except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
                raise _rule_error(op, node, partials, exc) from exc
    finally:
        for node in topo:
            del node._g


def _rule_error(op: Op, node: Value, partials: Any, exc: Exception) -> Exception:
    prev = node._prev
    inputs = ", ".join(repr(p.data) for p in prev)
    if partials is not None and (not isinstance(partials, tuple) or len(partials) != len(prev)):
        got = f"{len(partials)} value(s)" if isinstance(partials, tuple) else f"a {type(partials).__name__}"
        return OpDeclarationError(
            f"the rule of {op.name} returned {got}; it must return a tuple of {op.arity} "
            f"partial derivative(s), one per input"
        )
    if isinstance(exc, TypeError):
        return OpDeclarationError(f"the rule of {op.name} failed on inputs ({inputs}): {exc}")
    return GradientError(f"{op.name}: the derivative is not finite at ({inputs}) [{type(exc).__name__}: {exc}]")


def _is_number(x: Any) -> bool:
    tp = type(x)
    if tp is float or tp is int:
        return True
    if tp is bool:
        return False
    if isinstance(x, numbers.Real):
        return True
    return backend_of(x) is not None


def _operand_error(opname: str, other: Any) -> TypeError:
    return TypeError(f"unsupported operand for {opname}: {_describe(other)}; expected a Value or a real number")


def _lift(x: Any, like: Value, opname: str) -> Value:
    """A constant operand as a leaf Value of ``like``'s backend."""
    tp = type(x)
    if (tp is float or tp is int) and type(like.data) is float:
        leaf = _new(Value)
        leaf.data = x if tp is float else float(x)
        leaf.grad = 0.0
        leaf.label = ""
        leaf._op = leaf._a = leaf._b = None
        leaf._params = _NO_PARAMS
        return leaf
    if isinstance(x, Value):
        return x
    if x is None or not _is_number(x):
        raise _operand_error(opname, x)
    m = _backend(like.data)
    if m is FLOAT:
        if backend_of(x) is not FLOAT:
            raise TypeError(
                f"{opname}: cannot mix a float Value with {_describe(x)}; "
                "make every Value of one graph from the same kind of number"
            )
        return Value(float(x))
    return Value(m.num(x))


def _node(op: Op, data: Any, m: Backend, a: Any, b: Any, params: tuple[Any, ...]) -> Value:
    out = _new(Value)
    out.data = data
    out.grad = 0.0 if m is FLOAT else m.zero
    out.label = ""
    out._op = op
    out._a = a
    out._b = b
    out._params = params
    return out


_new = object.__new__


def _forward_error(op: Op, datas: Sequence[Any], params: Sequence[Any], exc: Exception) -> DomainError:
    shown = ", ".join(f"{n} = {d!r}" for n, d in zip(op.input_names(), datas))
    if params:
        shown += ", " + ", ".join(f"{n} = {p!r}" for n, p in zip(op.params, params))
    return DomainError(f"{op.name}: not defined at {shown} [{type(exc).__name__}: {exc}]")


def _unary(op: Op, x: Value) -> Value:
    data = x.data
    m = FLOAT if type(data) is float else _backend(data)
    if op.is_restricted and not m.symbolic:
        op.check_domain((data,))
    try:
        out = op.forward(m, data)
    except _ARITH as exc:
        raise _forward_error(op, (data,), (), exc) from exc
    return _node(op, out, m, x, None, _NO_PARAMS)


def _binary(op: Op, a: Any, b: Any) -> Value:
    if type(a) is not Value:
        a = _lift(a, b, op.name)
    if type(b) is not Value:
        b = _lift(b, a, op.name)
    x, y = a.data, b.data
    if type(x) is float and type(y) is float:
        m: Backend = FLOAT
    else:
        m = _backend(x)
        if _backend(y) is not m:
            raise TypeError(
                f"{op.name}: cannot mix Values of backend {m.name} and {_backend(y).name}; "
                "build every Value of one graph from the same kind of number"
            )
    if op.is_restricted and not m.symbolic:
        op.check_domain((x, y))
    try:
        out = op.forward(m, x, y)
    except _ARITH as exc:
        raise _forward_error(op, (x, y), (), exc) from exc
    return _node(op, out, m, a, b, _NO_PARAMS)


def apply(op: Op, *args: Any) -> Value:  # noqa: C901 -- the entry point of every op: operand checks and dispatch inline, on the hot path
    """Apply ``op`` to its inputs (Values or numbers) followed by its parameters."""
    n = op.arity
    if len(args) != n + len(op.params):
        wanted = f" and parameter(s) {', '.join(op.params)}" if op.params else ""
        raise TypeError(f"{op.name} takes {n} input(s){wanted}, got {len(args)} argument(s)")
    inputs, raw_params = args[:n], args[n:]
    like = next((a for a in inputs if isinstance(a, Value)), None)
    if like is None:
        shown = ", ".join(_describe(a) for a in inputs)
        raise TypeError(f"{op.name}: at least one input must be a Value, got {shown}")
    m = _backend(like.data)
    values = tuple(_lift(a, like, op.name) for a in inputs)
    for v in values:
        if _backend(v.data) is not m:
            raise TypeError(f"{op.name}: cannot mix Values of backend {m.name} and {_backend(v.data).name}")
    for p in raw_params:
        if isinstance(p, Value) or not _is_number(p):
            raise TypeError(f"{op.name}: a parameter must be a plain real number, got {_describe(p)}")
    if not m.symbolic:
        op.check_params(raw_params)
    params = tuple(m.num(p) for p in raw_params) if raw_params else _NO_PARAMS
    datas = tuple(v.data for v in values)
    if not m.symbolic:
        op.check_domain(datas, raw_params)
    try:
        out = op.forward(m, *datas, *params)
    except _ARITH as exc:
        raise _forward_error(op, datas, raw_params, exc) from exc
    if n == 1:
        return _node(op, out, m, values[0], None, params)
    if n == 2:
        return _node(op, out, m, values[0], values[1], params)
    return _node(op, out, m, values, _MANY, params)


registry._set_apply(apply)
