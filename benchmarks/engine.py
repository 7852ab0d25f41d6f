"""Engine speed and memory: gradproof against the ``micrograd`` package, in one run.

Workloads (each timed in a fresh worker process, best of ``--repeat``):

* ``mlp``: MLP(8, [32, 32, 1]) with relu hidden layers and a linear output,
  32 samples, 3 steps of forward + squared-error loss + backward + SGD update;
* ``chain``: ``y = act(0.9 * y + 0.1)`` repeated ``--chain`` times (1e5 by
  default) from one leaf, then backward; micrograd's recursive topological sort
  raises RecursionError here;
* memory: peak traced allocation per graph node while building a long graph.

Prints the times and the ratios micrograd / gradproof. Run:
``python benchmarks/engine.py`` (needs ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

Result = dict[str, Any]


def _engine(name: str) -> tuple[Any, Any]:
    """(Value class, MLP factory) for an engine name."""
    if name == "gradproof":
        from autodiff import Value
        from autodiff.nn import MLP

        def make_mlp() -> Any:
            return MLP(8, [32, 32, 1], activation="relu", linear_output=True)

        return Value, make_mlp
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP

    def make_micrograd_mlp() -> Any:
        return MMLP(8, [32, 32, 1])

    return MValue, make_micrograd_mlp


def mlp_workload(name: str, steps: int = 3, samples: int = 32) -> Result:
    """Seconds for ``steps`` training steps of the MLP workload."""
    _, make_mlp = _engine(name)
    rng = random.Random(0)
    random.seed(0)
    net = make_mlp()
    xs = [[rng.uniform(-1, 1) for _ in range(8)] for _ in range(samples)]
    ys = [rng.uniform(-1, 1) for _ in range(samples)]
    start = time.perf_counter()
    for _ in range(steps):
        preds = [net(x) for x in xs]
        loss: Any = sum(((p - y) ** 2 for p, y in zip(preds, ys)), 0.0)
        for p in net.parameters():
            p.grad = 0.0
        loss.backward()
        for p in net.parameters():
            p.data -= 0.001 * p.grad
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "loss": float(loss.data)}


def chain_workload(name: str, length: int, activation: str = "relu") -> Result:
    """Seconds to build ``y = act(0.9*y + 0.1)`` ``length`` times and run backward."""
    value_cls, _ = _engine(name)
    sys.setrecursionlimit(10_000)  # what a micrograd user would typically try
    x = value_cls(0.3)
    start = time.perf_counter()
    y = x
    for _ in range(length):
        y = getattr(0.9 * y + 0.1, activation)()
    built = time.perf_counter()
    try:
        y.backward()
    except RecursionError:
        return {"seconds": None, "forward_seconds": built - start, "error": "RecursionError"}
    done = time.perf_counter()
    return {"seconds": done - start, "forward_seconds": built - start, "backward_seconds": done - built}


def memory_workload(name: str, length: int) -> Result:
    """Peak traced bytes per node while building a chain of ``length`` steps (4 nodes each)."""
    value_cls, _ = _engine(name)
    tracemalloc.start()
    x = value_cls(0.3)
    y = x
    for _ in range(length):
        y = (0.9 * y + 0.1).relu()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nodes = 1 + 5 * length  # per step: constant 0.9, mul, constant 0.1, add, relu
    return {"bytes_per_node": peak / nodes, "nodes": nodes}


def _worker(args: tuple[Callable[..., Result], tuple[Any, ...]]) -> Result:
    fn, fn_args = args
    return fn(*fn_args)


def run_isolated(fn: Callable[..., Result], *args: Any) -> Result:
    """Run a workload in a fresh process so one engine's garbage cannot slow the other."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_worker, ((fn, args),))


def best_of(repeat: int, fn: Callable[..., Result], *args: Any) -> Result:
    """The run with the smallest time out of ``repeat`` isolated runs."""
    runs = [run_isolated(fn, *args) for _ in range(repeat)]
    timed = [r for r in runs if r.get("seconds") is not None]
    if not timed:
        return runs[0]
    return min(timed, key=lambda r: r["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="isolated runs per workload (best counts)")
    parser.add_argument("--chain", type=int, default=100_000, help="chain length (default 1e5)")
    parser.add_argument("--memory-chain", type=int, default=20_000, help="chain length for the memory probe")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.chain < 1 or args.memory_chain < 1:
        parser.error("--repeat, --chain and --memory-chain must be positive")
    try:
        import micrograd.engine  # noqa: F401
    except ImportError:
        print(
            "benchmarks/engine.py: error: the micrograd package is needed; pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 2

    print(f"Python {sys.version.split()[0]}; best of {args.repeat} isolated runs each\n")
    ours = best_of(args.repeat, mlp_workload, "gradproof")
    theirs = best_of(args.repeat, mlp_workload, "micrograd")
    print("MLP(8, [32, 32, 1]), 32 samples, 3 steps (relu)")
    print(f"  micrograd  {theirs['seconds']:8.3f} s")
    print(f"  gradproof  {ours['seconds']:8.3f} s")
    print(f"  ratio      {theirs['seconds'] / ours['seconds']:8.2f}x faster (target >= 5x)\n")

    print(f"Chain y = act(0.9*y + 0.1) x {args.chain:,}, then backward")
    for act in ("relu", "tanh"):
        r = best_of(args.repeat, chain_workload, "gradproof", args.chain, act)
        print(
            f"  gradproof ({act}) {r['seconds']:8.3f} s  (forward {r['forward_seconds']:.3f} s, "
            f"backward {r['backward_seconds']:.3f} s; target < 1 s)"
        )
    m = run_isolated(chain_workload, "micrograd", args.chain, "relu")
    if m.get("error"):
        print(f"  micrograd (relu)  {m['error']} in backward (forward took {m['forward_seconds']:.3f} s)\n")
    else:
        print(f"  micrograd (relu)  {m['seconds']:8.3f} s\n")

    print(f"Peak memory per node ({args.memory_chain:,}-step chain, tracemalloc)")
    mem_ours = run_isolated(memory_workload, "gradproof", args.memory_chain)
    mem_theirs = run_isolated(memory_workload, "micrograd", args.memory_chain)
    print(f"  micrograd  {mem_theirs['bytes_per_node']:8.0f} B/node")
    print(f"  gradproof  {mem_ours['bytes_per_node']:8.0f} B/node")
    print(f"  ratio      {mem_theirs['bytes_per_node'] / mem_ours['bytes_per_node']:8.2f}x less memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
