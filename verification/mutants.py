"""Mutants: wrong variants of the registered ops' rules, and faulty engines.

Every mutant is a real op declaration made through the public registry API
(``Op.with_rule``): the original rule is called and its partials are changed
the way a person gets a rule wrong. None is a flag inside the engine. Engine
faults (assigning instead of accumulating an adjoint, visiting a node before
all of its consumers) are engines of their own implementing the
engine-under-test interface.

Kinds, for an op with partials ``d = rule(m, ans, *xs)``:

* ``sign``: ``-d_i``;
* ``factor``: ``2 * d_i`` (a factor of 2 missing or doubled);
* ``swap``: the partials of a binary op exchanged;
* ``input_for_ans``: the rule called with the first input where the forward
  result belongs;
* ``ans_for_input``: the rule called with the forward result where the first
  input belongs;
* ``exponent``: ``d_i * x_i`` and ``d_i / x_i`` (an off-by-one power);
* ``constant``: ``d_i + 1``;
* ``relative``: ``d_i * (1 + eps)`` for eps in 1e-2 ... 1e-12, 2**-40, 2**-52;
* ``half_domain``: ``-d_i`` only where ``x_i < 0``;
* ``kink``: a different value at a declared kink (one inside the Clarke
  subdifferential, one outside);
* ``engine_assign`` / ``engine_order``: the engine faults;
* the prover's own classes (``ulp``, ``equality``, ``trig_sign``, ``subnormal``,
  ``removable``, ``infinite_sign``): see :mod:`verification.prover_mutants`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autodiff import Backend, Op, Value, all_ops, mpmath_backend
from autodiff.engine import topological_order
from verification.engine_api import Evaluation
from verification.expr import Expr, evaluate_values
from verification.mutant import Mutant

__all__ = [
    "Mutant",
    "RELATIVE_SIZES",
    "rule_mutants",
    "engine_mutants",
    "all_mutants",
    "FaultyEngine",
    "mutant_engine",
]

RELATIVE_SIZES: tuple[float, ...] = (1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 2.0**-40, 2.0**-52)

Rule = Callable[..., tuple[Any, ...]]


def _change(rule: Rule, i: int, f: Callable[..., Any]) -> Rule:
    """A rule whose ``i``-th partial is ``f(m, d_i, xs)``; params follow the inputs in ``xs``."""

    def mutated(m: Backend, ans: Any, *xs: Any) -> tuple[Any, ...]:
        parts = list(rule(m, ans, *xs))
        parts[i] = f(m, parts[i], xs)
        return tuple(parts)

    return mutated


def rule_mutants(op: Op) -> list[Mutant]:  # noqa: C901 -- one flat list of mutation kinds
    """Every rule mutant of ``op``."""
    rule = op.grad
    out: list[Mutant] = []

    def add(kind: str, suffix: str, new_rule: Rule, size: float | None = None) -> None:
        name = f"{op.name}:{kind}:{suffix}"
        out.append(Mutant(name, op.name, kind, size, op.with_rule(new_rule, name=op.name)))

    for i in range(op.arity):
        add("sign", f"d{i}", _change(rule, i, lambda m, d, xs: -d))
        add("factor", f"d{i}", _change(rule, i, lambda m, d, xs, i=i: 2 * d))
        add("exponent", f"d{i}*x{i}", _change(rule, i, lambda m, d, xs, i=i: d * xs[i]))
        add("exponent", f"d{i}/x{i}", _change(rule, i, lambda m, d, xs, i=i: d / xs[i]))
        add("constant", f"d{i}+1", _change(rule, i, lambda m, d, xs: d + 1))
        for eps in RELATIVE_SIZES:
            add(
                "relative",
                f"d{i}*(1+{eps:g})",
                _change(rule, i, lambda m, d, xs, eps=eps: d * (1 + m.num(eps))),
                size=eps,
            )
        add(
            "half_domain",
            f"-d{i} for x{i}<0",
            _change(rule, i, lambda m, d, xs, i=i: m.where(xs[i] < 0, -d, d)),
        )
    if op.arity == 2:

        def swapped(m: Backend, ans: Any, *xs: Any) -> tuple[Any, ...]:
            a, b = rule(m, ans, *xs)
            return (b, a)

        add("swap", "d0<->d1", swapped)

    def input_for_ans(m: Backend, ans: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(rule(m, xs[0], *xs))

    def ans_for_input(m: Backend, ans: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(rule(m, ans, ans, *xs[1:]))

    add("input_for_ans", "x0 as ans", input_for_ans)
    add("ans_for_input", "ans as x0", ans_for_input)
    for kink in op.kinks:
        for wrong, where in ((0.5, "inside"), (2.0, "outside")):
            if wrong == kink.convention:
                continue
            i, at = kink.input, kink.at

            def at_kink(m: Backend, d: Any, xs: Sequence[Any], at: float = at, wrong: float = wrong, i: int = i) -> Any:
                return m.where(m.abs(xs[i] - m.num(at)) > 0, d, m.num(wrong))

            add("kink", f"{wrong:g} at {at:g} ({where} Clarke)", _change(rule, i, at_kink))
    from verification.prover_mutants import prover_mutants  # heavier: the prover's code constants

    return out + prover_mutants(op)


def engine_mutants() -> list[Mutant]:
    """The engine faults."""
    return [
        Mutant("engine:assign", "engine", "engine_assign", fault="assign"),
        Mutant("engine:order", "engine", "engine_order", fault="order"),
    ]


def all_mutants(ops: Sequence[Op] | None = None) -> list[Mutant]:
    """Rule mutants of ``ops`` (every registered op by default) and the engine faults."""
    chosen = list(all_ops()) if ops is None else list(ops)
    return [m for op in chosen for m in rule_mutants(op)] + engine_mutants()


def _faulty_sweep(root: Value, fault: str) -> None:  # noqa: C901 -- one branch per engine fault
    """Reverse mode with a planted fault, over the engine's own nodes and rules."""
    m = root.backend
    if fault == "assign":
        order = topological_order(root)
    elif fault == "order":
        # breadth-first from the output: a node can be swept before all its consumers
        order, seen, frontier = [], {root}, [root]
        while frontier:
            nxt = []
            for node in frontier:
                order.append(node)
                for p in node.parents():
                    if p not in seen:
                        seen.add(p)
                        nxt.append(p)
            frontier = nxt
        order.reverse()
    else:
        raise ValueError(f"unknown engine fault {fault!r}")
    adj: dict[Value, Any] = {node: m.zero for node in order}
    adj[root] = m.one
    for node in reversed(order):
        g = adj[node]
        node.grad += g
        op = node.op_object
        if op is None:
            continue
        parents = node.parents()
        partials = op.grad(m, node.data, *[p.data for p in parents], *node.params)
        for p, d in zip(parents, partials):
            if fault == "assign":
                adj[p] = d * g
            else:
                adj[p] += d * g


