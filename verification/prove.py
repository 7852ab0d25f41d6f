"""Proofs of backward rules with sympy: the rule code the engine runs, on symbols.

For an op with forward ``f`` and rule ``g``, the prover runs ``g`` on the sympy
backend (``op.grad(sympy_backend(), ans, *symbols, *params)``) and compares
each partial with ``sympy.diff(op.spec(sympy, *symbols, *params), x_i)``, the
derivative of the op's mathematical definition (its forward on the sympy
backend when it has no ``spec``). It also checks ``forward == spec``.

Each input's declared domain is cut at 0 and at the op's kinks into open
pieces and points. An open piece gets a symbol carrying only the assumptions
the piece justifies (``x > 0`` becomes ``Symbol('x', positive=True)``,
``x > 2`` becomes ``2 + t`` with ``t > 0``); a point is substituted exactly.
On each region (one piece or point per input and parameter) the difference
``rule - truth`` goes through a ladder of transforms (cancel, expand,
rewrite(exp), trigsimp, piecewise_fold, simplify), each under a time budget;
the first that reduces it to 0 proves the region. Otherwise domain points
(structured and random) are evaluated at 50 to 400 digits with mpmath, and a
difference is confirmed with sympy's ``evalf(strict=True)`` at the exact
point before the rule is called refuted. When neither happens the verdict is
*undecided*, with the number of points checked and the largest difference.

At a declared kink the rule must return the declared convention, and the
convention must lie between the one-sided derivatives (the Clarke
subdifferential of a piecewise smooth function of one variable).

:func:`prove_gradient` applies the same comparison to the whole engine: a
Value graph over sympy symbols gives the engine's gradient expressions, which
are compared per variable with ``sympy.diff`` of the expression.
"""

from __future__ import annotations

import inspect
import itertools
import math
import random
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import partial
from typing import Any

import mpmath
import sympy

from autodiff import Domain, Op, OpDeclarationError, Value, sympy_backend
from verification.expr import Expr, evaluate_values, to_source, to_sympy, variables

__all__ = [
    "Verdict",
    "Counterexample",
    "Evidence",
    "Check",
    "KinkCheck",
    "PartialProof",
    "OpProof",
    "GradientProof",
    "prove",
    "prove_gradient",
    "prove_rules_equal",
    "combine",
]

DEFAULT_BUDGET = 2.0
"""Seconds one transform of the ladder may take on one region."""

DEFAULT_SAMPLES = 24
"""Random domain points per region, on top of the structured ones."""

_PRECISIONS = (50, 100, 200, 400)
_REAL_DIFFERENCE = mpmath.mpf(10) ** -20  # relative, far above the rounding left after convergence
_OFFSETS = tuple(
    Fraction(v)
    for v in ("1e-12", "1e-6", "1e-3", "0.1", "0.5", "1", "1.5", "2", "2.75", "3.25", "5", "10", "31.5", "100")
)
_FRACTIONS = tuple(Fraction(v) for v in ("1e-6", "0.01", "0.1", "0.25", "0.5", "0.75", "0.9", "0.99"))
_ENGINE_SPLIT_LIMIT = 3  # variables up to which the engine check splits into sign orthants


