"""Neural-network building blocks on :class:`~autodiff.engine.Value`.

``Neuron``, ``Layer`` and ``MLP`` draw their weights in the same order as the
classic micrograd notebook (each neuron: its weights, then its bias, all from
``random.uniform(-1, 1)``) and use tanh by default, so after
``random.seed(42)`` they reproduce its figures exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from autodiff.engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "mse", "sse"]

Activation = Callable[[Value], Value]

ACTIVATIONS: dict[str, Activation] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v,
}

Output = Value | list[Value]


def _activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


class Module:
    """Something with parameters."""

    def parameters(self) -> list[Value]:
        """Trainable parameters, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """act(w . x + b), with w and b drawn uniformly from [-1, 1]."""

    def __init__(self, num_inputs: int, *, activation: str = "tanh", rng: random.Random | None = None) -> None:
        if isinstance(num_inputs, bool) or not isinstance(num_inputs, int) or num_inputs < 1:
            raise ValueError(f"num_inputs must be a positive integer, got {num_inputs!r}")
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-1, 1)) for _ in range(num_inputs)]
        self.b = Value(uniform(-1, 1))
        self.activation = activation
        self._act = _activation(activation)

    def __call__(self, x: Sequence[Any]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} input(s), got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return self._act(act)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``num_outputs`` neurons reading the same inputs; a single output is returned bare."""

    def __init__(
        self, num_inputs: int, num_outputs: int, *, activation: str = "tanh", rng: random.Random | None = None
    ) -> None:
        if isinstance(num_outputs, bool) or not isinstance(num_outputs, int) or num_outputs < 1:
            raise ValueError(f"num_outputs must be a positive integer, got {num_outputs!r}")
        self.neurons = [Neuron(num_inputs, activation=activation, rng=rng) for _ in range(num_outputs)]

    def __call__(self, x: Sequence[Any]) -> Output:
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons[0].w)}, {len(self.neurons)})"


class MLP(Module):
    """Layers in sequence: ``MLP(3, [4, 4, 1])`` maps 3 inputs to 1 output.

    ``activation`` applies to every layer; ``linear_output=True`` leaves the
    last layer without one (for regression).
    """

    def __init__(
        self,
        num_inputs: int,
        layer_sizes: Sequence[int],
        *,
        activation: str = "tanh",
        linear_output: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        if not layer_sizes:
            raise ValueError("layer_sizes must name at least one layer")
        sizes = [num_inputs, *layer_sizes]
        last = len(layer_sizes) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation="linear" if (linear_output and i == last) else activation,
                rng=rng,
            )
            for i in range(len(layer_sizes))
        ]

    def __call__(self, x: Sequence[Any]) -> Output:
        out: Any = x
        for layer in self.layers:
            out = layer(out if isinstance(out, list) else [out] if isinstance(out, Value) else out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP([{', '.join(repr(layer) for layer in self.layers)}])"


def _pairs(predictions: Iterable[Value], targets: Iterable[Any]) -> list[tuple[Value, Any]]:
    preds, targs = list(predictions), list(targets)
    if len(preds) != len(targs):
        raise ValueError(f"{len(preds)} prediction(s) but {len(targs)} target(s)")
    if not preds:
        raise ValueError("no predictions to compare")
    return list(zip(preds, targs))


def sse(predictions: Iterable[Value], targets: Iterable[Any]) -> Value:
    """Sum of squared errors, sum (p - t)**2 (the seed notebook's loss), on Values of any backend."""
    terms = [(p - t) ** 2 for p, t in _pairs(predictions, targets)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def mse(predictions: Iterable[Value], targets: Iterable[Any]) -> Value:
    """Mean squared error, sum (p - t)**2 / n."""
    pairs = _pairs(predictions, targets)
    return sse((p for p, _ in pairs), (t for _, t in pairs)) / len(pairs)
