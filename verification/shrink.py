"""Shrinking a campaign's bugs to small expressions, described with a reproduction.

Each kind of bug is shrunk once: its chunk is replayed with a test that fails
on that (verdict, method), Hypothesis shrinks the failing case, and subtrees
are then hoisted while the bug persists at the same point.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from autodiff import get_op
from verification.campaign_config import CampaignConfig
from verification.case import FoundBug, as_float, check_case, engines_for
from verification.chunks import chunk_seed, chunk_strategy
from verification.engines import Engine
from verification.expr import Apply, Expr, depth, size, to_source, variables
from verification.generation import Case, run_cases
from verification.judging import BUG_VERDICTS
from verification.references import Reference
from verification.reproduce import reproduction

__all__ = ["shrink_finding", "shrink_all"]


def shrink_finding(config: CampaignConfig, finding: dict[str, Any]) -> tuple[Expr, tuple[float, ...], int] | None:
    """Replay the finding's chunk with a test that fails on its (verdict, method); Hypothesis shrinks it."""
    engine, hp_engine = engines_for(config.engine)
    target = (finding["kind"], finding["method"])
    index = int(finding["chunk"])
    sizes = config.chunks()
    caught: list[FoundBug] = []

    def body(case: Case) -> None:
        tree, cands = case
        try:
            check_case(tree, cands, config=config, engine=engine, hp_engine=hp_engine, expr_id=0, stop_on=target)
        except FoundBug as bug:
            caught.append(bug)
            raise

    try:
        run_cases(
            chunk_strategy(config, engine), body, seed=chunk_seed(config, index), max_examples=sizes[index], shrink=True
        )
    except FoundBug:
        pass
    if not caught:
        return None
    return _hoist(config, engine, hp_engine, target, caught[-1])


def _hoistings(tree: Expr) -> Iterator[Expr]:
    """Trees with one op node replaced by one of its variable-bearing arguments (the root stays an op)."""
    if not isinstance(tree, Apply):
        return
    for i, arg in enumerate(tree.args):
        if isinstance(arg, Apply):
            yield arg
            for smaller in _hoistings(arg):
                yield Apply(tree.op, (*tree.args[:i], smaller, *tree.args[i + 1 :]), tree.params)
        if isinstance(arg, Apply) and arg.args:
            for inner in arg.args:
                if variables(inner):
                    yield Apply(tree.op, (*tree.args[:i], inner, *tree.args[i + 1 :]), tree.params)


def _hoist(
    config: CampaignConfig, engine: Engine, hp_engine: Engine | None, target: tuple[str, str], bug: FoundBug
) -> tuple[Expr, tuple[float, ...], int]:
    """Finish Hypothesis's shrink: hoist subtrees while the bug persists at the same point.

    Hypothesis minimises the choices behind a tree level by level, which keeps
    an outer op whose index sorts before the failing op; hoisting removes it.
    """
    tree, point, var = bug.tree, bug.point, bug.variable
    probe = replace(config, points=1, oracle_every=0)
    improved = True
    while improved:
        improved = False
        for smaller in sorted(_hoistings(tree), key=size):
            try:
                check_case(
                    smaller, [point], config=probe, engine=engine, hp_engine=hp_engine, expr_id=0, stop_on=target
                )
            except FoundBug as found:
                tree, var = found.tree, found.variable
                improved = True
                break
    return tree, point, var


def shrink_all(config: CampaignConfig, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shrink one finding of each kind of bug (at most ``config.max_shrinks``), float64 engine findings first."""
    engine, _ = engines_for(config.engine)
    seen: set[str] = set()
    shrunk: list[dict[str, Any]] = []
    # one shrink per kind of bug; the float64 engine's is what a user reproduces
    for f in sorted(findings, key=lambda f: f["method"] != "engine_f64"):
        if f["kind"] not in BUG_VERDICTS or f["kind"] in seen or len(shrunk) >= config.max_shrinks:
            continue
        seen.add(f["kind"])
        try:
            found = shrink_finding(config, f)
            if found is not None:
                shrunk.append(_describe_shrunk(config, engine, f, *found))
        except Exception:  # the report must survive a failure to shrink
            shrunk.append({"kind": f["kind"], "method": f["method"], "error": traceback.format_exc(limit=3)})
    return shrunk


def _describe_shrunk(
    config: CampaignConfig, engine: Engine, finding: dict[str, Any], tree: Expr, point: tuple[float, ...], k: int
) -> dict[str, Any]:
    resolve = getattr(engine, "resolve", get_op)
    ref = Reference(tree, config.n_vars, resolve=resolve, symbolic="sympy")
    certified = ref.certify(point, cap_bits=config.cap_bits)
    ev = engine.evaluate(tree, point)
    return {
        "kind": finding["kind"],
        "method": finding["method"],
        "expr": to_source(tree, resolve=resolve),
        "sympy_expr": str(ref.sympy_form()),
        "size": size(tree),
        "depth": depth(tree),
        "point": list(point),
        "variable": k,
        "engine_value": as_float(ev.value) if ev.ok else None,
        "engine_grad": as_float(ev.grads[k]) if ev.ok and ev.grads is not None else None,
        "engine_error": ev.error,
        "true_value": certified.value if certified is not None else None,
        "true_grad": certified.grads[k] if certified is not None else None,
        "reproduction": reproduction(engine, tree, point, config.plugins),
    }
