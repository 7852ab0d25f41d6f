"""gradproof's verification harness: proofs, expression campaigns and engine adapters.

The public names of the harness are re-exported here; the modules hold the
detail (``verification.prove``, ``verification.strategies``,
``verification.campaign``, ``verification.foreign``, ``verification.mutate``).
"""

from verification.campaign import CampaignConfig, CampaignResult, run_campaign
from verification.engines import BuiltinEngine, Engine, Evaluation, resolve_engine
from verification.errors import UsageError
from verification.expr import Apply, Const, Expr, Var, evaluate_values, to_source, to_sympy
from verification.foreign import ForeignEngine, TorchEngine, load_engine
from verification.mutants import Mutant, all_mutants
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
    prove_rules_equal,
)
from verification.strategies import candidate_points, constants, expressions, points
from verification.testing import assert_gradient_proven, assert_rule_proven

__all__ = [
    "UsageError",
    "Var",
    "Const",
    "Apply",
    "Expr",
    "evaluate_values",
    "to_source",
    "to_sympy",
    "expressions",
    "points",
    "candidate_points",
    "constants",
    "Engine",
    "Evaluation",
    "BuiltinEngine",
    "ForeignEngine",
    "TorchEngine",
    "resolve_engine",
    "load_engine",
    "CampaignConfig",
    "CampaignResult",
    "run_campaign",
    "Mutant",
    "all_mutants",
    "prove_rules_equal",
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
