"""Campaign scale: throughput local and on Dask, bytes on disk, client memory over a long run, report time.

Measured in one run, each campaign a fresh ``gradproof verify`` process
(seed 0, default options):

* throughput with 1 and 2 local worker processes, and through a Dask
  scheduler with two one-thread workers on this machine (``dask scheduler`` /
  ``dask worker``): expressions per second from ``run.json``, and the Dask
  figure as a ratio of the 2-process one (the scheduler's overhead);
* bytes per expression on disk: the Parquet records against the same records
  exported as CSV (target: Parquet at most 1/5 of CSV);
* the client's resident memory while a long campaign runs (``--memory-examples``,
  100,000 with ``--full``), sampled from /proc every second, as the run
  progresses (target: flat, under 500 MB);
* the time and peak memory of ``gradproof report`` over that run, and with
  ``--baseline REV`` the same for the report code of git revision REV (its
  files taken with ``git archive``) over the same run, as a ratio;
* bytes per expression of the long run's Parquet records.

Run from the repository root: ``python -m benchmarks.scale`` (a few minutes on
two cores) or ``python -m benchmarks.scale --full`` (about an hour on two
cores). ``--no-throughput`` skips the throughput and CSV runs; ``--run DIR``
measures the report over an existing run instead of starting a long one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cluster import ROOT, LocalCluster

FULL_EXAMPLES = 100_000


@dataclass(frozen=True)
class Watched:
    """A finished ``gradproof`` process: its wall time, peak RSS, and RSS (MB) sampled against progress."""

    seconds: float
    peak_mb: float
    samples: list[tuple[float, int, float]]  # (seconds, chunks done, RSS MB)


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _chunks_done(run: Path | None) -> int:
    try:
        return len((run / "chunks.jsonl").read_text().splitlines()) if run is not None else 0
    except OSError:
        return 0


def gradproof(args: list[str], *, run: Path | None = None, every: float = 1.0, root: Path = ROOT) -> Watched:
    """Run ``gradproof ARGS`` (the code under ``root``) in a fresh process, sampling the client's memory."""
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(root)}
    # run from root: "python -m" puts the working directory first on sys.path, before PYTHONPATH
    proc = subprocess.Popen([sys.executable, "-m", "gradproof", *args], env=env, cwd=root, stdout=subprocess.DEVNULL)
    samples: list[tuple[float, int, float]] = []
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _status_mb(proc.pid, "VmHWM"))
        samples.append((time.perf_counter() - t0, _chunks_done(run), _status_mb(proc.pid, "VmRSS")))
        time.sleep(every)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"gradproof {' '.join(args)} exited {proc.returncode}")
    return Watched(time.perf_counter() - t0, peak, samples)


def _rate(run: Path) -> float:
    return float(json.loads((run / "run.json").read_text())["throughput"]["expressions_per_second"])


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def throughput(tmp: Path, examples: int) -> Path:
    """Print expressions/s on 1 and 2 local processes and on Dask; returns the 2-process run."""
    rates = {}
    common = ["verify", "--examples", str(examples), "--seed", "0"]
    for jobs in (1, 2):
        out = tmp / f"local{jobs}"
        gradproof([*common, "--jobs", str(jobs), "--out", str(out)])
        rates[f"{jobs} local process(es)"] = _rate(out)
    cluster = LocalCluster(tmp / "cluster", workers=2)
    try:
        gradproof([*common, "--scheduler-file", str(cluster.file), "--out", str(tmp / "dask")])
        rates["Dask, 2 workers x 1 thread"] = _rate(tmp / "dask")
    finally:
        cluster.stop()
    print(f"throughput over {examples} expressions (expressions/s, from run.json):")
    for name, rate in rates.items():
        print(f"  {name:<28}{rate:>8.1f}")
    two = rates["2 local process(es)"]
    print(f"  Dask / 2 local processes: {rates['Dask, 2 workers x 1 thread'] / two:.2f}")
    return tmp / "local2"


def disk(run: Path) -> None:
    """Print bytes per expression as Parquet and as CSV."""
    gradproof(["export", str(run), "--csv", "--out", str(run.parent / "records.csv")])
    expressions = json.loads((run / "run.json").read_text())["counts"]["expressions"]
    parquet, csv = _size(run / "records"), _size(run.parent / "records.csv")
    print(f"bytes per expression: Parquet {parquet / expressions:,.0f}, CSV {csv / expressions:,.0f}")
    print(f"  Parquet / CSV: {parquet / csv:.3f} (target <= 0.2)")


def memory(tmp: Path, examples: int) -> Path:
    """Print the client's RSS as a long campaign progresses."""
    out = tmp / "long"
    watched = gradproof(["verify", "--examples", str(examples), "--jobs", "2", "--out", str(out)], run=out, every=2)
    chunks = max(1, _chunks_done(out))
    print(f"client memory over {examples} expressions ({watched.seconds:.0f} s): peak {watched.peak_mb:.0f} MB")
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        at = next((s for s in watched.samples if s[1] >= fraction * chunks), watched.samples[-1])
        print(f"  {fraction:>5.0%} of chunks done: RSS {at[2]:.0f} MB")
    return out


def report(run: Path, baseline: str | None = None) -> None:
    """Print the time and peak memory of ``gradproof report`` over the run (and of the baseline's report code)."""
    meta = json.loads((run / "run.json").read_text())
    expressions, parquet = meta["counts"]["expressions"], _size(run / "records")
    print(f"run {run}: {expressions:,} expressions, Parquet {parquet / expressions:,.0f} bytes per expression")
    args = ["report", str(run), "--format", "md,csv"]
    watched = gradproof([*args, "--out", str(run.parent / "report")], every=0.2)
    print(f"report over that run: {watched.seconds:.1f} s, peak {watched.peak_mb:.0f} MB")
    if baseline is None:
        return
    with tempfile.TemporaryDirectory() as name:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", baseline], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", name], input=archive.stdout, check=True)
        old = gradproof([*args, "--out", str(run.parent / "report-baseline")], every=0.2, root=Path(name))
    print(f"report with the code of {baseline}: {old.seconds:.1f} s, peak {old.peak_mb:.0f} MB")
    print(
        f"  peak memory now / then: {watched.peak_mb / old.peak_mb:.2f}, time now / then: "
        f"{watched.seconds / old.seconds:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=300, help="expressions per throughput run (300)")
    parser.add_argument("--memory-examples", type=int, default=3000, help="expressions of the long run (3000)")
    parser.add_argument("--full", action="store_true", help=f"the long run has {FULL_EXAMPLES:,} expressions")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput and CSV runs")
    parser.add_argument("--run", type=Path, help="measure the report over this run instead of a new long run")
    parser.add_argument("--baseline", metavar="REV", help="also measure the report code of this git revision")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not args.no_throughput and args.run is None:
            disk(throughput(tmp, args.examples))
        long = args.run or memory(tmp, FULL_EXAMPLES if args.full else args.memory_examples)
        report(long, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