class FaultyEngine:
    """The built-in engine with one planted traversal fault (``assign`` or ``order``).

    With ``dps`` it runs in mpmath at that many digits, so the fault can be
    told from rounding exactly as a wrong rule is.
    """

    def __init__(self, fault: str, *, dps: int | None = None) -> None:
        if fault not in ("assign", "order"):
            raise ValueError(f"unknown engine fault {fault!r}")
        self.fault = fault
        self.dps = dps
        self._backend: Backend | None = mpmath_backend(dps) if dps is not None else None
        suffix = "" if dps is None else f"[mp{dps}]"
        self.name = f"gradproof[fault={fault}]{suffix}"

    def supported_ops(self) -> frozenset[str]:
        return frozenset(op.name for op in all_ops())

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        m = self._backend
        leaves = [Value(m.num(p) if m is not None else float(p)) for p in point]
        try:
            out = evaluate_values(tree, leaves)
            _faulty_sweep(out, self.fault)
        except Exception as exc:  # the faulty engine's failure is an outcome
            return Evaluation(error=f"{type(exc).__name__}: {exc}")
        return Evaluation(value=out.data, grads=tuple(v.grad for v in leaves))


def mutant_engine(name: str) -> Any:
    """The engine under test for the mutant called ``name`` (see :func:`all_mutants`)."""
    from autodiff import get_op
    from verification.engines import BuiltinEngine
    from verification.errors import UsageError

    for mutant in all_mutants():
        if mutant.name == name:
            if mutant.fault is not None:
                return FaultyEngine(mutant.fault)
            return BuiltinEngine(resolve=mutant.resolver(get_op), name=f"mutant[{name}]")
    raise UsageError(f"unknown mutant {name!r}")
