"""The same campaign on several engines: one seed, the ops every engine runs, and a per-op sweep of each.

Each engine gets a run directory of its own under the comparison's directory
(``records.csv``, ``findings.json``, ``run.json`` as ``gradproof verify``
writes them, plus ``per_op.csv``: each shared op alone at special points,
float64 bit patterns and everyday magnitudes, judged by the one-op rounding
bound, :func:`verification.frameworks.check.check_op`), so every report reads them,
and ``gradproof report DIR1 DIR2 ...`` puts them side by side.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from autodiff import get_op
from runstore import PER_OP, PerOpRow, columns
from runstore.atomic import write_bytes, write_json
from verification.campaign import run_campaign
from verification.campaign_config import CampaignConfig
from verification.engine_api import Engine
from verification.engine_spec import resolve_engine
from verification.errors import UsageError
from verification.frameworks.check import check_op
from verification.references import DEFAULT_CAP_BITS
from verification.strategies import parameter_values

__all__ = ["COMPARISON_FILE", "EngineRun", "run_comparison", "shared_ops", "run_dir_name"]

COMPARISON_FILE = "comparison.json"


@dataclass(frozen=True)
class EngineRun:
    """One engine's part of a comparison."""

    engine: str
    run_dir: Path
    status: str
    expressions: int
    bugs: int
    seconds: float
    per_op_seconds: float


def shared_ops(engines: Sequence[Engine]) -> tuple[str, ...]:
    """The ops every engine runs, sorted."""
    common = set(engines[0].supported_ops())
    for engine in engines[1:]:
        common &= engine.supported_ops()
    return tuple(sorted(common))


def run_dir_name(spec: str) -> str:
    """A directory name for an engine spec (``tests/x.py:Value`` -> ``tests_x.py_Value``)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in spec)


def run_comparison(
    specs: Sequence[str],
    out: Path,
    *,
    config: CampaignConfig,
    jobs: int = 1,
    per_op_points: int = 200,
    progress: bool = True,
) -> list[EngineRun]:
    """Run ``config`` (its engine and ops replaced) on each engine of ``specs`` into ``out/<engine>``."""
    if len(set(specs)) != len(specs) or len(specs) < 2:
        raise UsageError(f"--engines needs at least two different engines, got {', '.join(specs) or 'none'}")
    engines = [resolve_engine(spec) for spec in specs]
    ops = shared_ops(engines)
    if not ops:
        raise UsageError(f"the engines {', '.join(specs)} share no op")
    if config.ops is not None:
        missing = sorted(set(config.ops) - set(ops))
        if missing:
            raise UsageError(f"--ops {', '.join(missing)}: not run by every engine (shared: {', '.join(ops)})")
        ops = config.ops
    if jobs > 1 and not all(getattr(e, "fork_safe", True) for e in engines):
        jobs = 1  # a framework whose runtime is multithreaded is loaded: forked workers could deadlock
    runs: list[EngineRun] = []
    for spec, engine in zip(specs, engines):
        run_dir = out / run_dir_name(spec)
        if progress:
            print(f"{spec}: {config.examples} expressions over {len(ops)} shared ops -> {run_dir}", flush=True)
        result = run_campaign(replace(config, engine=spec, ops=ops), run_dir, jobs=jobs, progress=progress)
        t0 = time.perf_counter()
        if per_op_points > 0:
            _sweep(engine, ops, run_dir, per_op_points, config.seed)
        runs.append(
            EngineRun(
                spec,
                run_dir,
                result.status,
                result.expressions,
                len(result.bugs),
                result.seconds,
                time.perf_counter() - t0,
            )
        )
        if result.status != "finished":
            break
    write_json(
        out / COMPARISON_FILE,
        {
            "engines": list(specs),
            "ops": list(ops),
            "seed": config.seed,
            "examples": config.examples,
            "per_op_points": per_op_points,
            "jobs": jobs,
            "runs": [{**asdict(r), "run_dir": str(r.run_dir)} for r in runs],
        },
    )
    return runs


def _sweep(engine: Engine, ops: Sequence[str], run_dir: Path, points: int, seed: int) -> None:
    rows = []
    for name in ops:
        op = get_op(name)
        params = (op.param_examples or tuple(parameter_values(op)) or ((),))[0]
        check = check_op(op, engine, points=points, seed=seed, params=params, cap_bits=DEFAULT_CAP_BITS)
        for a in check.accuracy:
            beyond = sum(1 for f in check.findings if f.variable == a.input)
            rows.append({**asdict(a.row()), "beyond_bound": beyond, "kink": "; ".join(check.kink_findings)})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*(c.name for c in columns(PerOpRow)), "beyond_bound", "kink"])
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(run_dir / PER_OP.path, buffer.getvalue().encode("utf-8"))
