"""Lazy public names of a package: each imported from the module defining it on first use.

A package's ``__init__`` maps its public names to their modules and calls
:func:`lazy_exports`; ``import`` of the package then loads nothing heavy, so
``gradproof --help`` stays fast. A public name whose submodule is named alike
(``reports.load``, ``verification.prove``) stays bound to the public object
when the import system binds the submodule.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """Make ``package`` keep its public names bound; the returned function is its ``__getattr__``."""
    module = sys.modules[package]

    class _Package(types.ModuleType):
        """Keeps a public name whose submodule is named alike bound to the public object."""

        def __setattr__(self, name: str, value: object) -> None:
            if isinstance(value, types.ModuleType) and name in exports:
                return  # the import system binding the submodule; it stays reachable in sys.modules
            super().__setattr__(name, value)

    def attribute(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        vars(module)[name] = value
        return value

    module.__class__ = _Package
    return attribute