class Verdict(StrEnum):
    """The outcome of a check; *undecided* is never a proof."""

    PROVEN = "proven"
    REFUTED = "refuted"
    UNDECIDED = "undecided"


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Refuted if any part is refuted, else undecided if any part is, else proven."""
    found = set(verdicts)
    if Verdict.REFUTED in found:
        return Verdict.REFUTED
    if Verdict.UNDECIDED in found:
        return Verdict.UNDECIDED
    return Verdict.PROVEN


@dataclass(frozen=True)
class Counterexample:
    """A domain point where the candidate and the truth differ, confirmed at high precision."""

    point: dict[str, str]
    candidate: str
    truth: str
    difference: str

    def describe(self) -> str:
        """One line: the point and both values."""
        at = ", ".join(f"{k} = {v}" for k, v in self.point.items()) or "the point"
        return f"at {at}: rule {self.candidate}, true {self.truth} (difference {self.difference})"


@dataclass(frozen=True)
class Evidence:
    """What the high-precision search saw: points evaluated, points skipped, largest difference."""

    points: int
    skipped: int
    max_difference: str
    max_relative_difference: str

    def describe(self) -> str:
        """One line summary."""
        skipped = (
            f" ({self.skipped} skipped: not finite, not real, or not resolved at 400 digits)" if self.skipped else ""
        )
        return (
            f"{self.points} points checked at 50+ digits{skipped}, largest |difference| "
            f"{self.max_difference} (relative {self.max_relative_difference})"
        )


@dataclass(frozen=True)
class Check:
    """One comparison of a candidate expression with the truth on one region of the domain."""

    region: str
    candidate: Any
    truth: Any
    verdict: Verdict
    method: str
    counterexample: Counterexample | None = None
    evidence: Evidence | None = None

    def describe(self) -> str:
        """One line: region, verdict and how it was reached."""
        if self.counterexample is not None:
            return f"{self.region}: {self.verdict} {self.counterexample.describe()}"
        if self.evidence is not None:
            return f"{self.region}: {self.verdict}; {self.evidence.describe()}"
        return f"{self.region}: {self.verdict} ({self.method})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "region": self.region,
            "candidate": str(self.candidate),
            "truth": str(self.truth),
            "verdict": str(self.verdict),
            "method": self.method,
            "counterexample": None if self.counterexample is None else vars(self.counterexample),
            "evidence": None if self.evidence is None else vars(self.evidence),
        }


@dataclass(frozen=True)
class KinkCheck:
    """A kink: the rule's value there equals the declared convention and lies in [min, max] of
    the one-sided derivatives."""

    at: str
    convention: Check
    left: Any
    right: Any
    clarke: Verdict

    @property
    def verdict(self) -> Verdict:
        """Both parts combined."""
        return combine((self.convention.verdict, self.clarke))

    def describe(self) -> str:
        """One line summary."""
        return (
            f"kink {self.at}: rule {self.convention.candidate} vs convention {self.convention.truth} "
            f"{self.convention.verdict}; one-sided derivatives {self.left}, {self.right}: "
            f"in between {self.clarke}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "at": self.at,
            "convention": self.convention.to_dict(),
            "left": str(self.left),
            "right": str(self.right),
            "clarke": str(self.clarke),
            "verdict": str(self.verdict),
        }


@dataclass(frozen=True)
class PartialProof:
    """One partial derivative d(subject)/d(variable): the candidate against the truth, region by region.

    ``candidate`` and ``truth`` are shown on real symbols; ``checks`` hold the
    per-region comparisons the verdict rests on.
    """

    subject: str
    variable: str
    index: int
    candidate: Any
    truth: Any
    checks: tuple[Check, ...]
    kinks: tuple[KinkCheck, ...] = ()
    seconds: float = 0.0

    @property
    def verdict(self) -> Verdict:
        """Combined verdict of every region and kink."""
        return combine([c.verdict for c in self.checks] + [k.verdict for k in self.kinks])

    @property
    def failure(self) -> Check | None:
        """The first refuted region, or else the first undecided one."""
        for wanted in (Verdict.REFUTED, Verdict.UNDECIDED):
            for check in self.checks:
                if check.verdict is wanted:
                    return check
            for kink in self.kinks:
                if kink.convention.verdict is wanted:
                    return kink.convention
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "subject": self.subject,
            "variable": self.variable,
            "index": self.index,
            "candidate": str(self.candidate),
            "truth": str(self.truth),
            "verdict": str(self.verdict),
            "seconds": round(self.seconds, 4),
            "checks": [c.to_dict() for c in self.checks],
            "kinks": [k.to_dict() for k in self.kinks],
        }


@dataclass(frozen=True)
class OpProof:
    """Every partial of one op's rule, and its forward checked against its spec."""

    op: str
    inputs: tuple[PartialProof, ...]
    forward: tuple[Check, ...]
    seconds: float

    @property
    def rule_verdict(self) -> Verdict:
        """Verdict over the rule's partials."""
        return combine(p.verdict for p in self.inputs)

    @property
    def forward_verdict(self) -> Verdict:
        """Verdict of ``forward == spec`` (proven when the op has no spec to compare with)."""
        return combine(c.verdict for c in self.forward)

    @property
    def verdict(self) -> Verdict:
        """Rule and forward together."""
        return combine((self.rule_verdict, self.forward_verdict))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "op": self.op,
            "verdict": str(self.verdict),
            "seconds": round(self.seconds, 4),
            "inputs": [p.to_dict() for p in self.inputs],
            "forward": {"verdict": str(self.forward_verdict), "checks": [c.to_dict() for c in self.forward]},
        }


@dataclass(frozen=True)
class GradientProof:
    """The engine's gradient of one expression against ``sympy.diff``, per variable."""

    expression: str
    variables: tuple[PartialProof, ...]
    seconds: float

    @property
    def verdict(self) -> Verdict:
        """Combined over the variables."""
        return combine(p.verdict for p in self.variables)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "expression": self.expression,
            "verdict": str(self.verdict),
            "seconds": round(self.seconds, 4),
            "variables": [p.to_dict() for p in self.variables],
        }


