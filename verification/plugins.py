"""Loading users' own ops: ``--plugin MODULE`` with a module name or a ``.py`` path."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import autodiff
from autodiff import AutodiffError, op_names
from verification.errors import UsageError

__all__ = ["import_file", "load_plugin", "load_plugins"]


def load_plugin(spec: str) -> tuple[ModuleType, tuple[str, ...]]:
    """Import a plugin and return it with the names of the ops it registered.

    ``spec`` is an importable module name (``mypkg.ops``) or a path to a
    ``.py`` file. Any failure becomes a :class:`UsageError` naming the plugin
    and the cause, with the line of the plugin where it happened.
    """
    before = set(op_names())
    path = Path(spec)
    try:
        if spec.endswith(".py") or path.suffix == ".py" or path.exists():
            module = _load_path(path)
        else:
            module = importlib.import_module(spec)
    except UsageError:
        raise
    except AutodiffError as exc:
        raise UsageError(f"plugin {spec!r} declares a bad op: {exc}{_where(exc)}") from None
    except ModuleNotFoundError as exc:
        if exc.name and spec.startswith(exc.name):
            raise UsageError(f"plugin {spec!r} not found: no module named {exc.name!r}") from None
        raise UsageError(f"plugin {spec!r} failed to import: {exc}{_where(exc)}") from None
    except SyntaxError as exc:
        raise UsageError(f"plugin {spec!r} has a syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # a user's module may raise anything while importing
        raise UsageError(f"plugin {spec!r} failed to import: {type(exc).__name__}: {exc}{_where(exc)}") from None
    added = tuple(n for n in op_names() if n not in before)
    return module, added


def load_plugins(specs: Iterable[str]) -> tuple[str, ...]:
    """Load every plugin; return the names of all ops they registered."""
    names: list[str] = []
    for spec in specs:
        names.extend(load_plugin(spec)[1])
    return tuple(names)


def _load_path(path: Path) -> ModuleType:
    return import_file(path, kind="plugin")


def import_file(path: Path, *, kind: str) -> ModuleType:
    """Import a ``.py`` file as a module; a missing or unloadable file is a UsageError.

    Exceptions raised while the module runs propagate (the caller words them).
    """
    if path.is_dir():
        raise UsageError(f"{kind} {str(path)!r} is a directory, not a .py file")
    if not path.is_file():
        raise UsageError(f"{kind} file {str(path)!r} does not exist")
    name = f"gradproof_{kind}_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise UsageError(f"{kind} file {str(path)!r} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


_OWN_CODE = tuple(str(Path(p).resolve().parent) for p in (__file__, autodiff.__file__))
"""Directories of this harness and of the engine: a plugin's error is located outside them."""


def _where(exc: BaseException) -> str:
    """`` (at FILE:LINE)`` of the plugin's line that led to ``exc`` (the innermost frame of user code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    user = [f for f in frames if not f.filename.startswith("<") and not _is_own(f.filename)]
    if not user:
        return ""
    last = user[-1]
    return f" (at {last.filename}:{last.lineno})"


def _is_own(filename: str) -> bool:
    resolved = str(Path(filename).resolve())
    return any(resolved.startswith(d + os.sep) for d in _OWN_CODE) or "importlib" in filename
