"""The order-2 campaign: Hessians, HVPs and JVPs of generated expressions against certified truth.

Cases come from the same seeded Hypothesis driver as first-order campaigns
(:mod:`verification.generation`); each usable point (defined, finite, off the
declared kinks) is checked by :func:`verification.second_check.check_second`
in float64 and at 50 digits, one record per entry with its order and mode.
Modes select what is checked:

* ``rev`` -- Hessian entries, reverse over reverse;
* ``fwd`` -- the JVP, forward mode (order 1);
* ``hvp`` -- H v, reverse over reverse and forward over reverse.

A ``bug`` verdict is a finding; on the built-in engine the first one's case
is shrunk by Hypothesis and comes with a reproduction. A foreign engine
(:mod:`verification.second_foreign`: PyTorch, JAX) is checked in float64
against the same truth and bounds, and its findings are classified into
defects (:mod:`verification.second_defects`), each represented by its
smallest expression (often the op alone) with a reproduction in the engine's
own code.
"""

from __future__ import annotations

import csv
import io
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis.errors import HypothesisWarning

from autodiff import AutodiffError, get_op, op_names
from runstore import ORDER2_RECORDS_FILE
from verification.defects import Defect, DefectLog
from verification.expr import Expr, ops_in, to_source
from verification.generation import Case, case_strategy, hypothesis_seed, run_cases
from verification.metrics import bits_of_error, ulp_distance
from verification.second_check import Mode, SecondRow, check_second
from verification.second_foreign import Order2Engine, check_foreign
from verification.strategies import classify_point

__all__ = [
    "MODES",
    "SecondConfig",
    "SecondFinding",
    "SecondResult",
    "run_second",
    "graph_ops",
    "RECORDS_FILE",
    "COLUMNS",
]

MODES: dict[str, tuple[Mode, ...]] = {
    "rev": (Mode.HESSIAN,),
    "fwd": (Mode.JVP,),
    "hvp": (Mode.HVP_REV, Mode.HVP_FWD),
}
"""Names accepted by ``--modes`` and the checks each selects."""

RECORDS_FILE = ORDER2_RECORDS_FILE
COLUMNS = (
    "expr_id",
    "expression",
    "point",
    "direction",
    "order",
    "mode",
    "method",
    "entry",
    "computed",
    "truth_lo",
    "truth_hi",
    "bound",
    "verdict",
    "engine",
    "ops",
    "ulp_err",
    "bits_err",
)
_DIRECTIONS: tuple[float, ...] = (1.0, -0.5, 2.0, 0.25, -3.0)


@dataclass(frozen=True)
class SecondConfig:
    """What an order-2 campaign draws and checks."""

    examples: int = 200
    ops: tuple[str, ...] | None = None
    max_depth: int = 3
    n_vars: int = 2
    seed: int = 0
    points: int = 2
    modes: tuple[str, ...] = ("rev", "fwd", "hvp")

    def checks(self) -> frozenset[Mode]:
        """The modes of :class:`Mode` the ``modes`` names select."""
        return frozenset(m for name in self.modes for m in MODES[name])


@dataclass(frozen=True)
class SecondFinding:
    """A wrong entry: the expression, where, what, and a reproduction."""

    expression: str
    point: tuple[float, ...]
    direction: tuple[float, ...]
    row: SecondRow
    reproduction: str


@dataclass
class SecondResult:
    """Counts per verdict, per (order, mode) and findings of one campaign."""

    expressions: int = 0
    points: int = 0
    records: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    per_mode: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    findings: list[SecondFinding] = field(default_factory=list)
    shrunk: SecondFinding | None = None
    errors: list[str] = field(default_factory=list)
    uncertified: int = 0
    seconds: float = 0.0
    defects: list[Defect] = field(default_factory=list)
    engine: str = "gradproof"
    unexplained: list[str] = field(default_factory=list)
    left_out: tuple[str, ...] = ()
    """Ops not drawn: their rule does not run on Values (see :func:`graph_ops`)."""

    @property
    def judged(self) -> int:
        """Entries with a verdict other than ``unjudged``."""
        return sum(n for v, n in self.verdicts.items() if v != "unjudged")


def direction(n_vars: int, index: int) -> tuple[float, ...]:
    """The direction ``v`` of case ``index``: exact binary fractions, varied from case to case."""
    return tuple(_DIRECTIONS[(index + 2 * k) % len(_DIRECTIONS)] for k in range(n_vars))


def _usable(tree: Expr, cands: Sequence[tuple[float, ...]], limit: int) -> list[tuple[float, ...]]:
    found = []
    for point in cands:
        if classify_point(tree, point) is None:
            found.append(point)
            if len(found) == limit:
                break
    return found


