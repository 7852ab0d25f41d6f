"""Defects, not rows: what a run finds, grouped into distinct defects with a severity a user can act on.

A finding (a record whose value or gradient is off, or that raised) is
localised (:mod:`verification.localise`) into faults; each fault is an
:class:`Observation` keyed by (severity, ops, form, aspect). Observations
with the same key are one :class:`Defect`: the smallest expression that shows
it (the op alone at the inputs it had, or for a graph fault the expression),
the point, engine against true value and gradient, error in ULPs and bits,
how many records show it, and where. Probing (:mod:`verification.probe`)
adds the missing and broken forms. Severities are explained in
:mod:`verification.defect_kinds` and docs/verify.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from autodiff import get_op, spelling_of
from verification.defect_kinds import FAILING, SEVERITY_ORDER, STRICT_FAILING, Form, Severity
from verification.expr import Apply, Const, Expr, Var, size, to_source
from verification.localise import Blame
from verification.probe import ProbeReport

__all__ = [
    "Observation",
    "Defect",
    "DefectLog",
    "observe",
    "probe_defects",
    "exit_status",
    "CONSOLE_LIMIT",
    "format_defects",
]

CONSOLE_LIMIT = 20
"""Defects printed in full on the console; beyond that, a count."""


@dataclass(frozen=True)
class Observation:
    """One fault seen once (in one record of one expression, or by one probe)."""

    severity: Severity
    ops: tuple[str, ...]
    form: Form
    aspect: str
    tree: Expr
    point: tuple[float, ...]
    detail: str
    found_in: str = ""
    engine_value: float | None = None
    true_value: float | None = None
    engine_grad: tuple[float | None, ...] = ()
    true_grad: tuple[float | None, ...] = ()
    ulps: float = 0.0
    bits: float = 0.0
    records: int = 1
    context: Expr | None = None  # the expression it was found in
    blamed: Expr | None = None  # the node of ``context`` at fault (None: the graph as a whole)

    @property
    def key(self) -> tuple[Severity, tuple[str, ...], Form, str]:
        """What makes two observations the same defect (a graph fault is one, whatever ops its expression uses)."""
        return (self.severity, () if self.form is Form.GRAPH else self.ops, self.form, self.aspect)


def observe(blame: Blame, found_in: str, records: int = 1, context: Expr | None = None) -> Observation:
    """The observation of a localised fault found in the expression ``context``."""
    c = blame.local
    return Observation(
        severity=blame.severity,
        ops=blame.ops,
        form=blame.form,
        aspect=blame.aspect,
        tree=blame.tree,
        point=blame.point,
        detail=blame.detail,
        found_in=found_in,
        engine_value=c.engine_value if c is not None else None,
        true_value=c.true_value if c is not None else None,
        engine_grad=tuple(p for p, v in zip(c.engine_partials, c.is_value) if v) if c is not None else (),
        true_grad=tuple(p for p, v in zip(c.true_partials, c.is_value) if v) if c is not None else (),
        ulps=c.ulps if c is not None else 0.0,
        bits=c.bits if c is not None else 0.0,
        records=records,
        context=context if context is not None else blame.tree,
        blamed=blame.node if context is not None else (blame.tree if c is not None else None),
    )


def probe_defects(report: ProbeReport) -> list[Observation]:
    """Observations of what probing found: missing and broken forms, wrong or inaccurate ones.

    An op the engine lacks altogether is one ``missing`` defect (its other forms are not listed).
    """
    out = []
    absent = set(report.unsupported)
    for r in report.results:
        if r.status == "ok" or (r.op in absent and not all(r.shape) and r.status == "missing"):
            continue
        severity = Severity(r.status)
        c = r.check
        aspect = c.aspect if c is not None and c.aspect else "absent"
        if c is None or severity is Severity.MISSING:
            tree: Expr = c.tree() if c is not None else _placeholder(r.op)
            point = c.point() if c is not None else ()
            out.append(Observation(severity, (r.op,), r.form, aspect, tree, point, f"{r.written()}: {r.detail}"))
            continue
        blame = Blame(severity, (r.op,), r.form, aspect, f"{r.written()}: {r.detail}", c.tree(), c.point(), c)
        out.append(observe(blame, found_in="probe"))
    return out


def _placeholder(op: str) -> Expr:
    from autodiff import get_op
    from verification.expr import Apply, Var

    o = get_op(op)
    return Apply(op, tuple(Var(i) for i in range(o.arity)), tuple(0.0 for _ in o.params))


@dataclass
class Defect:
    """One distinct defect: its representative observation, and how often and where it showed."""

    first: Observation
    records: int = 0
    bits_max: float = 0.0
    input_range: tuple[float, float] | None = None
    reproduction: str = ""
    found_in: list[str] = field(default_factory=list)

    @property
    def severity(self) -> Severity:
        return self.first.severity

    def add(self, obs: Observation) -> None:
        """Count ``obs``; keep the smallest expression (then the most bits lost) as the representative."""
        self.records += obs.records
        self.bits_max = max(self.bits_max, obs.bits)
        mags = [abs(p) for p in obs.point]
        if mags:
            lo, hi = min(mags), max(mags)
            r = self.input_range
            self.input_range = (lo, hi) if r is None else (min(r[0], lo), max(r[1], hi))
        if obs.found_in and obs.found_in not in self.found_in and len(self.found_in) < 3:
            self.found_in.append(obs.found_in)
        better = (size(obs.tree), -obs.bits) < (size(self.first.tree), -self.first.bits)
        if better:
            self.first = replace(obs, records=self.first.records)

    def where(self) -> str:
        """Where it showed, e.g. ``loses up to 53.0 bits; inputs |x| from 19.2 to 340``."""
        parts = []
        if self.bits_max:
            parts.append(f"loses up to {self.bits_max:.1f} bits")
        if self.input_range is not None:
            lo, hi = self.input_range
            parts.append(f"inputs |x| from {lo:.3g} to {hi:.3g}" if lo != hi else f"input |x| = {lo:.3g}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        """The defect as findings.json stores it."""
        o = self.first
        return {
            "severity": o.severity.value,
            "ops": list(o.ops),
            "form": o.form.value,
            "aspect": o.aspect,
            "summary": o.detail,
            "expression": to_source(o.tree),
            "point": list(o.point),
            "engine_value": o.engine_value,
            "true_value": o.true_value,
            "engine_grad": list(o.engine_grad),
            "true_grad": list(o.true_grad),
            "ulps": o.ulps,
            "bits": o.bits,
            "bits_max": self.bits_max,
            "records": self.records,
            "where": self.where(),
            "found_in": list(self.found_in),
            "reproduction": self.reproduction,
            "graph": graph_json(o.context if o.context is not None else o.tree, o.blamed),
        }


def graph_json(tree: Expr, blamed: Expr | None) -> dict[str, object]:
    """The expression as a graph for drawing: distinct nodes (children first), labels, edges, the blamed node."""
    nodes: list[Expr] = []
    index: dict[Expr, int] = {}

    def add(node: Expr) -> int:
        if node not in index:
            if isinstance(node, Apply):
                for a in node.args:
                    add(a)
            index[node] = len(nodes)
            nodes.append(node)
        return index[node]

    add(tree)
    out = []
    for node in nodes:
        if isinstance(node, Var):
            label = f"x{node.index}"
        elif isinstance(node, Const):
            label = repr(node.value)
        else:
            assert isinstance(node, Apply)
            symbol = spelling_of(get_op(node.op)).operator  # "**" reads better than "pow_const" in a small graph
            label = (symbol or node.op) + (f" {', '.join(repr(p) for p in node.params)}" if node.params else "")
        kids = [index[a] for a in node.args] if isinstance(node, Apply) else []
        out.append({"label": label, "kids": kids, "blamed": blamed is not None and node == blamed})
    return {"nodes": out, "root": index[tree]}


class DefectLog:
    """Observations grouped by key, in the order first seen."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[Severity, tuple[str, ...], Form, str], Defect] = {}

    def add(self, obs: Observation) -> None:
        """Count one observation (a new key starts a new defect)."""
        found = self._by_key.get(obs.key)
        if found is None:
            found = self._by_key[obs.key] = Defect(obs)
        found.add(obs)

    def extend(self, observations: Iterable[Observation]) -> None:
        for obs in observations:
            self.add(obs)

    def merge(self, other: DefectLog) -> None:
        """Fold ``other``'s defects in (each keeps its counts)."""
        for key, d in other._by_key.items():
            mine = self._by_key.get(key)
            if mine is None:
                self._by_key[key] = d
                continue
            mine.records += d.records
            mine.bits_max = max(mine.bits_max, d.bits_max)
            if d.input_range is not None:
                r = mine.input_range
                mine.input_range = (
                    d.input_range if r is None else (min(r[0], d.input_range[0]), max(r[1], d.input_range[1]))
                )
            if (size(d.first.tree), -d.first.bits) < (size(mine.first.tree), -mine.first.bits):
                mine.first = d.first

    def representatives(self) -> list[Observation]:
        """One observation per defect, carrying the defect's record count (compact to send between processes)."""
        return [replace(d.first, records=d.records, bits=d.bits_max) for d in self._by_key.values()]

    def _fold_into_wrong(self) -> None:
        """A smaller error (inaccurate, or at extreme inputs) of a form already wrong at ordinary ones is that
        wrong defect: the wrong formula explains it, and calling it a second defect would claim a cause it
        does not have."""
        for key, d in list(self._by_key.items()):
            severity, ops, form, aspect = key
            wrong = self._by_key.get((Severity.WRONG, ops, form, aspect))
            foldable = severity is Severity.INACCURATE or (
                severity is Severity.FRAGILE and aspect in ("value", "gradient")
            )
            if foldable and wrong is not None:
                wrong.records += d.records
                del self._by_key[key]

    def defects(self, reproduce: Callable[[Expr, Sequence[float]], str] | None = None) -> list[Defect]:
        """The defects, most severe first (then most records), each with its reproduction when given."""
        self._fold_into_wrong()
        out = sorted(self._by_key.values(), key=lambda d: (SEVERITY_ORDER[d.severity], -d.records))
        if reproduce is not None:
            for d in out:
                if not d.reproduction and d.first.severity is not Severity.MISSING:
                    try:
                        d.reproduction = reproduce(d.first.tree, d.first.point)
                    except Exception as exc:  # a reproduction that cannot be written is said, not fatal
                        d.reproduction = f"# no reproduction: {type(exc).__name__}: {exc}"
        return out


