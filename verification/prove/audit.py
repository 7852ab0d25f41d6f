"""The audit: every verdict re-checked by evaluating rule and truth at high precision at many points.

Independent of the symbolic steps, at exact binary-rational points (each also
a float64) of every region and at every special point the declaration
implies -- region cuts (where-condition roots, 0, kinks), closed domain ends,
constants written in the op's code (``x == 1`` hides a point there), subnormal
magnitudes, points where two inputs are equal, parameter examples and sampled
parameter values with their cuts -- and on both sides of each, the audit
compares with the truth (``sympy.diff`` of the definition, evaluated at 50+
digits until two precisions agree):

1. the exact symbolic rule the proof reasoned about;
2. the rule's own code run on the mpmath backend (what ``==`` on numbers,
   ``isnormal`` and every branch really do);
   with float64's domain errors (sqrt or log of a negative number raises, as
   ``math`` does, where mpmath would go complex): code that raises at every
   precision where the truth is a finite number is a finding --
   ``sqrt(x)*sqrt(x)`` for x < 0, a removable singularity ``2x(x-1)/(x-1)`` at
   1, a ``where`` branch that raises (both branches are evaluated);

and the same for the forward against the definition. Any disagreement is a
counterexample and the verdict becomes *refuted*.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from autodiff import Op, in_domain
from verification.prove.records import Counterexample
from verification.prove.regions import pieces
from verification.prove.search import REAL_DIFFERENCE, converged, fmt_fraction, mp_str, precisions
from verification.prove.strict import StrictReal
from verification.prove.truth import NONSMOOTH

__all__ = ["AuditResult", "audit", "code_constants"]

FORWARD = -1
_SUBNORMAL = (2.0**-1074, 2.0**-1060, 2.0**-1023)
_LOOSE = mpmath.mpf(10) ** -12  # for the code run when floats were read as closed forms (rounding ~1e-16)
_PARAMS = 32  # sampled parameter tuples, on top of the declared examples
_POINTS = 48  # points per input of an op, shared among the parameter tuples


@dataclass
class AuditResult:
    """Points evaluated and, per partial (index) or the forward (-1), the first disagreement."""

    points: int = 0
    findings: dict[int, Counterexample] = field(default_factory=dict)

    def describe(self) -> str:
        """One line."""
        return f"audit: {self.points} points at 50+ digits, {len(self.findings)} disagreement(s)"


def _number(v: Any) -> float | None:
    """``v`` as a float when it is a finite, not huge, non-bool number."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e300:
        return float(v)
    return None


def _code_numbers(code: Any, globs: dict[str, Any]) -> list[float]:
    """Numeric literals of ``code`` and its nested code objects, and the numeric globals it names."""
    found = [n for c in code.co_consts if (n := _number(c)) is not None]
    for c in code.co_consts:
        if hasattr(c, "co_consts"):
            found += _code_numbers(c, globs)
    return found + [n for name in code.co_names if (n := _number(globs.get(name))) is not None]


def _held(fn: Any) -> list[Any]:
    """What a function holds besides its code: closure cell contents and defaults."""
    held = list(getattr(fn, "__defaults__", None) or ())
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    return held


def code_constants(*fns: Callable[..., Any] | None) -> set[float]:
    """Finite numbers written in the code of ``fns``: literals, defaults, closure cells and numeric
    globals, and those of the functions they hold in closures and defaults (a wrapped rule)."""
    found: set[float] = set()
    seen: set[int] = set()
    todo = [fn for fn in fns if fn is not None and hasattr(fn, "__code__")]
    while todo and len(seen) < 64:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        found.update(_code_numbers(fn.__code__, getattr(fn, "__globals__", {})))
        for v in _held(fn):
            if (n := _number(v)) is not None:
                found.add(n)
            elif callable(v) and hasattr(v, "__code__"):
                todo.append(v)
    return found


