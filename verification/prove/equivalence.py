"""Equivalence: two rules proven equal (mutation testing), and the engine's gradient of a whole expression."""

from __future__ import annotations

import inspect
import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import sympy

from autodiff import Op, Value, sympy_backend
from verification.expr import Expr, evaluate_values, to_source, to_sympy, variables
from verification.prove.audit import code_disagreement
from verification.prove.decide import compare
from verification.prove.exact import construct, exact
from verification.prove.ladder import CHEAP_LADDER, COSTLY_LADDER, reduces_to_zero
from verification.prove.ops import DEFAULT_BUDGET, DEFAULT_SAMPLES
from verification.prove.records import Check, GradientProof, PartialProof, Verdict
from verification.prove.regions import Piece, pieces, replace_branches

__all__ = ["prove_gradient", "prove_rules_equal"]

_CASE_LIMIT = 6  # sign arguments up to which the engine check splits into cases (2**6 cases)


def _canonical(u: Any) -> tuple[Any, int]:
    """``u`` as ``s * key`` with a canonical ``key`` (no leading minus) and s = +-1."""
    return (-u, -1) if u.could_extract_minus_sign() else (u, 1)


def _sign_arguments(e: Any) -> list[Any]:
    """Keys of the arguments whose sign selects a branch (Abs, sign, Heaviside, Max/Min, Piecewise
    relations); known signs are left out."""
    found: dict[Any, None] = {}
    for node in sympy.preorder_traversal(e):
        if isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
            args = [node.args[0]]
        elif isinstance(node, (sympy.Max, sympy.Min)) and len(node.args) == 2:
            args = [node.args[0] - node.args[1]]
        elif isinstance(node, sympy.Piecewise):
            args = [r.lhs - r.rhs for _, cond in node.args for r in cond.atoms(sympy.core.relational.Relational)]
        else:
            continue
        for u in args:
            if u.is_positive is None and u.is_negative is None:
                found[_canonical(u)[0]] = None
    return list(found)


def _fix_signs(e: Any, signs: dict[Any, int]) -> Any:
    """Replace every branching node by its branch under ``signs`` (sign of each key), to a fixed point."""

    def sign_of(u: Any) -> int | None:
        key, s = _canonical(u)
        return None if key not in signs else s * signs[key]

    return replace_branches(e, sign_of)


def _by_sign_cases(diff: Any, budget: float) -> str | None:
    """Prove ``diff == 0`` wherever no sign argument is 0: every sign pattern reduces to 0 by the
    cheap ladder. None when some pattern does not, or when there are too many arguments."""
    keys = _sign_arguments(diff)
    if not keys or len(keys) > _CASE_LIMIT:
        return None
    for pattern in itertools.product((1, -1), repeat=len(keys)):
        case = _fix_signs(diff, dict(zip(keys, pattern)))
        if reduces_to_zero(case, budget, CHEAP_LADDER) is None:
            return None
    return f"{2 ** len(keys)} sign cases of {', '.join(map(str, keys))} (not covering where one is 0)"


def _engine_gradient(target: Expr | Callable[..., Value], symbols: Sequence[Any]) -> tuple[Any, tuple[Any, ...]]:
    """The engine's output and gradient expressions with Values over ``symbols``."""
    leaves = [Value(s) for s in symbols]
    out = target(*leaves) if callable(target) else evaluate_values(target, leaves)
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, got {type(out).__name__}")
    out.backward()
    return out.data, tuple(leaf.grad for leaf in leaves)


