"""Checking one op alone on an engine: every float64 regime, the certified truth, a rounding-justified verdict.

At each point (uniform random 64-bit patterns inside the op's domain and, in
turn with them, magnitudes ``10**u``, ``u`` uniform in [-4, 4], of either sign,
where a bit pattern rarely lands; plus the places where ops go wrong: 0, the subnormals, the overflow thresholds of
``exp``, the tails, the largest floats, each side of every kink) the op's
value and partials are certified from its sympy definition
(:mod:`verification.references`) and the engine's results are judged as a
campaign judges them (:func:`verification.judging.judge_float`) with the
bounds of :mod:`verification.bounds`: for an op defined by its formula alone,
at exact inputs, ``K u |truth| + eta`` (each op may lose 4 ULPs in its
forward and 4 in its rule), times the safety factor, plus half-way rounding
of the truth; for a built-in op also what its declared rule's own roundings
cost. A result outside that has the severity a campaign gives the same
error of an op alone (:func:`verification.allowances.classify_error`):
``inaccurate`` within what a correct textbook formula loses (a naive
``log(1 + exp(x))`` at x = -10), ``wrong`` beyond it at ordinary inputs and
results, ``fragile`` beyond it elsewhere; an exception, NaN or infinity where
the truth is a finite float is ``broken`` at ordinary inputs and ``fragile``
at extreme ones. ``OpCheck.ok``: nothing wrong or broken;
``OpCheck.certified``: every result within the bound. On an engine that flushes
subnormals to zero, subnormal inputs are skipped and the absolute floor is the
smallest normal number. At a declared kink the engine's partial must lie
between the one-sided derivatives. An engine that gives no answer within its
time limit at a point is ``broken`` there (a backward that never returns);
after ``MAX_HANGS`` such points the check stops, since each would cost the
whole limit again.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from autodiff import Op, in_domain
from verification.allowances import classify_error, ordinary
from verification.bounds import ETA, K_OP, U64, analyse
from verification.engine_api import Engine
from verification.expr import Apply, Var
from verification.judging import SMALLEST_NORMAL, judge_float, underflow_floor
from verification.metrics import bits_of_error, ulp_distance
from verification.references import Certified, Reference
from verification.sweep import OpAccuracy, random_float, summarise

__all__ = ["CHECK_CAP_BITS", "SPECIAL_POINTS", "OpFinding", "OpCheck", "check_op", "op_bound", "underflow_floor"]

MAX_HANGS = 2
"""Points without an answer in time after which a check stops (the op is broken; more would only wait)."""

CHECK_CAP_BITS = 8192
"""Interval precision cap for one op (certifies ``log(1 + exp(x))`` down to about x = -5600)."""

_MAGNITUDES = (
    0.0,
    5e-324,
    2.2250738585072014e-308,
    1e-300,
    1e-30,
    1e-16,
    1e-8,
    1e-4,
    0.1,
    0.5,
    1.0,
    2.0,
    3.0,
    10.0,
    20.0,
    30.0,
    40.0,
    100.0,
    700.0,
    709.78,
    710.0,
    745.0,
    1e3,
    1e5,
    1e10,
    1e100,
    1e300,
    1.7976931348623157e308,
)
SPECIAL_POINTS: tuple[float, ...] = tuple(sorted({s * m for m in _MAGNITUDES for s in (1.0, -1.0)}))
"""Inputs tried on every op besides the random bit patterns (both signs of each magnitude)."""


@dataclass(frozen=True)
class OpFinding:
    """One point where the engine's op is beyond the rounding bound (``severity`` "ok" where it is not)."""

    severity: str  # "wrong", "broken", "inaccurate" or "fragile" (as a campaign's defects), or "ok"
    point: tuple[float, ...]
    variable: int
    value: float
    true_value: float
    grad: float
    true_grad: float
    ulps: float
    error: str | None = None

    @property
    def hung(self) -> bool:
        """Whether the engine gave no answer in time here."""
        return (self.error or "").startswith("TimeLimit")

    def describe(self) -> str:
        """One line: where, what the engine gave, the truth, ULPs."""
        at = ", ".join(repr(p) for p in self.point)
        if self.error is not None:
            return f"{self.severity} at x = {at}: the engine raised {self.error} (true partial {self.true_grad!r})"
        return (
            f"{self.severity} at x = {at}: d/dx{self.variable} = {self.grad!r}, true {self.true_grad!r} "
            f"({self.ulps:.3g} ULPs, {bits_of_error(self.ulps):.1f} bits); "
            f"value {self.value!r}, true {self.true_value!r}"
        )


