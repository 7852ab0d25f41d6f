"""The life cycle of a run directory: claimed atomically, locked while it runs, a status on every exit.

:meth:`RunDir.create` claims a new or empty directory (``mkdir``, then the lock
file created with ``O_EXCL``) and refuses one that holds a run or anything
else; :meth:`RunDir.resume` reopens an unfinished run. While a :class:`RunDir`
is open its lock file is ``flock``-ed, so a second process is refused; a run
whose ``run.json`` says ``running`` while nobody holds the lock was killed,
and the next touch (:func:`mark_if_stale`) says so. SIGINT and SIGTERM both
raise ``KeyboardInterrupt`` while the run is open, so SIGTERM ends it like Ctrl-C.

Each chunk is committed in order: its table parts (atomic), its findings
(appended to ``findings.jsonl``), then its line in the manifest
``chunks.jsonl``; a chunk without a manifest line is run again on resume and
its part replaced, never duplicated.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import socket
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from runstore.atomic import append_lines, to_data, write_bytes, write_json
from runstore.errors import RunStoreError
from runstore.layout import FINDINGS_LOG, LOCK_FILE, MANIFEST_FILE, RUN_FILE, RunKind, Status
from runstore.manifest import ChunkEntry, read_manifest, read_meta
from runstore.schema import TABLES, Format, TableSpec
from runstore.tables import write_csv, write_part

__all__ = [
    "ChunkEntry",
    "RunDir",
    "claim_new",
    "mark_if_stale",
    "read_meta",
    "read_manifest",
    "held_lock_fds",
    "stop_requested",
]

_HELD: set[int] = set()
_STOP: list[bool] = [False]


def stop_requested() -> bool:
    """Whether SIGINT or SIGTERM arrived while a run was open in this process (polled by waiting loops)."""
    return _STOP[0]


def held_lock_fds() -> frozenset[int]:
    """File descriptors of the locks this process holds (a forked worker closes its copies)."""
    return frozenset(_HELD)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _try_lock(path: Path) -> int | None:
    """An fd holding the run's lock, or None when another process holds it."""
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _holder(path: Path) -> str:
    try:
        text = (path / LOCK_FILE).read_text().strip()
    except OSError:
        return "another process"
    return f"process {text}" if text else "another process"


