"""The per-op time limit: a proof runs in a forked child process that is killed when it runs out.

No signal is delivered to the calling process, so nothing interrupts code it
runs meanwhile (Hypothesis' gc callbacks during ``gradproof mutate`` included);
the child is a copy of the caller (plugins, monkeypatches and all), sends its
result back pickled through a pipe, and is killed with SIGKILL at the
deadline. Where ``os.fork`` does not exist the proof runs in-process,
unlimited.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_limited"]

T = TypeVar("T")


def _child(fn: Callable[[], object], fd: int) -> None:
    gc.callbacks.clear()
    try:
        result: tuple[str, object] = ("ok", fn())
    except BaseException as exc:  # everything goes back to the parent
        result = ("error", exc)
    try:
        data = pickle.dumps(result)
    except Exception as exc:
        data = pickle.dumps(("error", RuntimeError(f"the proof could not be sent back: {exc}")))
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


_warm = False


def _warm_up() -> None:
    """Import, once in this process, the parts of sympy and mpmath a proof loads on first use,
    so that each child does not pay for them again."""
    global _warm
    if _warm:
        return
    import sympy

    x = sympy.Symbol("x", real=True)
    sympy.lambdify([x], sympy.sin(x) + sympy.Piecewise((x, x > 0), (0, True)), modules="mpmath")(1)
    sympy.limit(sympy.sin(x) / x, x, 0, "+")
    sympy.solveset(sympy.Abs(x) - 1, x, sympy.S.Reals)
    sympy.simplify(sympy.cos(x) ** 2 + sympy.sin(x) ** 2)
    sympy.N(sympy.sqrt(2) / sympy.sqrt(sympy.pi), 30)
    _warm = True


def run_limited(fn: Callable[[], T], seconds: float) -> tuple[bool, T | None]:
    """``(True, fn())`` computed in a child within ``seconds``, or ``(False, None)`` when it ran out.

    An exception raised by ``fn`` is raised again here.
    """
    if not hasattr(os, "fork"):
        return True, fn()
    _warm_up()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            _child(fn, write)
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                return False, None
            ready, _, _ = select.select([read], [], [], left)
            if ready:
                chunk = os.read(read, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError("the proof process ended without a result")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        raise value
    return True, value
