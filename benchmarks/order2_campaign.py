"""Campaign throughput at order 2 relative to order 1, on the same expressions, in one run.

Both campaigns draw ``--examples`` expressions of depth <= 3 over two
variables from the same seed, check up to ``--points`` points each on the
built-in engine in one process, and report expressions per second:

* order 1 -- ``gradproof verify``'s campaign: gradients in float64 and at 50
  digits against certified references, finite differences, the oracle;
* order 2 -- ``gradproof verify --order 2``: Hessian, both HVPs and the JVP in
  float64 and at 50 digits against certified second derivatives;
* with ``--torch`` also order 2 on PyTorch (``--engine torch``): the same
  checks of torch's double backward and ``torch.func.jvp`` (the truth and the
  bounds cost as much as for the built-in engine; the engine's probing is not timed).

Run: ``python benchmarks/order2_campaign.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def order1(examples: int, points: int, seed: int) -> tuple[float, int]:
    """Seconds and points judged of a first-order campaign."""
    from verification.campaign import CampaignConfig, run_campaign

    config = CampaignConfig(examples=examples, max_depth=3, n_vars=2, seed=seed, points=points, candidates=2 * points)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_campaign(config, Path(tmp), jobs=1, progress=False)
        return time.perf_counter() - start, int(result.counts["points"])


def order2(examples: int, points: int, seed: int, engine: Any = None) -> tuple[float, int]:
    """Seconds and points judged of an order-2 campaign (on the built-in engine, or an order-2 adapter)."""
    from verification.second_campaign import SecondConfig, run_second

    start = time.perf_counter()
    config = SecondConfig(examples=examples, max_depth=3, n_vars=2, seed=seed, points=points)
    result = run_second(config, engine=engine)
    return time.perf_counter() - start, result.points


def torch_adapter() -> Any:
    """The order-2 adapter of PyTorch (built, and its ops probed, before timing)."""
    from verification.engine_spec import resolve_engine
    from verification.second_foreign import order2_engine

    return order2_engine("torch", resolve_engine("torch"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="expressions per campaign (100)")
    parser.add_argument("--points", type=int, default=2, help="points per expression (2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of both campaigns (0)")
    parser.add_argument("--torch", action="store_true", help="also time the order-2 campaign on PyTorch")
    args = parser.parse_args(argv)
    if args.examples < 1 or args.points < 1:
        parser.error("--examples and --points must be positive")
    s1, p1 = order1(args.examples, args.points, args.seed)
    s2, p2 = order2(args.examples, args.points, args.seed)
    print(f"Python {sys.version.split()[0]}; {args.examples} expressions (depth <= 3, 2 variables), 1 process\n")
    print(f"  order 1  {s1:7.1f} s  {args.examples / s1:6.1f} expressions/s  {p1} points")
    print(f"  order 2  {s2:7.1f} s  {args.examples / s2:6.1f} expressions/s  {p2} points")
    if args.torch:
        s3, p3 = order2(args.examples, args.points, args.seed, torch_adapter())
        print(f"  order 2 torch {s3:4.1f} s  {args.examples / s3:6.1f} expressions/s  {p3} points")
    print(f"\n  order-2 throughput is {s1 / s2:.2f}x that of order 1 (expressions per second)")
    if args.torch:
        print(f"  order-2 throughput on torch is {s1 / s3:.2f}x that of order 1 on the built-in engine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
