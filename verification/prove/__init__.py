"""Proofs of backward rules with sympy: the rule code the engine runs, on symbols, audited by evaluation.

Public surface (everything else is internal):

* :func:`prove` -- an op's rule against ``sympy.diff`` of its definition;
* :func:`prove_gradient` -- the engine's gradient of an expression;
* :func:`prove_rules_equal` -- two rules proven equal (mutation testing);
* the records :class:`OpProof`, :class:`PartialProof`, :class:`Check`,
  :class:`KinkCheck`, :class:`Counterexample`, :class:`Evidence`,
  :class:`GradientProof`, and :class:`Verdict` with :func:`combine`.

See docs/prove.md for the soundness argument.
"""

from verification.prove.equivalence import prove_gradient, prove_rules_equal
from verification.prove.ops import DEFAULT_BUDGET, DEFAULT_SAMPLES, DEFAULT_TIMEOUT, prove
from verification.prove.records import (
    Check,
    Counterexample,
    Evidence,
    GradientProof,
    KinkCheck,
    OpProof,
    PartialProof,
    Verdict,
    combine,
)

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
    "DEFAULT_BUDGET",
    "DEFAULT_SAMPLES",
    "DEFAULT_TIMEOUT",
]
