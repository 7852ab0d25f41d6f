"""The engine protocol for a tensor framework: spellings compiled once, float64 gradients, probing, snippets.

A framework engine runs an expression tree as the framework's users write
code: each op through its spelling (:mod:`verification.frameworks.spellings`,
or the user's own function for a custom op), constants as float64 scalars,
a repeated subexpression computed once and used twice. Subclasses say how to
import the framework, make a float64 scalar, take value and gradient of a
function, and how a snippet calls it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from autodiff import AutodiffError, Op, Spelling, all_ops, get_op, spelling_of
from verification.defect_kinds import Form
from verification.engine_api import Evaluation
from verification.errors import UsageError
from verification.expr import Apply, Expr, Var, ops_in
from verification.expr import evaluate as fold
from verification.foreign import EVAL_TIMEOUT, PROBE_TIMEOUT
from verification.foreign import _scalar as scalar  # one conversion of an engine's numbers
from verification.forms import assignments, compile_template, function_path, template_in
from verification.frameworks.custom import CustomOp, current_custom, customs_for
from verification.frameworks.spellings import spelling_in
from verification.probe import ProbeReport, ProbeResult, probe
from verification.timeout import Timeout, time_limit

__all__ = [
    "FrameworkEngine",
    "FrameworkProbe",
    "OpForms",
    "flushes_subnormals",
    "ProbedNow",
    "current_probe",
    "probe_framework",
]


@dataclass(frozen=True)
class FrameworkProbe(ProbeReport):
    """What probing found (see :class:`verification.probe.ProbeReport`), and the framework's limits."""

    limits: tuple[str, ...] = field(default=())
    flushes_subnormals: bool = False

    def describe(self) -> str:
        """A few human lines."""
        lines = [super().describe(), *(f"limit: {text}" for text in self.limits)]
        if self.flushes_subnormals:
            lines.append(
                "limit: results below 2.2250738585072014e-308 (subnormal) are flushed to zero and subnormal "
                "operands read as zero; a difference only that explains is judged inaccurate (flush-to-zero), "
                "never wrong"
            )
        return "\n".join(lines)


class OpForms(dict[str, Callable[..., Any]]):
    """An engine's callable per op: each op's spelling in the framework, compiled once, and its custom ops.

    A custom op is looked up in the registry on every access, so an engine
    built before a custom op was declared (or redeclared) still runs the
    function declared now; an op registered after the engine was built is
    compiled on first use; ``templates`` holds the source of each form.
    """

    def __init__(self, framework: str, namespace: dict[str, Any]) -> None:
        super().__init__()
        self.framework = framework
        self.namespace = namespace
        self.templates: dict[str, str] = {}
        self._customs: dict[str, CustomOp] = {}
        self._ops: dict[str, Op] = {}
        for op in all_ops():
            self._compile(op)
        for custom in customs_for(framework):
            self._adopt(custom)

    def _compile(self, op: Op) -> None:
        self._ops[op.name] = op
        self.templates[op.name] = template = spelling_in(op, self.framework)
        super().__setitem__(op.name, compile_template(op, template, self.namespace))

    def _adopt(self, custom: CustomOp) -> None:
        self._customs[custom.name] = custom
        self.templates[custom.name] = custom.template()
        scope = {**self.namespace, custom.ident: custom.fn}
        super().__setitem__(custom.name, compile_template(custom.op, custom.template(), scope))

    def __getitem__(self, name: str) -> Callable[..., Any]:
        custom = current_custom(self.framework, name)
        if custom is not None and self._customs.get(name) is not custom:
            self._adopt(custom)
        elif custom is None:
            try:
                op = get_op(name)
            except AutodiffError:
                op = None
            if op is not None and self._ops.get(name) is not op:
                self._compile(op)  # registered (or declared again) since the engine was built
        return super().__getitem__(name)

    def custom(self, name: str) -> CustomOp | None:
        """The custom op ``name`` of this framework declared now, adopted."""
        found = current_custom(self.framework, name)
        if found is not None:
            self[name]
        return found

    def resolve(self, name: str) -> Op:
        """The op ``name`` as this engine writes it (a custom op calls the user's function)."""
        op = get_op(name)
        self[name]  # compile or adopt what is declared now
        written = self.templates[name]
        return op if written == template_in(op, self.framework) else replace(op, spelling=Spelling(source=written))

    def customs(self) -> tuple[CustomOp, ...]:
        """The custom ops of this framework declared now."""
        return customs_for(self.framework)

    def import_lines(self, ops: set[str]) -> list[str]:
        """Snippet lines importing the custom ops among ``ops``."""
        lines: list[str] = []
        for name in sorted(ops & set(self._customs)):
            lines.extend(self._customs[name].import_lines())
        return lines