def _near(a: float) -> list[float]:
    scale = max(1.0, abs(a))
    out = [a]
    for d in (scale * 2.0**-30, scale * 2.0**-8):
        out += [a - d, a + d]
    return out


def _values_for(
    op: Op, i: int, domain: Any, specials: set[float], cuts: Sequence[float], rng: random.Random
) -> list[float]:
    kinks = [k.at for k in op.kinks if k.input == i]
    wanted: list[float] = []
    for piece in pieces("x", domain, kinks, cuts):
        if piece.point:
            wanted += _near(piece.lo)
        else:
            sample = piece.samples(rng, 2)
            wanted += [float(v) for v in rng.sample(sample, min(4, len(sample)))]
            if not math.isinf(piece.lo):
                wanted.append(piece.lo + max(1.0, abs(piece.lo)) * 2.0**-40)
            if not math.isinf(piece.hi):
                wanted.append(piece.hi - max(1.0, abs(piece.hi)) * 2.0**-40)
    for c in specials:
        wanted += _near(c) + _near(-c)
    wanted += [s * v for v in _SUBNORMAL for s in (1.0, -1.0)]
    return list(dict.fromkeys(v for v in wanted if math.isfinite(v) and in_domain(domain, v)))


class _Evaluator:
    """The symbolic side (truths, exact candidates, definition, forward) and the op's code at a point.

    Everything is evaluated in one pass per precision; an entry that fails
    (a singularity) is then evaluated on its own, so that it does not hide the others.
    """

    def __init__(self, op: Op, general: Sequence[Any], exprs: Sequence[Any]) -> None:
        self.op = op
        self.fns = [self._fn(general, e) for e in exprs]
        self.strict = StrictReal()

    @staticmethod
    def _fn(general: Sequence[Any], e: Any) -> Callable[..., Any] | None:
        try:
            return sympy.lambdify(list(general), e, modules="mpmath", dummify=True)
        except Exception:
            return None

    def symbolic(self, point: Sequence[Fraction]) -> list[Any]:
        """Each expression's converged value, or None."""
        fns = self.fns

        def joint(*a: Any) -> tuple[Any, ...]:
            return tuple(f(*a) if f is not None else mpmath.nan for f in fns)

        got = converged(joint, point)
        if got is not None:
            return list(got)
        out = []
        for f in fns:
            one = None if f is None else converged(lambda *a, f=f: (f(*a),), point)
            out.append(None if one is None else one[0])
        return out

    def code(self, point: Sequence[Fraction]) -> list[Any]:
        """Forward and partials of the op's code: each converged, or the error it raises at every
        precision (a string), or None."""
        m, op = self.strict, self.op

        def joint(*args: Any) -> tuple[Any, ...]:
            ans = op.forward(m, *args)
            return (ans, *op.partials(m, ans, *args))

        got = converged(joint, point)
        if got is not None:
            return list(got)

        def forward(*args: Any) -> tuple[Any]:
            return (op.forward(m, *args),)

        def partial(i: int) -> Callable[..., tuple[Any]]:
            def run(*args: Any) -> tuple[Any]:
                return (op.partials(m, op.forward(m, *args), *args)[i],)

            return run

        out: list[Any] = []
        for fn in [forward, *(partial(i) for i in range(op.arity))]:
            one = converged(fn, point)
            out.append(one[0] if one is not None else _failure(fn, point))
        return out


def _failure(fn: Callable[..., Any], point: Sequence[Fraction]) -> str | None:
    """The exception the code raises at the highest precision, or None (no value is no finding:
    cancellation may need more digits than tried)."""
    with mpmath.workdps(precisions(point)[-1]):
        try:
            fn(*[mpmath.mpf(v.numerator) / v.denominator for v in point])
        except Exception as exc:
            return f"raises {type(exc).__name__}" + (f": {exc}" if str(exc) else "")
    return None


