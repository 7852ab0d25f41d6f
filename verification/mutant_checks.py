"""One mutant through each detection method, and proofs that a mutant equals the original rule.

A mutant (:mod:`verification.mutants`) is *killed* by a method when

* ``prover`` -- :func:`verification.prove.prove` refutes the mutated rule on some
  region of the domain (a confirmed high-precision counterexample). Engine
  faults are not rules: the prover does not apply to them;
* ``engine_f64`` -- the campaign (:func:`verification.campaign.check_case`)
  gives the float64 mutant engine a ``rule_bug``, ``value_bug`` or
  ``exception_mismatch`` verdict against the certified truth: an error larger
  than ``SAFETY * bound + ulp`` where ``bound`` is the float64 error analysis;
* ``engine_hp`` -- the same for the mutant engine run in mpmath at 50 digits;
* ``gradcheck`` -- PyTorch gradcheck's rule, implemented here: the analytical
  partial ``a_k`` against the float64 central difference of the engine's own
  forward ``n_k = (f(x + h e_k) - f(x - h e_k)) / (2 h)``, h = 1e-6, failing
  when ``|a_k - n_k| > atol + rtol |n_k|`` (atol = 1e-5, rtol = 1e-3). A
  (point, variable) where the correct engine fails too is a false alarm of
  gradcheck (counted, never a kill).

The sampling methods draw expressions over the mutated op and a few cheap
companions (every expression contains the mutated op), the same sequence for
every method and every mutant of an op, and stop at the first kill; the
*examples to kill* is the 1-based index of the killing expression and the
*time to kill* the seconds spent on the expressions up to it (shared
references included). The prover makes one proof attempt per mutant.

A mutant is *equivalent* when its rule provably equals the original rule:
``mutant_i - original_i`` reduces to 0 under the prover's simplification
ladder, either for all real inputs or on every region of the declared domain
(kinks substituted exactly). Equivalent mutants are excluded from the score;
they still run through the methods, so a kill of one would show as a false alarm.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from autodiff import Op, get_op, sympy_backend
from runstore import MutantRow
from verification.bounds import HP_DPS, analyse
from verification.campaign_config import CampaignConfig
from verification.case import CaseResult, check_case, high_precision
from verification.detection import ENGINE_TARGET, METHODS
from verification.engines import BuiltinEngine, Engine
from verification.errors import UsageError
from verification.expr import Expr, ops_in, to_source
from verification.generation import Case, case_strategy, hypothesis_seed, run_cases
from verification.gradcheck import GRADCHECK_ATOL, GRADCHECK_EPS, GRADCHECK_RTOL, gradcheck_failures
from verification.judging import BUG_VERDICTS
from verification.mutants import FaultyEngine, Mutant
from verification.prove import DEFAULT_BUDGET, Verdict, prove, prove_rules_equal

__all__ = [
    "GRADCHECK_EPS",
    "GRADCHECK_ATOL",
    "GRADCHECK_RTOL",
    "DRAWS_PER_CASE",
    "MutateConfig",
    "Equivalence",
    "Outcome",
    "MutantResult",
    "prove_equivalent",
    "gradcheck_failures",
    "run_mutant",
]


_SAMPLING = ("engine_f64", "engine_hp", "gradcheck")
_CAMPAIGN = ("engine_f64", "engine_hp")
_OWN_STAGE = {"engine_f64": "engine", "engine_hp": "engine_hp"}
_SHARED_STAGES = ("symbolic", "analysis", "certify")


@dataclass(frozen=True)
class MutateConfig:
    """What a mutation run checks, and how hard each sampling method tries."""

    ops: tuple[str, ...] | None = None  # targets: op names and/or "engine"; None = every op and the engine
    methods: tuple[str, ...] = METHODS
    examples: int = 200  # expressions per mutant for the sampling methods
    seed: int = 0
    companions: tuple[str, ...] = ("add", "mul", "sub")
    n_vars: int = 2
    max_depth: int = 3
    points: int = 3
    candidates: int = 8
    budget: float = DEFAULT_BUDGET  # seconds per simplification step (prover, equivalence proofs)

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise UsageError(
                f"unknown method {unknown[0]!r}; methods: {', '.join(METHODS)}"
                if unknown
                else f"no method given; methods: {', '.join(METHODS)}"
            )
        if self.examples < 1:
            raise UsageError(f"examples must be at least 1, got {self.examples}")


@dataclass(frozen=True)
class Equivalence:
    """Whether a mutant's rule provably equals the original; ``reason`` says why (or why not shown)."""

    equivalent: bool
    reason: str


Outcome = MutantRow
"""One mutant through one method: a row of ``mutants.csv`` (:data:`runstore.MUTANTS`)."""


