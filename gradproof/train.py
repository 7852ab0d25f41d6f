"""``gradproof train``: the seed notebook's training example, with its printed figures."""

from __future__ import annotations

import argparse
import math
import sys

from autodiff.training import OPTIMIZERS, SEED_INPUTS, SEED_TARGETS, seed_model, train_seed_example
from verification.errors import UsageError

NAME = "train"
HELP = "train the classic micrograd example (MLP 3-4-4-1 on four samples) and print its figures"

EPILOG = """\
exit status:
  0    trained: every loss finite
  1    diverged: a loss became NaN or infinite (lower --lr)
  2    bad usage: bad option value
  141  the reader of the output went away (e.g. piped into head)
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--iterations", type=_positive_int, default=100, help="training iterations (100)")
    parser.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (0.1)")
    parser.add_argument("--seed", type=int, default=42, help="random seed for the weights (42)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="optimizer (sgd)")
    parser.add_argument("--momentum", type=float, default=0.0, help="SGD momentum in [0, 1) (0)")


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.momentum < 1.0:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum}")
    if args.momentum and args.optimizer != "sgd":
        raise UsageError("--momentum applies to --optimizer sgd only")
    mlp = seed_model(args.seed)
    print(f"Dataset: {len(SEED_INPUTS)} samples")
    print("Network architecture: 3 → 4 → 4 → 1")
    print(f"Total parameters: {len(mlp.parameters())}")
    print()
    print(f"Training for {args.iterations} iterations...")
    print(f"Learning rate: {args.lr}")
    print("-" * 50)

    def on_iteration(it: int, loss: float) -> None:
        if it % 20 == 0:
            print(f"Iteration {it:3d} | Loss: {loss:.6f}")

    result = train_seed_example(
        mlp,
        iterations=args.iterations,
        lr=args.lr,
        seed=args.seed,
        optimizer=args.optimizer,
        momentum=args.momentum,
        on_iteration=on_iteration,
    )
    print("-" * 50)
    print(f"Final Loss: {result.losses[-1]:.6f}")
    print()
    print("Predictions vs Targets:")
    print("=" * 50)
    for i, (pred, target) in enumerate(zip(result.predictions, SEED_TARGETS)):
        match = "✓" if math.isfinite(pred) and (pred > 0) == (target > 0) else "✗"
        print(f"Sample {i + 1}: predicted {pred:+.4f}, target {target:+.1f}  {match}")
    diverged = next((i for i, loss in enumerate(result.losses) if not math.isfinite(loss)), None)
    if diverged is not None:
        loss = result.losses[diverged]
        print(
            f"gradproof train: diverged: the loss became {loss} at iteration {diverged}; try a smaller --lr",
            file=sys.stderr,
        )
        return 1
    return 0