def _points(
    op: Op, columns: Sequence[list[float]], domains: Sequence[Any], specials: set[float], rng: random.Random
) -> list[tuple[float, ...]]:
    """Audit points from each input's values: for several inputs, first a subnormal input with the
    others at the code's constants (``x**y`` subnormal at y = 1), then each value with the others
    drawn at random, and with the others equal to it (an ``x == y`` branch), then random points."""
    if op.arity == 1:
        return [(v,) for v in columns[0]]
    points: list[tuple[float, ...]] = []
    plain = sorted(specials | {1.0, 2.0, 0.5, -1.0}, key=abs)
    for i, col in enumerate(columns):
        for v in (v for v in col if v != 0 and abs(v) < 2.0**-1022):
            for j in range(op.arity):
                for c in (c for c in plain if j != i and in_domain(domains[j], c)):
                    pt = [rng.choice(col_k) for col_k in columns]
                    pt[i], pt[j] = v, c
                    points.append(tuple(pt))
    for i, col in enumerate(columns):
        for v in col:
            pt = [rng.choice(c) for c in columns]
            pt[i] = v
            points.append(tuple(pt))
            points.append(tuple(v if in_domain(domains[j], v) else pt[j] for j in range(op.arity)))
    points += [tuple(rng.choice(c) for c in columns) for _ in range(8)]
    return list(dict.fromkeys(points))


def _differ(a: Any, b: Any, tolerance: Any) -> bool:
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    return bool(diff > 0 and diff > tolerance * scale)


