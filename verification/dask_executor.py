"""Chunks on a Dask cluster: connect, ship plugins to the workers, results as they finish.

``--scheduler tcp://HOST:8786`` (or ``--scheduler-file FILE``) sends the
chunks of a run to an existing Dask scheduler instead of local worker
processes. Tasks are submitted lazily, a bounded number in flight; each is
``pure=False`` with retries, and the scheduler runs a chunk again when the
worker running it dies, so the client receives every chunk (it writes each
once, keyed by its index). Plugins given as ``.py`` files are uploaded to
every worker; a module plugin or an engine a worker cannot import is a
usage error naming the worker and what it lacks, before any chunk runs.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from verification.errors import UsageError

__all__ = ["Cluster", "DaskSession", "IN_FLIGHT_PER_THREAD", "TASK_RETRIES"]

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_THREAD = 2
"""Tasks submitted per worker thread: one running, one waiting."""

TASK_RETRIES = 2
"""Times a chunk that raised is run again (a chunk on a worker that died is rescheduled by Dask itself)."""

_CONNECT_TIMEOUT = "20s"


@dataclass(frozen=True)
class Cluster:
    """Where the scheduler is: an address (``tcp://HOST:8786``) or a scheduler file written by ``dask scheduler``."""

    address: str | None = None
    scheduler_file: str | None = None

    def describe(self) -> str:
        """The scheduler as a user named it."""
        return self.address or f"the scheduler in {self.scheduler_file}"


def _is_file(spec: str) -> bool:
    return spec.endswith(".py") or Path(spec).exists()


class DaskSession:
    """A connected client whose workers can run the run's tasks (plugins uploaded, imports checked)."""

    def __init__(self, cluster: Cluster, *, plugins: Sequence[str] = (), engine: str | None = None) -> None:
        try:
            import distributed
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'gradproof[dask]'") from None
        if cluster.scheduler_file is not None and not Path(cluster.scheduler_file).is_file():
            raise UsageError(f"scheduler file {cluster.scheduler_file!r} does not exist")
        try:
            if cluster.scheduler_file is not None:
                client = distributed.Client(scheduler_file=cluster.scheduler_file, timeout=_CONNECT_TIMEOUT)
            else:
                client = distributed.Client(cluster.address, timeout=_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {cluster.describe()}: {exc}") from None
        self.client = client
        self.plugins = tuple(plugins)
        try:
            self._prepare(engine)
            self._described = f"Dask scheduler {client.scheduler.address} ({self.threads} worker threads)"
        except BaseException:
            client.close()
            raise

    def _prepare(self, engine: str | None) -> None:
        workers = self.client.scheduler_info().get("workers", {})
        if not workers:
            raise UsageError("the Dask scheduler has no workers; start some with: dask worker SCHEDULER_ADDRESS")
        for spec in self.plugins:
            if _is_file(spec):
                self.client.upload_file(str(Path(spec).resolve()), load=False)
        problems = self.client.run(_worker_problems, self.plugins, engine)
        for worker, problem in sorted(problems.items()):
            if problem:
                raise UsageError(f"Dask worker {worker} {problem}")

    @property
    def threads(self) -> int:
        """Worker threads in the cluster."""
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        """``Dask scheduler ADDRESS (N worker threads)``."""
        return self._described

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T], *, count: int) -> Iterator[R]:
        """``fn`` over ``tasks`` on the cluster, in finishing order, at most ``IN_FLIGHT_PER_THREAD`` per thread."""
        import distributed

        remote = _OnWorker(fn, self.plugins)
        source = iter(tasks)
        limit = IN_FLIGHT_PER_THREAD * self.threads
        running = distributed.as_completed(with_results=True)
        futures: set[Any] = set()

        def submit() -> bool:
            task = next(source, _END)
            if task is _END:
                return False
            future = self.client.submit(remote, task, pure=False, retries=TASK_RETRIES)
            futures.add(future)
            running.add(future)
            return True

        try:
            while len(futures) < limit and submit():
                pass
            for future, result in running:
                futures.discard(future)
                future.release()
                yield result
                if len(futures) < limit:
                    submit()
        finally:
            if futures:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(futures))

    def close(self) -> None:
        """Disconnect (the cluster keeps running)."""
        with contextlib.suppress(Exception):
            self.client.close()

    def __enter__(self) -> DaskSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_END: Any = object()


def _local_plugin(spec: str, worker: Any) -> str:
    """The plugin as this worker can load it: the path itself, or the copy uploaded to the worker."""
    if not _is_file(spec) or Path(spec).is_file():
        return spec
    return str(Path(worker.local_directory) / Path(spec).name)


_LOADED: set[tuple[str, ...]] = set()


def _load_plugins_once(plugins: tuple[str, ...], worker: Any = None) -> None:
    """Load the plugins in this worker process unless done (``worker``: the Dask worker, else the current one)."""
    if plugins and plugins not in _LOADED:
        from distributed import get_worker

        from verification.plugins import load_plugins

        here = worker if worker is not None else get_worker()
        load_plugins(tuple(_local_plugin(p, here) for p in plugins))
        _LOADED.add(plugins)


def _worker_problems(plugins: tuple[str, ...], engine: str | None, dask_worker: Any = None) -> str:
    """Run on each worker (``Client.run`` passes ``dask_worker``): '' when it can load the plugins and the
    engine, else what it cannot."""
    try:
        _load_plugins_once(plugins, dask_worker)
    except Exception as exc:
        return f"cannot load the plugins: {exc}"
    if engine is None:
        return ""
    module_part, sep, _ = engine.rpartition(":")
    if not sep or engine.startswith("mutant:"):
        return ""
    if _is_file(module_part):
        if not Path(module_part).is_file():
            return (
                f"cannot read engine file {module_part!r}: put it on a path the workers share, "
                "or install it on the workers as a module (module:Class)"
            )
        return ""
    try:
        importlib.import_module(module_part)
    except Exception as exc:
        return f"cannot import engine module {module_part!r}: {type(exc).__name__}: {exc}"
    return ""


class _OnWorker:
    """``fn`` run on a Dask worker after the run's plugins are loaded there (once per worker process)."""

    def __init__(self, fn: Callable[[Any], Any], plugins: tuple[str, ...]) -> None:
        self.fn = fn
        self.plugins = plugins

    def __call__(self, task: Any) -> Any:
        _load_plugins_once(self.plugins)
        return self.fn(task)
