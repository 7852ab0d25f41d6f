"""A Dask cluster on 127.0.0.1 started with Dask's own commands: ``dask scheduler`` and ``dask worker``.

Used by the Dask tests and ``benchmarks/scale.py``: random free ports (the
scheduler writes its address to a scheduler file), one thread per worker,
every process ended by :meth:`LocalCluster.stop`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["LocalCluster", "wait_for"]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for(predicate: Callable[[], bool], seconds: float = 60, *, poll: float = 0.1) -> None:
    """Check ``predicate`` every ``poll`` seconds until it holds; AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(poll)


class LocalCluster:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes (one thread each) under ``directory``.

    Each worker runs in its own directory ``directory/wN`` (its current and
    local directory), so a relative path means something else on a worker
    than on the client, as on another machine.
    """

    def __init__(self, directory: Path, workers: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.file = directory / "scheduler.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        dask = str(BIN / "dask")
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(self.file)]
        self.scheduler = subprocess.Popen([*scheduler, "--no-dashboard"], **quiet)  # type: ignore[call-overload]
        self.workers: list[subprocess.Popen[bytes]] = []
        try:
            wait_for(self.file.exists, 60)
            for i in range(workers):
                home = directory / f"w{i}"
                home.mkdir(exist_ok=True)
                where = ["--host", "127.0.0.1", "--name", f"w{i}", "--local-directory", str(home)]
                cmd = [dask, "worker", "--scheduler-file", str(self.file), "--nthreads", "1", *where, "--no-dashboard"]
                self.workers.append(subprocess.Popen(cmd, cwd=home, **quiet))  # type: ignore[call-overload]
            wait_for(lambda: self.worker_count() == workers, 60)
        except BaseException:
            self.stop()
            raise

    def worker_count(self) -> int:
        """Workers the scheduler knows."""
        from distributed import Client

        with Client(scheduler_file=str(self.file), timeout="10s") as client:
            return len(client.scheduler_info()["workers"])

    def stop(self) -> None:
        """End every process of the cluster (terminate, then kill what lingers)."""
        procs = [*self.workers, self.scheduler]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
