"""Proof records: verdicts, counterexamples, evidence and the per-region, per-partial, per-op results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

__all__ = [
    "Verdict",
    "Counterexample",
    "Evidence",
    "Check",
    "KinkCheck",
    "PartialProof",
    "OpProof",
    "GradientProof",
    "combine",
]


def show(value: Any) -> str:
    """A value for a message: an exact rational that is a float64 as that float (``0.3``), a long one
    as ``~`` and the nearest float."""
    p, q = getattr(value, "p", None), getattr(value, "q", None)
    if isinstance(p, int) and isinstance(q, int) and q > 1:
        f = float(Fraction(p, q))
        if Fraction(f) == Fraction(p, q):
            return repr(f)
        if q > 10**6:
            return f"~{f!r}"  # an exact rational too long to read; the float nearest to it
    return str(value)


class Verdict(StrEnum):
    """The outcome of a check; *undecided* is never a proof.

    *not differentiable* says that the op has a point of non-differentiability
    it does not declare as a :class:`~autodiff.Kink`: a declaration to fix, not a
    wrong rule.
    """

    PROVEN = "proven"
    REFUTED = "refuted"
    UNDECIDED = "undecided"
    NOT_DIFFERENTIABLE = "not differentiable"


_RANK = {Verdict.REFUTED: 3, Verdict.NOT_DIFFERENTIABLE: 2, Verdict.UNDECIDED: 1, Verdict.PROVEN: 0}


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Refuted if any part is, else not differentiable, else undecided if any part is, else proven."""
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.PROVEN)


@dataclass(frozen=True)
class Counterexample:
    """A domain point where the candidate and the truth differ, confirmed at high precision."""

    point: dict[str, str]
    candidate: str
    truth: str
    difference: str
    how: str = ""

    def describe(self) -> str:
        """One line: the point and both values."""
        at = ", ".join(f"{k} = {v}" for k, v in self.point.items()) or "the point"
        how = f" [{self.how}]" if self.how else ""
        return f"at {at}: rule {self.candidate}, true {self.truth} (difference {self.difference}){how}"


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
            return f"{self.region}: {self.verdict} ({self.method}); {self.evidence.describe()}"
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
    """A declared kink of one input: the rule returns the declared convention there, and the
    convention lies in [min, max] of the one-sided derivatives (the Clarke generalized gradient)."""

    at: str
    convention: Check
    left: Any
    right: Any
    clarke: Verdict
    jump: tuple[Any, Any] | None = None
    """The function's own one-sided limits at the kink when they differ: it jumps there, so it has no
    derivative at that point (a kink of a first derivative is where the second does not exist)."""

    @property
    def verdict(self) -> Verdict:
        """Both parts combined."""
        return combine((self.convention.verdict, self.clarke))

    @property
    def interval(self) -> str:
        """The Clarke interval as text."""
        return f"[{show(self.left)}, {show(self.right)}]"

    def describe(self) -> str:
        """One line summary naming which part failed."""
        declared = show(self.convention.truth)
        if self.convention.verdict is Verdict.REFUTED:
            return (
                f"kink {self.at}: the rule returns {show(self.convention.candidate)} there, "
                f"the declared convention is {declared}"
            )
        if self.convention.verdict is not Verdict.PROVEN:
            return f"kink {self.at}: rule value against the convention {declared} {self.convention.describe()}"
        if self.clarke is Verdict.REFUTED:
            return (
                f"kink {self.at}: declared convention {declared} lies outside the Clarke interval "
                f"{self.interval} of the one-sided derivatives"
            )
        if self.clarke is Verdict.UNDECIDED:
            return f"kink {self.at}: one-sided derivatives {show(self.left)}, {show(self.right)} not both decided"
        jumps = ""
        if self.jump is not None:
            jumps = f"its value jumps from {show(self.jump[0])} to {show(self.jump[1])}: no derivative exists there; "
        return f"kink {self.at}: {jumps}rule returns the convention {declared}, inside {self.interval}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "at": self.at,
            "convention": self.convention.to_dict(),
            "left": str(self.left),
            "right": str(self.right),
            "clarke": str(self.clarke),
            "jump": None if self.jump is None else [str(v) for v in self.jump],
            "verdict": str(self.verdict),
        }


@dataclass(frozen=True)
class PartialProof:
    """One partial derivative d(subject)/d(variable): the candidate against the truth, region by region.

    ``candidate`` and ``truth`` are shown on real symbols; ``checks`` hold the
    per-region comparisons the verdict rests on (the audit's findings included).
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
        """Combined verdict of every region and kink; undecided when nothing was checked."""
        parts = [c.verdict for c in self.checks] + [k.verdict for k in self.kinks]
        return combine(parts) if parts else Verdict.UNDECIDED

    @property
    def failure(self) -> Check | None:
        """The first refuted region, else the first not-differentiable one, else the first undecided one."""
        for wanted in (Verdict.REFUTED, Verdict.NOT_DIFFERENTIABLE, Verdict.UNDECIDED):
            for check in self.checks:
                if check.verdict is wanted:
                    return check
            for kink in self.kinks:
                if kink.convention.verdict is wanted:
                    return kink.convention
        return None

    @property
    def failed_kink(self) -> KinkCheck | None:
        """The first kink whose check is not proven."""
        return next((k for k in self.kinks if k.verdict is not Verdict.PROVEN), None)

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
    """Every partial of one op's rule, and its forward checked against its spec.

    ``notes`` say what a proof takes for granted (a float constant read as a
    closed form it rounds to, parameters covered only at examples and by the
    audit); ``audit`` says what the independent audit evaluated.
    """

    op: str
    inputs: tuple[PartialProof, ...]
    forward: tuple[Check, ...]
    seconds: float
    notes: tuple[str, ...] = ()
    audit: str = ""

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
            "notes": list(self.notes),
            "audit": self.audit,
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
