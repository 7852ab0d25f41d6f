"""Engines that are not ours: any micrograd-style ``Value`` class, and PyTorch.

``load_engine("module:Class")`` or ``load_engine("path/to/file.py:Class")``
wraps a duck-typed class: constructed from a float, arithmetic operators and
their reflected forms, ``.backward()``, ``.grad``, ``.data``, and ops as
methods (``.tanh()``, ``.exp()``, ``.relu()``, ...). Which ops the class really
supports is found by probing each one (a method can exist and still raise),
and campaigns generate expressions from that set only. ``load_engine("torch")``
runs float64 0-d tensors through ``torch.autograd.grad``.

Expressions are evaluated as a user would write them: constants stay Python
floats, so ``2.0 - x`` exercises ``__rsub__`` and ``x ** 3.0`` the number power;
whatever the engine raises is an outcome to record, never a crash.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from verification.engines import Evaluation
from verification.errors import UsageError
from verification.expr import Apply, Const, Expr, Var, shared_subtrees
from verification.plugins import import_file

__all__ = ["ForeignEngine", "TorchEngine", "ProbeReport", "load_engine", "OP_FORMS"]

# How each registry op is written against a micrograd-style class. Each form
# takes already-evaluated operands (engine values or Python floats) and params.
OP_FORMS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": lambda a, b: a**b,
    "pow_const": lambda a, c: a**c,
    "const_pow": lambda a, c: c**a,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "sqrt": lambda a: a.sqrt(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "abs": lambda a: abs(a),
}

# Python source of each form, for reproduction snippets ({0}, {1}: operands; {c}: parameter).
OP_SOURCE: dict[str, str] = {
    "add": "({0} + {1})",
    "sub": "({0} - {1})",
    "mul": "({0} * {1})",
    "truediv": "({0} / {1})",
    "neg": "(-{0})",
    "pow": "({0} ** {1})",
    "pow_const": "({0} ** {c})",
    "const_pow": "({c} ** {0})",
    "exp": "{0}.exp()",
    "log": "{0}.log()",
    "sqrt": "{0}.sqrt()",
    "tanh": "{0}.tanh()",
    "sigmoid": "{0}.sigmoid()",
    "relu": "{0}.relu()",
    "sin": "{0}.sin()",
    "cos": "{0}.cos()",
    "abs": "abs({0})",
}

TORCH_SOURCE: dict[str, str] = {
    **{k: OP_SOURCE[k] for k in ("add", "sub", "mul", "truediv", "neg", "pow", "pow_const", "const_pow")},
    **{k: f"torch.{k}({{0}})" for k in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "abs")},
}

# Probe cases: (op, input values, params, expected value, expected partials).
_PROBES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "add": ((0.75, 1.5), ()),
    "sub": ((0.75, 1.5), ()),
    "mul": ((0.75, 1.5), ()),
    "truediv": ((0.75, 1.5), ()),
    "neg": ((0.75,), ()),
    "pow": ((1.5, 0.75), ()),
    "pow_const": ((1.5,), (3.0,)),
    "const_pow": ((0.75,), (2.0,)),
    "exp": ((0.75,), ()),
    "log": ((1.5,), ()),
    "sqrt": ((1.5,), ()),
    "tanh": ((0.75,), ()),
    "sigmoid": ((0.75,), ()),
    "relu": ((0.75,), ()),
    "sin": ((0.75,), ()),
    "cos": ((0.75,), ()),
    "abs": ((-0.75,), ()),
}

_KINK_PROBES = {"relu": 0.0, "abs": 0.0}


@dataclass(frozen=True)
class ProbeReport:
    """What probing found: supported ops, why the others are not, and kink conventions."""

    supported: tuple[str, ...]
    unsupported: dict[str, str]
    kink_conventions: dict[str, float]

    def describe(self) -> str:
        """A few human lines."""
        lines = [f"supported ops ({len(self.supported)}): {', '.join(self.supported) or 'none'}"]
        if self.unsupported:
            lines.append("not supported: " + "; ".join(f"{k} ({v})" for k, v in self.unsupported.items()))
        for op, g in self.kink_conventions.items():
            lines.append(f"kink convention: {op}'(0) = {g!r}")
        return "\n".join(lines)


def _scalar(x: Any) -> float:
    """A float from an engine's data or grad (float, int, numpy scalar, 0-d tensor)."""
    if isinstance(x, bool):
        raise TypeError(f"expected a number, got {x!r}")
    if hasattr(x, "item") and callable(x.item):
        x = x.item()
    return float(x)