def mark_if_stale(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with a ``running`` status that nobody holds the lock of turned into ``killed`` (saved when possible)."""
    if meta.get("status") != Status.RUNNING.value:
        return meta
    try:
        fd = _try_lock(path)
    except OSError:
        return meta  # cannot tell (no permission to open the lock file)
    if fd is None:
        return meta  # really running
    try:
        meta = {
            **meta,
            "status": Status.KILLED.value,
            "status_note": "the process ended without recording why (killed, crashed, or out of disk space); "
            f"found at {_now()}",
        }
        with contextlib.suppress(OSError):
            write_json(path / RUN_FILE, meta)
    finally:
        os.close(fd)
    return meta


def claim_new(parent: Path, stem: str) -> Path:
    """A new directory ``parent/stem`` (or ``stem-2``, ``stem-3``, ... when taken), created atomically."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunStoreError(f"cannot create {str(parent)!r}: {exc.strerror or exc}") from None
    n = 1
    while True:
        path = parent / (stem if n == 1 else f"{stem}-{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            n += 1
        except OSError as exc:
            raise RunStoreError(f"cannot create {str(path)!r}: {exc.strerror or exc}") from None


class RunDir:
    """An open run directory: the lock held, ``run.json`` kept current, chunks committed as they finish."""

    def __init__(self, path: Path, kind: RunKind, meta: dict[str, Any], lock_fd: int) -> None:
        self.path = path
        self.kind = kind
        self.meta = meta
        self.chunks: dict[int, ChunkEntry] = {}
        self._fd: int | None = lock_fd
        self._status = Status.RUNNING
        self._previous: dict[int, Any] = {}
        self._committing = False
        _HELD.add(lock_fd)

    # --- opening -----------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, kind: RunKind, meta: Mapping[str, Any]) -> RunDir:
        """Claim ``path`` (new, or an existing empty directory) for a new run and write ``run.json``."""
        for part in (path, *path.parents):
            if part.exists():
                if not part.is_dir():
                    raise RunStoreError(f"{str(part)!r} is not a directory")
                break
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)
            entries = sorted(p.name for p in path.iterdir())
        except OSError as exc:
            raise RunStoreError(f"cannot write to output directory {str(path)!r}: {exc.strerror or exc}") from None
        if RUN_FILE in entries or LOCK_FILE in entries:
            raise RunStoreError(f"{str(path)!r} already holds a run; resume it with --resume or choose another --out")
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise RunStoreError(
                f"{str(path)!r} holds files but is not a gradproof run ({shown}); "
                "refusing to write into it: choose a new or empty directory"
            )
        try:
            fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise RunStoreError(f"{str(path)!r} was just claimed by another run; choose another --out") from None
        except OSError as exc:
            raise RunStoreError(f"cannot write to output directory {str(path)!r}: {exc.strerror or exc}") from None
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file nobody else has opened
        run = cls(path, kind, {}, fd)
        run._write_holder()
        run.meta = {
            "run_id": path.name,
            "kind": kind.value,
            **meta,
            "started": _now(),
            "status": Status.RUNNING.value,
        }
        run._save()
        return run

    @classmethod
    def resume(cls, path: Path, kind: RunKind) -> RunDir:
        """Reopen the unfinished run at ``path``: lock it, load its manifest, mark it running again."""
        if not path.is_dir():
            raise RunStoreError(f"{str(path)!r} is not a directory" if path.exists() else f"{path}: no such directory")
        meta = read_meta(path)
        if meta.get("kind", RunKind.CAMPAIGN.value) != kind.value:
            raise RunStoreError(f"{path} holds a {meta.get('kind')} run, not a {kind.value} run")
        try:
            fd = _try_lock(path)
        except OSError as exc:
            raise RunStoreError(f"cannot lock {path / LOCK_FILE}: {exc.strerror or exc}") from None
        if fd is None:
            raise RunStoreError(f"{path} is in use by {_holder(path)}; wait for it to end or stop it first")
        previous = meta.get("status")
        if previous == Status.RUNNING.value:
            previous = Status.KILLED.value  # we hold the lock, so nobody was running it
        if previous == Status.FINISHED.value:
            os.close(fd)
            raise RunStoreError(f"{path} is already finished; nothing to resume")
        run = cls(path, kind, meta, fd)
        run._write_holder()
        run.chunks, _ = read_manifest(path)
        resumed = [*meta.get("resumed", []), {"at": _now(), "previous_status": previous, "chunks": len(run.chunks)}]
        meta.pop("status_note", None)
        run.meta = {**meta, "status": Status.RUNNING.value, "resumed": resumed}
        run._save()
        return run

    def _write_holder(self) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()} on {socket.gethostname()}\n".encode(), 0)

    # --- writing -----------------------------------------------------------------

    def _guard(self, what: str) -> contextlib.AbstractContextManager[None]:
        return _os_errors(self.path, what)

    def _save(self) -> None:
        with self._guard(RUN_FILE):
            write_json(self.path / RUN_FILE, self.meta)

    def update(self, **fields: Any) -> None:
        """Merge ``fields`` into ``run.json`` and save it atomically."""
        self.meta.update(fields)
        self._save()

    def commit_chunk(
        self,
        entry: ChunkEntry,
        tables: Mapping[str, Sequence[Any]],
        findings: Sequence[Any] = (),
        *,
        blobs: Mapping[str, bytes] | None = None,
    ) -> None:
        """Write a finished chunk: its Parquet parts, its side data, its findings, then its manifest line.

        ``blobs`` maps a folder of the run to the chunk's side data in it (one
        file per chunk, written atomically; :meth:`read_blobs` reads them back).

        A chunk already committed is ignored (a retried task's second result never writes twice).
        SIGINT or SIGTERM during the commit does not interrupt it: the run loop's
        :meth:`check_stop` stops the run once the chunk is committed and counted.
        """
        if entry.index in self.chunks:
            return
        with self._deferring_signals():
            self._commit(entry, tables, findings, blobs or {})

    @contextlib.contextmanager
    def _deferring_signals(self) -> Iterator[None]:
        """SIGINT/SIGTERM wait for the block's end (the run loop's :meth:`check_stop` then stops the run)."""
        self._committing = True
        try:
            yield
        finally:
            self._committing = False

    def _commit(
        self,
        entry: ChunkEntry,
        tables: Mapping[str, Sequence[Any]],
        findings: Sequence[Any],
        blobs: Mapping[str, bytes],
    ) -> None:
        for name, rows in tables.items():
            spec = TABLES[name]
            with self._guard(spec.path):
                directory = self.path / spec.path
                directory.mkdir(exist_ok=True)
                write_part(directory, spec, entry.index, rows)
        for folder, data in blobs.items():
            with self._guard(folder):
                (self.path / folder).mkdir(exist_ok=True)
                write_bytes(self.path / folder / _blob_name(entry.index), data)
        if findings:
            with self._guard(FINDINGS_LOG):
                append_lines(self.path / FINDINGS_LOG, [{"chunk": entry.index, **_as_dict(f)} for f in findings])
        with self._guard(MANIFEST_FILE):
            append_lines(self.path / MANIFEST_FILE, [entry])
        self.chunks[entry.index] = entry

    def read_blobs(self, folder: str) -> dict[int, bytes]:
        """The side data of the committed chunks in ``folder``, by chunk index."""
        return {
            i: (self.path / folder / _blob_name(i)).read_bytes()
            for i in self.chunks
            if (self.path / folder / _blob_name(i)).exists()
        }

    def write_text(self, name: str, text: str) -> None:
        """Write the text file ``name`` of the run, atomically."""
        with self._guard(name):
            write_bytes(self.path / name, text.encode("utf-8"))

    def write_table(self, spec: TableSpec, rows: Sequence[Any]) -> None:
        """Replace a small (CSV) table of the run by ``rows``, atomically."""
        if spec.format is not Format.CSV:
            raise ValueError(f"table {spec.name!r} is written in parts, with commit_chunk")
        with self._deferring_signals(), self._guard(spec.path):
            write_csv(self.path / spec.path, spec, rows)

    def write_json(self, name: str, value: Any) -> None:
        """Write ``value`` as the JSON file ``name`` of the run, atomically."""
        with self._guard(name):
            write_json(self.path / name, value)

    # --- ending ------------------------------------------------------------------

    @property
    def status(self) -> Status:
        """The run's status as this process last wrote it."""
        return self._status

    def finish(self, status: Status, **fields: Any) -> None:
        """Record how the run ended (and ``fields``), then release the lock."""
        self._status = status
        self.meta.update(fields, status=status.value, finished=_now())
        try:
            self._save()
        finally:
            self.close()

    def close(self) -> None:
        """Release the lock (the status stays as last written)."""
        if self._fd is not None:
            _HELD.discard(self._fd)
            os.close(self._fd)
            self._fd = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        _STOP[0] = True
        if not self._committing:
            raise KeyboardInterrupt

    def check_stop(self) -> None:
        """Raise KeyboardInterrupt if SIGINT or SIGTERM arrived, even where the interrupt was swallowed.

        A signal handler's exception is lost when it fires inside a garbage
        collector callback; a run loop calls this between chunks to stop anyway.
        """
        if _STOP[0]:
            raise KeyboardInterrupt

    def __enter__(self) -> RunDir:
        _STOP[0] = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: signals stay as they are
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        _STOP[0] = False
        if self._fd is None:
            return
        if exc is None:
            status, note = Status.INTERRUPTED, "the run ended without a status"
        elif isinstance(exc, KeyboardInterrupt):
            status, note = Status.INTERRUPTED, "interrupted (SIGINT or SIGTERM)"
        else:
            status, note = Status.FAILED, str(exc) or type(exc).__name__
        with contextlib.suppress(RunStoreError):  # a full disk may refuse this too: the next touch marks it
            self.finish(status, status_note=note)
        self.close()


def _blob_name(index: int) -> str:
    return f"chunk-{index:06d}.bin"


def _as_dict(value: Any) -> dict[str, Any]:
    data = to_data(value)
    if not isinstance(data, dict):
        raise TypeError(f"a finding must be a mapping or a dataclass, not {type(value).__name__}")
    return data


@contextlib.contextmanager
def _os_errors(path: Path, what: str) -> Iterator[None]:
    """Turn an OSError writing ``what`` into a one-line RunStoreError (a full disk says so)."""
    try:
        yield
    except OSError as exc:
        reason = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
        raise RunStoreError(f"cannot write {path / what}: {reason}") from exc
