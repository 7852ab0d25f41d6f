"""HIPS autograd as an engine under test: ``autograd.numpy`` on float64 scalars, gradients from ``value_and_grad``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from verification.frameworks.base import FrameworkEngine

__all__ = ["AutogradEngine"]


class AutogradEngine(FrameworkEngine):
    """``autograd.numpy`` spellings (``expit`` is sigmoid, ``maximum(x, 0.0)`` relu), differentiated by autograd."""

    name = "autograd"
    framework = "autograd"
    install_hint = "pip install 'gradproof[autograd]'"

    def namespace(self) -> dict[str, Any]:
        autograd: Any = importlib.import_module("autograd")
        anp: Any = importlib.import_module("autograd.numpy")
        special: Any = importlib.import_module("autograd.scipy.special")
        self._value_and_grad = autograd.value_and_grad
        self._np = anp
        return {"anp": anp, "expit": special.expit}

    def constant(self, c: float) -> Any:
        return self._np.float64(c)

    def value_and_grads(self, fn: Callable[..., Any], point: Sequence[float]) -> tuple[Any, list[Any]]:
        leaves = tuple(self._np.float64(p) for p in point)
        value, grads = self._value_and_grad(lambda xs: fn(*xs))(leaves)
        return value, list(grads)

    def preamble(self) -> list[str]:
        return [
            "import autograd.numpy as anp",
            "from autograd import value_and_grad",
            "from autograd.scipy.special import expit",
        ]

    def call_lines(self, names: Sequence[str], point: Sequence[float]) -> list[str]:
        args = ", ".join(f"anp.float64({p!r})" for p in point)
        return [f"value, grads = value_and_grad(lambda xs: f(*xs))(({args},))"]
