"""Probing an engine we did not write: which forms of which ops it has, and which of them work.

Every registered op is tried in each of its written forms (``v op v``,
``v op c`` and ``c op v`` for a binary operator, the one form of any other
op), alone, at ordinary inputs inside its domain, under a time limit, and
judged by :func:`verification.localjudge.judge_local`. A form is

* ``missing`` when the engine does not define it (no such method, no such
  dunder) or refuses it outright (``NotImplementedError``, an assertion such
  as micrograd's "only supporting int/float powers", Python's "unsupported
  operand type");
* ``broken`` when it exists and raises, hangs or returns a non-number;
* ``wrong`` / ``inaccurate`` when it runs and its value or partials are off;
* ``ok`` otherwise.

An op whose all-Values form is missing or broken is left out of campaigns;
its other missing or broken forms are avoided by lifting the number into a
Value (so ``2.0 - x`` runs as ``Value(2.0) - x`` on a class without
``__rsub__``), each reported once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from autodiff import Op, all_ops, in_domain, spelling_of
from verification.defect_kinds import Form, Severity
from verification.engine_api import Engine
from verification.forms import form_of, shapes
from verification.localjudge import LocalCheck, judge_local

__all__ = ["ProbeResult", "ProbeReport", "probe", "probe_inputs", "is_refusal"]

_CANDIDATES = (0.75, 1.5, 1.25, 0.5, 2.5, -0.75, -1.5, 3.0)
_PARAMS = (2.0, 3.0, 0.5, 1.5, -1.0)
_REFUSALS = ("NotImplementedError", "AssertionError")
_OK_STATUSES = ("ok", Severity.WRONG.value, Severity.INACCURATE.value, Severity.FRAGILE.value)


@dataclass(frozen=True)
class ProbeResult:
    """One written form of one op, tried alone: its status (see the module doc) and the check behind it."""

    op: str
    form: Form
    shape: tuple[bool, ...]
    status: str  # "ok", "missing", or a severity's value
    detail: str
    check: LocalCheck | None = None
    at_kink: bool = False

    @property
    def usable(self) -> bool:
        """Whether campaigns may run this form."""
        return self.status in _OK_STATUSES

    def written(self) -> str:
        """The form as a person reads it: ``v - v``, ``c - v``, ``v.tanh()``."""
        from autodiff import get_op

        op = get_op(self.op)
        names = ["v" if is_v else "c" for is_v in self.shape]
        text = spelling_of(op).source.format(*names, **{p: "c" for p in op.params})
        return text[1:-1] if text.startswith("(") and text.endswith(")") else text


@dataclass(frozen=True)
class ProbeReport:
    """What probing found: each form's result, the ops campaigns may use, and the kink conventions."""

    results: tuple[ProbeResult, ...]
    kink_conventions: dict[str, float]

    @property
    def supported(self) -> tuple[str, ...]:
        """Ops whose all-Values form runs (in registry order)."""
        return tuple(r.op for r in self.results if all(r.shape) and r.usable and not r.at_kink)

    @property
    def unsupported(self) -> dict[str, str]:
        """Ops left out of campaigns, with the reason."""
        return {r.op: r.detail for r in self.results if all(r.shape) and not r.usable and not r.at_kink}

    def avoided(self) -> frozenset[tuple[str, tuple[bool, ...]]]:
        """(op, shape) of the forms of supported ops that campaigns must not use as written."""
        keep = set(self.supported)
        return frozenset((r.op, r.shape) for r in self.results if r.op in keep and not r.usable and not r.at_kink)

    def describe(self) -> str:
        """A few human lines."""
        lines = [f"supported ops ({len(self.supported)}): {', '.join(self.supported) or 'none'}"]
        if self.unsupported:
            lines.append("not supported: " + "; ".join(f"{k} ({v})" for k, v in self.unsupported.items()))
        partial = [r for r in self.results if r.op in self.supported and not r.usable and not r.at_kink]
        if partial:
            lines.append("forms avoided: " + "; ".join(f"{r.written()} ({r.status}: {r.detail})" for r in partial))
        for op, g in self.kink_conventions.items():
            lines.append(f"kink convention: {op}'(0) = {g!r}")
        return "\n".join(lines)


def is_refusal(error: str) -> bool:
    """Whether an engine's error says it does not offer a form (rather than failing at it)."""
    kind, _, message = error.partition(": ")
    return kind in _REFUSALS or (kind == "TypeError" and message.startswith(("unsupported operand", "bad operand")))


def probe_inputs(op: Op) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """Ordinary, distinct inputs inside the op's domain, and parameters (None when none are found)."""
    params: tuple[float, ...] = ()
    if op.params:
        if op.param_examples:
            params = op.param_examples[0]
        else:
            picks = [next((c for c in _PARAMS if in_domain(d, c)), None) for d in op.param_domain]
            if any(p is None for p in picks):
                return None
            params = tuple(p for p in picks if p is not None)
    doms = op.domains(params)
    chosen: list[float] = []
    for dom in doms:
        pick = next((c for c in _CANDIDATES if in_domain(dom, c) and c not in chosen), None)
        if pick is None:
            return None
        chosen.append(pick)
    return tuple(chosen), params


def probe(engine: Engine, has_form: Callable[[Op, Form], bool], ops: Sequence[Op] | None = None) -> ProbeReport:
    """Try every form of every op (all registered ops by default) on ``engine``."""
    results: list[ProbeResult] = []
    kinks: dict[str, float] = {}
    for op in ops if ops is not None else all_ops():
        found = probe_inputs(op)
        for shape in shapes(op):
            form = form_of(op, shape)
            if found is None:
                results.append(ProbeResult(op.name, form, shape, "missing", "no ordinary input in its domain"))
                continue
            if not has_form(op, form):
                results.append(ProbeResult(op.name, form, shape, "missing", "not defined"))
                continue
            check = judge_local(engine, op.name, found[0], shape, found[1])
            results.append(_result(op, form, shape, check))
        usable = results and results[-len(shapes(op))].usable
        for kink in op.kinks:
            if usable and found is not None:
                at = list(found[0])
                at[kink.input] = kink.at
                check = judge_local(engine, op.name, at, (True,) * op.arity, found[1])
                grad = check.engine_partials[kink.input] if check.engine_partials else None
                if grad is not None:
                    kinks[op.name] = grad
                if check.severity is not None:
                    results.append(replace(_result(op, check.form, check.is_value, check), at_kink=True))
    return ProbeReport(tuple(results), kinks)


def _result(op: Op, form: Form, shape: tuple[bool, ...], check: LocalCheck) -> ProbeResult:
    if check.severity is None:
        return ProbeResult(op.name, form, shape, "ok", "", check)
    first_line = check.detail.split("\n")[0][:120]
    if check.aspect == "raises" and is_refusal(check.detail):
        return ProbeResult(op.name, form, shape, "missing", first_line, check)
    status = Severity.BROKEN.value if check.aspect in ("raises", "hangs", "non-number") else check.severity.value
    return ProbeResult(op.name, form, shape, status, first_line, check)