@dataclass(frozen=True)
class MutantResult:
    """A mutant's equivalence verdict and its outcomes."""

    mutant: str
    kind: str
    target: str
    equivalence: Equivalence
    outcomes: tuple[Outcome, ...]
    gradcheck_false_alarms: int = 0


# --- equivalence -----------------------------------------------------------------


def _reads(op: Op) -> tuple[bool, bool]:
    """Whether the rule reads ``ans`` and whether it reads its first input (ans kept independent)."""
    names = op.input_names()
    xs = [sympy.Symbol(n, real=True) for n in names]
    params = [sympy.Symbol(p, real=True) for p in op.params]
    ans = sympy.Symbol("ans", real=True)
    free = set().union(*(sympy.sympify(d).free_symbols for d in op.grad(sympy_backend(), ans, *xs, *params)))
    return ans in free, xs[0] in free


def _why(mutant: Mutant, original: Op) -> str:
    """The fact behind an equivalence, in words (kind-specific, derived from the rule itself)."""
    reads_ans, reads_x0 = _reads(original)
    if mutant.kind == "input_for_ans" and not reads_ans:
        return "the rule never reads ans"
    if mutant.kind == "ans_for_input" and not reads_x0:
        return f"the rule never reads {original.input_names()[0]}"
    return ""


def prove_equivalent(mutant: Mutant, original: Op | None = None, *, budget: float = DEFAULT_BUDGET) -> Equivalence:
    """Prove ``mutant``'s rule equal to the original rule (see :func:`verification.prove.prove_rules_equal`).

    Not equivalent unless proven; an engine fault is never equivalent.
    """
    if mutant.op is None:
        return Equivalence(False, "an engine fault, not a rule")
    base = original if original is not None else get_op(mutant.target)
    equal, proof = prove_rules_equal(mutant.op, base, budget=budget)
    why = _why(mutant, base)
    return Equivalence(equal, f"{why}: {proof}" if equal and why else proof)


# --- expressions -----------------------------------------------------------------

DRAWS_PER_CASE = 50
"""Hypothesis examples allowed per expression kept: only trees holding the mutated op are kept, and
it is one of the few ops drawn at every node, so a large share of trees hold it and the run stops because
enough were kept; the allowance only bounds a strategy that rarely draws the op."""

_CASES: dict[tuple[Any, ...], list[Case]] = {}


class _Enough(Exception):
    """Stops the Hypothesis run once enough expressions are collected."""


def _cases(target: str, config: MutateConfig) -> list[Case]:
    """The first ``config.examples`` (tree, candidate points) with ``target`` in the tree (cached per process)."""
    key = (target, config.companions, config.n_vars, config.max_depth, config.candidates, config.seed, config.examples)
    found = _CASES.get(key)
    if found is not None:
        return found
    ops: tuple[str, ...]
    if target == ENGINE_TARGET:
        ops = ("add", "mul", "sub", "tanh")
    else:
        ops = (target, *(c for c in config.companions if c != target))
    strategy = case_strategy(ops, n_vars=config.n_vars, max_depth=config.max_depth, candidates=config.candidates)
    collected: list[Case] = []

    def draw(case: Case) -> None:
        if len(collected) >= config.examples:
            raise _Enough
        tree, points = case
        if target == ENGINE_TARGET or target in ops_in(tree):
            collected.append((tree, points))
        if len(collected) >= config.examples:
            raise _Enough

    seed = hypothesis_seed(config.seed, zlib.crc32(target.encode()))
    try:
        run_cases(strategy, draw, seed=seed, max_examples=DRAWS_PER_CASE * config.examples, shrink=False)
    except _Enough:
        pass
    _CASES[key] = collected
    return collected


def _usable_points(tree: Expr, candidates: Sequence[Sequence[float]], limit: int) -> list[tuple[float, ...]]:
    """The first ``limit`` candidates the high-precision analysis accepts (defined, finite, off kinks)."""
    out = []
    for candidate in candidates:
        point = tuple(float(p) for p in candidate)
        if analyse(tree, point).discard is None:
            out.append(point)
            if len(out) >= limit:
                break
    return out


# --- one mutant ------------------------------------------------------------------


def _engines(mutant: Mutant) -> tuple[Engine, Engine]:
    if mutant.fault is not None:
        return FaultyEngine(mutant.fault), FaultyEngine(mutant.fault, dps=HP_DPS)
    engine = BuiltinEngine(resolve=mutant.resolver(get_op), name=f"mutant[{mutant.name}]")
    hp = high_precision(engine)
    assert hp is not None
    return engine, hp


@dataclass
class _Tally:
    """A sampling method's progress on one mutant."""

    spent: float = 0.0
    tried: int = 0
    killed_at: int | None = None
    seconds: float = math.nan
    detail: str = ""

    def kill(self, index: int, detail: str) -> None:
        self.killed_at, self.seconds, self.detail = index, self.spent, detail