def exit_status(defects: Sequence[Defect], *, strict: bool = False) -> int:
    """1 when a defect of a failing severity was found (``strict``: also inaccurate and fragile), else 0."""
    failing = STRICT_FAILING if strict else FAILING
    return 1 if any(d.severity in failing for d in defects) else 0


def format_defects(defects: Sequence[Defect], *, limit: int = CONSOLE_LIMIT) -> str:
    """Every defect for the console (most severe first), beyond ``limit`` a count by severity."""
    if not defects:
        return "defects: none"
    counts: dict[str, int] = {}
    for d in defects:
        counts[d.severity.value] = counts.get(d.severity.value, 0) + 1
    lines = ["defects: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
    for i, d in enumerate(defects[:limit], 1):
        o = d.first
        ops = ", ".join(o.ops) or "-"
        if o.severity is Severity.MISSING:
            lines.append(f"{i:3}. [missing] {ops} ({o.form.value}): {o.detail}")
            continue
        lines.append(f"{i:3}. [{o.severity.value}] {ops} ({o.form.value}, {o.aspect}): {o.detail}")
        lines.append(f"     expression: {to_source(o.tree)} at {list(o.point)}; {d.records} record(s); {d.where()}")
        if d.found_in and d.found_in[0] not in ("probe", to_source(o.tree)):
            lines.append(f"     found in: {d.found_in[0]}")
        if d.reproduction:
            lines.extend("       " + line for line in d.reproduction.splitlines())
    rest = defects[limit:]
    if rest:
        more: dict[str, int] = {}
        for d in rest:
            more[d.severity.value] = more.get(d.severity.value, 0) + 1
        lines.append(f"... and {len(rest)} more: " + ", ".join(f"{n} {s}" for s, n in more.items()))
    return "\n".join(lines)
