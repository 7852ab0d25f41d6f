"""Second derivatives: Hessians and Hessian-vector products from the first-order rules.

The gradient is built as a graph of Values (``create_graph=True``: each rule
run with Values as its numbers, see :mod:`autodiff.graphmode`), then
differentiated again:

* reverse over reverse (``mode="rev"``): ``H v = grad_x (grad_x f . v)``, one
  more reverse sweep over the gradient's graph;
* forward over reverse (``mode="fwd"``): ``H v`` is the tangent of the gradient
  when the inputs move along ``v`` (:func:`autodiff.forward.push_tangents`).

``hessian``/``hvp`` take a function of Values, like JAX's; ``hessian_of`` and
``hvp_of`` take an output Value and the input Values it was built from (a
network's loss and its parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from autodiff.engine import Value
from autodiff.forward import push_tangents
from autodiff.graphmode import gradients

__all__ = ["hessian", "hvp", "hessian_of", "hvp_of", "MODES"]

Mode = Literal["rev", "fwd"]
MODES: tuple[Mode, ...] = ("rev", "fwd")


def _check_inputs(output: Any, inputs: Sequence[Value], what: str) -> None:
    if not isinstance(output, Value):
        raise TypeError(f"{what}: the output must be a Value, got {type(output).__name__}")
    if not inputs:
        raise ValueError(f"{what}: no inputs to differentiate by")
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"{what}: every input must be a Value, got {type(x).__name__}")


def hessian_of(output: Value, inputs: Sequence[Value]) -> list[list[Any]]:
    """The matrix of d2 output / d input_i d input_j, one reverse sweep per row."""
    _check_inputs(output, inputs, "hessian")
    zero = output.backend.zero
    rows: list[list[Any]] = []
    for g in gradients(output, inputs, create_graph=True):
        if isinstance(g, Value):
            rows.append(list(gradients(g, inputs)))
        else:  # the gradient does not depend on the graph: this row is 0
            rows.append([zero] * len(inputs))
    return rows


def hvp_of(output: Value, inputs: Sequence[Value], vector: Sequence[Any], *, mode: Mode = "rev") -> tuple[Any, ...]:
    """H v, the Hessian of ``output`` by ``inputs`` times ``vector``, without forming H."""
    _check_inputs(output, inputs, "hvp")
    if len(vector) != len(inputs):
        raise ValueError(f"hvp: {len(inputs)} input(s) but a vector of {len(vector)}")
    if mode not in MODES:
        raise ValueError(f"hvp: mode must be one of {', '.join(MODES)}, got {mode!r}")
    zero = output.backend.zero
    grads = gradients(output, inputs, create_graph=True)
    nodes = [(g, v) for g, v in zip(grads, vector) if isinstance(g, Value)]
    if not nodes:
        return (zero,) * len(inputs)
    if mode == "fwd":
        tangents = push_tangents([g for g, _ in nodes], dict(zip(inputs, vector)))
        found = iter(tangents)
        return tuple(next(found) if isinstance(g, Value) else zero for g in grads)
    total: Any = None
    for g, v in nodes:
        term = g * v
        total = term if total is None else total + term
    return gradients(total, inputs)


def _leaves(xs: Sequence[Any]) -> list[Value]:
    return [x if isinstance(x, Value) else Value(x) for x in xs]


def _call(f: Callable[..., Any], leaves: list[Value], what: str) -> Value:
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"{what}: f must return a Value, got {type(out).__name__}")
    return out


def hessian(f: Callable[..., Any], xs: Sequence[Any]) -> list[list[Any]]:
    """The Hessian of ``f`` at ``xs`` (numbers or Values), as a list of rows."""
    leaves = _leaves(xs)
    return hessian_of(_call(f, leaves, "hessian"), leaves)


def hvp(f: Callable[..., Any], xs: Sequence[Any], vector: Sequence[Any], *, mode: Mode = "rev") -> tuple[Any, ...]:
    """H v for the Hessian of ``f`` at ``xs``; ``mode`` is ``"rev"`` or ``"fwd"`` over reverse."""
    leaves = _leaves(xs)
    return hvp_of(_call(f, leaves, "hvp"), leaves, vector, mode=mode)
