"""micrograd clones written the way people write them: one textbook-correct, the others with one defect each.

``Textbook`` is correct mathematically and numerically naive, as most clones
are: tanh as ``(e**2x - 1)/(e**2x + 1)`` with the rule ``1 - t**2``, sigmoid
with ``s * (1 - s)``, division as ``self * other**-1`` (micrograd's own), Python
floats that raise OverflowError. Each other class changes one thing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class Core:
    """micrograd's Value without the reflected operators (``2 + x`` fails; ``x + 2`` works)."""

    def __init__(self, data: Any, _children: tuple[Any, ...] = (), _op: str = "") -> None:
        self.data = data
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other: Any) -> Any:
        other = other if isinstance(other, Core) else type(self)(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> Any:
        other = other if isinstance(other, Core) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other: Any) -> Any:
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = type(self)(self.data**other, (self,), f"**{other}")

        def _backward() -> None:
            self.grad += (other * self.data ** (other - 1)) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Any:
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Any:
        out = type(self)(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += (1 / self.data) * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Any:
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = type(self)(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Any:
        s = 1 / (1 + math.exp(-self.data))
        out = type(self)(s, (self,), "sigmoid")

        def _backward() -> None:
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Any:
        out = type(self)(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward() -> None:
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self) -> None:
        topo: list[Any] = []
        visited: set[Any] = set()

        def build_topo(v: Any) -> None:
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self) -> Any:
        return self * -1

    def __sub__(self, other: Any) -> Any:
        return self + (-other)

    def __truediv__(self, other: Any) -> Any:
        return self * other**-1


class Textbook(Core):
    """Correct, with the reflected operators: what a careful student writes."""

    def __radd__(self, other: Any) -> Any:
        return self + other

    def __rsub__(self, other: Any) -> Any:
        return other + (-self)

    def __rmul__(self, other: Any) -> Any:
        return self * other

    def __rtruediv__(self, other: Any) -> Any:
        return other * self**-1


class NoReflected(Core):
    """Correct, but ``2 - x`` and friends are not defined."""


class RaisingExp(Textbook):
    """exp passes the Value itself to math.exp: it raises on every input."""

    def exp(self) -> Any:
        out = type(self)(math.exp(self), (self,), "exp")  # type: ignore[arg-type]
        out._backward = lambda: None
        return out


class DataIsValue(Textbook):
    """relu keeps ``self`` rather than ``self.data``: its ``.data`` is a Value for positive inputs."""

    def relu(self) -> Any:
        out = type(self)(0 if self.data < 0 else self, (self,), "ReLU")

        def _backward() -> None:
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out


class WrongReflected(Textbook):
    """``2 - x`` computed as ``x - 2`` and ``2 / x`` as ``x / 2``: the reflected operators swap their operands."""

    def __rsub__(self, other: Any) -> Any:
        return self - other

    def __rtruediv__(self, other: Any) -> Any:
        return self / other


class PerPath(Textbook):
    """backward recurses into the children after each node: a shared node passes its gradient on once per path."""

    def backward(self) -> None:
        self.grad = 1

        def propagate(v: Any) -> None:
            v._backward()
            for child in v._prev:
                propagate(child)

        propagate(self)


class TanhOffByPpb(Textbook):
    """tanh's rule carries a relative error of 1e-9 (a truncated constant)."""

    def tanh(self) -> Any:
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1 - t**2) * (1 + 1e-9) * out.grad

        out._backward = _backward
        return out


class HangingBackward(Textbook):
    """An iterative backward whose visited check is wrong: it never ends once a node is used twice."""

    def backward(self) -> None:
        order: list[Any] = []
        stack = [self]
        seen: list[Any] = []
        while stack:
            v = stack.pop()
            if v in seen:
                stack.append(v)  # meant to skip it, re-queues it for ever
                continue
            seen.append(v)
            order.append(v)
            stack.extend(v._prev)
        self.grad = 1
        for v in order:
            v._backward()


class HangingSin(Textbook):
    """sin by its Taylor series, with the term counter never advanced: the loop does not end."""

    def sin(self) -> Any:
        x, term, total, n = self.data, self.data, 0.0, 1
        while n < 30:
            total += term
            term *= -x * x / ((n + 1) * (n + 2))
        out = type(self)(total, (self,), "sin")
        return out
