"""Planting a wrong rule into the registry for the length of a test, then putting the original back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import autodiff


@contextmanager
def planted(name: str, rule: Callable[..., tuple[Any, ...]]) -> Iterator[None]:
    """The registered op ``name`` with ``rule`` as its rule, restored on exit."""
    original = autodiff.get_op(name)
    autodiff.register(original.with_rule(rule), replace_existing=True)
    try:
        yield
    finally:
        autodiff.register(original, replace_existing=True)
