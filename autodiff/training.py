"""The seed notebook's training example, reusable from the CLI and from tests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from autodiff.engine import Value
from autodiff.nn import MLP, sse
from autodiff.optim import SGD, Adam, Optimizer

__all__ = ["SEED_INPUTS", "SEED_TARGETS", "TrainResult", "seed_model", "seed_loss", "train_seed_example", "OPTIMIZERS"]

SEED_INPUTS: list[list[float]] = [
    [2.0, 3.0, -1.0],
    [3.0, -1.0, 0.5],
    [0.5, 1.0, 1.0],
    [1.0, 1.0, -1.0],
]
SEED_TARGETS: list[float] = [1.0, -1.0, -1.0, 1.0]

OPTIMIZERS = ("sgd", "adam")


@dataclass
class TrainResult:
    """What a training run produced: losses per iteration and the last predictions."""

    num_parameters: int
    losses: list[float] = field(default_factory=list)
    predictions: list[float] = field(default_factory=list)


def seed_model(seed: int = 42) -> MLP:
    """The notebook's MLP(3, [4, 4, 1]), its weights drawn after ``random.seed(seed)``."""
    random.seed(seed)
    return MLP(3, [4, 4, 1])


def seed_loss(mlp: MLP) -> Value:
    """The notebook's loss (sum of squared errors over its four samples) at the network's current parameters.

    The parameters may hold numbers of any backend (floats, mpmath, sympy).
    """
    return sse([_single(mlp(x)) for x in SEED_INPUTS], SEED_TARGETS)


def train_seed_example(
    mlp: MLP | None = None,
    *,
    iterations: int = 100,
    lr: float = 0.1,
    seed: int = 42,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    on_iteration: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train MLP(3, [4, 4, 1]) on the notebook's four samples with the sum of squared errors.

    With the defaults this is the notebook's cell [11], step for step: forward,
    loss, zero the gradients, backward, update. ``mlp`` defaults to
    :func:`seed_model` with ``seed``.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if mlp is None:
        mlp = seed_model(seed)
    params = mlp.parameters()
    opt: Optimizer = SGD(params, lr, momentum=momentum) if optimizer == "sgd" else Adam(params, lr)
    result = TrainResult(num_parameters=len(params))
    predictions: list[Value] = []
    for it in range(iterations):
        predictions = [_single(mlp(x)) for x in SEED_INPUTS]
        loss = sse(predictions, SEED_TARGETS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        result.losses.append(float(loss.data))
        if on_iteration is not None:
            on_iteration(it, float(loss.data))
    result.predictions = [float(p.data) for p in predictions]
    return result


def _single(out: Value | list[Value]) -> Value:
    if isinstance(out, list):
        raise ValueError("the seed example expects a single output")
    return out
