"""Users' own framework ops: a function of torch, jax, autograd or tinygrad, paired with its definition.

Declare one in a plugin file (``--plugin ops.py``)::

    from verification.frameworks import custom_op
    custom_op("softplus", torch=my_softplus, spec="log(1 + exp(x))")

or on the command line (``--custom mymodule:softplus --spec "log(1 + exp(x))"``).
Either way the definition becomes a registry op (see
:mod:`verification.frameworks.specop`) that every reference and bound
understands, and the framework engine named runs the user's function for it:
``torch.autograd.Function`` subclasses through ``.apply``, ``jax.custom_vjp``
and ``jax.custom_jvp`` functions as they are.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodiff import Domain, Kink, Op, get_op, op_names, unregister
from verification.errors import UsageError
from verification.plugins import import_file

__all__ = [
    "FRAMEWORKS",
    "CustomOp",
    "custom_op",
    "customs_for",
    "load_custom",
    "origin_of",
    "remove_custom",
    "resolve_target",
]

FRAMEWORKS = ("torch", "jax", "autograd", "tinygrad")

_CUSTOM: dict[str, CustomOp] = {}


@dataclass(frozen=True)
class CustomOp:
    """One user function standing for registry op ``name`` in ``framework``.

    ``origin`` is how a snippet imports it: ``module:attr`` or ``path/file.py:attr``.
    """

    name: str
    framework: str
    fn: Callable[..., Any]
    origin: str
    op: Op

    @property
    def ident(self) -> str:
        """The name the function goes by in snippets and spellings."""
        return self.origin.rpartition(":")[2]

    def template(self) -> str:
        """Its spelling: the function applied to the operands."""
        call = f"{self.ident}.apply" if _is_function_class(self.fn) else self.ident
        return f"{call}({', '.join(f'{{{i}}}' for i in range(self.op.arity))})"

    def import_lines(self) -> list[str]:
        """Snippet lines that bring the function into scope under :attr:`ident`."""
        module, _, attr = self.origin.rpartition(":")
        if not module:
            return [f"# {attr}: the function under test, defined in your code"]
        if module.endswith(".py"):
            return [
                "import importlib.util",
                f"_spec = importlib.util.spec_from_file_location('user_ops', {module!r})",
                "_mod = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(_mod)",
                f"{attr} = _mod.{attr}",
            ]
        return [f"from {module} import {attr}"]


def origin_of(fn: Any, name: str) -> str:
    """How a snippet finds ``fn``: ``module:attr`` (its file when it came from a plugin file), or ``:name``."""
    module = getattr(fn, "__module__", "") or ""
    attr = getattr(fn, "__name__", "")
    found = sys.modules.get(module)
    if found is not None and getattr(found, attr, None) is not fn:  # e.g. a custom_vjp of a lambda
        attr = next((a for a, v in vars(found).items() if v is fn and a.isidentifier()), "")
    if not attr.isidentifier():
        return f":{name}"
    if not module or module.startswith("gradproof_") or module == "__main__":
        try:
            return f"{inspect.getsourcefile(fn)}:{attr}"
        except TypeError:
            return f":{attr}"
    return f"{module}:{attr}"


def _is_function_class(obj: Any) -> bool:
    return isinstance(obj, type) and callable(getattr(obj, "apply", None))


def customs_for(framework: str) -> tuple[CustomOp, ...]:
    """The custom ops declared for ``framework`` and still registered."""
    names = set(op_names())
    return tuple(c for c in _CUSTOM.values() if c.framework == framework and c.name in names)


def current_custom(framework: str, name: str) -> CustomOp | None:
    """The custom op ``name`` of ``framework`` as declared now (None when there is none, or it was removed)."""
    found = _CUSTOM.get(f"{framework}:{name}")
    if found is None or name not in _registered():
        return None
    return found


def _registered() -> set[str]:
    return set(op_names())


def custom_op(
    name: str,
    *,
    spec: str,
    domain: Sequence[Domain] | None = None,
    kinks: Sequence[Kink] = (),
    origin: str | None = None,
    **functions: Callable[..., Any],
) -> Op:
    """Declare a framework op: ``custom_op("softplus", torch=fn, spec="log(1 + exp(x))")``.

    Give one function per framework that has one (``torch=``, ``jax=``,
    ``autograd=``, ``tinygrad=``); each is checked against ``spec`` by that
    framework's engine. Returns the registry op.
    """
    from verification.frameworks.specop import spec_op

    unknown = sorted(set(functions) - set(FRAMEWORKS))
    if unknown or not functions:
        raise UsageError(f"custom op {name!r}: give the function as one of {', '.join(f'{f}=' for f in FRAMEWORKS)}")
    redeclared = any(c.name == name for c in _CUSTOM.values())  # a plugin imported again, a test run twice
    op = spec_op(name, spec, domain=domain, kinks=kinks, replace_existing=redeclared)
    for framework, fn in functions.items():
        if not callable(fn):
            raise UsageError(f"custom op {name!r}: {framework}= is not callable ({type(fn).__name__})")
        where = origin or origin_of(fn, name)
        _CUSTOM[f"{framework}:{name}"] = CustomOp(name, framework, fn, where, op)
    return op


def remove_custom(name: str) -> None:
    """Forget custom op ``name`` (every framework) and unregister its op."""
    for key in [k for k, c in _CUSTOM.items() if c.name == name]:
        del _CUSTOM[key]
    if name in op_names():
        unregister(name)


def resolve_target(target: str) -> tuple[Any, str]:
    """The object ``module:attr`` or ``path/file.py:attr`` names, and that spelling back."""
    module_part, sep, attr = target.rpartition(":")
    if not sep or not module_part or not attr.isidentifier():
        raise UsageError(f"--custom {target!r} must be 'module:function' or 'path/to/file.py:function'")
    try:
        if module_part.endswith(".py"):
            module = import_file(Path(module_part), kind="custom")
        else:
            module = importlib.import_module(module_part)
    except UsageError:
        raise
    except Exception as exc:  # a user's module may raise anything while importing
        raise UsageError(
            f"--custom {target!r}: importing {module_part!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"--custom {target!r}: {module_part!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise UsageError(f"--custom {target!r} is not callable (it is a {type(obj).__name__})")
    return obj, target


def load_custom(target: str, *, spec: str, framework: str, domain: Domain | None = None) -> Op:
    """Register the function ``target`` names as a custom op of ``framework`` defined by ``spec``.

    ``domain`` (all reals by default) holds for every input.
    """
    from verification.frameworks.specop import parse_spec

    if framework not in FRAMEWORKS:
        raise UsageError(f"--custom needs a framework engine ({', '.join(FRAMEWORKS)}), not {framework!r}")
    obj, origin = resolve_target(target)
    name = origin.rpartition(":")[2]
    if name in op_names() and f"{framework}:{name}" not in _CUSTOM:
        get_op(name)  # a built-in or plugin op of that name: keep it, and name the custom one apart
        name = f"{name}_custom"
    domains = None if domain is None else (domain,) * len(parse_spec(spec)[1])
    return custom_op(name, spec=spec, domain=domains, origin=origin, **{framework: obj})
