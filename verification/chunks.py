"""One chunk of a campaign: its seeded cases, each checked within a time limit, with records and counts.

Chunk ``index`` is one Hypothesis run seeded with
``hypothesis_seed(config.seed, index)`` (:mod:`verification.generation`), so
a chunk gives the same records in any process and can be replayed to shrink
a bug found in it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from autodiff import get_op
from verification.campaign_config import CampaignConfig
from verification.case import check_case, engines_for
from verification.engines import Engine
from verification.generation import Case, case_strategy, hypothesis_seed, run_cases
from verification.timeout import Timeout, time_limit

__all__ = ["ChunkResult", "run_chunk", "chunk_seed", "chunk_strategy", "merge_times"]


@dataclass
class ChunkResult:
    """What one chunk sends back to the parent."""

    index: int
    rows: list[dict[str, Any]]
    counts: Counter[str]
    findings: list[dict[str, Any]]
    ratios: list[float]
    expressions: int
    times: dict[str, float] = field(default_factory=dict)


def merge_times(into: dict[str, float], more: dict[str, float]) -> None:
    """Add the seconds per stage of ``more`` into ``into``."""
    for stage, seconds in more.items():
        into[stage] = into.get(stage, 0.0) + seconds


def chunk_seed(config: CampaignConfig, index: int) -> int:
    """The Hypothesis seed of chunk ``index``."""
    return hypothesis_seed(config.seed, index)


_STRATEGIES: dict[tuple[Any, ...], Any] = {}


def chunk_strategy(config: CampaignConfig, engine: Engine) -> Any:
    """The strategy of (tree, candidate points), built once per process (building is costly)."""
    key = (config.ops, config.n_vars, config.max_depth, config.candidates, config.engine)
    found = _STRATEGIES.get(key)
    if found is None:
        ops = config.ops if config.ops is not None else tuple(sorted(engine.supported_ops()))
        found = _STRATEGIES[key] = case_strategy(
            ops,
            n_vars=config.n_vars,
            max_depth=config.max_depth,
            candidates=config.candidates,
            resolve=getattr(engine, "resolve", get_op),
        )
    return found


def run_chunk(config: CampaignConfig, index: int, run_id: str = "") -> ChunkResult:
    """Generate and check chunk ``index`` of the campaign (deterministic for a config and index).

    An expression that takes longer than ``config.expr_timeout`` seconds is
    skipped and counted under ``timeouts``.
    """
    engine, hp_engine = engines_for(config.engine)
    sizes = config.chunks()
    first = sum(sizes[:index])
    out = ChunkResult(index, [], Counter(), [], [], 0)

    def body(case: Case) -> None:
        if out.expressions >= sizes[index]:
            return
        tree, cands = case
        try:
            with time_limit(config.expr_timeout):
                res = check_case(
                    tree,
                    cands,
                    config=config,
                    engine=engine,
                    hp_engine=hp_engine,
                    expr_id=first + out.expressions,
                    run_id=run_id,
                )
        except Timeout:
            out.expressions += 1
            out.counts["timeouts"] += 1
            return
        for f in res.findings:
            f["chunk"] = index
        out.expressions += 1
        out.rows.extend(res.rows)
        out.counts.update(res.counts)
        out.findings.extend(res.findings)
        out.ratios.extend(res.ratios)
        merge_times(out.times, res.times)

    t0 = time.perf_counter()
    run_cases(
        chunk_strategy(config, engine), body, seed=chunk_seed(config, index), max_examples=sizes[index], shrink=False
    )
    out.times["chunk_total"] = time.perf_counter() - t0
    return out