class ForeignEngine:
    """A duck-typed micrograd-style class as an engine under test."""

    def __init__(self, cls: type, *, name: str) -> None:
        self.cls = cls
        self.name = name
        self.probe = self._probe()
        if not self.probe.supported:
            raise UsageError(
                f"{name} supports none of the ops gradproof knows "
                f"({'; '.join(f'{k}: {v}' for k, v in list(self.probe.unsupported.items())[:3])} ...)"
            )

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.probe.supported)

    def _run(self, tree: Expr, point: Sequence[float]) -> tuple[Any, list[Any]]:
        leaves = [self.cls(float(p)) for p in point]
        memo: dict[Expr, Any] = {}  # a repeated subexpression is one node, as in a user's code

        def ev(node: Expr) -> Any:
            if isinstance(node, Var):
                return leaves[node.index]
            if isinstance(node, Const):
                return node.value
            if node in memo:
                return memo[node]
            args = [ev(a) for a in node.args]
            if not any(isinstance(a, self.cls) for a in args):
                # an all-constant operand list: give the engine a Value to act on
                args[0] = self.cls(float(args[0]))
            out = memo[node] = OP_FORMS[node.op](*args, *node.params)
            return out

        out = ev(tree)
        if not isinstance(out, self.cls):
            out = self.cls(float(out))
        return out, leaves

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        try:
            out, leaves = self._run(tree, point)
            out.backward()
            value = _scalar(out.data)
            grads = tuple(_scalar(leaf.grad) for leaf in leaves)
        except Exception as exc:  # a foreign engine may raise anything: an outcome to record
            return Evaluation(error=f"{type(exc).__name__}: {exc}")
        return Evaluation(value=value, grads=grads)

    def _probe(self) -> ProbeReport:
        from autodiff import get_op

        supported: list[str] = []
        unsupported: dict[str, str] = {}
        for name, (inputs, params) in _PROBES.items():
            op = get_op(name)
            tree = Apply(name, tuple(Var(i) for i in range(op.arity)), params)
            result = self.evaluate(tree, inputs)
            if not result.ok:
                unsupported[name] = str(result.error).split("\n")[0][:80]
                continue
            if result.value is None or not math.isfinite(result.value):
                unsupported[name] = f"gave a non-number value {result.value!r}"
                continue
            supported.append(name)
        kinks: dict[str, float] = {}
        for name, at in _KINK_PROBES.items():
            if name in supported:
                r = self.evaluate(Apply(name, (Var(0),)), (at,))
                if r.ok and r.grads is not None:
                    kinks[name] = r.grads[0]
        return ProbeReport(tuple(supported), unsupported, kinks)

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """A few lines of Python reproducing ``tree`` at ``point`` with this class.

        Repeated subexpressions become variables of their own, so the snippet
        builds the same graph (with the same shared nodes) as the campaign did.
        """
        module, _, cls = self.name.rpartition(":")
        names = [f"x{i}" for i in range(len(point))]
        if module.endswith(".py"):
            head = [
                "import importlib.util",
                f"spec = importlib.util.spec_from_file_location('engine', {module!r})",
                "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)",
                f"Value = mod.{cls}",
            ]
        else:
            head = [f"from {module} import {cls}" + ("" if cls == "Value" else " as Value")]
        lines = [*head]
        lines += [f"{n} = Value({p!r})" for n, p in zip(names, point)]
        lines += assignments(tree, names, OP_SOURCE)
        lines.append("y.backward()")
        lines.append(f"print(y.data, [{', '.join(f'{n}.grad' for n in names)}])")
        return "\n".join(lines)


def assignments(tree: Expr, names: Sequence[str], templates: dict[str, str]) -> list[str]:
    """``t0 = ...`` for each repeated subtree (innermost first), then ``y = ...``: the same shared graph."""
    bound: dict[Expr, str] = {}
    lines = []
    for k, sub in enumerate(shared_subtrees(tree)):
        lines.append(f"t{k} = {source(sub, names, bound, templates)}")
        bound[sub] = f"t{k}"
    lines.append(f"y = {source(tree, names, bound, templates)}")
    return lines


def source(
    tree: Expr, names: Sequence[str], bound: dict[Expr, str] | None = None, templates: dict[str, str] = OP_SOURCE
) -> str:
    """The tree as source (micrograd-style operators and methods by default); ``bound`` names shared subtrees."""
    if bound and tree in bound:
        return bound[tree]
    if isinstance(tree, Var):
        return names[tree.index]
    if isinstance(tree, Const):
        return repr(tree.value)
    args = [source(a, names, bound, templates) for a in tree.args]
    template = templates[tree.op]
    return template.format(*args, c=repr(tree.params[0]) if tree.params else "")


