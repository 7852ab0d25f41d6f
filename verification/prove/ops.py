"""Op proofs: an op's rule against ``sympy.diff`` of its definition, region by region, then audited.

For an op with forward ``f``, rule ``g`` and definition ``spec`` (the forward
when there is none), on symbols made by :mod:`verification.prove.exact`:
every input's domain (and every parameter's) is cut into regions
(:mod:`verification.prove.regions`); on each region every partial of the rule
is compared with the true partial (:mod:`verification.prove.truth`) by the
ladder and the counterexample search (:mod:`verification.prove.decide`), the
forward with the definition, and each declared kink is checked
(:mod:`verification.prove.kinks`). The audit (:mod:`verification.prove.audit`)
then evaluates everything at many points; any disagreement refutes.
"""

from __future__ import annotations

import itertools
import random
import time
import zlib
from collections.abc import Sequence
from functools import partial
from typing import Any

import sympy

from autodiff import Domain, Op, OpDeclarationError, sympy_backend
from verification.prove.audit import audit, parameter_values
from verification.prove.budget import run_limited
from verification.prove.decide import compare
from verification.prove.exact import Construction, construct
from verification.prove.kinks import kink_check
from verification.prove.ladder import attempt
from verification.prove.records import Check, KinkCheck, OpProof, PartialProof, Verdict, show
from verification.prove.regions import (
    Piece,
    condition_roots,
    fix_branches,
    pieces,
    region_name,
    substitute,
    threshold_symbolic,
)
from verification.prove.truth import truth_on

__all__ = ["prove", "DEFAULT_BUDGET", "DEFAULT_SAMPLES", "DEFAULT_TIMEOUT"]

DEFAULT_BUDGET = 2.0
"""Seconds one transform of the ladder may take on one region."""

DEFAULT_SAMPLES = 24
"""Random domain points per region, on top of the structured ones."""

DEFAULT_TIMEOUT = 60.0
"""Seconds one op's whole proof may take; past it the op is *undecided (time budget)*."""


def _roots_of(exprs: Sequence[Any], symbol: Any, others: Sequence[Any], _unused: Any) -> tuple[list[float], set[Any]]:
    return condition_roots(exprs, symbol, others)


def _cuts(exprs: Sequence[Any], symbols: Sequence[Any], budget: float) -> tuple[dict[Any, list[float]], set[Any]]:
    """Per symbol, the rational roots of branch arguments in it alone; and the arguments whose roots are all cut."""
    cuts: dict[Any, list[float]] = {}
    complete: set[Any] = set()
    for s in symbols:
        others = [o for o in symbols if o is not s]
        found = attempt(partial(_roots_of, exprs, s, others), None, budget)
        cuts[s] = [] if found is None else found[0]
        if found is not None:
            complete |= found[1]
    return cuts, complete


