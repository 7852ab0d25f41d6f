"""The engine protocol for a tensor framework: spellings compiled once, float64 gradients, probing, snippets.

A framework engine runs an expression tree as the framework's users write
code: each op through its spelling (:mod:`verification.frameworks.spellings`,
or the user's own function for a custom op), constants as float64 scalars,
a repeated subexpression computed once and used twice. Subclasses say how to
import the framework, make a float64 scalar, take value and gradient of a
function, and how a snippet calls it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autodiff import AutodiffError, Op, get_op, in_domain, op_names
from verification.engines import Evaluation
from verification.errors import UsageError
from verification.expr import Apply, Const, Expr, Var, ops_in
from verification.foreign import ProbeReport, assignments
from verification.foreign import _scalar as scalar  # one conversion of an engine's numbers
from verification.frameworks.custom import CustomOp, current_custom, customs_for
from verification.frameworks.spellings import spellings
from verification.strategies import parameter_values

__all__ = ["FrameworkEngine", "FrameworkProbe", "OpForms", "compile_form", "probe_ops", "supported_now"]

_PROBE_INPUTS = (0.75, 1.5, -0.75, -1.5, 2.5, 0.25)


@dataclass(frozen=True)
class FrameworkProbe(ProbeReport):
    """What probing found (supported ops, why not the others, kink conventions), and the framework's limits."""

    limits: tuple[str, ...] = field(default=())
    flushes_subnormals: bool = False

    def describe(self) -> str:
        """A few human lines."""
        lines = [super().describe(), *(f"limit: {text}" for text in self.limits)]
        if self.flushes_subnormals:
            lines.append(
                "limit: results below 2.2250738585072014e-308 (subnormal) are flushed to zero; "
                "per-op checks judge them with that absolute floor"
            )
        return "\n".join(lines)


def compile_form(template: str, arity: int, namespace: dict[str, Any]) -> Callable[..., Any]:
    """The callable a spelling stands for: ``(a0, ..., c) -> template`` evaluated in ``namespace``."""
    args = [f"a{i}" for i in range(arity)]
    body = template.format(*args, c="c")
    fn: Callable[..., Any] = eval(f"lambda {', '.join([*args, 'c=None'])}: {body}", dict(namespace))
    return fn


def _probe_case(op: Op) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """Inputs inside the op's domain (and parameters) at which to try it."""
    choices = list(op.param_examples) or parameter_values(op)
    for params in choices or [()]:
        doms = op.domains(params)
        inputs = []
        for dom in doms:
            found = next((x for x in _PROBE_INPUTS if in_domain(dom, x)), None)
            if found is None:
                break
            inputs.append(found)
        if len(inputs) == op.arity:
            return tuple(inputs), tuple(params)
    return None


class OpForms(dict[str, Callable[..., Any]]):
    """An engine's callable per op: the framework's spellings, compiled once, and its custom ops.

    A custom op is looked up in the registry on every access, so an engine
    built before a custom op was declared (or redeclared) still runs the
    function declared now; ``templates`` holds the source of each form.
    """

    def __init__(self, framework: str, templates: dict[str, str], namespace: dict[str, Any]) -> None:
        super().__init__()
        self.framework = framework
        self.namespace = namespace
        self.templates = dict(templates)
        self._customs: dict[str, CustomOp] = {}
        for op_name, template in templates.items():
            try:
                op = get_op(op_name)
            except AutodiffError:
                continue  # a spelling of an op this process has not registered
            super().__setitem__(op_name, compile_form(template, op.arity, namespace))
        for custom in customs_for(framework):
            self._adopt(custom)

    def _adopt(self, custom: CustomOp) -> None:
        self._customs[custom.name] = custom
        self.templates[custom.name] = custom.template()
        scope = {**self.namespace, custom.ident: custom.fn}
        super().__setitem__(custom.name, compile_form(custom.template(), custom.op.arity, scope))

    def __getitem__(self, name: str) -> Callable[..., Any]:
        custom = current_custom(self.framework, name)
        if custom is not None and self._customs.get(name) is not custom:
            self._adopt(custom)
        return super().__getitem__(name)

    def customs(self) -> tuple[CustomOp, ...]:
        """The custom ops of this framework declared now."""
        return customs_for(self.framework)

    def import_lines(self, ops: set[str]) -> list[str]:
        """Snippet lines importing the custom ops among ``ops``."""
        lines: list[str] = []
        for name in sorted(ops & set(self._customs)):
            lines.extend(self._customs[name].import_lines())
        return lines