def prove_gradient(
    target: Expr | Callable[..., Value],
    *,
    nvars: int | None = None,
    budget: float = DEFAULT_BUDGET,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> GradientProof:
    """Prove the engine's gradient of ``target`` per variable: ``engine d/dx_i == sympy.diff``.

    ``target`` is an expression tree (truth: ``sympy.diff`` of :func:`to_sympy`,
    built from the ops' specs) or a Python function of Values (truth:
    ``sympy.diff`` of the forward expression the engine builds). This checks
    the chain rule, accumulation and graph traversal; each op's own rule,
    kinks and float behaviour are :func:`prove`'s business.

    Per variable: the cheap ladder; then a split into sign cases of the
    arguments of Abs/sign/Heaviside and branch conditions, each case reduced
    by the cheap ladder -- such a proof does not cover points where one of
    those arguments is 0 (kinks; the method says so); then the costly ladder;
    then the counterexample search.
    """
    start = time.perf_counter()
    if callable(target):
        count = nvars if nvars is not None else len(inspect.signature(target).parameters)
        label = getattr(target, "__name__", "function")
    else:
        used = variables(target)
        count = nvars if nvars is not None else (max(used) + 1 if used else 0)
        label = to_source(target)
    names = [f"x{i}" for i in range(count)]
    general = [sympy.Symbol(n, real=True) for n in names]
    forward, shown = _engine_gradient(target, general)
    definition = forward if callable(target) else to_sympy(target, general)
    rng = random.Random(seed)
    whole = [Piece(n, -math.inf, math.inf, symbol=g, value=g) for n, g in zip(names, general)]
    proofs = []
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        candidate, truth = exact(shown[i]), exact(sympy.diff(definition, general[i]))
        diff = candidate - truth
        method = (
            reduces_to_zero(diff, budget, CHEAP_LADDER)
            or _by_sign_cases(diff, budget)
            or reduces_to_zero(diff, budget, COSTLY_LADDER)
        )
        if method is not None:
            check = Check("all real", candidate, truth, Verdict.PROVEN, method)
        else:
            check = compare(candidate, truth, whole, budget=budget, samples=samples, rng=rng)
        proofs.append(PartialProof(label, name, i, candidate, truth, (check,), (), time.perf_counter() - t0))
    return GradientProof(label, tuple(proofs), time.perf_counter() - start)


def _same(mutated: Sequence[Any], original: Sequence[Any], budget: float) -> list[str] | None:
    """Per partial, the ladder step that reduces ``mutated_i - original_i`` to 0; None when one does not."""
    methods = []
    for a, b in zip(mutated, original):
        a, b = sympy.sympify(a), sympy.sympify(b)
        if a == b:  # the same expression, infinite ones (1/(2*0) = zoo) included
            methods.append("identical")
            continue
        method = reduces_to_zero(a - b, budget)
        if method is None:
            return None
        methods.append(method)
    return methods


def _rules(op: Op, inputs: Sequence[Any], params: Sequence[Any]) -> tuple[Any, ...]:
    return construct(op, inputs, params).partials


def prove_rules_equal(op: Op, base: Op, *, budget: float = DEFAULT_BUDGET) -> tuple[bool, str]:
    """Whether ``op``'s rule is proven equal to ``base``'s, partial by partial, on the sympy backend.

    First for all real inputs and parameters; else on every region of
    ``base``'s declared domain (open pieces cut at 0, closed ends and kinks as
    exact points). A domain that depends on the parameters is only enumerable
    at the parameter examples, which proves nothing for other parameters: such
    an op needs the all-reals proof. Returns (proven, the proof or where it
    failed); never True without a proof.
    """
    m = sympy_backend()
    names = base.input_names()
    general = [m.symbol(n, real=True) for n in names]
    params = [m.symbol(p, real=True) for p in base.params]
    mutated, original = _rules(op, general, params), _rules(base, general, params)
    differs = code_disagreement(op, base, random.Random(0))
    if differs is not None:  # equal on paper perhaps, not as code ((x - 1)/(x - 1) at 1)
        return False, differs
    everywhere = _same(mutated, original, budget)
    if everywhere is not None:
        return True, f"equal for every real input ({', '.join(sorted(set(everywhere)))})"
    if callable(base.domain):
        return False, "differs on the real line; the domain depends on the parameters"
    kinks_of = {i: [k.at for k in base.kinks if k.input == i] for i in range(base.arity)}
    per_param = [pieces(n, d) for n, d in zip(base.params, base.param_domain)]
    cases = [list(c) for c in itertools.product(*per_param)]
    cases += [[Piece.at(n, v) for n, v in zip(base.params, ex)] for ex in base.param_examples]
    regions: list[str] = []
    for param_pieces in cases:
        per_input = [pieces(n, d, kinks_of[i]) for i, (n, d) in enumerate(zip(names, base.domains()))]
        for combo in itertools.product(*per_input):
            at = {g: p.value for g, p in zip([*general, *params], [*combo, *param_pieces])}
            a = [e.xreplace(at) for e in mutated]
            b = [e.xreplace(at) for e in original]
            where = ", ".join(p.describe() for p in (*combo, *param_pieces))
            if _same(a, b, budget) is None:
                return False, f"not shown equal on {where}"
            regions.append(where)
    return True, f"equal on every region of the domain: {'; '.join(regions)}"
