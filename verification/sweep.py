"""The per-op accuracy sweep: each op alone, at points spread over all float64 bit patterns.

For an op of arity n, a point draws each input as a uniformly random 64-bit
pattern read as a float64 (so magnitudes are spread log-uniformly from the
subnormals to 1e308, both signs), kept when it lies in the op's domain; op
parameters are drawn from :func:`verification.strategies.parameter_values`.
Points where the certified value or partial is not a finite float64, or
where an input sits exactly on a declared kink, are skipped and counted. At
each kept point the engine's partial with respect to every input is compared
with the certified truth, in ULPs.

Target: median <= :data:`MEDIAN_TARGET` and max <= :data:`MAX_TARGET` ULPs for every op.
"""

from __future__ import annotations

import math
import random
import statistics
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from autodiff import Op, get_op, in_domain
from runstore import PerOpRow
from verification.engines import BuiltinEngine, Engine
from verification.expr import Apply, Var
from verification.metrics import ulp_distance
from verification.references import DEFAULT_CAP_BITS, Reference
from verification.strategies import parameter_values

__all__ = ["MEDIAN_TARGET", "MAX_TARGET", "OpAccuracy", "random_float", "sweep_op", "summarise"]

MEDIAN_TARGET = 1.0
MAX_TARGET = 4.0


@dataclass(frozen=True)
class OpAccuracy:
    """ULP error of the engine's partial of ``op`` with respect to input ``input``."""

    op: str
    input: int
    points: int
    skipped: int
    unsamplable: int
    median_ulp: float
    p99_ulp: float
    max_ulp: float
    worst_point: str

    @property
    def meets_target(self) -> bool:
        """Whether median and max are within the targets."""
        return self.points > 0 and self.median_ulp <= MEDIAN_TARGET and self.max_ulp <= MAX_TARGET

    def row(self) -> PerOpRow:
        """The row of ``per_op.csv`` (:data:`runstore.PER_OP`)."""
        return PerOpRow(
            self.op,
            self.input,
            self.points,
            self.skipped,
            self.unsamplable,
            self.median_ulp,
            self.p99_ulp,
            self.max_ulp,
            self.worst_point,
            self.meets_target,
        )


def random_float(rng: random.Random) -> float:
    """A float64 from a uniformly random bit pattern (NaN and infinities redrawn)."""
    while True:
        x: float = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            return x


def _draw(op: Op, rng: random.Random) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    choices = parameter_values(op)
    if not choices:
        return None
    params = rng.choice(choices)
    doms = op.domains(params)
    point = tuple(random_float(rng) for _ in range(op.arity))
    if not all(in_domain(d, x) for d, x in zip(doms, point, strict=True)):
        return None
    for kink in op.kinks:
        if point[kink.input] == kink.at:
            return None
    return point, params


def sweep_op(
    op: Op,
    *,
    engine: Engine | None = None,
    points: int = 10_000,
    seed: int = 0,
    cap_bits: int = DEFAULT_CAP_BITS,
    max_draws_factor: int = 50,
) -> list[OpAccuracy]:
    """Sweep ``op`` over ``points`` kept points; one :class:`OpAccuracy` per input.

    By default the built-in engine runs ``op`` itself (registered or not).
    """
    engine = engine or BuiltinEngine(resolve=lambda name: op if name == op.name else get_op(name))
    rng = random.Random(f"{seed}:{op.name}")
    refs: dict[tuple[float, ...], tuple[Apply, Reference]] = {}
    errors: list[list[tuple[float, tuple[float, ...]]]] = [[] for _ in range(op.arity)]
    skipped = unsamplable = kept = 0
    for _ in range(points * max_draws_factor):
        if kept >= points:
            break
        drawn = _draw(op, rng)
        if drawn is None:
            continue
        point, params = drawn
        if params not in refs:
            tree = Apply(op.name, tuple(Var(i) for i in range(op.arity)), params)
            refs[params] = (tree, Reference(tree, op.arity, resolve=lambda _name: op))
        tree, ref = refs[params]
        certified = ref.certify(point, cap_bits=cap_bits)
        if certified is None:
            unsamplable += 1
            continue
        if not certified.finite:
            skipped += 1
            continue
        kept += 1
        ev = engine.evaluate(tree, point)
        for k in range(op.arity):
            grad = float(ev.grads[k]) if ev.ok and ev.grads is not None else math.nan
            errors[k].append((ulp_distance(grad, certified.grads[k]), (*point, *params)))
    return [summarise(op.name, k, errors[k], skipped, unsamplable) for k in range(op.arity)]


def summarise(
    name: str, k: int, errs: Sequence[tuple[float, tuple[float, ...]]], skipped: int, unsamplable: int
) -> OpAccuracy:
    """Median, 99th percentile and largest ULP error of one partial, with its worst point."""
    if not errs:
        return OpAccuracy(name, k, 0, skipped, unsamplable, math.nan, math.nan, math.nan, "")
    ulps = sorted(e for e, _ in errs)
    worst = max(errs, key=lambda e: e[0])
    return OpAccuracy(
        op=name,
        input=k,
        points=len(errs),
        skipped=skipped,
        unsamplable=unsamplable,
        median_ulp=statistics.median(ulps),
        p99_ulp=ulps[min(len(ulps) - 1, int(0.99 * len(ulps)))],
        max_ulp=ulps[-1],
        worst_point=repr(worst[1]),
    )
