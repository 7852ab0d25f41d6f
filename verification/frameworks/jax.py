"""JAX as an engine under test: float64 (``jax_enable_x64``) on the CPU, gradients from ``jax.value_and_grad``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from verification.frameworks.base import FrameworkEngine

__all__ = ["JaxEngine"]


class JaxEngine(FrameworkEngine):
    """Each op as its declaration spells it below ``jax`` (``jax.numpy.tanh``), differentiated by jax."""

    name = "jax"
    framework = "jax"
    install_hint = "pip install 'gradproof[jax]' (the CPU build of jax and jaxlib)"
    fork_safe = False  # XLA's thread pools deadlock in a forked child
    min_timeout = 30.0  # XLA compiles every new expression (a custom_vjp's first call took over 2 s under load)

    def namespace(self) -> dict[str, Any]:
        jax: Any = importlib.import_module("jax")
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        self._jax = jax
        self._jnp: Any = importlib.import_module("jax.numpy")
        importlib.import_module("jax.nn")
        return {"jax": jax}

    def constant(self, c: float) -> Any:
        return self._jnp.asarray(c, dtype=self._jnp.float64)

    def value_and_grads(self, fn: Callable[..., Any], point: Sequence[float]) -> tuple[Any, list[Any]]:
        leaves = [self.constant(float(p)) for p in point]
        value, grads = self._jax.value_and_grad(fn, argnums=tuple(range(len(point))))(*leaves)
        return value, list(grads)

    def preamble(self) -> list[str]:
        return [
            "import jax",
            'jax.config.update("jax_enable_x64", True)',
            "import jax.numpy",
            "import jax.nn",
        ]

    def call_lines(self, names: Sequence[str], point: Sequence[float]) -> list[str]:
        args = ", ".join(f"jax.numpy.float64({p!r})" for p in point)
        return [f"value, grads = jax.value_and_grad(f, argnums={tuple(range(len(point)))!r})({args})"]
