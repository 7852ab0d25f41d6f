"""The Hypothesis driver: seeded runs drawing (expression, candidate points) cases.

Campaign chunks and mutation runs draw their cases here, so both use one
seed formula and one set of settings. A run is identified by the campaign's
``seed`` and a ``key`` (the chunk index, or a checksum of the mutated op's
name); Hypothesis is seeded with :func:`hypothesis_seed`::

    hypothesis_seed(seed, key) = seed * 1_000_003 + key

1_000_003 is a prime larger than any chunk count, so distinct chunks of one
seed, and equal chunks of neighbouring seeds, never share a Hypothesis seed.
Runs are reproducible from the seed alone: no example database, no
derandomisation, no deadline, no health checks (a case may be slow and most
trees are filtered by the checker, not by Hypothesis).

Hypothesis also draws, now and then, numeric literals it mines from the
source of whatever non-library modules happen to be imported. That would
make a chunk's cases depend on which modules a process has loaded (one
worker or several, an editable install or not, any edit to any literal in
the code base), so runs here draw from Hypothesis's own constants only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from autodiff import get_op
from verification.expr import Expr, Resolver

__all__ = ["SEED_STRIDE", "Case", "hypothesis_seed", "case_strategy", "run_cases"]

SEED_STRIDE = 1_000_003
"""Multiplier of the campaign seed in :func:`hypothesis_seed` (a prime above any chunk count)."""

Case = tuple[Expr, list[tuple[float, ...]]]
"""One drawn case: an expression tree and its candidate points."""


def hypothesis_seed(seed: int, key: int) -> int:
    """The Hypothesis seed of run ``key`` of a campaign seeded with ``seed``."""
    return seed * SEED_STRIDE + key


def case_strategy(
    ops: Sequence[str], *, n_vars: int, max_depth: int, candidates: int, resolve: Resolver = get_op
) -> Any:
    """Strategy of (tree over ``ops``, ``candidates`` candidate points)."""
    from hypothesis import strategies as st

    from verification.strategies import candidate_points, expressions

    trees = expressions(ops=ops, n_vars=n_vars, max_depth=max_depth, resolve=resolve)
    cands = st.lists(candidate_points(n_vars), min_size=candidates, max_size=candidates)
    return st.tuples(trees, cands)


def run_cases(strategy: Any, body: Callable[[Case], None], *, seed: int, max_examples: int, shrink: bool) -> None:
    """Call ``body`` on up to ``max_examples`` cases drawn by ``strategy`` with Hypothesis seed ``seed``.

    ``body`` stops the run by raising; with ``shrink``, Hypothesis first
    shrinks the case to a minimal one that raises the same way, then re-raises.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]

    @seeded(seed)
    @settings(
        max_examples=max_examples,
        phases=phases,
        database=None,
        deadline=None,
        derandomize=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def run(case: Case) -> None:
        body(case)

    with _no_mined_constants():
        run()


@contextlib.contextmanager
def _no_mined_constants() -> Iterator[None]:
    """Within the block, Hypothesis mines no constants from the loaded modules (see the module doc).

    Hypothesis keeps the mined constants behind one module-level function and
    a cache of the values drawn from them; both are swapped for the block.
    Versions of Hypothesis without the mining have neither, and need nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without this module mines nothing
        yield
        return
    mined = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if mined is None or cache is None:
        yield
        return
    none = type(mined())()  # an empty pool of the same type
    cache.cache.clear()
    providers._get_local_constants = lambda: none
    try:
        yield
    finally:
        providers._get_local_constants = mined
        cache.cache.clear()
