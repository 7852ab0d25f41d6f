"""pytest helpers: put proofs of your own ops and gradients in your own test suite.

    from verification.testing import assert_rule_proven

    def test_softplus_rule():
        assert_rule_proven(get_op("softplus"))

A failure shows, for the first region that is not proven, the rule's
expression, the true derivative and the counterexample (or, when undecided,
the high-precision evidence).
"""

from __future__ import annotations

from collections.abc import Callable

from autodiff import Op, Value
from verification.expr import Expr
from verification.prove import (
    DEFAULT_BUDGET,
    GradientProof,
    OpProof,
    PartialProof,
    Verdict,
    prove,
    prove_gradient,
)

__all__ = ["assert_rule_proven", "assert_gradient_proven"]


def _explain(subject: str, partials: tuple[PartialProof, ...]) -> str:
    lines = []
    for p in partials:
        failure = p.failure
        if failure is None:
            continue
        lines.append(f"d{subject}/d{p.variable} is {p.verdict} on {failure.region}")
        lines.append(f"  rule:            {p.candidate}")
        lines.append(f"  true derivative: {p.truth}")
        if failure.counterexample is not None:
            lines.append(f"  counterexample:  {failure.counterexample.describe()}")
        elif failure.evidence is not None:
            lines.append(f"  evidence:        {failure.evidence.describe()}")
    for p in partials:
        for kink in p.kinks:
            if kink.verdict is not Verdict.PROVEN:
                lines.append(f"d{subject}/d{p.variable}: {kink.describe()}")
    return "\n".join(lines)


def assert_rule_proven(op: Op, *, budget: float = DEFAULT_BUDGET) -> OpProof:
    """Fail unless every partial of ``op``'s rule and its forward (against ``spec``) are proven."""
    proof = prove(op, budget=budget)
    if proof.verdict is not Verdict.PROVEN:
        message = [f"the rule of {op.name} is not proven ({proof.verdict})", _explain(op.name, proof.inputs)]
        bad_forward = [c for c in proof.forward if c.verdict is not Verdict.PROVEN]
        if bad_forward:
            message.append(f"forward of {op.name} vs its spec: {bad_forward[0].describe()}")
        raise AssertionError("\n".join(m for m in message if m))
    return proof


def assert_gradient_proven(
    target: Expr | Callable[..., Value], *, nvars: int | None = None, budget: float = DEFAULT_BUDGET
) -> GradientProof:
    """Fail unless the engine's gradient of ``target`` is proven for every variable."""
    proof = prove_gradient(target, nvars=nvars, budget=budget)
    if proof.verdict is not Verdict.PROVEN:
        detail = _explain(f"({proof.expression})", proof.variables)
        raise AssertionError(f"the gradient of {proof.expression} is not proven ({proof.verdict})\n{detail}")
    return proof