def _sampling(mutant: Mutant, config: MutateConfig) -> tuple[dict[str, _Tally], int]:
    """Run the chosen sampling methods on the mutant's expressions; tallies, and gradcheck false alarms."""
    methods = [m for m in config.methods if m in _SAMPLING]
    tallies = {m: _Tally() for m in methods}
    false_alarms = 0
    if not methods:
        return tallies, false_alarms
    engine, hp = _engines(mutant)
    correct = BuiltinEngine()
    campaign = CampaignConfig(
        n_vars=config.n_vars,
        points=config.points,
        candidates=config.candidates,
        oracle_every=0,
        max_depth=config.max_depth,
    )
    for index, (tree, candidates) in enumerate(_cases(mutant.target, config), start=1):
        alive = [m for m in methods if tallies[m].killed_at is None]
        if not alive:
            break
        live_campaign = [m for m in alive if m in _CAMPAIGN]
        if live_campaign:
            res = check_case(
                tree,
                candidates,
                config=campaign,
                engine=engine,
                hp_engine=hp if "engine_hp" in live_campaign else None,
                expr_id=index - 1,
            )
            _tally_campaign(res, live_campaign, tallies, index)
        if "gradcheck" in alive:
            false_alarms += _gradcheck(tree, candidates, config.points, engine, correct, tallies["gradcheck"], index)
    return tallies, false_alarms


def _tally_campaign(res: CaseResult, methods: Sequence[str], tallies: dict[str, _Tally], index: int) -> None:
    """Account one checked expression to each campaign method; a bug verdict kills the mutant."""
    shared = sum(res.times.get(s, 0.0) for s in _SHARED_STAGES)
    for m in methods:
        tally = tallies[m]
        tally.tried += 1
        tally.spent += shared + res.times.get(_OWN_STAGE[m], 0.0)
        bad = next((r for r in res.rows if r.method == m and r.verdict in BUG_VERDICTS), None)
        if bad is not None:
            tally.kill(
                index,
                f"{bad.verdict} on {bad.expr} at {bad.point}, d/dx{bad.variable}: {bad.grad!r}, true {bad.true_grad!r}",
            )


def _gradcheck(
    tree: Expr,
    candidates: Sequence[Sequence[float]],
    points: int,
    engine: Engine,
    correct: Engine,
    tally: _Tally,
    index: int,
) -> int:
    """gradcheck on one expression: kill on a failure the correct engine does not share; its false alarms."""
    tally.tried += 1
    false_alarms = 0
    t0 = time.perf_counter()
    for point in _usable_points(tree, candidates, points):
        wrong = gradcheck_failures(engine, tree, point)
        if not wrong:
            continue
        control = gradcheck_failures(correct, tree, point)
        if control is None:
            continue
        false_alarms += len([k for k in wrong if k in control])
        caught = [k for k in wrong if k not in control]
        if caught:
            tally.spent += time.perf_counter() - t0
            tally.kill(index, f"{to_source(tree)} at {list(point)}, d/dx{caught[0]}")
            return false_alarms
    tally.spent += time.perf_counter() - t0
    return false_alarms


def run_mutant(mutant: Mutant, config: MutateConfig) -> MutantResult:
    """The mutant's equivalence verdict and its outcome under each chosen method."""
    size = mutant.size if mutant.size is not None else math.nan
    equivalence = prove_equivalent(mutant, budget=config.budget)
    outcomes: list[Outcome] = []

    def add(method: str, killed: bool, examples: float, seconds: float, tried: int, detail: str) -> None:
        outcomes.append(
            Outcome(
                mutant.name,
                mutant.kind,
                size,
                method,
                killed,
                examples if killed else math.nan,
                seconds if killed else math.nan,
                mutant.target,
                tried,
                detail,
            )
        )

    if "prover" in config.methods and mutant.op is not None:
        proof = prove(mutant.op, budget=config.budget)
        refuted = proof.rule_verdict is Verdict.REFUTED
        failure = next((p.failure for p in proof.inputs if p.verdict is Verdict.REFUTED), None)
        detail = failure.describe() if failure is not None else f"rule {proof.rule_verdict}"
        add("prover", refuted, 1, proof.seconds, 1, detail)
    tallies, alarms = _sampling(mutant, config)
    for method in config.methods:
        if method in tallies:
            t = tallies[method]
            add(method, t.killed_at is not None, t.killed_at or math.nan, t.seconds, t.tried, t.detail)
    return MutantResult(mutant.name, mutant.kind, mutant.target, equivalence, tuple(outcomes), alarms)


# --- the run ---------------------------------------------------------------------
