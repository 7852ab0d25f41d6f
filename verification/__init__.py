"""gradproof's verification harness: proofs, expression campaigns and engine adapters.

The public names of the harness are re-exported here; the modules hold the
detail (``verification.prove``, ``verification.strategies``,
``verification.campaign``, ``verification.foreign``, ``verification.mutate``).

Names are imported on first use, so ``import verification`` costs nothing until one is
used (sympy, Hypothesis and the engine adapters load only then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autodiff.lazy import lazy_exports

if TYPE_CHECKING:
    from verification.campaign import CampaignConfig, CampaignResult, run_campaign
    from verification.engine_api import Engine, Evaluation
    from verification.engine_spec import resolve_engine
    from verification.engines import BuiltinEngine
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

_EXPORTS: dict[str, str] = {
    "CampaignConfig": "verification.campaign",
    "CampaignResult": "verification.campaign",
    "run_campaign": "verification.campaign",
    "BuiltinEngine": "verification.engines",
    "Engine": "verification.engine_api",
    "Evaluation": "verification.engine_api",
    "resolve_engine": "verification.engine_spec",
    "UsageError": "verification.errors",
    "Apply": "verification.expr",
    "Const": "verification.expr",
    "Expr": "verification.expr",
    "Var": "verification.expr",
    "evaluate_values": "verification.expr",
    "to_source": "verification.expr",
    "to_sympy": "verification.expr",
    "ForeignEngine": "verification.foreign",
    "TorchEngine": "verification.foreign",
    "load_engine": "verification.foreign",
    "Mutant": "verification.mutants",
    "all_mutants": "verification.mutants",
    "load_plugin": "verification.plugins",
    "load_plugins": "verification.plugins",
    "Check": "verification.prove",
    "Counterexample": "verification.prove",
    "Evidence": "verification.prove",
    "GradientProof": "verification.prove",
    "KinkCheck": "verification.prove",
    "OpProof": "verification.prove",
    "PartialProof": "verification.prove",
    "Verdict": "verification.prove",
    "prove": "verification.prove",
    "prove_gradient": "verification.prove",
    "prove_rules_equal": "verification.prove",
    "candidate_points": "verification.strategies",
    "constants": "verification.strategies",
    "expressions": "verification.strategies",
    "points": "verification.strategies",
    "assert_gradient_proven": "verification.testing",
    "assert_rule_proven": "verification.testing",
}
"""Public name -> the module defining it, imported on first use."""


__getattr__ = lazy_exports(__name__, _EXPORTS)
"""Import the module behind a public name on first use (keeps ``import`` and ``--help`` fast)."""


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
