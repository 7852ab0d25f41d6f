"""The prover kills the mutants aimed at it: 1-ULP constants, equality, trig sign, subnormal, removable."""

from __future__ import annotations

import pytest

from autodiff import FLOAT, all_ops, get_op
from verification.mutants import Mutant, rule_mutants
from verification.mutate import prove_equivalent
from verification.prove import Verdict, prove
from verification.prover_mutants import KINDS, with_constant

CI_OPS = ("relu", "sqrt")  # the others run with -m slow (docs/prove.md)


def _mutants(ops: tuple[str, ...]) -> list[Mutant]:
    out = []
    for name in ops:
        op = get_op(name)
        out += [
            m
            for m in rule_mutants(op)
            if m.kind in KINDS or (m.kind == "relative" and m.size is not None and m.size < 1e-12)
        ]
    return out


def _check(mutant: Mutant) -> None:
    assert mutant.op is not None
    equivalence = prove_equivalent(mutant)
    proof = prove(mutant.op)
    if equivalence.equivalent:
        assert proof.rule_verdict is not Verdict.REFUTED, equivalence.reason
    else:
        assert proof.rule_verdict is Verdict.REFUTED, [c.describe() for p in proof.inputs for c in p.checks]


def test_with_constant_moves_every_occurrence() -> None:
    rule = get_op("tanh").grad
    moved = with_constant(rule, 4.0, 5.0)
    assert moved(FLOAT, 0.0, 0.0) == (1.25,)
    assert rule(FLOAT, 0.0, 0.0) == (1.0,)


def test_every_class_is_generated() -> None:
    kinds = {m.kind for name in ("sqrt", "tanh") for m in rule_mutants(get_op(name))}
    assert set(KINDS) <= kinds


@pytest.mark.parametrize("mutant", _mutants(CI_OPS), ids=lambda m: m.name)
def test_the_prover_kills_the_prover_mutants(mutant: Mutant) -> None:
    _check(mutant)


@pytest.mark.slow
@pytest.mark.parametrize(
    "mutant", _mutants(tuple(op.name for op in all_ops() if op.name not in CI_OPS)), ids=lambda m: m.name
)
def test_the_prover_kills_every_prover_mutant(mutant: Mutant) -> None:
    _check(mutant)