def reproduction(tree: Expr, point: Sequence[float], v: Sequence[float], mode: Mode) -> str:
    """Python lines that print the engine's result for ``mode`` at ``point``."""
    names = [f"x{i}" for i in range(len(point))]
    called = sorted({op for op in ops_in(tree) if get_op(op).template is None})
    lines = ["from autodiff import get_op, hessian, hvp, jvp"]
    lines.extend(f"{name} = get_op({name!r})" for name in called)
    lines.append(f"f = lambda {', '.join(names)}: {to_source(tree, names)}")
    lines.append(f"point, v = {list(point)!r}, {list(v)!r}")
    call = {
        Mode.HESSIAN: "hessian(f, point)",
        Mode.HVP_REV: 'hvp(f, point, v, mode="rev")',
        Mode.HVP_FWD: 'hvp(f, point, v, mode="fwd")',
        Mode.JVP: "jvp(f, point, v)",
    }[mode]
    lines.append(f"print({call})")
    return "\n".join(lines)


def _record(
    engine: str, expr_id: int, tree: Expr, point: Sequence[float], v: Sequence[float], row: SecondRow
) -> dict[str, Any]:
    computed, mid = float(row.computed), float(row.truth.mid)
    ulps = ulp_distance(computed, mid) if row.verdict != "raised" else float("nan")
    return {
        "expr_id": expr_id,
        "expression": to_source(tree),
        "point": repr(tuple(point)),
        "direction": repr(tuple(v)),
        "order": row.mode.order,
        "mode": row.mode.value,
        "method": row.method,
        "entry": ",".join(str(i) for i in row.index),
        "computed": repr(float(row.computed)),
        "truth_lo": repr(float(row.truth.lo)),
        "truth_hi": repr(float(row.truth.hi)),
        "bound": repr(float(row.bound)),
        "verdict": row.verdict,
        "engine": engine,
        "ops": ",".join(sorted(set(ops_in(tree)))),
        "ulp_err": repr(ulps),
        "bits_err": repr(bits_of_error(ulps) if ulps == ulps else float("nan")),
    }


class _Stop(Exception):
    """Raised by the shrinking run on a case with a wrong entry."""


class _Campaign:
    """The state of one run: its checks, counts, records and findings (and, for a foreign engine, its defects)."""

    def __init__(self, config: SecondConfig, engine: Order2Engine | None = None) -> None:
        from verification.second_defects import SecondClassifier

        self.config = config
        self.checks = config.checks()
        self.engine = engine
        self.result = SecondResult(engine=engine.name if engine is not None else "gradproof")
        self.rows: list[dict[str, Any]] = []
        self.log = DefectLog()
        self.classifier = SecondClassifier(engine) if engine is not None else None

    def check(self, tree: Expr, point: tuple[float, ...], v: tuple[float, ...]) -> list[SecondRow] | None:
        """The chosen modes' rows at one point (None: the truth could not be certified)."""
        if self.engine is not None:
            return self.check_foreign(tree, point, v)
        rows = check_second(tree, point, v)
        return None if rows is None else [r for r in rows if r.mode in self.checks]

    def check_foreign(self, tree: Expr, point: tuple[float, ...], v: tuple[float, ...]) -> list[SecondRow] | None:
        """The foreign engine's rows; its findings classified into the defect log, a mode that raised as a row."""
        assert self.engine is not None and self.classifier is not None
        found = check_foreign(tree, point, v, self.engine, self.checks)
        if found is None:
            return None
        self.log.extend(self.classifier.observations(tree, point, v, found))
        raised = [_raised_row(mode, error) for mode, error in found.errors.items()]
        return found.rows + raised

    def guarded(self, tree: Expr, point: tuple[float, ...], v: tuple[float, ...]) -> list[SecondRow] | None:
        try:
            return self.check(tree, point, v)
        except (AutodiffError, ArithmeticError, ValueError, TypeError) as exc:
            # the point is defined and finite to first order: a raising second-order method is a failure
            self.result.errors.append(f"{to_source(tree)} at {point!r}: {type(exc).__name__}: {exc}")
            return []

    def body(self, case: Case) -> None:
        """Check one drawn case at its usable points."""
        tree, cands = case
        result = self.result
        index = result.expressions
        result.expressions += 1
        v = direction(self.config.n_vars, index)
        for point in _usable(tree, cands, self.config.points):
            rows = self.guarded(tree, point, v)
            if rows is None:
                result.uncertified += 1
                continue
            result.points += 1
            for row in rows:
                self.count(index, tree, point, v, row)

    def count(self, index: int, tree: Expr, point: tuple[float, ...], v: tuple[float, ...], row: SecondRow) -> None:
        result = self.result
        result.verdicts[row.verdict] += 1
        result.per_mode[(row.mode.order, row.mode.value, row.verdict)] += 1
        self.rows.append(_record(result.engine, index, tree, point, v, row))
        if row.verdict in _WRONG:
            repro = self.reproduce(tree, point, v, row.mode)
            result.findings.append(SecondFinding(to_source(tree), point, v, row, repro))

    def reproduce(self, tree: Expr, point: Sequence[float], v: Sequence[float], mode: Mode) -> str:
        """Code reproducing ``mode`` at ``point`` with the engine under test."""
        if self.engine is None:
            return reproduction(tree, point, v, mode)
        return self.engine.reproduction(tree, point, v, mode)

    def defects(self) -> list[Defect]:
        """The foreign engine's defects, each with a reproduction of its smallest expression in its mode."""
        found = self.log.defects()
        assert self.classifier is not None
        for d in found:
            key = (d.first.tree, d.first.point)
            if d.reproduction or key not in self.classifier.reproductions or d.first.ops == ():
                continue
            v, mode = self.classifier.reproductions[key]
            try:
                d.reproduction = self.reproduce(d.first.tree, d.first.point, v, mode)
            except Exception as exc:  # a reproduction that cannot be written is said, not fatal
                d.reproduction = f"# no reproduction: {type(exc).__name__}: {exc}"
        return found


