"""Engines that are not ours: any micrograd-style ``Value`` class, and PyTorch.

``load_engine("module:Class")`` or ``load_engine("path/to/file.py:Class")``
wraps a duck-typed class: constructed from a float, arithmetic operators and
their reflected forms, ``.backward()``, ``.grad``, ``.data``, and ops as
methods (``.tanh()``, ``.exp()``, ``.relu()``, ...). How each op is written
comes from its declaration (:mod:`autodiff.spelling`, :mod:`verification.forms`),
so a plugin op runs here too. Which forms the class really has, and which of
them work, is found by probing each one (:mod:`verification.probe`);
campaigns generate expressions from the supported ops only, and a missing or
broken form of a supported op is avoided by lifting the number into a Value.
``load_engine("torch")`` runs float64 0-d tensors through ``torch.autograd.grad``.

Expressions are evaluated as a user would write them: constants stay Python
floats, so ``2.0 - x`` exercises ``__rsub__`` and ``x ** 3.0`` the number power;
whatever the engine raises, and a hang past the time limit, is an outcome to
record, never a crash.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from autodiff import Op, get_op, spelling_of
from autodiff.spelling import OPERATOR_DUNDERS
from verification.defect_kinds import Form
from verification.engine_api import Evaluation
from verification.errors import UsageError
from verification.expr import Const, Expr, Var
from verification.forms import assignments, python_form
from verification.plugins import import_file
from verification.probe import ProbeReport, probe
from verification.timeout import Timeout, time_limit

__all__ = ["ForeignEngine", "TorchEngine", "load_engine", "EVAL_TIMEOUT", "PROBE_TIMEOUT"]

EVAL_TIMEOUT = 10.0
"""Seconds an engine may take for one expression (forward and backward) before it counts as hanging."""

PROBE_TIMEOUT = 2.0
"""Seconds an engine may take for one probe (a single op) before that form counts as hanging."""


class NonNumber(TypeError):
    """The engine returned something that is not a number where a number belongs."""


def _scalar(x: Any, cls: type | None = None) -> float:
    """A float from an engine's data or grad (float, int, numpy scalar, 0-d tensor)."""
    if cls is not None and isinstance(x, cls):
        raise NonNumber(f"got a {cls.__name__} where a number belongs (.data or .grad is itself a Value)")
    if isinstance(x, bool):
        raise NonNumber(f"expected a number, got {x!r}")
    if hasattr(x, "item") and callable(x.item):
        x = x.item()
    try:
        return float(x)
    except (TypeError, ValueError) as exc:
        raise NonNumber(f"expected a number, got a {type(x).__name__}: {exc}") from None


def _dunder(op: Op, form: Form) -> str | None:
    """The special method a micrograd-style class needs for ``op`` written in ``form``."""
    s = spelling_of(op)
    if s.operator is None:
        return None
    if s.operator == "abs":
        return "__abs__"
    if s.operator == "-" and op.arity == 1 and not op.params:
        return "__neg__"
    normal, reflected = OPERATOR_DUNDERS[s.operator]
    return reflected if form is Form.REFLECTED else normal