def _attribute(root: Any, path: str) -> Any:
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def has_framework_form(forms: OpForms, module: Any, value_type: type | None, op: Op) -> bool:
    """Whether the framework defines ``op``: the user's function, the function its spelling names, or a method."""
    if forms.custom(op.name) is not None:
        return True
    path = function_path(op, forms.framework)
    if path is not None:
        return callable(_attribute(module, path))
    s = spelling_of(op)
    if s.method is not None and s.source == forms.templates.get(op.name):
        return value_type is not None and callable(getattr(value_type, s.method, None))
    return True  # an operator, or a form written in Python that the probe tries


class ProbedNow:
    """An engine whose probe report follows the registry: ops removed since drop out, custom ops declared since
    (or redeclared) are probed on sight, so every campaign in one process judges the ops registered now."""

    forms: OpForms
    _probe: FrameworkProbe
    _built_customs: dict[str, CustomOp]
    _built_ops: dict[str, Op]
    flushes_subnormals: bool = False
    """Whether the probe found subnormal results flushed to zero (:func:`verification.judging.engine_flushes`)."""

    @property
    def probe(self) -> FrameworkProbe:
        """The probe report of the ops registered now."""
        return current_probe(self)

    @probe.setter
    def probe(self, report: ProbeReport) -> None:
        self._probe = report if isinstance(report, FrameworkProbe) else FrameworkProbe(*_parts(report))
        self.flushes_subnormals = self._probe.flushes_subnormals
        self._built_customs = {c.name: c for c in self.forms.customs()}
        self._built_ops = {op.name: op for op in all_ops()}
        self.__dict__["_custom_probes"] = {}

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.probe.supported)


def _parts(report: ProbeReport) -> tuple[tuple[ProbeResult, ...], dict[str, float]]:
    return report.results, report.kink_conventions


def current_probe(engine: Any) -> FrameworkProbe:
    """``engine``'s probe report restricted to the ops registered now; ops declared since are probed on sight."""
    built: FrameworkProbe = engine._probe
    customs = {c.name: c for c in engine.forms.customs()}
    now: dict[str, Any] = {op.name: customs.get(op.name, op) for op in all_ops()}
    then: dict[str, Any] = {**engine._built_ops, **engine._built_customs}
    fresh: dict[str, tuple[Any, ProbeReport]] = engine.__dict__.setdefault("_custom_probes", {})
    current: list[ProbeReport] = []
    for name, declared in now.items():
        if then.get(name) is declared:
            continue
        if name not in fresh or fresh[name][0] is not declared:
            engine.forms[name]  # compile (or adopt) the op declared now
            fresh[name] = (declared, probe(engine, engine.has_form, [get_op(name)]))
        current.append(fresh[name][1])

    def keep(op: str) -> bool:
        return op in now and then.get(op) is now[op]

    results = [r for r in built.results if keep(r.op)] + [r for c in current for r in c.results]
    kinks = {k: v for k, v in built.kink_conventions.items() if keep(k)}
    for c in current:
        kinks.update(c.kink_conventions)
    return replace(built, results=tuple(results), kink_conventions=kinks)