def _raised_row(mode: Mode, error: str) -> SecondRow:
    """A mode that raised at a point: one row with verdict ``raised`` (the error is in the defects)."""
    from verification.second_truth import Enclosure

    nan = float("nan")
    return SecondRow(mode, "engine_f64", (), nan, Enclosure(nan, nan), nan, "raised")


_WRONG = ("bug", "exception_mismatch")


def graph_ops(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``names`` split into the ops whose rule runs on Values (gradients as graphs) and those whose rule does not.

    An op declared by a formula alone (a framework's custom op) evaluates its
    derivative with sympy's ``evalf``, which cannot build a graph: there is no
    second-order bound for it, so an order-2 campaign leaves it out and says so.
    """
    from autodiff import Value, gradients
    from verification.probe import probe_inputs

    keep, left = [], []
    for name in names:
        op = get_op(name)
        found = probe_inputs(op)
        try:
            if found is not None:
                xs = [Value(x) for x in found[0]]
                gradients(op(*xs, *found[1]), xs, create_graph=True)
        except Exception:  # a rule that cannot run on Values, whatever it raises
            left.append(name)
            continue
        keep.append(name)
    return tuple(keep), tuple(left)


def run_second(
    config: SecondConfig, write: Callable[[str, str], None] | None = None, *, engine: Order2Engine | None = None
) -> SecondResult:
    """Run the campaign on the built-in engine or a foreign ``engine``; with ``write``, hand it
    ``records_order2.csv`` (one CSV row per judged entry) to store."""
    names = tuple(config.ops) if config.ops is not None else op_names()
    if engine is not None and config.ops is None:
        supported = engine.supported_ops()
        names = tuple(n for n in names if n in supported)
    left_out: tuple[str, ...] = ()
    if config.ops is None:
        names, left_out = graph_ops(names)
    strategy = case_strategy(names, n_vars=config.n_vars, max_depth=config.max_depth, candidates=2 * config.points)
    campaign = _Campaign(config, engine)
    result = campaign.result
    result.left_out = left_out
    start = time.perf_counter()
    seed = hypothesis_seed(config.seed, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HypothesisWarning)  # the repr of a deep expression strategy
        run_cases(strategy, campaign.body, seed=seed, max_examples=config.examples, shrink=False)
        if result.findings and engine is None:
            result.shrunk = _shrink(strategy, seed, config, campaign.check)
    if engine is not None and campaign.classifier is not None:
        result.defects = campaign.defects()
        result.unexplained = campaign.classifier.unexplained
    result.records = len(campaign.rows)
    result.seconds = time.perf_counter() - start
    if write is not None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(campaign.rows)
        write(RECORDS_FILE, buffer.getvalue())
    return result


def _shrink(strategy: Any, seed: int, config: SecondConfig, check: Any) -> SecondFinding | None:
    """The smallest case Hypothesis finds with a wrong entry (same seed, shrinking on)."""
    last: list[SecondFinding] = []

    def body(case: Case) -> None:
        tree, cands = case
        v = direction(config.n_vars, 0)
        for point in _usable(tree, cands, config.points):
            for row in check(tree, point, v) or ():
                if row.verdict in _WRONG:
                    repro = reproduction(tree, point, v, row.mode)
                    last.append(SecondFinding(to_source(tree), point, v, row, repro))
                    raise _Stop

    try:
        run_cases(strategy, body, seed=seed, max_examples=config.examples, shrink=True)
    except _Stop:
        return last[-1] if last else None
    return None