@dataclass
class OpCheck:
    """Everything :func:`check_op` measured."""

    op: str
    engine: str
    accuracy: list[OpAccuracy]
    findings: list[OpFinding] = field(default_factory=list)
    kink_findings: list[str] = field(default_factory=list)
    judged: int = 0
    skipped: int = 0
    unsamplable: int = 0
    flushed_inputs: int = 0  # subnormal inputs left out on an engine that flushes them to zero
    hangs: int = 0  # points where the engine gave no answer in time (after MAX_HANGS the check stops)
    shrunk: list[OpFinding] = field(default_factory=list)
    reproductions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Something was judged and nothing was wrong or broken (inaccurate and fragile points may remain)."""
        failing = any(f.severity in ("wrong", "broken") for f in self.findings)
        return self.judged > 0 and not failing and not self.kink_findings

    @property
    def certified(self) -> bool:
        """Something was judged and every result was within the float64 rounding bound."""
        return self.judged > 0 and not self.findings and not self.kink_findings

    def severities(self) -> dict[str, int]:
        """How many points of each severity."""
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        if self.kink_findings:
            out["wrong"] = out.get("wrong", 0) + len(self.kink_findings)
        return out


def op_bound(truth: float, floor: float = ETA) -> float:
    """What float64 may cost one op at exact inputs (before the safety factor): ``K u |truth| + eta``.

    ``floor`` is the absolute error of an underflowing result: ``eta = 2**-1074`` in IEEE
    arithmetic, the smallest normal number on an engine that flushes subnormals to zero.
    """
    return K_OP * U64 * abs(truth) + floor


def _points(op: Op, params: tuple[float, ...], n: int, seed: int) -> list[tuple[float, ...]]:
    doms = op.domains(params)
    rng = random.Random(f"{seed}:{op.name}")
    kinks = {(k.input, k.at) for k in op.kinks}

    def ok(point: tuple[float, ...]) -> bool:
        return all(in_domain(d, x) for d, x in zip(doms, point)) and not any(
            (i, point[i]) in kinks for i in range(op.arity)
        )

    out = [p for p in _special(op) if ok(p)]
    draws, target = 0, len(out) + n
    while len(out) < target and draws < 50 * n:
        draws += 1
        draw = random_float if draws % 2 else _ordinary  # bit patterns and everyday magnitudes in turn
        point = tuple(draw(rng) for _ in range(op.arity))
        if ok(point):
            out.append(point)
    return out


def _special(op: Op) -> list[tuple[float, ...]]:
    """Each special point on each input (the others at 1.5), and both neighbours of every kink."""
    out: list[tuple[float, ...]] = []
    for s in SPECIAL_POINTS:
        for i in range(op.arity):
            out.append(tuple(s if j == i else 1.5 for j in range(op.arity)))
    for kink in op.kinks:
        for side in (-math.inf, math.inf):
            out.append(tuple(math.nextafter(kink.at, side) if i == kink.input else 1.5 for i in range(op.arity)))
    return out


def _ordinary(rng: random.Random) -> float:
    """A float of everyday magnitude: ``±10**u`` with ``u`` uniform in [-4, 4]."""
    return rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-4.0, 4.0)


def _judge(op: Op, engine: Engine, tree: Apply, point: tuple[float, ...], certified: Certified) -> list[OpFinding]:
    ev = engine.evaluate(tree, point)
    floor = underflow_floor(engine)
    value_bound, grad_bounds = _bounds(op, tree, point, certified, floor)
    outputs = (certified.value, *certified.grads)
    found: list[OpFinding] = []
    for k in range(op.arity):
        truth = certified.grads[k]
        if not ev.ok or ev.grads is None:
            hung = (ev.error or "").startswith("TimeLimit")
            severity = "broken" if hung else _severity(math.nan, truth, math.inf, point, outputs, floor)
            found.append(
                OpFinding(
                    severity or "broken", point, k, math.nan, certified.value, math.nan, truth, math.inf, ev.error
                )
            )
            continue
        grad, value = _float(ev.grads[k]), _float(ev.value)
        ulps = ulp_distance(grad, truth)
        severity = _severity(grad, truth, grad_bounds[k], point, outputs, floor)
        if severity is None:
            severity = _severity(value, certified.value, value_bound, point, outputs, floor)
        found.append(OpFinding(severity or "ok", point, k, value, certified.value, grad, truth, ulps))
    return found


def _severity(
    computed: float, truth: float, bound: float, point: tuple[float, ...], outputs: tuple[float, ...], floor: float
) -> str | None:
    """None within the rounding bound; beyond it, the severity a campaign gives the same error of an op alone
    (:func:`verification.allowances.classify_error`): ``inaccurate`` within what a correct textbook formula
    loses, ``wrong`` beyond that at ordinary inputs and results, ``fragile`` elsewhere; a failure (NaN,
    infinity, an exception) ``broken`` at ordinary inputs and ``fragile`` at extreme ones."""
    if math.isfinite(computed) and judge_float(computed, truth, bound) != "bug":
        return None
    found = classify_error(
        computed,
        truth,
        is_ordinary=ordinary(point, outputs),
        fails_ordinary=ordinary(point, outputs, failure=True),
        floor=floor,
    )
    return None if found is None else found.value


def _bounds(
    op: Op, tree: Apply, point: tuple[float, ...], certified: Certified, floor: float
) -> tuple[Any, tuple[Any, ...]]:
    """Error bounds of value and partials: the campaign's analysis of the op's declared rule, else one op's.

    The analysis (:func:`verification.bounds.analyse`) also charges what the
    declared rule's own roundings cost (``pow``'s ``y - 1``); an op defined by
    its formula alone has none. Where the analysis discards the point, the
    one-op bound stands. ``floor`` replaces ``eta`` on an engine that flushes
    subnormals.
    """
    analysis = analyse(tree, point, resolve=lambda _name: op)
    if analysis.discard is None:
        extra = floor - ETA
        return analysis.value_bound + extra, tuple(b + extra for b in analysis.grad_bounds)
    return op_bound(certified.value, floor), tuple(op_bound(g, floor) for g in certified.grads)


def _float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _simpler(x: float) -> list[float]:
    """Readable inputs to try in place of ``x``, simplest first, same sign."""
    s = -1.0 if math.copysign(1.0, x) < 0 else 1.0
    plain = [1.0, 2.0, 0.5, 3.0, 10.0, 0.25, 100.0, 1e-3, 1e3, 1e-10, 1e10, 1e100, 1e-100, 1e300]
    out = [0.0, *(s * v for v in plain)]
    if x != 0 and math.isfinite(x):
        e = math.floor(math.log10(abs(x)))
        out += [s * 10.0**e, float(f"{x:.1e}"), float(f"{x:.2e}"), float(f"{x:.3e}")]
    return out


def _shrink(op: Op, engine: Engine, tree: Apply, finding: OpFinding, ref: Reference, cap_bits: int) -> OpFinding:
    """A simpler input with the same severity (each coordinate in turn), as readable as it gets."""
    best = finding
    for i in range(op.arity):
        for candidate in _simpler(best.point[i]):
            point = (*best.point[:i], candidate, *best.point[i + 1 :])
            if point == best.point or not all(in_domain(d, x) for d, x in zip(op.domains(tree.params), point)):
                continue
            if any(k.input == i and k.at == candidate for k in op.kinks):
                continue
            certified = ref.certify(point, cap_bits=cap_bits)
            if certified is None or not certified.finite:
                continue
            same = [f for f in _judge(op, engine, tree, point, certified) if f.severity == finding.severity]
            if same:
                best = same[0]
                break
    return best


def _kinks(op: Op, engine: Engine, tree: Apply, ref: Reference, cap_bits: int) -> list[str]:
    out: list[str] = []
    for kink in op.kinks:
        at = tuple(kink.at if i == kink.input else 1.5 for i in range(op.arity))
        sides = []
        for side in (-math.inf, math.inf):
            near = tuple(math.nextafter(x, side) if i == kink.input else x for i, x in enumerate(at))
            c = ref.certify(near, cap_bits=cap_bits)
            if c is not None:
                sides.append(c.grads[kink.input])
        ev = engine.evaluate(tree, at)
        if len(sides) < 2:
            continue
        lo, hi = min(sides), max(sides)
        g = _float(ev.grads[kink.input]) if ev.ok and ev.grads is not None else math.nan
        floor = underflow_floor(engine)
        if not lo - op_bound(lo, floor) <= g <= hi + op_bound(hi, floor):
            out.append(
                f"at the kink x{kink.input} = {kink.at!r} the engine's partial {g!r} is outside [{lo!r}, {hi!r}]"
            )
    return out


def check_op(
    op: Op,
    engine: Engine,
    *,
    points: int = 2000,
    seed: int = 0,
    params: tuple[float, ...] = (),
    cap_bits: int = CHECK_CAP_BITS,
) -> OpCheck:
    """Judge ``engine``'s ``op`` alone at special points and ``points`` random bit patterns; see the module doc."""
    tree = Apply(op.name, tuple(Var(i) for i in range(op.arity)), params)
    ref = Reference(tree, op.arity, resolve=lambda name: op if name == op.name else _missing(name), symbolic="sympy")
    result = OpCheck(op.name, engine.name, [])
    flushes = underflow_floor(engine) > ETA
    errors: list[list[tuple[float, tuple[float, ...]]]] = [[] for _ in range(op.arity)]
    for point in _points(op, params, points, seed):
        if result.hangs >= MAX_HANGS:
            break  # each further point could cost the whole time limit: the op is broken already
        if flushes and any(0 < abs(x) < SMALLEST_NORMAL for x in point):
            result.flushed_inputs += 1  # a subnormal input is zero in the engine's arithmetic
            continue
        certified = ref.certify(point, cap_bits=cap_bits)
        if certified is None:
            result.unsamplable += 1
            continue
        if not certified.finite:
            result.skipped += 1
            continue
        result.judged += 1
        found = _judge(op, engine, tree, point, certified)
        result.hangs += any(f.hung for f in found[:1])
        for f in found:
            errors[f.variable].append((f.ulps, point))
            if f.severity != "ok":
                result.findings.append(f)
    result.kink_findings = _kinks(op, engine, tree, ref, cap_bits)
    result.accuracy = [summarise(op.name, k, errors[k], result.skipped, result.unsamplable) for k in range(op.arity)]
    _shrink_findings(result, op, engine, tree, ref, cap_bits)
    return result


def _shrink_findings(result: OpCheck, op: Op, engine: Engine, tree: Apply, ref: Reference, cap_bits: int) -> None:
    """The first wrong and the first broken finding shrunk (a hang as it is), each with its reproduction; when
    there are neither, the first inaccurate or fragile one."""
    shown = ("wrong", "broken") if not result.ok or result.kink_findings else ("inaccurate", "fragile")
    for severity in shown:
        first = next((f for f in result.findings if f.severity == severity), None)
        if first is not None:
            small = first if first.hung else _shrink(op, engine, tree, first, ref, cap_bits)
            result.shrunk.append(small)
            repro = getattr(engine, "reproduction", None)
            if callable(repro):
                result.reproductions.append(str(repro(tree, small.point)))


def _missing(name: str) -> Op:
    raise KeyError(f"a single-op check uses only its op, not {name!r}")
