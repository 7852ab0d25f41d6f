"""pytest helpers: put proofs of your own ops and gradients in your own test suite.

    from verification.testing import assert_rule_proven, assert_gradient_certified

    def test_softplus_rule():
        assert_rule_proven(get_op("softplus"))

    def test_my_torch_softplus():
        assert_gradient_certified(MySoftplus, spec="log(1 + exp(x))", framework="torch")

A failure shows, for the first region that is not proven, the rule's
expression, the true derivative and the counterexample (or, when undecided,
the high-precision evidence).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff import Op, Value, op_names
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

__all__ = ["assert_rule_proven", "assert_gradient_proven", "assert_gradient_certified"]


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


def assert_gradient_certified(
    fn: Any,
    *,
    spec: str,
    framework: str = "torch",
    domain: str | None = None,
    points: int = 1000,
    seed: int = 0,
) -> Any:
    """Fail unless ``fn``'s gradient in ``framework`` is within float64 rounding of the truth everywhere checked.

    ``fn`` is a framework function of float64 scalars (a ``torch.autograd.Function``
    class, a ``jax.custom_vjp`` function, ...); ``spec`` is what it computes, in
    sympy (``"log(1 + exp(x))"``); ``domain`` is e.g. ``"x > 0"``. The check is
    :func:`verification.frameworks.check.check_op`: special points (0, subnormals,
    tails, the largest floats, kinks) and ``points`` random float64 bit
    patterns. The failure names the shrunk input, the value, the truth and the
    ULPs, with a snippet in the framework's code. Returns the check.
    """
    from verification.frameworks import custom_op, framework_engine, remove_custom
    from verification.frameworks.check import check_op
    from verification.frameworks.custom import origin_of
    from verification.frameworks.specop import parse_domain, parse_spec

    base = origin_of(fn, "custom_op").rpartition(":")[2]
    name = base if base not in op_names() else f"certified_{len(op_names())}"
    dom = parse_domain(domain)
    op = custom_op(name, spec=spec, domain=(dom,) * len(parse_spec(spec)[1]), **{framework: fn})
    try:
        engine = framework_engine(framework)
        check = check_op(op, engine, points=points, seed=seed)
    finally:
        remove_custom(name)
    if check.certified:
        return check
    lines = [f"the gradient of {base} ({framework}) is not certified against {spec}:"]
    if not check.judged:
        lines.append("  no point could be judged (the truth is not a finite float anywhere sampled)")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(check.severities().items()))
    if counts:
        lines.append(f"  {counts} point(s) of {check.judged} judged")
    lines.extend(f"  {text}" for text in check.kink_findings)
    for finding, repro in zip(check.shrunk, check.reproductions):
        at = ", ".join(repr(p) for p in finding.point)
        lines.append(f"  {finding.severity}, shrunk to input x = {at}")
        if finding.error is not None:
            lines.append(f"    the framework raised {finding.error}")
        lines.append(f"    value:    {finding.value!r}   truth {finding.true_value!r}")
        lines.append(f"    gradient: {finding.grad!r}   truth {finding.true_grad!r}   ({finding.ulps:.3g} ULPs)")
        lines.append("  reproduce with:")
        lines.extend(f"    {line}" for line in repro.splitlines())
    raise AssertionError("\n".join(lines))
