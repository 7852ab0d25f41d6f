"""tinygrad as an engine under test: 0-d float64 Tensors on its CPU device, gradients from ``Tensor.gradient``.

What it cannot do, said in every probe report (:attr:`TinygradEngine.limits`):
its CPU device compiles each new kernel with ``clang`` (no C compiler, no
engine); every distinct expression is a new kernel, so a campaign runs about
a hundred times slower than on the other engines; and ``exp``, ``log``,
``sin`` and friends are tinygrad's own polynomial approximations in float64,
not the C library's, which the per-op tables measure.

The variables are 0-d views of one-element float64 buffers
(``Tensor([p]).reshape(())``), as data and parameters enter tinygrad, never
``Tensor(p)``: a Tensor made from a Python float is a ``CONST`` node, and
tinygrad's nodes are hash-consed, so two such Tensors of equal value are one
node (``y.gradient(x0, x1)`` gives an unused ``x1`` the gradient of ``x0``),
and a variable equal to a constant an op uses inside (``abs`` is
``x * x.sign()``, whose ``1`` is ``CONST 1.0``) receives that constant's
gradient too (``|x|'`` at ``Tensor(1.0)`` is 2). Constants of an expression
stay ``Tensor(c)``: nothing is differentiated with respect to them.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from verification.frameworks.base import FrameworkEngine

__all__ = ["TinygradEngine"]


class TinygradEngine(FrameworkEngine):
    """Tensor methods (``x.exp()``, ``x.relu()``) on 0-d float64 Tensors."""

    name = "tinygrad"
    framework = "tinygrad"
    install_hint = "pip install 'gradproof[tinygrad]' and a C compiler (clang) for its CPU device"
    min_timeout = 30.0  # every new expression is a kernel compiled with clang (the first also builds the device)
    limits = (
        "tinygrad's CPU device compiles every new expression with clang: campaigns are slow (about 0.1 s per point)",
        "exp, log, sin, cos, sqrt and tanh are tinygrad's own float64 approximations (see the per-op ULP table)",
    )

    def namespace(self) -> dict[str, Any]:
        os.environ.setdefault("DEV", "CPU")
        if shutil.which("clang") is None:
            raise ImportError("tinygrad's CPU device needs clang on PATH (apt-get install clang)")
        tinygrad: Any = importlib.import_module("tinygrad")
        self._tensor = tinygrad.Tensor
        self._f64 = tinygrad.dtypes.float64
        return {"Tensor": tinygrad.Tensor}

    def value_type(self) -> type | None:
        return self._tensor

    def constant(self, c: float) -> Any:
        return self._tensor(c, dtype=self._f64)

    def variable(self, x: float) -> Any:
        """A float64 variable: a 0-d view of a one-element buffer (a node of its own, whatever its value)."""
        return self._tensor([x], dtype=self._f64).reshape(())

    def value_and_grads(self, fn: Callable[..., Any], point: Sequence[float]) -> tuple[Any, list[Any]]:
        leaves = [self.variable(float(p)) for p in point]
        y = fn(*leaves)
        return y.item(), [g.item() for g in y.gradient(*leaves)]

    def preamble(self) -> list[str]:
        return ["from tinygrad import Tensor, dtypes"]

    def call_lines(self, names: Sequence[str], point: Sequence[float]) -> list[str]:
        return [
            f"xs = [Tensor([p], dtype=dtypes.float64).reshape(()) for p in {tuple(point)!r}]",
            "y = f(*xs)",
            "value, grads = y.item(), [g.item() for g in y.gradient(*xs)]",
        ]