class TorchEngine:
    """PyTorch: float64 0-d tensors, gradients from ``torch.autograd.grad``."""

    name = "torch"

    def __init__(self) -> None:
        try:
            import torch
        except ImportError:
            raise UsageError("--engine torch needs PyTorch: pip install 'gradproof[torch]'") from None
        self.torch = torch
        t = torch
        self.forms: dict[str, Callable[..., Any]] = {
            **{k: OP_FORMS[k] for k in ("add", "sub", "mul", "truediv", "neg", "pow", "pow_const", "const_pow")},
            "exp": t.exp,
            "log": t.log,
            "sqrt": t.sqrt,
            "tanh": t.tanh,
            "sigmoid": t.sigmoid,
            "relu": t.relu,
            "sin": t.sin,
            "cos": t.cos,
            "abs": t.abs,
        }

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.forms)

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """A few lines of PyTorch reproducing ``tree`` at ``point`` (shared subtrees bound to names)."""
        names = [f"x{i}" for i in range(len(point))]
        lines = ["import torch"]
        lines += [f"{n} = torch.tensor({p!r}, dtype=torch.float64, requires_grad=True)" for n, p in zip(names, point)]
        lines += assignments(tree, names, TORCH_SOURCE)
        lines.append(f"grads = torch.autograd.grad(y, [{', '.join(names)}], allow_unused=True)")
        lines.append("print(y.item(), [None if g is None else g.item() for g in grads])")
        return "\n".join(lines)

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        torch = self.torch
        try:
            leaves = [torch.tensor(float(p), dtype=torch.float64, requires_grad=True) for p in point]

            memo: dict[Expr, Any] = {}

            def ev(node: Expr) -> Any:
                if isinstance(node, Var):
                    return leaves[node.index]
                if isinstance(node, Const):
                    return torch.tensor(node.value, dtype=torch.float64)
                if node not in memo:
                    args = [ev(a) for a in node.args]
                    memo[node] = self.forms[node.op](*args, *node.params)
                return memo[node]

            out = ev(tree)
            grads = torch.autograd.grad(out, leaves, allow_unused=True)
            value = float(out.item())
            result = tuple(0.0 if g is None else float(g.item()) for g in grads)
        except Exception as exc:  # PyTorch errors are outcomes to record
            return Evaluation(error=f"{type(exc).__name__}: {exc}")
        return Evaluation(value=value, grads=result)


def _import_target(module_part: str) -> ModuleType:
    if module_part.endswith(".py"):
        try:
            return import_file(Path(module_part), kind="engine")
        except UsageError:
            raise
        except Exception as exc:
            raise UsageError(f"engine module {module_part!r} failed to import: {type(exc).__name__}: {exc}") from None
    try:
        return importlib.import_module(module_part)
    except ModuleNotFoundError as exc:
        raise UsageError(f"engine module {module_part!r} not found: {exc}") from None
    except Exception as exc:
        raise UsageError(f"engine module {module_part!r} failed to import: {type(exc).__name__}: {exc}") from None


def load_engine(spec: str) -> Any:
    """An engine for ``spec``: ``torch``, ``module:Class`` or ``path/to/file.py:Class``.

    Raises UsageError (exit 2 at the CLI) when the module does not import, the
    name is not a class, the class is not an engine (no ``backward``), or its
    constructor raises.
    """
    if spec == "torch":
        return TorchEngine()
    module_part, sep, cls_name = spec.rpartition(":")
    if not sep or not module_part or not cls_name:
        raise UsageError(f"engine {spec!r} must be 'torch', 'module:Class' or 'path/to/file.py:Class'")
    module = _import_target(module_part)
    try:
        cls = getattr(module, cls_name)
    except AttributeError:
        raise UsageError(f"engine module {module_part!r} has no attribute {cls_name!r}") from None
    if not isinstance(cls, type):
        raise UsageError(f"engine {spec!r} is not a class (it is a {type(cls).__name__})")
    if not callable(getattr(cls, "backward", None)):
        raise UsageError(f"engine class {spec!r} is not an autodiff engine: it has no backward() method")
    try:
        sample = cls(0.5)
    except Exception as exc:
        raise UsageError(
            f"engine class {spec!r}: constructing it from 0.5 raised {type(exc).__name__}: {exc}"
        ) from None
    for attr in ("data", "grad"):
        if not hasattr(sample, attr):
            raise UsageError(f"engine class {spec!r} is not an autodiff engine: its instances have no .{attr}")
    return ForeignEngine(cls, name=spec)
