"""micrograd-style engines for testing the harness: one correct, the others with one planted bug each.

Every class builds its outputs with ``type(self)``, so a bug planted in a
subclass acts at every node of the graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def _pow(x: float, k: float) -> float:
    """x**k with IEEE results where Python raises: overflow gives inf, 0**negative gives inf."""
    try:
        return float(x**k)
    except OverflowError:
        return math.copysign(math.inf, x) if float(k).is_integer() and k % 2 else math.inf
    except ZeroDivisionError:
        return math.inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


class Value:
    """A correct micrograd-style engine (+ - * / ** by numbers, neg, exp, log, tanh, relu).

    Correct also in float64: overflow gives inf as IEEE arithmetic does, and
    division has a rule of its own instead of ``x * y**-1`` (whose ``y**-2``
    overflows for tiny ``y`` even when the true derivative is finite).
    """

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = data
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def _wrap(self, other: Any) -> Value:
        return other if isinstance(other, Value) else type(self)(other)

    def __add__(self, other: Any) -> Value:
        other = self._wrap(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> Value:
        other = self._wrap(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        assert isinstance(k, (int, float)), "only number powers"
        out = type(self)(_pow(self.data, k), (self,), f"**{k}")

        def _backward() -> None:
            self.grad += k * _pow(self.data, k - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = type(self)(_exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        out = type(self)(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = type(self)(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 / math.cosh(self.data) ** 2 if abs(self.data) < 350 else 0.0) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = type(self)(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def backward(self) -> None:
        topo: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                topo.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    def __neg__(self) -> Value:
        return self * -1.0

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __sub__(self, other: Any) -> Value:
        return self + (-self._wrap(other))

    def __rsub__(self, other: Any) -> Value:
        return self._wrap(other) + (-self)

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __truediv__(self, other: Any) -> Value:
        other = self._wrap(other)
        out = type(self)(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad -= out.grad * (out.data / other.data)

        out._backward = _backward
        return out

    def __rtruediv__(self, other: Any) -> Value:
        return self._wrap(other) / self


class AssignGrad(Value):
    """Bug: add's backward assigns instead of accumulating (shows only when a node is reused)."""

    def __add__(self, other: Any) -> Value:
        other = self._wrap(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out


class NoTopo(Value):
    """Bug: backward visits nodes breadth-first from the output, not in topological order."""

    def backward(self) -> None:
        self.grad = 1.0
        queue: list[Value] = [self]
        seen: set[int] = {id(self)}
        while queue:
            node = queue.pop(0)
            node._backward()
            for p in node._prev:
                if id(p) not in seen:
                    seen.add(id(p))
                    queue.append(p)


class WrongLog(Value):
    """Bug: d/dx log(x) taken as 1/(2x)."""

    def log(self) -> Value:
        out = type(self)(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / (2.0 * self.data)

        out._backward = _backward
        return out


class OverflowTanh(Value):
    """Bug: tanh from (e^{2x} - 1)/(e^{2x} + 1), which overflows for x > ~355."""

    def tanh(self) -> Value:
        e = math.exp(2.0 * self.data)
        t = (e - 1.0) / (e + 1.0)
        out = type(self)(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out


class WrongRsub(Value):
    """Bug: ``other - self`` computed as ``self - other``."""

    def __rsub__(self, other: Any) -> Value:
        return self + (-self._wrap(other))


class MulOffByPpb(Value):
    """Bug: mul's rule is off by one part in 10**9."""

    def __mul__(self, other: Any) -> Value:
        other = self._wrap(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad * (1.0 + 1e-9)
            other.grad += self.data * out.grad * (1.0 + 1e-9)

        out._backward = _backward
        return out


class NotAnEngine:
    """Has data and grad but no backward."""

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


class BrokenConstructor(Value):
    """Its constructor raises."""

    def __init__(self, data: float, *args: Any) -> None:
        raise RuntimeError("this engine cannot be built")


not_a_class = 42