class _OpProver:
    """One op's proof: the construction, then region by region."""

    def __init__(self, op: Op, budget: float, samples: int, seed: int | None) -> None:
        self.op, self.budget, self.samples = op, budget, samples
        self.rng = random.Random(zlib.crc32(op.name.encode()) if seed is None else seed)
        m = sympy_backend()
        self.names = op.input_names()
        self.inputs = [m.symbol(n, real=True) for n in self.names]
        self.params = [m.symbol(p, real=True) for p in op.params]
        self.general = [*self.inputs, *self.params]
        self.c: Construction = construct(op, self.inputs, self.params)
        # isnormal's threshold 2**-1022 as a positive symbol for the symbolic steps (see regions)
        self.forward = threshold_symbolic(self.c.forward)
        self.partials = [threshold_symbolic(p) for p in self.c.partials]
        self.truths = [sympy.diff(self.c.definition, x) for x in self.inputs]
        self.checks: list[list[Check]] = [[] for _ in self.names]
        self.kinks: list[list[KinkCheck]] = [[] for _ in self.names]
        self.forward_checks: list[Check] = []
        self.seconds = [0.0] * op.arity
        self.notes: list[str] = [i.describe() for i in self.c.identifications]
        self.audit_cuts: dict[int, list[float]] = {}
        self._params_done: dict[tuple[int, tuple[Any, ...]], tuple[Any, Any]] = {}

    def _exprs(self, at: dict[Any, Any]) -> list[Any]:
        return [self._at_params(e, at) for e in (self.forward, *self.partials, self.c.definition, *self.truths)]

    def _at_params(self, e: Any, params: dict[Any, Any]) -> Any:
        """``substitute(e, params)``, once per expression and parameter point: every region of a
        parameter point starts from it, and a large rule makes the substitution the costly part."""
        key = (id(e), tuple(params.items()))
        if key not in self._params_done:
            self._params_done[key] = (e, substitute(e, params))  # e kept alive: its id stays its own
        return self._params_done[key][1]

    def param_cases(self) -> list[tuple[list[Piece], tuple[Domain, ...]]]:
        """Parameter regions with the input domains they give: symbolic pieces when the input
        domains do not depend on the parameters, and the declared examples always."""
        op = self.op
        cases: list[tuple[list[Piece], tuple[Domain, ...]]] = []
        if not callable(op.domain):
            cuts, _ = _cuts(self._exprs({}), self.params, self.budget)
            per_param = [pieces(n, d, (), cuts[s]) for n, d, s in zip(op.params, op.param_domain, self.params)]
            cases += [(list(combo), op.domains()) for combo in itertools.product(*per_param)]
        cases += [([Piece.at(n, v) for n, v in zip(op.params, ex)], op.domains(ex)) for ex in op.param_examples]
        return cases

    def run(self) -> None:
        op = self.op
        for param_pieces, domains in self.param_cases():
            at_params = {s: p.value for s, p in zip(self.params, param_pieces) if p.point}
            cuts, complete = _cuts(self._exprs(at_params), self.inputs, self.budget)
            kinks_of = [[k.at for k in op.kinks if k.input == i] for i in range(op.arity)]
            per_input = [
                pieces(n, d, kinks_of[i], cuts[s]) for i, (n, d, s) in enumerate(zip(self.names, domains, self.inputs))
            ]
            for combo in itertools.product(*per_input):
                self.region([*combo, *param_pieces], complete)

    def region(self, region: list[Piece], complete: set[Any]) -> None:
        """Every partial, the forward and the kinks on one region."""
        op = self.op
        settled = {g: p.midpoint() for g, p in zip(self.general, region) if not p.point}
        opened = {g: p.value for g, p in zip(self.general, region) if not p.point}
        params = {g: p.value for g, p in zip(self.params, region[op.arity :]) if p.point}
        inputs = {g: p.value for g, p in zip(self.inputs, region) if p.point}

        def base(e: Any) -> Any:
            # parameters first (the cuts were found with them in place), then the branches fixed
            return fix_branches(self._at_params(e, params), settled, complete)

        def on_region(e: Any) -> Any:
            return substitute(substitute(base(e), inputs), opened)

        definition = base(self.c.definition)
        refuted = self.audit_result.findings
        if op.spec is not None and -1 not in refuted:
            truth = truth_on(definition, definition, self.general, region, None, self.budget).value
            self.forward_checks.append(self._compare(on_region(self.forward), truth, region))
        for i in (i for i in range(op.arity) if i not in refuted):
            t0 = time.perf_counter()
            piece = region[i]
            candidate = on_region(self.partials[i])
            if piece.point and piece.kink:
                self.kinks[i].append(self._kink(i, piece, region, candidate, complete))
            else:
                truth_i = base(self.truths[i])
                found = truth_on(truth_i, definition, self.general, region, i, self.budget)
                self.checks[i].append(self._judge(candidate, found, region, i))
            self.seconds[i] += time.perf_counter() - t0

    def _compare(self, candidate: Any, truth: Any, region: list[Piece]) -> Check:
        return compare(candidate, truth, region, budget=self.budget, samples=self.samples, rng=self.rng)

    def _judge(self, candidate: Any, found: Any, region: list[Piece], i: int) -> Check:
        name = region_name(region)
        if found.sides is not None:
            left, right = found.sides
            return Check(
                name,
                candidate,
                f"{left} | {right}",
                Verdict.NOT_DIFFERENTIABLE,
                f"one-sided derivatives {show(left)}, {show(right)}; declare "
                f"Kink(at={region[i].lo!r}, convention=..., input={i}) with the value the rule returns there",
            )
        if found.value is None:
            return Check(name, candidate, None, Verdict.UNDECIDED, found.problem or "no true derivative found")
        return self._compare(candidate, found.value, region)

    def _kink(self, i: int, piece: Piece, region: list[Piece], candidate: Any, settle: set[Any]) -> KinkCheck:
        kink = next(k for k in self.op.kinks if k.input == i and k.at == piece.lo)
        own = self.inputs[i]
        others = {g: p.value for g, p in zip(self.general, region) if g is not own}
        truth = self.truths[i].xreplace(others)
        domain = self.op.domains(self._param_floats(region))[i]
        domain_pieces = [p for p in pieces(piece.name, domain, [], [piece.lo]) if not p.point]
        left = next((p for p in domain_pieces if p.hi == piece.lo), None)
        right = next((p for p in domain_pieces if p.lo == piece.lo), None)
        return kink_check(
            candidate,
            truth,
            own,
            kink.at,
            kink.convention,
            region,
            (left, right),
            function=self.c.definition.xreplace(others),
            settle=settle,
            budget=self.budget,
            samples=self.samples,
            rng=self.rng,
        )

    def _param_floats(self, region: list[Piece]) -> tuple[float, ...]:
        params = region[self.op.arity :]
        return tuple(p.lo for p in params) if all(p.point for p in params) else ()

    def audit_first(self) -> None:
        """The audit, before any symbolic step: a disagreement refutes at once (and spares the ladder)."""
        if self.op.params and callable(self.op.domain):
            shown = ", ".join(str(e) for e in self.op.param_examples)
            self.notes.append(
                f"parameters proven at the declared examples {shown} only (the domain depends on them); "
                "other values audited"
            )
        cuts, _ = _cuts(self._exprs({}), self.general, self.budget)
        self.audit_cuts = {i: cuts[s] for i, s in enumerate(self.general)}
        self.audit_result = audit(
            self.op,
            self.general,
            self.c.partials,
            self.truths,
            self.c.forward,
            self.c.definition,
            parameter_values(self.op, self.rng, self.audit_cuts),
            self.audit_cuts,
            loose_code=bool(self.c.identifications),
            rng=self.rng,
        )

    def finish(self, start: float) -> OpProof:
        op = self.op
        if self.c.opaque_conditions:
            why = (
                "a where condition was a Python bool on symbols (== of sympy expressions is structural); "
                "compare the inputs themselves, or use <, >"
            )
            for checks in self.checks:
                checks.append(Check("everywhere", None, None, Verdict.UNDECIDED, why))
        result = self.audit_result
        for index, cx in result.findings.items():
            check = Check("audit", cx.candidate, cx.truth, Verdict.REFUTED, "audit", counterexample=cx)
            (self.forward_checks if index < 0 else self.checks[index]).append(check)
        proofs = tuple(
            PartialProof(
                op.name,
                self.names[i],
                i,
                self.c.partials[i],
                self.truths[i],
                tuple(self.checks[i]),
                tuple(self.kinks[i]),
                self.seconds[i],
            )
            for i in range(op.arity)
        )
        return OpProof(
            op.name,
            proofs,
            tuple(self.forward_checks),
            time.perf_counter() - start,
            tuple(self.notes),
            result.describe(),
        )


