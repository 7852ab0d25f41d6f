"""Second derivatives proven: each partial of an op, differentiated again through the engine, against sympy.

For an op ``f`` and an input ``x_i`` the *derived op* ``f_d{x_i}`` has as
forward the partial ``d f / d x_i`` -- the op's rule run on the backend's
numbers -- and as rule the engine's derivatives of that partial: the rule run
with Values as its numbers (:mod:`autodiff.graphmode`) and differentiated by
reverse mode. Its definition is ``d spec / d x_i`` by sympy. The first-order
prover (:func:`verification.prove.prove`, public API only) then proves the
derived op like any op, region by region, with its audit: a proven derived op
means ``d2 f / d x_i d x_j`` of the engine equals the second derivative of
the spec for every ``j``.

Kinks are stated: at a kink of the op (``relu``, ``abs`` at 0) the first
derivative jumps, so the second does not exist there; the derived op
declares the kink with the engine's convention 0 (the derivative of the
branch the rule takes, a constant), which the prover checks against the
one-sided derivatives of the partial, and its definition there is the op's
first-order convention. Second derivatives are proven on the interior of the
domain: at a closed end (``sqrt`` at 0) the first derivative is infinite or
one-sided, and the second does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autodiff import Backend, Domain, Interval, Kink, Op, Value, defop, gradients, sympy_backend, value_backend
from autodiff.engine import node_of

__all__ = ["derived_ops", "derived_op"]


def _partial(op: Op, i: int) -> Any:
    def forward(m: Backend, *args: Any) -> Any:
        ans = op.forward(m, *args)
        return op.partials(m, ans, *args)[i]

    forward.__doc__ = f"d {op.name} / d {op.input_names()[i]} (the rule's partial)"
    forward.__signature__ = _signature(op, with_ans=False)  # type: ignore[attr-defined]
    return forward


def _second(op: Op, i: int) -> Any:
    n = op.arity

    def grad(m: Backend, ans: Any, *args: Any) -> tuple[Any, ...]:
        xs = [Value(a) for a in args[:n]]
        params = tuple(args[n:])
        node = node_of(op, xs, params, m)
        partial = op.grad(value_backend(m), node, *xs, *params)[i]
        if not isinstance(partial, Value):  # a constant partial: its derivatives are 0
            return (m.zero,) * n
        return gradients(partial, xs)

    grad.__signature__ = _signature(op, with_ans=True)  # type: ignore[attr-defined]
    return grad


def _signature(op: Op, *, with_ans: bool) -> Any:
    import inspect

    names = ["m", *(["ans"] if with_ans else []), *op.input_names(), *op.params]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(name, kind) for name in names])


def _spec(op: Op, i: int) -> Any:
    """``d spec / d x_i`` at any arguments (symbols or exact numbers), by fresh dummies.

    At a declared kink of input ``i`` the first derivative does not exist; there
    the definition is the op's declared convention, which the first-order
    prover has checked against the one-sided derivatives.
    """
    import sympy

    n = op.arity
    kinks = [k for k in op.kinks if k.input == i]

    def spec(sp: Any, *args: Any) -> Any:
        dummies = [sympy.Dummy(f"u{k}", real=True) for k in range(n)]
        if op.spec is not None:
            f = op.spec(sp, *dummies, *args[n:])
        else:
            f = op.forward(sympy_backend(), *dummies, *args[n:])
        d = sympy.diff(f, dummies[i])
        if kinks:
            at = [(sympy.Rational(k.convention), sympy.Eq(dummies[i], sympy.Rational(k.at))) for k in kinks]
            d = sympy.Piecewise(*at, (d, True))
        return d.xreplace(dict(zip(dummies, args[:n])))

    return spec


def _interior(op: Op) -> Any:
    """The op's domain without its closed ends: where a first derivative may be
    infinite (sqrt, x**0.5 at 0) or stop (x**1.5 at 0), the second does not exist."""

    def opened(domain: Domain) -> Domain:
        return tuple(Interval(iv.lo, iv.hi) for iv in domain)

    if callable(op.domain):
        spec = op.domain
        return lambda *params: tuple(opened(d) for d in spec(*params))
    return tuple(opened(d) for d in op.domain)


def derived_op(op: Op, i: int) -> Op:
    """The op whose forward is ``d op / d x_i`` and whose rule is the engine's derivative of it."""
    name = f"{op.name}_d{op.input_names()[i]}"
    return defop(
        name,
        forward=_partial(op, i),
        grad=_second(op, i),
        arity=op.arity,
        domain=_interior(op),
        params=op.params,
        param_domain=op.param_domain,
        kinks=tuple(Kink(at=k.at, convention=0.0, input=k.input) for k in op.kinks),
        spec=_spec(op, i),
        doc=f"second derivatives of {op.name} through d/d{op.input_names()[i]}",
        param_examples=op.param_examples,
        register=False,
    )


def derived_ops(ops: Sequence[Op]) -> list[Op]:
    """One derived op per (op, input): together they cover every second derivative of ``ops``."""
    return [derived_op(op, i) for op in ops for i in range(op.arity)]
