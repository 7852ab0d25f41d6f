"""Second-order mutants: rules right at first order and wrong at second, and the methods that kill them.

When the gradient is built as a graph, a rule runs on the Value backend and
its partials are nodes. A rule that computes a partial from numbers read off
the graph (micrograd's ``out.grad += out.data * ...`` closure, a ``.data`` or
``.item()`` in a custom backward) returns the right number, so every
first-order check passes, but the partial is a constant to the second
derivative. Kinds, for a rule reading the forward result ``ans`` and inputs
``x_j``:

* ``detached`` -- every argument read off the graph (the whole partial is a
  constant: a node treated as a constant);
* ``detached_ans`` -- only ``ans`` off the graph: the term of the product
  rule that differentiates ``ans`` is missing (``-ans/y`` for division);
* ``detached_x{j}`` -- only input ``j`` off the graph: the terms through
  ``x_j`` are missing (``mul``'s cross derivative).

And, for the same ops, a second derivative slightly off while the first is
exact: ``nudged_1e-6`` and ``nudged_2^-70`` add ``eps * (x_0 - x_0.data)``
(a node equal to 0, derivative 1) to the first partial, so ``d2/dx0^2`` is
off by ``eps``: 1e-6 is far above float64 rounding but below gradgradcheck's
``atol``; 2**-70 is below float64 resolution, seen only at 50 digits.

One fault of the engine's second-order sweep is an engine of its own:

* ``engine:seed_node`` -- the sweep's seed 1 made as ``y / y.data``, a node
  equal to 1 (a constant treated as a node): every gradient is right, and
  the Hessian gains ``grad f grad f^T / f``.

A rule mutant is generated only where a partial, run on sympy symbols, varies with
the argument it detaches (its derivative, off the jumps, is not 0), so none
is equivalent by construction: ``add``'s constant partials and ``relu``'s
piecewise-constant one have none.

Methods, each in float64 and at 50 digits (:mod:`verification.second_check`):
``hessian``, ``hvp_rev``, ``hvp_fwd`` (second order, certified) and ``jvp``
(first order, forward mode, which must *not* kill: these mutants are right at
first order, and a kill there would be a false alarm); and the baseline
``gradgradcheck`` (:mod:`verification.second_gradgradcheck`: the float64
Hessian against central differences of the float64 gradient, PyTorch's
tolerances), whose own false alarms are counted and never kills.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autodiff import Op, Value, ValueBackend, all_ops, get_op, gradients, sympy_backend
from verification.engines import BuiltinEngine
from verification.expr import Apply, Expr, walk
from verification.generation import Case, case_strategy, hypothesis_seed, run_cases
from verification.mutants import Mutant
from verification.second_check import GradientGraph, Mode, SecondRow, check_second
from verification.second_gradgradcheck import gradgradcheck
from verification.second_truth import off_jumps
from verification.strategies import classify_point

__all__ = [
    "ENGINE_FAULTS",
    "engine_faults",
    "ORDER2_METHODS",
    "SECOND_ORDER_METHODS",
    "FIRST_ORDER_METHODS",
    "GRADGRADCHECK",
    "second_order_mutants",
    "Order2Outcome",
    "run_order2_mutant",
    "COMPANIONS",
]

GRADGRADCHECK = "gradgradcheck"
ORDER2_METHODS: tuple[str, ...] = (
    *(
        f"{mode.value}_{prec}"
        for mode in (Mode.HESSIAN, Mode.HVP_REV, Mode.HVP_FWD, Mode.JVP)
        for prec in ("f64", "hp")
    ),
    GRADGRADCHECK,
)
"""Detection methods of the order-2 table: mode and precision, and the gradgradcheck baseline."""

SECOND_ORDER_METHODS: tuple[str, ...] = tuple(m for m in ORDER2_METHODS if not m.startswith(("jvp", GRADGRADCHECK)))
"""The certified methods that must kill every mutant."""

FIRST_ORDER_METHODS: tuple[str, ...] = tuple(m for m in ORDER2_METHODS if m.startswith("jvp"))
"""The forward-mode (first-order) methods, which must kill none: these mutants are right at first order."""

COMPANIONS: tuple[str, ...] = ("add", "mul", "exp")
_WRONG = ("bug", "exception_mismatch")
"""Ops drawn alongside the mutated one, so that expressions have cross terms."""


def _off(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _detaching(rule: Callable[..., tuple[Any, ...]], ans_off: bool, inputs_off: frozenset[int]) -> Callable[..., Any]:
    """``rule`` with ``ans`` and/or the given inputs read as numbers when it runs on Values."""

    def mutated(m: Any, ans: Any, *args: Any) -> tuple[Any, ...]:
        if not isinstance(m, ValueBackend):
            return rule(m, ans, *args)
        xs = [_off(a) if i in inputs_off else a for i, a in enumerate(args)]
        return rule(m, _off(ans) if ans_off else ans, *xs)

    return mutated


NUDGES: dict[str, float] = {"nudged_1e-6": 1e-6, "nudged_2^-70": 2.0**-70}
"""Second-derivative errors planted by the ``nudged`` mutants, by kind."""


def _nudging(rule: Callable[..., tuple[Any, ...]], eps: float) -> Callable[..., Any]:
    """``rule`` whose first partial, run on Values, gains ``eps * (x0 - x0.data)``: the same number, a derivative
    ``eps`` larger."""

    def mutated(m: Any, ans: Any, *args: Any) -> tuple[Any, ...]:
        out = rule(m, ans, *args)
        x = args[0]
        if not isinstance(m, ValueBackend) or not isinstance(x, Value):
            return out
        return (out[0] + (x - x.data) * eps, *out[1:])

    return mutated


def _reads(op: Op) -> tuple[bool, tuple[bool, ...]]:
    """Whether some partial depends on ``ans``, and on each input, run on sympy symbols."""
    import sympy

    m = sympy_backend()
    ans = sympy.Symbol("ans", real=True)
    xs = sympy.symbols(f"x0:{op.arity}", real=True)
    params = [sympy.Rational(p) for p in (op.param_examples[0] if op.param_examples else (2.0,) * len(op.params))]
    try:
        partials = op.grad(m, ans, *xs, *params)
    except (TypeError, ValueError, ArithmeticError):
        return False, (False,) * op.arity

    def varies(s: Any) -> bool:  # some partial changes with s, off its jumps
        return any(sympy.simplify(off_jumps(sympy.diff(sympy.sympify(p), s))) != 0 for p in partials)

    return varies(ans), tuple(varies(x) for x in xs)


def second_order_mutants(ops: Sequence[Op] | None = None) -> list[Mutant]:
    """The second-order mutants of the given ops (every registered op by default)."""
    out: list[Mutant] = []
    for op in all_ops() if ops is None else ops:
        reads_ans, reads_x = _reads(op)
        n_read = int(reads_ans) + sum(reads_x)
        if n_read == 0:
            continue

        def add(kind: str, ans_off: bool, inputs_off: frozenset[int], op: Op = op) -> None:
            name = f"{op.name}:{kind}"
            rule = _detaching(op.grad, ans_off, inputs_off)
            out.append(Mutant(name, op.name, kind, None, op.with_rule(rule, name=op.name)))

        add("detached", True, frozenset(range(op.arity)))
        if n_read > 1:  # detaching one of several arguments drops a term; with one it is "detached"
            if reads_ans:
                add("detached_ans", True, frozenset())
            for j, read in enumerate(reads_x):
                if read:
                    add(f"detached_x{j}", False, frozenset({j}))
        for kind, eps in NUDGES.items():
            out.append(
                Mutant(f"{op.name}:{kind}", op.name, kind, None, op.with_rule(_nudging(op.grad, eps), name=op.name))
            )
    return out


def _seed_node(y: Value, xs: Sequence[Value]) -> tuple[Any, ...]:
    """A fault of the engine: the seed 1 of the sweep made as ``y / y.data``, a node equal to 1."""
    seed = y / y.data if y.data != 0 else None
    return gradients(y, xs, create_graph=True, seed=seed)


ENGINE_FAULTS: dict[str, GradientGraph] = {"seed_node": _seed_node}
"""Faults of the second-order sweep, each an engine of its own (``gradients`` with create_graph)."""


def engine_faults() -> list[Mutant]:
    """The second-order engine faults as mutants of target ``engine``."""
    return [Mutant(f"engine:{name}", "engine", name, fault=name) for name in ENGINE_FAULTS]


@dataclass
class Order2Outcome:
    """One mutant through the order-2 methods: the 1-based example that killed it, per method."""

    mutant: str
    target: str
    kind: str
    killed_at: dict[str, int] = field(default_factory=dict)
    tried: int = 0
    seconds: float = 0.0
    gradgradcheck_false_alarms: int = 0
    """Entries where the true Hessian itself failed gradgradcheck (the difference was off): never kills."""

    def killed_by(self, methods: Sequence[str]) -> list[str]:
        """The given methods that killed it."""
        return [m for m in methods if m in self.killed_at]


def _cases(target: str, examples: int, seed: int) -> list[Case]:
    ops = tuple(dict.fromkeys((target, *COMPANIONS)))
    strategy = case_strategy(ops, n_vars=2, max_depth=3, candidates=6)
    drawn: list[Case] = []

    def draw(case: Case) -> None:
        tree, _ = case
        if target in {n.op for n in _walk(tree)}:
            drawn.append(case)

    run_cases(
        strategy, draw, seed=hypothesis_seed(seed, zlib.crc32(target.encode())), max_examples=4 * examples, shrink=False
    )
    return drawn[:examples]


def _walk(tree: Expr) -> list[Any]:
    return [n for n in walk(tree) if isinstance(n, Apply)]


def run_order2_mutant(mutant: Mutant, *, examples: int = 40, seed: int = 0) -> Order2Outcome:
    """Draw expressions over the mutant's op and check them until every method has killed it or they run out."""
    outcome = Order2Outcome(mutant.name, mutant.target, mutant.kind)
    resolve = mutant.resolver(get_op)
    graph = ENGINE_FAULTS[mutant.fault] if mutant.fault is not None else None
    target = "mul" if mutant.fault is not None else mutant.target
    first_order = BuiltinEngine(resolve=resolve)
    wanted = (*SECOND_ORDER_METHODS, GRADGRADCHECK)
    start = time.perf_counter()
    for index, (tree, cands) in enumerate(_cases(target, examples, seed), start=1):
        if all(m in outcome.killed_at for m in wanted) or _quiet(outcome, index):
            break
        outcome.tried = index
        point = next((p for p in cands if classify_point(tree, p) is None), None)
        if point is None:
            continue
        try:
            if graph is None:
                rows = check_second(tree, point, (1.0, -0.5), resolve=resolve)
            else:
                rows = check_second(tree, point, (1.0, -0.5), graph=graph)
        except (ArithmeticError, ValueError, TypeError):
            continue  # a point where the mutant cannot be run says nothing of its derivative
        for row in rows or ():
            method = f"{row.mode.value}_{'f64' if row.method == 'engine_f64' else 'hp'}"
            if row.verdict in _WRONG and method not in outcome.killed_at:
                outcome.killed_at[method] = index
        if rows and GRADGRADCHECK not in outcome.killed_at:
            _gradgradcheck(outcome, index, tree, point, rows, first_order)
    outcome.seconds = time.perf_counter() - start
    return outcome


PATIENCE = 10
"""Expressions a mutant runs past its last new kill before the methods that have not killed it are given up."""


def _quiet(outcome: Order2Outcome, index: int) -> bool:
    """Whether ``PATIENCE`` expressions passed since the last new kill (after some method killed it)."""
    return bool(outcome.killed_at) and index - max(outcome.killed_at.values()) > PATIENCE


def _gradgradcheck(
    outcome: Order2Outcome,
    index: int,
    tree: Expr,
    point: tuple[float, ...],
    rows: Sequence[SecondRow],
    engine: BuiltinEngine,
) -> None:
    """The baseline at one point: the mutant engine's float64 Hessian against differences of its gradient."""
    hess = [r for r in rows if r.mode is Mode.HESSIAN and r.method == "engine_f64"]

    def gradient(at: Sequence[float]) -> Sequence[float] | None:
        found = engine.evaluate(tree, at)
        return found.grads if found.ok else None

    found = gradgradcheck(gradient, [r.computed for r in hess], [r.truth.mid for r in hess], point)
    if found is None:
        return
    outcome.gradgradcheck_false_alarms += len(found.false_alarms)
    if found.kills:
        outcome.killed_at[GRADGRADCHECK] = index