def _prove(op: Op, budget: float, samples: int, seed: int | None) -> OpProof:
    start = time.perf_counter()
    prover = _OpProver(op, budget, samples, seed)
    prover.audit_first()
    # what the audit refuted needs no regions; every other partial (and the forward) still needs its proof
    if len(prover.audit_result.findings) < prover.op.arity + (prover.op.spec is not None):
        prover.run()
    return prover.finish(start)


def _timed_out(op: Op, seconds: float) -> OpProof:
    why = f"time budget: the proof did not finish within {seconds:g} s (--timeout)"
    proofs = tuple(
        PartialProof(op.name, n, i, None, None, (Check("all", None, None, Verdict.UNDECIDED, why),), (), seconds)
        for i, n in enumerate(op.input_names())
    )
    return OpProof(op.name, proofs, (), seconds, (why,), "")


def prove(
    op: Op,
    *,
    budget: float = DEFAULT_BUDGET,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> OpProof:
    """Prove ``op``'s rule: for each input x_i, ``grad_i == d spec / d x_i`` on the declared domain.

    ``budget`` bounds each transform of the simplification ladder (seconds),
    ``samples`` the random points per region of the counterexample search,
    ``timeout`` the whole proof (None: no limit, in-process); ``seed``
    (default: derived from the op's name) makes the search repeatable.
    Raises :class:`~autodiff.OpDeclarationError` when the op cannot run on
    symbols or returns something other than one number per input.
    """
    if op.params and callable(op.domain) and not op.param_examples:
        raise OpDeclarationError(
            f"op {op.name!r}: its domain depends on the parameters {op.params}; declare "
            "param_examples=... so that the prover has parameter values to check"
        )
    run = partial(_prove, op, budget, samples, seed)
    if timeout is None:
        return run()
    finished, proof = run_limited(run, timeout)
    return proof if finished and proof is not None else _timed_out(op, timeout)