class FrameworkEngine(ProbedNow):
    """Base of the framework adapters; see the module doc."""

    name = ""
    framework = ""
    install_hint = ""
    limits: tuple[str, ...] = ()
    fork_safe = True
    """Whether worker processes forked after the engine ran may use it."""
    probe_timeout = PROBE_TIMEOUT
    """Seconds one probe may take."""
    min_timeout = 0.0
    """No time limit is shorter: a framework that compiles each new expression (jax, tinygrad) may take that
    long for one call on a busy machine, which is no hang."""
    _timeout = EVAL_TIMEOUT

    @property
    def timeout(self) -> float:
        """Seconds one evaluation may take before it is a hang (a campaign sets its ``--eval-timeout``), at
        least :attr:`min_timeout`."""
        return max(self._timeout, self.min_timeout)

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self._timeout = seconds

    def __init__(self) -> None:
        try:
            self.ns: dict[str, Any] = self.namespace()
        except ImportError as exc:
            raise UsageError(f"--engine {self.name} needs {self.framework}: {self.install_hint} ({exc})") from None
        self.forms = OpForms(self.framework, self.ns)
        self.templates = self.forms.templates
        self.timeout = self.probe_timeout
        self.probe = probe_framework(self, self.limits)
        self.timeout = EVAL_TIMEOUT
        if not self.probe.supported:
            raise UsageError(f"{self.name} runs none of the ops gradproof knows: {self.probe.describe()}")

    # --- what a subclass provides -------------------------------------------------

    def namespace(self) -> dict[str, Any]:
        """Import the framework; the names its spellings use (raises ImportError when it is missing)."""
        raise NotImplementedError

    def constant(self, c: float) -> Any:
        """A float64 scalar of the framework."""
        raise NotImplementedError

    def module(self) -> Any:
        """The module a spelling's function path is below (``jax``, ``autograd``), None when there is none."""
        return self.ns.get(self.framework)

    def value_type(self) -> type | None:
        """The class of the framework's values, whose methods method-spelled ops call (None: no methods)."""
        return None

    def value_and_grads(self, fn: Callable[..., Any], point: Sequence[float]) -> tuple[Any, list[Any]]:
        """Value of ``fn(*leaves)`` at ``point`` and its partial w.r.t. each leaf."""
        raise NotImplementedError

    def preamble(self) -> list[str]:
        """Snippet lines importing the framework."""
        raise NotImplementedError

    def call_lines(self, names: Sequence[str], point: Sequence[float]) -> list[str]:
        """Snippet lines computing ``value`` and ``grads`` of ``f`` at ``point``."""
        raise NotImplementedError

    # --- the engine protocol -------------------------------------------------------

    def has_form(self, op: Op, form: Form) -> bool:
        """Whether the framework defines ``op`` (every written form of an op is the same function here)."""
        return has_framework_form(self.forms, self.module(), self.value_type(), op)

    def build(self, tree: Expr, leaves: Sequence[Any]) -> Any:
        """The tree in framework code on ``leaves``; a repeated subtree is computed once."""
        forms = self.forms
        return fold(tree, leaves, const=self.constant, apply=lambda op, args, params: forms[op.name](*args, *params))

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        """Value and gradient of ``tree`` at ``point``; an exception, or no answer within :attr:`timeout`
        seconds (a custom backward that never returns), is the outcome."""
        limit: Timeout | None = None
        try:
            with warnings.catch_warnings(), time_limit(self.timeout) as limit:
                warnings.simplefilter("ignore")  # numpy's overflow warnings: the results say it
                value, grads = self.value_and_grads(lambda *xs: self.build(tree, xs), point)
                result = Evaluation(value=scalar(value), grads=tuple(scalar(g) for g in grads))
        except Timeout as exc:
            if limit is None or not exc.raised_by(limit):
                raise  # an outer limit
            return Evaluation(error=f"TimeLimit: the engine gave no answer within {limit.seconds:g} s")
        except Exception as exc:  # whatever the framework raises is an outcome to record
            return Evaluation(error=f"{type(exc).__name__}: {str(exc).strip()}")
        return result

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """A few lines of the framework's own code reproducing ``tree`` at ``point`` (shared subtrees bound once)."""
        names = [f"x{i}" for i in range(len(point))]
        used = set(ops_in(tree))
        for op in used:
            self.forms[op]  # a custom op declared since the engine was built: adopt it
        lines = [*self.preamble(), *self.forms.import_lines(used)]
        lines.append(f"def f({', '.join(names)}):")
        body = assignments(tree, names, dialect=self.framework, resolve=self.forms.resolve)
        lines.extend(f"    {line}" for line in body)
        lines.append("    return y")
        lines.extend(self.call_lines(names, point))
        lines.append("print(float(value), [float(g) for g in grads])")
        return "\n".join(lines)


def flushes_subnormals(engine: Any, report: ProbeReport) -> bool:
    """Whether ``engine`` flushes a subnormal product to zero (2**-1000 * 2**-50 is the subnormal 2**-1050)."""
    if "mul" not in report.supported:
        return False
    r = engine.evaluate(Apply("mul", (Var(0), Var(1))), (2.0**-1000, 2.0**-50))
    return bool(r.ok and r.value == 0.0)


def probe_framework(engine: Any, limits: tuple[str, ...] = ()) -> FrameworkProbe:
    """Probe every registered op on ``engine`` as :func:`verification.probe.probe` does, and its subnormals."""
    report = probe(engine, engine.has_form)
    return FrameworkProbe(report.results, report.kink_conventions, limits, flushes_subnormals(engine, report))
