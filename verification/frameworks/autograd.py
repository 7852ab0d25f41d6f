"""HIPS autograd as an engine under test: ``autograd.numpy`` on float64 scalars, gradients from ``value_and_grad``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from verification.frameworks.base import FrameworkEngine

__all__ = ["AutogradEngine"]


class AutogradEngine(FrameworkEngine):
    """Each op as its declaration spells it below ``autograd`` (``autograd.numpy.tanh``), differentiated by autograd."""

    name = "autograd"
    framework = "autograd"
    install_hint = "pip install 'gradproof[autograd]'"

    def namespace(self) -> dict[str, Any]:
        autograd: Any = importlib.import_module("autograd")
        self._np: Any = importlib.import_module("autograd.numpy")
        importlib.import_module("autograd.scipy.special")
        self._value_and_grad = autograd.value_and_grad
        return {"autograd": autograd}

    def constant(self, c: float) -> Any:
        return self._np.float64(c)

    def value_and_grads(self, fn: Callable[..., Any], point: Sequence[float]) -> tuple[Any, list[Any]]:
        leaves = tuple(self._np.float64(p) for p in point)
        value, grads = self._value_and_grad(lambda xs: fn(*xs))(leaves)
        return value, list(grads)

    def preamble(self) -> list[str]:
        return [
            "import autograd.numpy",
            "import autograd.scipy.special",
            "from autograd import value_and_grad",
        ]

    def call_lines(self, names: Sequence[str], point: Sequence[float]) -> list[str]:
        args = ", ".join(f"autograd.numpy.float64({p!r})" for p in point)
        return [f"value, grads = value_and_grad(lambda xs: f(*xs))(({args},))"]