class FrameworkEngine:
    """Base of the framework adapters; see the module doc."""

    name = ""
    framework = ""
    install_hint = ""
    limits: tuple[str, ...] = ()
    fork_safe = True
    """Whether worker processes forked after the engine ran may use it."""

    def __init__(self) -> None:
        try:
            self.ns: dict[str, Any] = self.namespace()
        except ImportError as exc:
            raise UsageError(f"--engine {self.name} needs {self.framework}: {self.install_hint} ({exc})") from None
        self.forms = OpForms(self.framework, spellings(self.framework), self.ns)
        self.templates = self.forms.templates
        self.probe = probe_ops(self, tuple(self.forms), self.limits)
        if not self.probe.supported:
            raise UsageError(f"{self.name} runs none of the ops gradproof knows: {self.probe.describe()}")

    # --- what a subclass provides -------------------------------------------------

    def namespace(self) -> dict[str, Any]:
        """Import the framework; the names its spellings use (raises ImportError when it is missing)."""
        raise NotImplementedError

    def constant(self, c: float) -> Any:
        """A float64 scalar of the framework."""
        raise NotImplementedError

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

    def supported_ops(self) -> frozenset[str]:
        return supported_now(self)

    def build(self, tree: Expr, leaves: Sequence[Any]) -> Any:
        """The tree in framework code on ``leaves``; a repeated subtree is computed once."""
        memo: dict[Expr, Any] = {}

        def ev(node: Expr) -> Any:
            if isinstance(node, Var):
                return leaves[node.index]
            if isinstance(node, Const):
                return self.constant(node.value)
            if node not in memo:
                memo[node] = self.forms[node.op](*(ev(a) for a in node.args), *node.params)
            return memo[node]

        return ev(tree)

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        try:
            with warnings.catch_warnings():  # numpy's overflow warnings: the results say it
                warnings.simplefilter("ignore")
                value, grads = self.value_and_grads(lambda *xs: self.build(tree, xs), point)
                result = Evaluation(value=scalar(value), grads=tuple(scalar(g) for g in grads))
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
        lines.extend(f"    {line}" for line in assignments(tree, names, self.templates))
        lines.append("    return y")
        lines.extend(self.call_lines(names, point))
        lines.append("print(float(value), [float(g) for g in grads])")
        return "\n".join(lines)


def supported_now(engine: Any) -> frozenset[str]:
    """Ops ``engine``'s probe found running and still registered; custom ops declared since are probed on sight."""
    forms: OpForms = engine.forms
    registered = set(op_names())
    customs = {c.name: c for c in forms.customs()}
    seen: dict[str, tuple[CustomOp, bool]] = engine.__dict__.setdefault("_custom_probes", {})
    out = {n for n in engine.probe.supported if n in registered and n not in customs and n not in seen}
    for name, custom in customs.items():
        if name not in seen or seen[name][0] is not custom:
            if name in engine.probe.supported and name not in seen:
                seen[name] = (custom, True)  # probed when the engine was built
            else:
                forms[name]  # adopt the function declared now
                seen[name] = (custom, name in probe_ops(engine, (name,)).supported)
        if seen[name][1]:
            out.add(name)
    return frozenset(out)


def probe_ops(engine: Any, names: Sequence[str], limits: tuple[str, ...] = ()) -> FrameworkProbe:
    """Try each op alone inside its domain (and at its kinks) with ``engine``: which ops really run."""
    supported: list[str] = []
    unsupported: dict[str, str] = {}
    kinks: dict[str, float] = {}
    for op_name in names:
        op = get_op(op_name)
        case = _probe_case(op)
        if case is None:
            unsupported[op_name] = "no probe point in its domain"
            continue
        inputs, params = case
        tree = Apply(op_name, tuple(Var(i) for i in range(op.arity)), params)
        r = engine.evaluate(tree, inputs)
        if not r.ok:
            unsupported[op_name] = str(r.error).split("\n")[0][:100]
        elif r.grads is None or not all(math.isfinite(v) for v in (r.value, *r.grads)):
            unsupported[op_name] = f"gave non-numbers: value {r.value!r}, gradient {r.grads!r}"
        else:
            supported.append(op_name)
            for kink in op.kinks:
                at = list(inputs)
                at[kink.input] = kink.at
                k = engine.evaluate(tree, at)
                if k.ok and k.grads is not None:
                    kinks[op_name] = k.grads[kink.input]
    flush = False
    if "mul" in supported:  # 2**-1000 * 2**-50 is the subnormal 2**-1050 in IEEE float64
        r = engine.evaluate(Apply("mul", (Var(0), Var(1))), (2.0**-1000, 2.0**-50))
        flush = r.ok and r.value == 0.0
    return FrameworkProbe(tuple(supported), unsupported, kinks, limits, flush)
