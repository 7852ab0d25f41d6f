"""Cost of a Hessian-vector product relative to a gradient, on the MLP workload, in one run.

Workload: ``MLP(8, [32, 32, 1])`` (the engine benchmark's network; relu hidden
layers and a linear output, or ``--activation tanh``), squared-error loss
over 32 samples. Each repetition times, from the same parameters,

* ``gradient`` -- forward, loss, ``loss.backward()`` (what training runs);
* ``hvp rev`` -- forward, loss, gradient built as a graph, ``H v`` by one
  more reverse sweep (reverse over reverse);
* ``hvp fwd`` -- the same gradient graph, ``H v`` by pushing ``v`` forward
  through it (forward over reverse).

The three are interleaved and the best of ``--repeat`` counts, so machine
load affects all alike. Prints seconds and ratios to the gradient (target:
at most 4x). Run: ``python benchmarks/hvp.py``.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from autodiff import Value, hvp_of
from autodiff.nn import MLP

TARGET = 4.0


def _workload(activation: str, samples: int) -> tuple[MLP, list[list[float]], list[float], list[float]]:
    rng = random.Random(0)
    net = MLP(8, [32, 32, 1], activation=activation, linear_output=True, rng=rng)
    xs = [[rng.uniform(-1, 1) for _ in range(8)] for _ in range(samples)]
    ys = [rng.uniform(-1, 1) for _ in range(samples)]
    v = [rng.uniform(-1, 1) for _ in net.parameters()]
    return net, xs, ys, v


def _loss(net: MLP, xs: list[list[float]], ys: list[float]) -> Value:
    total: Any = 0.0
    for x, y in zip(xs, ys):
        total = total + (net(x) - y) ** 2  # type: ignore[operator]
    return total


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(activation: str = "relu", samples: int = 32, repeat: int = 5) -> dict[str, float]:
    """Best-of-``repeat`` seconds of a gradient and of an HVP each way."""
    net, xs, ys, v = _workload(activation, samples)
    params = net.parameters()

    def gradient() -> Any:
        net.zero_grad()
        _loss(net, xs, ys).backward()

    def hvp_rev() -> Any:
        return hvp_of(_loss(net, xs, ys), params, v, mode="rev")

    def hvp_fwd() -> Any:
        return hvp_of(_loss(net, xs, ys), params, v, mode="fwd")

    runs: dict[str, Callable[[], Any]] = {"gradient": gradient, "hvp rev": hvp_rev, "hvp fwd": hvp_fwd}
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            best[name] = min(best[name], _timed(fn))
    rev, fwd = hvp_rev(), hvp_fwd()
    worst = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(rev, fwd))
    best["rev/fwd max relative difference"] = worst
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repetitions (best counts)")
    parser.add_argument("--samples", type=int, default=32, help="samples in the loss (default 32)")
    parser.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.samples < 1:
        parser.error("--repeat and --samples must be positive")
    r = measure(args.activation, args.samples, args.repeat)
    print(f"Python {sys.version.split()[0]}; MLP(8, [32, 32, 1]) {args.activation}, {args.samples} samples")
    print(f"best of {args.repeat} interleaved runs each\n")
    base = r["gradient"]
    print(f"  gradient   {base:8.3f} s")
    for name in ("hvp rev", "hvp fwd"):
        print(f"  {name:<9}  {r[name]:8.3f} s   {r[name] / base:5.2f}x the gradient (target <= {TARGET:g}x)")
    print(f"\n  rev and fwd HVPs agree to {r['rev/fwd max relative difference']:.1e} (relative, float64)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