class ForeignEngine:
    """A duck-typed micrograd-style class as an engine under test."""

    def __init__(
        self, cls: type, *, name: str, timeout: float = EVAL_TIMEOUT, probe_timeout: float = PROBE_TIMEOUT
    ) -> None:
        self.cls = cls
        self.name = name
        self.timeout = probe_timeout
        self._avoid: frozenset[tuple[str, tuple[bool, ...]]] = frozenset()
        self._lift = False
        self._hung: set[Expr] = set()  # trees that hung once are not waited for again
        self.probe: ProbeReport = probe(self, self.has_form)
        self.timeout = timeout
        self._avoid = self.probe.avoided()
        self._lift = True
        if not self.probe.supported:
            raise UsageError(
                f"{name} supports none of the ops gradproof knows "
                f"({'; '.join(f'{k}: {v}' for k, v in list(self.probe.unsupported.items())[:3])} ...)"
            )

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.probe.supported)

    def has_form(self, op: Op, form: Form) -> bool:
        """Whether the class defines ``op`` written in ``form`` (a method or special method of that name)."""
        s = spelling_of(op)
        name = s.method if s.method is not None else _dunder(op, form)
        return name is not None and callable(getattr(self.cls, name, None))

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
            shape = tuple(isinstance(a, self.cls) for a in args)
            if not any(shape) and self._lift:
                # an all-constant operand list: give the engine a Value to act on
                args[0] = self.cls(float(args[0]))
            elif (node.op, shape) in self._avoid:
                args = [a if isinstance(a, self.cls) else self.cls(float(a)) for a in args]
            out = memo[node] = python_form(get_op(node.op))(*args, *node.params)
            return out

        out = ev(tree)
        if not isinstance(out, self.cls):
            out = self.cls(float(out))
        return out, leaves

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        if tree in self._hung:
            return Evaluation(error=f"TimeLimit: the engine gave no answer within {self.timeout:g} s (before)")
        limit: Timeout | None = None
        try:
            with warnings.catch_warnings(), time_limit(self.timeout) as limit:
                warnings.simplefilter("ignore")  # an engine's numpy warnings are outcomes, not console noise
                out, leaves = self._run(tree, point)
                out.backward()
                value = _scalar(out.data, self.cls)
                grads = tuple(_scalar(leaf.grad, self.cls) for leaf in leaves)
        except Timeout as exc:
            if limit is None or not exc.raised_by(limit):
                raise  # an outer limit
            self._hung.add(tree)
            return Evaluation(error=f"TimeLimit: the engine gave no answer within {limit.seconds:g} s")
        except Exception as exc:  # a foreign engine may raise anything: an outcome to record
            return Evaluation(error=f"{type(exc).__name__}: {exc}")
        return Evaluation(value=value, grads=grads)

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
        lines += assignments(tree, names)
        lines.append("y.backward()")
        lines.append(f"print(y.data, [{', '.join(f'{n}.grad' for n in names)}])")
        return "\n".join(lines)


def _torch_function(torch: Any, path: str) -> Any:
    obj = torch
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if callable(obj) else None


class TorchEngine:
    """PyTorch: float64 0-d tensors, gradients from ``torch.autograd.grad``; functions named by each op's spelling."""

    name = "torch"

    def __init__(self, *, timeout: float = EVAL_TIMEOUT) -> None:
        try:
            import torch
        except ImportError:
            raise UsageError("--engine torch needs PyTorch: pip install 'gradproof[torch]'") from None
        self.torch = torch
        self.timeout = timeout
        self.probe: ProbeReport = probe(self, self.has_form)

    def has_form(self, op: Op, form: Form) -> bool:
        """Operators work on tensors; a function op needs ``torch.<spelling>``."""
        path = spelling_of(op).torch
        return path is None or _torch_function(self.torch, path) is not None

    def _apply(self, op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        path = spelling_of(op).torch
        if path is None:
            return python_form(op)(*args, *params)
        return _torch_function(self.torch, path)(*args, *params)

    def supported_ops(self) -> frozenset[str]:
        return frozenset(self.probe.supported)

    def reproduction(self, tree: Expr, point: Sequence[float]) -> str:
        """A few lines of PyTorch reproducing ``tree`` at ``point`` (shared subtrees bound to names)."""
        names = [f"x{i}" for i in range(len(point))]
        lines = ["import torch"]
        lines += [f"{n} = torch.tensor({p!r}, dtype=torch.float64, requires_grad=True)" for n, p in zip(names, point)]
        lines += assignments(tree, names, dialect="torch")
        lines.append(f"grads = torch.autograd.grad(y, [{', '.join(names)}], allow_unused=True)")
        lines.append("print(y.item(), [None if g is None else g.item() for g in grads])")
        return "\n".join(lines)

    def evaluate(self, tree: Expr, point: Sequence[float]) -> Evaluation:
        torch = self.torch
        limit: Timeout | None = None
        try:
            with time_limit(self.timeout) as limit:
                leaves = [torch.tensor(float(p), dtype=torch.float64, requires_grad=True) for p in point]
                memo: dict[Expr, Any] = {}

                def ev(node: Expr) -> Any:
                    if isinstance(node, Var):
                        return leaves[node.index]
                    if isinstance(node, Const):
                        return torch.tensor(node.value, dtype=torch.float64)
                    if node not in memo:
                        memo[node] = self._apply(get_op(node.op), [ev(a) for a in node.args], node.params)
                    return memo[node]

                out = ev(tree)
                grads = torch.autograd.grad(out, leaves, allow_unused=True)
                value = float(out.item())
                result = tuple(0.0 if g is None else float(g.item()) for g in grads)
        except Timeout as exc:
            if limit is None or not exc.raised_by(limit):
                raise  # an outer limit
            return Evaluation(error=f"TimeLimit: the engine gave no answer within {limit.seconds:g} s")
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
