"""gradproof's verification harness: proofs, expression campaigns and the CLI."""

from verification.errors import UsageError
from verification.plugins import load_plugin, load_plugins
from verification.prove import (
    Check,
    Counterexample,
    Evidence,
    GradientProof,
    KinkCheck,
    OpProof,
    PartialProof,
    Verdict,
    prove,
    prove_gradient,
)
from verification.testing import assert_gradient_proven, assert_rule_proven

__all__ = [
    "UsageError",
    "load_plugin",
    "load_plugins",
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
    "assert_rule_proven",
    "assert_gradient_proven",
]
