"""``gradproof prove`` on the built-in ops: this tree against a baseline revision, in one run.

The baseline (default: commit 9031317, the prover before it was rewritten
with the audit; with ``--order 2``, commit f9acc01, the order-2 prover before
branch-by-branch assignments) is exported with ``git archive`` into a
temporary directory; both trees run ``gradproof prove [--order 2]`` in fresh
interpreters, alternately, ``--repeat`` times each. Prints the median wall
time (start-up included), the median time the command reports for the
proofs and the summary counts, per tree, and the ratios this / baseline. An
exit status of 3 (something undecided) is timed like 0 and shown in the
counts. Run from the repository root: ``python benchmarks/prove.py``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

BASELINE = "9031317"
BASELINE_ORDER2 = "f9acc01"
ROOT = Path(__file__).resolve().parent.parent


def _export(revision: str, into: Path) -> None:
    """The tree of ``revision`` (its Python packages) under ``into``."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "autodiff", "verification", "reports", *_extra(revision)],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def _extra(revision: str) -> list[str]:
    """Top-level packages besides the three that ``revision`` has (the command line, the run store)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", revision], check=True, capture_output=True, text=True
    ).stdout.split()
    return [name for name in ("gradproof", "runstore") if name in listed]


def _run(tree: Path, order: int) -> tuple[float, float, str]:
    """Wall seconds of one ``gradproof prove`` in a fresh interpreter, the seconds it reports, and its counts."""
    cli = "gradproof.cli" if (tree / "gradproof" / "cli.py").exists() else "verification.cli"
    argv = ["prove"] if order == 1 else ["prove", "--order", str(order)]
    code = f"import sys; from {cli} import main; sys.exit(main({argv!r}))"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"gradproof prove in {tree} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr}")
    found = re.search(r"; ([0-9.]+)s; exit", done.stdout)
    counts = re.search(r"partial\(s\): ([^;]+);", done.stdout)
    return wall, float(found.group(1)) if found else float("nan"), counts.group(1) if counts else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline", help=f"git revision to compare with ({BASELINE}; {BASELINE_ORDER2} with --order 2)"
    )
    parser.add_argument("--order", type=int, choices=(1, 2), default=1, help="derivative order to prove (1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree (3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    baseline = args.baseline or (BASELINE if args.order == 1 else BASELINE_ORDER2)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        _export(baseline, base)
        runs: dict[str, list[tuple[float, float, str]]] = {"baseline": [], "this": []}
        for _ in range(args.repeat):
            runs["baseline"].append(_run(base, args.order))
            runs["this"].append(_run(ROOT, args.order))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in runs.items()}
    for name, (wall, proofs) in med.items():
        counts = runs[name][-1][2]
        print(f"{name:<9} wall {wall:6.2f} s   proofs {proofs:6.2f} s   (median of {args.repeat})   {counts}")
    wall_ratio = med["this"][0] / med["baseline"][0]
    proof_ratio = med["this"][1] / med["baseline"][1]
    print(f"ratio this/baseline: wall {wall_ratio:.2f}, proofs {proof_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
