"""The high-precision search for a counterexample on one region, when no ladder step reduces to 0."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from verification.prove.ladder import attempt
from verification.prove.records import Counterexample, Evidence
from verification.prove.regions import Piece

__all__ = ["Search", "converged", "fmt_fraction", "evalf_str", "mp_str", "REAL_DIFFERENCE"]

PRECISIONS = (50, 100, 200, 400)
REAL_DIFFERENCE = mpmath.mpf(10) ** -20  # relative, far above the rounding left after convergence


def mp_str(x: Any, digits: int = 20) -> str:
    """An mpmath number for display."""
    return str(mpmath.nstr(x, digits))


def evalf_str(e: Any) -> str:
    """A sympy number for display, 17 digits."""
    try:
        return str(sympy.N(e, 17))
    except Exception:
        return str(e)


def fmt_fraction(x: Fraction) -> str:
    """A sample point for display: exact integers, else 17 significant digits (round-trips a float)."""
    if x.denominator == 1:
        return str(x.numerator)
    with mpmath.workdps(40):
        return str(mpmath.nstr(mpmath.mpf(x.numerator) / x.denominator, 17))


def finite_real(x: Any) -> bool:
    """Finite and real (an imaginary part below the working precision counts as rounding)."""
    if not mpmath.isfinite(x):
        return False
    im = mpmath.im(x)
    return bool(im == 0 or abs(im) <= mpmath.mpf(10) ** (-mpmath.mp.dps // 2) * abs(mpmath.re(x)))


def _agree(a: Any, b: Any, digits: int) -> bool:
    scale = max(abs(a), abs(b))
    return bool(abs(a - b) <= mpmath.mpf(10) ** -digits * scale)


def precisions(svals: Sequence[Fraction]) -> list[int]:
    """The working precisions for a point: 50 ... 400 digits, plus the digits a tiny coordinate needs
    (1e-323 needs 323 more)."""
    tiny = min((abs(v) for v in svals if v), default=Fraction(1))
    extra = max(0, -math.floor(math.log10(tiny))) if tiny < 1 else 0
    return [d + extra for d in PRECISIONS]


def converged(fn: Callable[..., Any], svals: Sequence[Fraction]) -> tuple[Any, ...] | None:
    """All values of ``fn`` at rising precision (50 ... 400 digits) until two successive runs agree.

    Two runs agree when they match to half the lower run's digits, at most 30
    (so a value is known to 30 digits, ten more than any difference called
    real). A precision at which evaluation fails or is not finite and real just
    moves on to the next; None when no two successive precisions agree.
    """
    previous: tuple[Any, ...] | None = None
    prev_dps = 0
    for dps in precisions(svals):
        with mpmath.workdps(dps):
            args = [mpmath.mpf(v.numerator) / v.denominator for v in svals]
            try:
                values = tuple(mpmath.mpmathify(x) for x in fn(*args))
                ok = all(finite_real(v) for v in values)
            except Exception:  # a user expression may fail anywhere outside its domain
                ok = False
            if not ok:
                previous = None
                continue
            values = tuple(mpmath.re(v) for v in values)
            if previous is not None and all(_agree(a, b, min(prev_dps // 2, 30)) for a, b in zip(previous, values)):
                return values
        previous, prev_dps = values, dps
    return None


@dataclass
class Search:
    """The high-precision search over one region's Dummies."""

    candidate: Any
    truth: Any
    pieces: Sequence[Piece]
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
        points = [[col[k % len(col)] for col in columns] for k in range(count)]
        if len(free) >= 2 and all((p.lo, p.hi) == (free[0].lo, free[0].hi) for p in free):
            points += [[x] * len(free) for x in columns[0]]  # x == y, where an equality branch may hide
        checked = skipped = 0
        max_abs = max_rel = mpmath.mpf(0)
        for xs in points:
            svals = [p.symbol_value(x) for p, x in zip(free, xs)]
            values = converged(fn, svals)
            if values is None:
                skipped += 1
                continue
            r, v = values
            checked += 1
            diff = abs(r - v)
            scale = max(abs(r), abs(v))
            rel = diff / scale if scale else mpmath.mpf(0)
            if diff > 0 and rel > REAL_DIFFERENCE:
                found = self._confirm(free, syms, xs, svals)
                if found is not None:
                    return found, self._evidence(checked, skipped, max(max_abs, diff), max(max_rel, rel))
                checked, skipped = checked - 1, skipped + 1
                continue
            max_abs, max_rel = max(max_abs, diff), max(max_rel, rel)
        return None, self._evidence(checked, skipped, max_abs, max_rel)

    def _confirm(
        self, free: Sequence[Piece], syms: Sequence[Any], xs: Sequence[Fraction], svals: Sequence[Fraction]
    ) -> Counterexample | None:
        """Re-evaluate exactly at the rational point with sympy's ``evalf(strict=True)``."""
        sub = {s: sympy.Rational(v) for s, v in zip(syms, svals)}
        cand, truth = self.candidate.xreplace(sub), self.truth.xreplace(sub)
        diff = attempt(lambda e: sympy.N(e, 17, strict=True, maxn=2000), cand - truth, self.budget)
        if diff is None or diff.is_zero is not False:
            return None
        point = {p.name: fmt_fraction(x) for p, x in zip(free, xs)}
        point.update({p.name: str(p.value) for p in self.pieces if p.point})
        return Counterexample(point, evalf_str(cand), evalf_str(truth), str(diff))

    @staticmethod
    def _evidence(checked: int, skipped: int, max_abs: Any, max_rel: Any) -> Evidence:
        return Evidence(checked, skipped, mp_str(max_abs, 5), mp_str(max_rel, 5))