# --- regions ----------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """Part of one variable's domain: the open interval (lo, hi), or the point lo when ``point``.

    ``side`` is the direction a one-sided limit takes at a point (``"+-"`` inside
    the domain, ``"+"``/``"-"`` at a closed left/right end).
    """

    name: str
    lo: float
    hi: float
    point: bool = False
    side: str = "+-"
    symbol: Any = field(default=None, compare=False)
    value: Any = field(default=None, compare=False)

    @staticmethod
    def open(name: str, lo: float, hi: float) -> _Piece:
        """The open piece with the symbol and substitution its bounds justify."""
        if lo == 0.0 and hi == math.inf:
            sym = sympy.Symbol(name, positive=True)
            return _Piece(name, lo, hi, symbol=sym, value=sym)
        if lo == -math.inf and hi == 0.0:
            sym = sympy.Symbol(name, negative=True)
            return _Piece(name, lo, hi, symbol=sym, value=sym)
        if hi == math.inf:
            sym = sympy.Symbol(f"{name}_t", positive=True)
            return _Piece(name, lo, hi, symbol=sym, value=_exact(lo) + sym)
        if lo == -math.inf:
            sym = sympy.Symbol(f"{name}_t", positive=True)
            return _Piece(name, lo, hi, symbol=sym, value=_exact(hi) - sym)
        # bounded: cut at 0, so the piece lies on one side of it
        sym = sympy.Symbol(name, positive=True) if lo >= 0 else sympy.Symbol(name, negative=True)
        return _Piece(name, lo, hi, symbol=sym, value=sym)

    @staticmethod
    def at(name: str, x: float, side: str = "+-") -> _Piece:
        """The point ``x``, substituted exactly."""
        return _Piece(name, x, x, point=True, side=side, value=_exact(x))

    def describe(self) -> str:
        """e.g. ``x > 0``, ``x = 0``, ``1 < x < 2``."""
        if self.point:
            return f"{self.name} = {_fmt_exact(self.lo)}"
        if self.lo == -math.inf:
            return f"{self.name} real" if self.hi == math.inf else f"{self.name} < {_fmt_exact(self.hi)}"
        if self.hi == math.inf:
            return f"{self.name} > {_fmt_exact(self.lo)}"
        return f"{_fmt_exact(self.lo)} < {self.name} < {_fmt_exact(self.hi)}"

    def samples(self, rng: random.Random, count: int) -> list[Fraction]:
        """Points of the piece (in the variable's own coordinate): structured ones, then random."""
        lo, hi = self.lo, self.hi
        if math.isinf(lo) or math.isinf(hi):
            offsets = list(_OFFSETS) + [Fraction(10 ** rng.uniform(-4.0, 2.0)) for _ in range(count)]
            if math.isinf(lo) and math.isinf(hi):
                return [s * o for o in offsets for s in (1, -1)]
            if math.isinf(hi):
                return [Fraction(lo) + o for o in offsets]
            return [Fraction(hi) - o for o in offsets]
        fractions = list(_FRACTIONS) + [Fraction(rng.uniform(0.0, 1.0)) for _ in range(count)]
        width = Fraction(hi) - Fraction(lo)
        return [Fraction(lo) + width * u for u in fractions if 0 < u < 1]

    def symbol_value(self, x: Fraction) -> Fraction:
        """The value of the piece's symbol where the variable equals ``x``."""
        if self.symbol is self.value:
            return x
        if self.hi == math.inf:
            return x - Fraction(self.lo)
        return Fraction(self.hi) - x

    def limit_toward(self, expr: Any, end: float, seconds: float) -> Any:
        """The one-sided limit of ``expr`` (in the piece's symbol) as the variable tends to ``end``."""
        s_end = self.symbol_value(Fraction(end))
        direction = "+" if (self.symbol is not self.value or end == self.lo) else "-"
        limit = _attempt(partial(_limit, var=self.symbol, at=_exact(s_end), side=direction), expr, seconds)
        return None if limit is None or limit.has(sympy.Limit) else limit


def _limit(e: Any, var: Any, at: Any, side: str) -> Any:
    return sympy.limit(e, var, at, side)


def _exact(x: float | Fraction) -> Any:
    """A float or fraction as an exact sympy number."""
    return sympy.Rational(Fraction(x))


def _fmt_exact(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _pieces(name: str, domain: Domain, kinks: Sequence[float] = ()) -> list[_Piece]:
    """Cut ``domain`` at 0 and at ``kinks``: open pieces, then interior cuts and closed ends as points.

    A kink is not made a point: the kink check covers it.
    """
    out: list[_Piece] = []
    points: list[_Piece] = []
    for iv in domain:
        cuts = sorted(c for c in {0.0, *kinks} if iv.lo < c < iv.hi)
        edges = [iv.lo, *cuts, iv.hi]
        out.extend(_Piece.open(name, a, b) for a, b in itertools.pairwise(edges))
        points.extend(_Piece.at(name, c) for c in cuts if c not in kinks)
        if iv.closed_lo and iv.lo not in kinks:
            points.append(_Piece.at(name, iv.lo, "+"))
        if iv.closed_hi and iv.hi not in kinks:
            points.append(_Piece.at(name, iv.hi, "-"))
    unique = {(p.lo, p.side): p for p in points}
    return out + list(unique.values())


def _region_name(pieces: Sequence[_Piece]) -> str:
    return ", ".join(p.describe() for p in pieces)


# --- deciding ---------------------------------------------------------------


class _OutOfTime(BaseException):
    """Raised by the interval timer; a BaseException so sympy's ``except Exception`` lets it through."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _OutOfTime


def _attempt(fn: Callable[[Any], Any], expr: Any, seconds: float) -> Any:
    """``fn(expr)`` within ``seconds`` (SIGALRM; on the main thread), or None when it fails or runs out.

    Off the main thread no timer can interrupt sympy, so the call runs unbounded.
    """
    if threading.current_thread() is not threading.main_thread():
        try:
            return fn(expr)
        except Exception:
            return None
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(expr)
    except (_OutOfTime, Exception):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _cancel_exp(e: Any) -> Any:
    return sympy.cancel(sympy.expand(e.rewrite(sympy.exp)))


def _freeze_exp(e: Any, found: dict[Any, Any]) -> Any:
    """Each exp(c*w) (c rational) as E_w**c with E_w a positive symbol, so that exp(2w),
    exp(-w) and exp(w) share one generator for cancel; ``found`` maps w to E_w."""
    mapping = {}
    for node in e.atoms(sympy.exp):
        c, w = node.args[0].as_coeff_Mul()
        if w.could_extract_minus_sign():
            c, w = -c, -w
        mapping[node] = found.setdefault(w, sympy.Dummy("E", positive=True)) ** c
    return e.xreplace(mapping)


def _exp_generators(e: Any) -> Any:
    """exp(a + b) split into exp(a)*exp(b), exponentials frozen as generators, what remains
    (tanh, ...) written with exp and frozen likewise, then cancelled."""
    found: dict[Any, Any] = {}
    split = {"mul": False, "multinomial": False, "log": False}
    frozen = _freeze_exp(sympy.expand(e, **split), found)
    return sympy.cancel(_freeze_exp(sympy.expand(frozen.rewrite(sympy.exp), **split), found))


def _fold_simplify(e: Any) -> Any:
    return sympy.simplify(sympy.piecewise_fold(e))


_LADDER: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("as written", lambda e: e),
    ("cancel", sympy.cancel),
    ("expand", sympy.expand),
    ("rewrite(exp)", _cancel_exp),
    ("exp generators", _exp_generators),
    ("trigsimp", sympy.trigsimp),
    ("piecewise_fold + simplify", _fold_simplify),
    ("simplify", sympy.simplify),
)


def _zero_after(transform: Callable[[Any], Any], e: Any) -> bool:
    return transform(e).is_zero is True


def _reduces_to_zero(
    diff: Any, budget: float, ladder: Sequence[tuple[str, Callable[[Any], Any]]] = _LADDER
) -> str | None:
    """Name of the first transform of ``ladder`` that turns ``diff`` into a provable 0, or None."""
    for name, transform in ladder:
        if _attempt(partial(_zero_after, transform), diff, budget):
            return name
    return None


def _rational(expr: Any) -> Any:
    """Float constants as the exact rationals they stand for (``1.0 - t**2.0`` -> ``1 - t**2``)."""
    expr = sympy.sympify(expr)
    if expr.has(sympy.Float):
        return sympy.nsimplify(expr, rational=True)
    return expr


_NONFINITE = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)


def _is_nonfinite(e: Any) -> bool:
    """Whether ``e`` is one of sympy's special constants zoo, oo, -oo, nan (singletons)."""
    return any(e is v for v in _NONFINITE)


def _mp_str(x: Any, digits: int = 20) -> str:
    return str(mpmath.nstr(x, digits))


def _evalf_str(e: Any) -> str:
    try:
        return str(sympy.N(e, 17))
    except Exception:
        return str(e)


@dataclass
class _Search:
    """The high-precision search over one region's symbols."""

    candidate: Any
    truth: Any
    pieces: Sequence[_Piece]
    rng: random.Random
    samples: int
    budget: float

    def run(self) -> tuple[Counterexample | None, Evidence]:
        """Evaluate at domain points; return a confirmed counterexample, and the evidence."""
        free = [p for p in self.pieces if not p.point]
        syms = [p.symbol for p in free]
        try:
            fn = sympy.lambdify(syms, [self.candidate, self.truth], modules="mpmath")
        except Exception:  # a function mpmath does not know: nothing to evaluate
            return None, self._evidence(0, 0, mpmath.mpf(0), mpmath.mpf(0))
        columns = [p.samples(self.rng, self.samples) for p in free]
        for col in columns[1:]:
            self.rng.shuffle(col)
        count = max((len(c) for c in columns), default=1)
        checked = skipped = 0
        max_abs = max_rel = mpmath.mpf(0)
        for k in range(count):
            xs = [col[k % len(col)] for col in columns]
            svals = [p.symbol_value(x) for p, x in zip(free, xs)]
            values = _converged(fn, svals)
            if values is None:
                skipped += 1
                continue
            r, v = values
            checked += 1
            diff = abs(r - v)
            scale = max(abs(r), abs(v))
            rel = diff / scale if scale else mpmath.mpf(0)
            if diff > 0 and rel > _REAL_DIFFERENCE:
                found = self._confirm(free, syms, xs, svals)
                if found is not None:
                    return found, self._evidence(checked, skipped, max(max_abs, diff), max(max_rel, rel))
                # evalf could not tell the difference from 0: the values did not really converge
                checked, skipped = checked - 1, skipped + 1
                continue
            max_abs, max_rel = max(max_abs, diff), max(max_rel, rel)
        return None, self._evidence(checked, skipped, max_abs, max_rel)

    def _confirm(
        self, free: Sequence[_Piece], syms: Sequence[Any], xs: Sequence[Fraction], svals: Sequence[Fraction]
    ) -> Counterexample | None:
        """Re-evaluate exactly at the rational point with sympy's ``evalf(strict=True)``."""
        sub = {s: sympy.Rational(v) for s, v in zip(syms, svals)}
        cand, truth = self.candidate.xreplace(sub), self.truth.xreplace(sub)
        diff = _attempt(lambda e: sympy.N(e, 17, strict=True, maxn=2000), cand - truth, self.budget)
        if diff is None or diff.is_zero is not False:
            return None
        point = {p.name: _fmt_fraction(x) for p, x in zip(free, xs)}
        point.update({p.name: str(p.value) for p in self.pieces if p.point})
        return Counterexample(point, _evalf_str(cand), _evalf_str(truth), str(diff))

    @staticmethod
    def _evidence(checked: int, skipped: int, max_abs: Any, max_rel: Any) -> Evidence:
        return Evidence(checked, skipped, _mp_str(max_abs, 5), _mp_str(max_rel, 5))


def _fmt_fraction(x: Fraction) -> str:
    """A sample point for display: exact integers, else 17 significant digits (round-trips a float)."""
    if x.denominator == 1:
        return str(x.numerator)
    with mpmath.workdps(40):
        return str(mpmath.nstr(mpmath.mpf(x.numerator) / x.denominator, 17))


def _converged(fn: Callable[..., Any], svals: Sequence[Fraction]) -> tuple[Any, Any] | None:
    """Both values at rising precision (50, 100, 200, 400 digits) until two successive ones agree.

    A precision at which evaluation fails or is not finite and real (cancellation
    such as ``1 + tanh(-100)`` at 50 digits) just moves on to the next; None when
    no two successive precisions agree.
    """
    previous: tuple[Any, Any] | None = None
    prev_dps = 0
    for dps in _PRECISIONS:
        with mpmath.workdps(dps):
            args = [mpmath.mpf(v.numerator) / v.denominator for v in svals]
            try:
                r, v = (mpmath.mpmathify(x) for x in fn(*args))
                ok = _finite_real(r) and _finite_real(v)
            except Exception:  # a user expression may fail anywhere outside its domain
                ok = False
            if not ok:
                previous = None
                continue
            r, v = mpmath.re(r), mpmath.re(v)
            if previous is not None and _agree(previous[0], r, prev_dps // 2) and _agree(previous[1], v, prev_dps // 2):
                return r, v
        previous, prev_dps = (r, v), dps
    return None


def _finite_real(x: Any) -> bool:
    if not mpmath.isfinite(x):
        return False
    im = mpmath.im(x)
    return bool(im == 0 or abs(im) <= mpmath.mpf(10) ** (-mpmath.mp.dps // 2) * abs(mpmath.re(x)))


def _agree(a: Any, b: Any, digits: int) -> bool:
    scale = max(abs(a), abs(b))
    return bool(abs(a - b) <= mpmath.mpf(10) ** -digits * scale)


def _compare(
    candidate: Any,
    truth: Any,
    pieces: Sequence[_Piece],
    *,
    budget: float,
    samples: int,
    rng: random.Random,
) -> Check:
    """Decide ``candidate == truth`` on the region ``pieces``: ladder, then high-precision search."""
    region = _region_name(pieces)
    candidate, truth = _rational(candidate), _rational(truth)
    if _is_nonfinite(candidate) or _is_nonfinite(truth):
        both = _is_nonfinite(candidate) and _is_nonfinite(truth) and sympy.nan not in (candidate, truth)
        if both and (sympy.zoo in (candidate, truth) or candidate is truth):
            return Check(region, candidate, truth, Verdict.PROVEN, "both infinite")
        if candidate.free_symbols or truth.free_symbols:
            return Check(region, candidate, truth, Verdict.UNDECIDED, "not finite on the region")
        point = {p.name: str(p.value) for p in pieces}
        bad = Counterexample(point, str(candidate), str(truth), "not finite")
        return Check(region, candidate, truth, Verdict.REFUTED, "counterexample", counterexample=bad)
    method = _reduces_to_zero(candidate - truth, budget)
    if method is not None:
        return Check(region, candidate, truth, Verdict.PROVEN, method)
    cx, evidence = _Search(candidate, truth, pieces, rng, samples, budget).run()
    if cx is not None:
        return Check(region, candidate, truth, Verdict.REFUTED, "counterexample", cx, evidence)
    return Check(region, candidate, truth, Verdict.UNDECIDED, "no reduction, no counterexample", None, evidence)


# --- ops --------------------------------------------------------------------


def _run_rule(op: Op, inputs: Sequence[Any], params: Sequence[Any]) -> tuple[Any, tuple[Any, ...]]:
    """The op's forward and rule on sympy expressions (arity-checked)."""
    m = sympy_backend()
    try:
        ans = op.forward(m, *inputs, *params)
        partials = op.partials(m, ans, *inputs, *params)
    except OpDeclarationError:
        raise
    except Exception as exc:
        raise OpDeclarationError(
            f"op {op.name!r} cannot run on sympy symbols: {type(exc).__name__}: {exc} "
            "(write forward and rule against the backend m, not math)"
        ) from None
    return ans, partials


def _definition(op: Op, inputs: Sequence[Any], params: Sequence[Any]) -> Any:
    """The op's mathematical definition: its spec, or else its forward on the sympy backend."""
    if op.spec is not None:
        return op.spec(sympy, *inputs, *params)
    return op.forward(sympy_backend(), *inputs, *params)


def _at_region(expr: Any, general: Sequence[Any], pieces: Sequence[_Piece], budget: float) -> Any:
    """``expr`` (over the real symbols ``general``) on a region.

    Where substituting the region's points gives nan (a 0/0 form such as
    ``c*x**c/x`` at x = 0), the value is the limit toward the first point
    variable that yields one, from the side its piece records.
    """
    out = expr.subs({g: p.value for g, p in zip(general, pieces) if not p.point})
    points = {g: p for g, p in zip(general, pieces) if p.point}
    value = out.subs({g: p.value for g, p in points.items()})
    if not value.has(sympy.nan):
        return value
    for g, p in points.items():
        rest = out.subs({h: q.value for h, q in points.items() if h is not g})
        limit = _attempt(partial(_limit, var=g, at=p.value, side=p.side), rest, budget)
        if limit is not None and not limit.has(sympy.nan, sympy.Limit):
            return limit
    return value


def _param_cases(op: Op) -> list[tuple[list[_Piece], tuple[Domain, ...]]]:
    """Parameter regions with the input domains they give.

    Symbolic parameters (pieces of ``param_domain``) when the input domains do
    not depend on the parameters; the declared ``param_examples`` always.
    """
    cases: list[tuple[list[_Piece], tuple[Domain, ...]]] = []
    if not callable(op.domain):
        per_param = [_pieces(name, dom) for name, dom in zip(op.params, op.param_domain)]
        for combo in itertools.product(*per_param):
            cases.append((list(combo), op.domains()))
    for example in op.param_examples:
        pieces = [_Piece.at(name, v) for name, v in zip(op.params, example)]
        cases.append((pieces, op.domains(example)))
    return cases


def prove(
    op: Op,
    *,
    budget: float = DEFAULT_BUDGET,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
) -> OpProof:
    """Prove ``op``'s rule: for each input x_i, ``grad_i == d spec / d x_i`` on the declared domain.

    ``budget`` bounds each transform of the simplification ladder (seconds),
    ``samples`` the random points per region of the high-precision search;
    ``seed`` (default: derived from the op's name) makes the search repeatable.
    Raises :class:`~autodiff.OpDeclarationError` when the rule cannot run on
    symbols or returns the wrong number of partials.
    """
    if op.params and callable(op.domain) and not op.param_examples:
        raise OpDeclarationError(
            f"op {op.name!r}: its domain depends on the parameters {op.params}; declare "
            "param_examples=... so that the prover has parameter values to check"
        )
    start = time.perf_counter()
    rng = random.Random(zlib.crc32(op.name.encode()) if seed is None else seed)
    names = op.input_names()
    general = [sympy.Symbol(n, real=True) for n in names]
    general_params = [sympy.Symbol(p, real=True) for p in op.params]
    _, shown = _run_rule(op, general, general_params)
    definition = _definition(op, general, general_params)
    truths = [sympy.diff(definition, x) for x in general]
    kinks_of = {i: [k.at for k in op.kinks if k.input == i] for i in range(op.arity)}

    checks: list[list[Check]] = [[] for _ in names]
    kink_checks: list[list[KinkCheck]] = [[] for _ in names]
    seconds = [0.0] * op.arity
    forward_checks: list[Check] = []
    for param_pieces, domains in _param_cases(op):
        per_input = [_pieces(n, d, kinks_of[i]) for i, (n, d) in enumerate(zip(names, domains))]
        for combo in itertools.product(*per_input):
            pieces = [*combo, *param_pieces]
            inputs = [p.value for p in combo]
            params = [p.value for p in param_pieces]
            region_ans, partials = _run_rule(op, inputs, params)
            if op.spec is not None:
                spec = _definition(op, inputs, params)
                forward_checks.append(_compare(region_ans, spec, pieces, budget=budget, samples=samples, rng=rng))
            for i in range(op.arity):
                t0 = time.perf_counter()
                truth = _at_region(truths[i], [*general, *general_params], pieces, budget)
                checks[i].append(_compare(partials[i], truth, pieces, budget=budget, samples=samples, rng=rng))
                seconds[i] += time.perf_counter() - t0
        for kink in op.kinks:
            t0 = time.perf_counter()
            kink_checks[kink.input].extend(
                _kink_checks(
                    op,
                    kink.input,
                    kink.at,
                    kink.convention,
                    per_input,
                    param_pieces,
                    truths[kink.input],
                    [*general, *general_params],
                    budget,
                    samples,
                    rng,
                )
            )
            seconds[kink.input] += time.perf_counter() - t0
    partial_proofs = tuple(
        PartialProof(op.name, names[i], i, shown[i], truths[i], tuple(checks[i]), tuple(kink_checks[i]), seconds[i])
        for i in range(op.arity)
    )
    return OpProof(op.name, partial_proofs, tuple(forward_checks), time.perf_counter() - start)


def _kink_checks(
    op: Op,
    index: int,
    at: float,
    convention: float,
    per_input: Sequence[Sequence[_Piece]],
    param_pieces: Sequence[_Piece],
    truth: Any,
    general: Sequence[Any],
    budget: float,
    samples: int,
    rng: random.Random,
) -> list[KinkCheck]:
    """At input ``index`` = ``at``, on every region of the other inputs: convention and Clarke."""
    name = op.input_names()[index]
    kink_point = _Piece.at(name, at)
    own = per_input[index]
    sides = [
        next((p for p in own if not p.point and p.hi == at), None),
        next((p for p in own if not p.point and p.lo == at), None),
    ]
    others = [pieces if i != index else [kink_point] for i, pieces in enumerate(per_input)]
    out: list[KinkCheck] = []
    for combo in itertools.product(*others):
        pieces = [*combo, *param_pieces]
        _, partials = _run_rule(op, [p.value for p in combo], [p.value for p in param_pieces])
        conv = _compare(partials[index], _exact(convention), pieces, budget=budget, samples=samples, rng=rng)
        limits = []
        for side in sides:
            if side is not None:
                near = [side if p is kink_point else p for p in pieces]
                limits.append(side.limit_toward(_at_region(truth, general, near, budget), at, budget))
        out.append(KinkCheck(_region_name(pieces), conv, *_clarke(limits, _exact(convention))))
    return out


def _clarke(limits: Sequence[Any], value: Any) -> tuple[Any, Any, Verdict]:
    """Whether ``value`` lies between the one-sided derivatives ``limits`` (one of them at a domain end).

    A limit sympy could not take (None) leaves the verdict undecided.
    """
    if not limits or any(v is None for v in limits):
        shown = [*limits, None][:2]
        return shown[0], shown[1], Verdict.UNDECIDED
    lo, hi = limits[0], limits[-1]
    inside = sympy.And(sympy.Min(lo, hi) <= value, value <= sympy.Max(lo, hi))
    if inside is sympy.true:
        return lo, hi, Verdict.PROVEN
    if inside is sympy.false:
        return lo, hi, Verdict.REFUTED
    return lo, hi, Verdict.UNDECIDED


# --- the whole engine ---------------------------------------------------------

_CASE_LIMIT = 6  # sign arguments up to which the engine check splits into cases (2**6 cases)
_CHEAP = ("as written", "cancel", "rewrite(exp)", "exp generators")
_CHEAP_LADDER = tuple(step for step in _LADDER if step[0] in _CHEAP)
_COSTLY_LADDER = tuple(step for step in _LADDER if step[0] not in _CHEAP)


def _canonical(u: Any) -> tuple[Any, int]:
    """``u`` as ``s * key`` with a canonical ``key`` (no leading minus) and s = +-1."""
    return (-u, -1) if u.could_extract_minus_sign() else (u, 1)


def _sign_arguments(e: Any) -> list[Any]:
    """Keys of the arguments whose sign selects a branch: of Abs, sign, Heaviside, of a - b in
    Max(a, b)/Min(a, b) and in the relations of Piecewise conditions; known signs are left out."""
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


def _branch(node: Any, signs: dict[Any, int]) -> Any:
    """``node`` with its branch fixed by ``signs`` (sign of each key), or None when not a branching node."""

    def sign_of(u: Any) -> int | None:
        key, s = _canonical(u)
        return None if key not in signs else s * signs[key]

    if isinstance(node, sympy.core.relational.Relational):
        s = sign_of(node.lhs - node.rhs)
        if s is None:
            return None
        holds = {sympy.Gt: s > 0, sympy.Ge: s > 0, sympy.Lt: s < 0, sympy.Le: s < 0, sympy.Eq: False}
        return sympy.true if holds.get(type(node), True) else sympy.false
    if isinstance(node, (sympy.Max, sympy.Min)) and len(node.args) == 2:
        s = sign_of(node.args[0] - node.args[1])
        if s is None:
            return None
        return node.args[0] if (s > 0) == isinstance(node, sympy.Max) else node.args[1]
    if isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
        u = node.args[0]
        s = sign_of(u)
        if s is None:
            return None
        if isinstance(node, sympy.Abs):
            return s * u
        if isinstance(node, sympy.sign):
            return sympy.Integer(s)
        return sympy.Integer(1 if s > 0 else 0)
    return None


def _fix_signs(e: Any, signs: dict[Any, int]) -> Any:
    """Replace every branching node by its branch under ``signs``, outermost first, to a fixed point."""
    for _ in range(64):
        mapping = {}
        for node in sympy.preorder_traversal(e):
            fixed = _branch(node, signs)
            if fixed is not None:
                mapping[node] = fixed
        if not mapping:
            return e
        e = e.xreplace(mapping)
    return e


def _by_sign_cases(diff: Any, budget: float) -> str | None:
    """Prove ``diff == 0`` wherever no sign argument is 0: every sign pattern reduces to 0 by the
    cheap ladder. None when some pattern does not, or when there are too many arguments."""
    keys = _sign_arguments(diff)
    if not keys or len(keys) > _CASE_LIMIT:
        return None
    for pattern in itertools.product((1, -1), repeat=len(keys)):
        case = _fix_signs(diff, dict(zip(keys, pattern)))
        if _reduces_to_zero(case, budget, _CHEAP_LADDER) is None:
            return None
    return f"{2 ** len(keys)} sign cases of {', '.join(map(str, keys))} (not covering where one is 0)"


def _engine_gradient(target: Expr | Callable[..., Value], symbols: Sequence[Any]) -> tuple[Any, tuple[Any, ...]]:
    """The engine's output and gradient expressions with Values over ``symbols``."""
    leaves = [Value(s) for s in symbols]
    if callable(target):
        out = target(*leaves)
    else:
        out = evaluate_values(target, leaves)
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
    built from the ops' specs, independent of engine code) or a Python function
    of Values (truth: ``sympy.diff`` of the forward expression the engine
    builds). This checks the chain rule, accumulation and graph traversal.

    Per variable, on real symbols: the cheap transforms of the ladder; then a split into
    sign cases of the arguments of Abs/sign/Heaviside and of branch conditions
    (the engine's numerically careful forms branch on signs), each case reduced
    by the cheap transforms -- such a proof does not cover points where one of
    those arguments is 0 (at a kink the engine's convention differs from
    sympy's Heaviside(0) = 1/2 by design; :func:`prove` checks each op's
    convention); then the costly transforms; then the high-precision search. Points
    outside the expression's real domain are skipped by the search.
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
    whole = [_Piece(n, -math.inf, math.inf, symbol=g, value=g) for n, g in zip(names, general)]
    proofs = []
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        candidate, truth = _rational(shown[i]), _rational(sympy.diff(definition, general[i]))
        diff = candidate - truth
        method = (
            _reduces_to_zero(diff, budget, _CHEAP_LADDER)
            or _by_sign_cases(diff, budget)
            or _reduces_to_zero(diff, budget, _COSTLY_LADDER)
        )
        if method is not None:
            check = Check("all real", candidate, truth, Verdict.PROVEN, method)
        else:
            check = _compare(candidate, truth, whole, budget=budget, samples=samples, rng=rng)
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
        method = _reduces_to_zero(_rational(a - b), budget)
        if method is None:
            return None
        methods.append(method)
    return methods


def prove_rules_equal(op: Op, base: Op, *, budget: float = DEFAULT_BUDGET) -> tuple[bool, str]:
    """Whether ``op``'s rule is proven equal to ``base``'s, partial by partial, on the sympy backend.

    First for all real inputs and parameters; else on every region of
    ``base``'s declared domain (open pieces cut at 0, closed ends and kinks as
    exact points), each piece's symbol carrying the assumptions it justifies.
    A domain that depends on the parameters is only enumerable at the
    parameter examples, which proves nothing for other parameters: such an op
    needs the all-reals proof. Returns (proven, the proof or where it failed);
    never True without a proof.
    """
    names = base.input_names()
    general = [sympy.Symbol(n, real=True) for n in names]
    params = [sympy.Symbol(p, real=True) for p in base.params]
    everywhere = _same(_run_rule(op, general, params)[1], _run_rule(base, general, params)[1], budget)
    if everywhere is not None:
        return True, f"equal for every real input ({', '.join(sorted(set(everywhere)))})"
    if callable(base.domain):
        return False, "differs on the real line; the domain depends on the parameters"
    kinks_of = {i: [k.at for k in base.kinks if k.input == i] for i in range(base.arity)}
    regions: list[str] = []
    for param_pieces, domains in _param_cases(base):
        per_input = [
            _pieces(n, d, kinks_of[i]) + [_Piece.at(n, k) for k in kinks_of[i]]
            for i, (n, d) in enumerate(zip(names, domains))
        ]
        for combo in itertools.product(*per_input):
            inputs = [p.value for p in combo]
            values = [p.value for p in param_pieces]
            if _same(_run_rule(op, inputs, values)[1], _run_rule(base, inputs, values)[1], budget) is None:
                where = ", ".join(p.describe() for p in (*combo, *param_pieces))
                return False, f"not shown equal on {where}"
            regions.append(", ".join(p.describe() for p in (*combo, *param_pieces)))
    return True, f"equal on every region of the domain: {'; '.join(regions)}"
