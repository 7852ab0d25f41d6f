"""Tensor frameworks as engines under test (JAX, HIPS autograd, tinygrad), and users' own framework ops.

``framework_engine(spec)`` is the hook :func:`verification.engines.resolve_engine`
calls: it returns the adapter for ``jax``, ``autograd``, ``tinygrad`` or ``torch``
(the torch engine with probing and custom ops), or None for any other spec.
"""

from __future__ import annotations

from typing import Any

from verification.frameworks.custom import FRAMEWORKS, CustomOp, custom_op, customs_for, load_custom, remove_custom

__all__ = ["FRAMEWORKS", "CustomOp", "custom_op", "customs_for", "load_custom", "remove_custom", "framework_engine"]


def framework_engine(spec: str) -> Any:
    """The framework engine named by ``spec``, or None when ``spec`` names no framework adapter of this package."""
    if spec == "jax":
        from verification.frameworks.jax import JaxEngine

        return JaxEngine()
    if spec == "autograd":
        from verification.frameworks.autograd import AutogradEngine

        return AutogradEngine()
    if spec == "tinygrad":
        from verification.frameworks.tinygrad import TinygradEngine

        return TinygradEngine()
    if spec == "torch":
        from verification.frameworks.torch import TorchCustomEngine

        return TorchCustomEngine()
    return None
