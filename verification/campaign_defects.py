"""Defects of a campaign: findings localised where they are found, hangs, what was never judged, the verdict.

In a worker, each expression's findings are localised once per point
(:func:`chunk_observations`); a hang of a foreign engine (the whole
expression past its time limit) is a ``broken`` observation. The parent folds
the observations of all chunks and of probing into one
:class:`~verification.defects.DefectLog`, shrinks each graph defect by
hoisting subtrees while the fault persists, and writes a reproduction for
every defect (:func:`campaign_defects`). :func:`never_judged` names the ops no
judged record exercised, so a campaign that judged nothing says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from autodiff import get_op
from runstore import Record
from verification.defect_kinds import Form, Severity
from verification.defects import Defect, DefectLog, Observation, observe, probe_defects
from verification.engine_api import Engine
from verification.expr import Apply, Expr, ops_in, size, to_source, variables
from verification.localise import localise
from verification.probe import ProbeReport, probe

__all__ = [
    "chunk_observations",
    "hang_observation",
    "judged_ops",
    "never_judged",
    "campaign_defects",
    "engine_probe",
    "set_eval_timeout",
    "Verdict",
]

_UNJUDGED = ("unjudged", "unsamplable")


def _point(text: Any) -> tuple[float, ...]:
    """A record's point (``"[0.5, 1e-3]"``) as floats."""
    if isinstance(text, (list, tuple)):
        return tuple(float(p) for p in text)
    return tuple(float(p) for p in str(text).strip("[]").split(",") if p.strip())


def chunk_observations(engine: Engine, tree: Expr, findings: Sequence[dict[str, Any]]) -> list[Observation]:
    """Localise the engine findings of one expression, once per point; each fault an observation."""
    out: list[Observation] = []
    by_point: dict[tuple[float, ...], list[dict[str, Any]]] = {}
    for f in findings:
        if f.get("method") in ("engine_f64", "engine_hp"):
            by_point.setdefault(_point(f["point"]), []).append(f)
    found_in = to_source(tree)
    for point, fs in by_point.items():
        evaluation = engine.evaluate(tree, point)
        blames = localise(engine, tree, point, evaluation)
        if blames:
            out.extend(observe(b, found_in, records=len(fs), context=tree) for b in blames)
            continue
        # nothing alone is off and the chain rule holds: a high-precision rule bug
        # is still wrong (50 digits rule out rounding); a float64 one is an accuracy matter
        hp = any(f["method"] == "engine_hp" for f in fs)
        severity = Severity.WRONG if hp else Severity.INACCURATE
        detail = (
            f"could not be localised: no op alone is off and the chain rule over the engine's partials holds "
            f"({', '.join(sorted({f['kind'] for f in fs}))} of {'the high-precision' if hp else 'the float64'} engine)"
        )
        out.append(
            Observation(
                severity, ops_in(tree), Form.GRAPH, "unlocalised", tree, point, detail, found_in, records=len(fs)
            )
        )
    return out


def hang_observation(tree: Expr, point: Sequence[float], seconds: float) -> Observation:
    """A foreign engine that gave no answer for a whole expression within ``seconds``."""
    detail = f"no answer within {seconds:g} s for {to_source(tree)} (forward, backward or reading the result)"
    return Observation(Severity.BROKEN, ops_in(tree), Form.GRAPH, "hangs", tree, tuple(point), detail, to_source(tree))


def judged_ops(rows: Sequence[Record]) -> Counter[str]:
    """How many judged float64-engine records exercised each op."""
    c: Counter[str] = Counter()
    for row in rows:
        if row.method == "engine_f64" and row.verdict not in _UNJUDGED:
            c.update(op for op in row.ops.split(",") if op)
    return c


def never_judged(ops: Sequence[str], judged: Counter[str]) -> list[str]:
    """The ops of ``ops`` no judged record exercised."""
    return [op for op in ops if not judged[op]]


