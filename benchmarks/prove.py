"""``gradproof prove`` on the built-in ops: this tree against a baseline revision, in one run.

The baseline (default: commit 9031317, the prover before it was rewritten
with the audit) is exported with ``git archive`` into a temporary directory;
both trees run ``gradproof prove`` in fresh interpreters, alternately,
``--repeat`` times each. Prints the median wall time (start-up included) and
the median time the command reports for the proofs, per tree, and the ratios
this / baseline. Run from the repository root: ``python benchmarks/prove.py``.
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


def _run(tree: Path) -> tuple[float, float]:
    """Wall seconds of one ``gradproof prove`` in a fresh interpreter, and the seconds it reports."""
    cli = "gradproof.cli" if (tree / "gradproof" / "cli.py").exists() else "verification.cli"
    code = f"import sys; from {cli} import main; sys.exit(main(['prove']))"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"gradproof prove in {tree} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr}")
    found = re.search(r"; ([0-9.]+)s; exit", done.stdout)
    return wall, float(found.group(1)) if found else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with ({BASELINE})")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree (3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        _export(args.baseline, base)
        runs: dict[str, list[tuple[float, float]]] = {"baseline": [], "this": []}
        for _ in range(args.repeat):
            runs["baseline"].append(_run(base))
            runs["this"].append(_run(ROOT))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(p for _, p in v)) for k, v in runs.items()}
    for name, (wall, proofs) in med.items():
        print(f"{name:<9} wall {wall:6.2f} s   proofs {proofs:6.2f} s   (median of {args.repeat})")
    wall_ratio = med["this"][0] / med["baseline"][0]
    proof_ratio = med["this"][1] / med["baseline"][1]
    print(f"ratio this/baseline: wall {wall_ratio:.2f}, proofs {proof_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