def audit(
    op: Op,
    general: Sequence[Any],
    candidates: Sequence[Any],
    truths: Sequence[Any],
    forward: Any,
    definition: Any,
    param_values: Sequence[tuple[float, ...]],
    cuts: dict[int, list[float]],
    *,
    loose_code: bool,
    rng: random.Random,
) -> AuditResult:
    """Evaluate at the audit points; the first disagreement per partial and for the forward."""
    result = AuditResult()
    ev = _Evaluator(op, general, [definition, *truths, forward, *candidates])
    specials = code_constants(op.forward, op.grad, op.spec)
    names = [*op.input_names(), *op.params]
    kink_at = {(k.input, k.at) for k in op.kinks}
    # where a truth holds Heaviside/sign/..., its value on a cut is no derivative (Heaviside(0) = 1/2):
    # the region checks judge those points, with one-sided limits
    nonsmooth = {i for i, t in enumerate(truths) if t.has(*NONSMOOTH)}
    on_cuts = {(i, c) for i, cs in cuts.items() if i < op.arity for c in [0.0, *cs]}
    skip = kink_at | {(i, c) for i, c in on_cuts if i in nonsmooth}
    per_params = max(3, _POINTS * op.arity // max(1, len(param_values)))
    for params in param_values:
        try:
            domains = op.domains(params)
        except Exception:
            continue
        columns = [_values_for(op, i, domains[i], specials, cuts.get(i, []), rng) for i in range(op.arity)]
        if any(not c for c in columns):
            continue
        points = _points(op, columns, domains, specials, rng)
        if len(points) > per_params:  # the special values of each input first, then a random share
            points = points[: per_params // 2] + list(rng.sample(points[per_params // 2 :], per_params // 2))
        for point in dict.fromkeys(points):
            result.points += 1
            _check_point(op, ev, [Fraction(v) for v in (*point, *params)], names, skip, loose_code, result)
    return result


def _check_point(
    op: Op,
    ev: _Evaluator,
    point: list[Fraction],
    names: Sequence[str],
    kink_at: set[tuple[int, float]],
    loose_code: bool,
    result: AuditResult,
) -> None:
    shown = {n: fmt_fraction(v) for n, v in zip(names, point)}
    code = ev.code(point)
    values = ev.symbolic(point)
    n = op.arity
    for index in range(-1, n):
        if index in result.findings:
            continue
        if index >= 0 and (index, float(point[index])) in kink_at:
            continue  # the kink check judges this partial here
        truth, cand = values[index + 1], values[n + 1 + index + 1]
        if truth is None:
            continue  # not finite or not defined here (a kink, a removable singularity): judged elsewhere
        what = "forward" if index == FORWARD else f"d/d{names[index]}"
        if cand is not None and _differ(cand, truth, REAL_DIFFERENCE):
            result.findings[index] = Counterexample(
                shown, mp_str(cand), mp_str(truth), mp_str(cand - truth, 17), f"audit: {what} as proven, exact"
            )
            continue
        value = code[index + 1]
        how = f"audit: {what} of the code at 50+ digits"
        if isinstance(value, str):
            result.findings[index] = Counterexample(shown, value, mp_str(truth), "-", how)
        elif value is not None and _differ(value, truth, _LOOSE if loose_code else REAL_DIFFERENCE):
            result.findings[index] = Counterexample(shown, mp_str(value), mp_str(truth), mp_str(value - truth, 17), how)


def parameter_values(op: Op, rng: random.Random, cuts: dict[int, list[float]]) -> list[tuple[float, ...]]:
    """Parameter tuples for the audit: the declared examples, and values sampled from ``param_domain``
    with its cuts, the constants of the code and both sides of each."""
    if not op.params:
        return [()]
    specials = code_constants(op.forward, op.grad, op.spec)
    per: list[list[float]] = []
    for j, dom in enumerate(op.param_domain):
        values: list[float] = []
        for c in sorted(specials, key=abs):  # the code's constants first: where a condition may switch
            values += _near(c) + _near(-c)
        for piece in pieces("p", dom, (), cuts.get(op.arity + j, [])):
            if piece.point:
                values += _near(piece.lo)
            else:
                values += [float(v) for v in rng.sample(piece.samples(rng, 2), 3)]
        values += [float(k) / 2 for k in range(-8, 9)]
        per.append([v for v in dict.fromkeys(values) if math.isfinite(v) and in_domain(dom, v)])
    combos = [tuple(float(v) for v in e) for e in op.param_examples]
    if len(per) == 1:
        combos += [(v,) for v in per[0][:_PARAMS]]
    else:
        others = list(itertools.product(*per))
        combos += rng.sample(others, min(len(others), _PARAMS))
    return list(dict.fromkeys(combos))


def code_disagreement(op: Op, base: Op, rng: random.Random) -> str | None:
    """Where the code of ``op``'s rule and ``base``'s rule differ on the strict mpmath backend
    (one raises where the other does not, or the values differ), at the audit's special points
    of ``base``'s domain; None when they agree at all of them."""
    specials = code_constants(op.grad, base.grad, base.forward)
    names = [*base.input_names(), *base.params]
    for params in parameter_values(base, rng, {}):
        try:
            domains = base.domains(params)
        except Exception:
            continue
        columns = [_values_for(base, i, domains[i], specials, [], rng) for i in range(base.arity)]
        if any(not c for c in columns):
            continue
        points = _points(base, columns, domains, specials, rng)
        for point in dict.fromkeys(points):
            exact_point = [Fraction(v) for v in (*point, *params)]
            a = _Evaluator(op, [], []).code(exact_point)
            b = _Evaluator(base, [], []).code(exact_point)
            for k in range(1, base.arity + 1):
                x, y = a[k], b[k]
                if isinstance(x, str) != isinstance(y, str) and (x is not None and y is not None):
                    at = ", ".join(f"{n} = {fmt_fraction(v)}" for n, v in zip(names, exact_point))
                    return f"the code differs at {at}: {x if isinstance(x, str) else mp_str(x)} against " + (
                        y if isinstance(y, str) else mp_str(y)
                    )
                if isinstance(x, str) or isinstance(y, str) or x is None or y is None:
                    continue
                if _differ(x, y, REAL_DIFFERENCE):
                    at = ", ".join(f"{n} = {fmt_fraction(v)}" for n, v in zip(names, exact_point))
                    return f"the code differs at {at}: {mp_str(x)} against {mp_str(y)}"
    return None