def set_eval_timeout(engine: Engine, seconds: float) -> None:
    """Give a foreign engine the campaign's limit on one evaluation (ours has none: it cannot hang)."""
    if hasattr(engine, "timeout"):
        engine.timeout = seconds


def engine_probe(engine: Engine, ops: Sequence[str] | None = None) -> ProbeReport:
    """The engine's probe report: a foreign engine's own, else a probe of ``ops`` (default: every registered op)."""
    found = getattr(engine, "probe", None)
    if isinstance(found, ProbeReport):
        return found
    return probe(engine, lambda op, form: True, [get_op(n) for n in ops] if ops is not None else None)


def _hoistings(tree: Expr) -> Iterator[Expr]:
    """Each op subtree, and the tree with one op argument replaced by one of its own arguments."""
    if not isinstance(tree, Apply):
        return
    for i, arg in enumerate(tree.args):
        if isinstance(arg, Apply):
            if variables(arg):
                yield arg
            for inner in arg.args:
                if variables(inner):
                    yield Apply(tree.op, (*tree.args[:i], inner, *tree.args[i + 1 :]), tree.params)
            for smaller in _hoistings(arg):
                yield Apply(tree.op, (*tree.args[:i], smaller, *tree.args[i + 1 :]), tree.params)


def shrink_graph(engine: Engine, obs: Observation) -> Observation:
    """A graph defect's expression made smaller while a fault of the same kind persists at the same point."""
    tree, current = obs.tree, obs
    improved = True
    while improved:
        improved = False
        for smaller in sorted(set(_hoistings(tree)), key=size):
            if not variables(smaller) or max(variables(smaller)) >= len(obs.point):
                continue
            blames = localise(engine, smaller, obs.point, engine.evaluate(smaller, obs.point))
            same = [b for b in blames if (b.severity, b.form, b.aspect) == (obs.severity, obs.form, obs.aspect)]
            if same:
                tree = smaller
                current = observe(same[0], obs.found_in, records=obs.records, context=smaller)
                improved = True
                break
    return current


def campaign_defects(
    engine: Engine, report: ProbeReport | None, observations: Sequence[Observation], *, reproduce: Any
) -> list[Defect]:
    """The run's defects: probing's and the campaign's, graph ones shrunk, each with a reproduction."""
    log = DefectLog()
    if report is not None:
        log.extend(probe_defects(report))
    log.extend(observations)
    defects = log.defects()
    for d in defects:
        if d.first.form is Form.GRAPH and d.first.aspect in ("gradient", "raises"):
            d.first = replace(shrink_graph(engine, d.first), records=d.first.records)
    return log.defects(reproduce=reproduce)


@dataclass(frozen=True)
class Verdict:
    """The run's verdict: its defects, what was never judged, and the exit status that follows."""

    defects: tuple[Defect, ...]
    unjudged_ops: tuple[str, ...]
    judged_records: int
    unjudged_records: int
    ops_required: bool = False  # the ops were asked for (--ops): each must be judged

    @property
    def judged_nothing(self) -> bool:
        """Whether no record of the float64 engine was judged."""
        return self.judged_records == 0

    def exit_status(self, *, strict: bool = False) -> int:
        """1 on a wrong or broken defect (``strict``: any but missing), when nothing was judged, or when an op
        asked for was never judged."""
        from verification.defects import exit_status

        if self.judged_nothing or (self.ops_required and self.unjudged_ops):
            return 1
        return exit_status(self.defects, strict=strict)

    def headline(self) -> str:
        """One line: the verdict a user acts on."""
        counts = Counter(d.severity.value for d in self.defects)
        parts = [f"{n} {s}" for s, n in counts.items()]
        if self.judged_nothing:
            return "NOTHING JUDGED: no record of the engine could be judged; this run says nothing about it"
        status = "FAIL" if self.exit_status() else "PASS"
        return (
            f"{status}: "
            + (", ".join(parts) if parts else "no defect")
            + (f"; never judged: {', '.join(self.unjudged_ops)}" if self.unjudged_ops else "")
        )
