"""The decision ladder: transforms that may reduce ``rule - truth`` to 0, each under a time budget.

What each step assumes (nothing beyond the symbols' own assumptions, which
are those of the region: real, or a positive ``Dummy``):

* ``as written``, ``cancel``, ``expand``, ``trigsimp``, ``simplify``,
  ``piecewise_fold + simplify``: sympy's identities, valid for all values of
  the symbols their assumptions allow (``cancel`` also removes common factors,
  so an identity can hold only away from the zeros of a cancelled factor; the
  audit evaluates the rule's own code at those points);
* ``rewrite(exp)``: trigonometric and hyperbolic functions through ``exp``;
  the generators stay plain ``exp(...)`` terms, nothing is assumed of them;
* ``exp generators``: each ``exp(c*w)`` with ``w`` *real* (sympy decides
  ``w.is_real``) becomes ``E_w**c`` for a positive Dummy ``E_w`` -- true
  because exp of a real number is positive. ``exp(I*x)`` from a trigonometric
  rewrite is never frozen, so ``cos(x)`` is never taken as positive;
* ``rewrite(log)``: atanh and friends through log; ``log(a*b)`` split only
  where sympy proves the factors positive from the symbols' assumptions;
* ``exp of the difference``: a difference ``d`` of real values holding logs is
  0 when ``exp(d) - 1`` reduces to 0 over real exponential generators (exp is
  injective on the reals; both sides are real on the region);
* ``each branch``: an expression holding Piecewises is 0 if, for every truth
  assignment of the relations in their conditions (each an independent
  boolean, so every combination real values give is among them), the branches
  taken make an expression the cheap steps reduce to 0; under an assignment
  that makes ``Eq(a, b)`` true, ``a = b`` is substituted
  (:mod:`verification.prove.branches`). It comes third: on a difference
  holding ``where`` branches it is cheaper than the global rewrites, and on
  one without it returns at once.
"""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import sympy

from verification.prove.branches import each_assignment

__all__ = ["LADDER", "CHEAP_LADDER", "COSTLY_LADDER", "attempt", "reduces_to_zero"]


class _OutOfTime(BaseException):
    """Raised by the interval timer; a BaseException so sympy's ``except Exception`` lets it through."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _OutOfTime


def attempt(fn: Callable[[Any], Any], expr: Any, seconds: float) -> Any:
    """``fn(expr)`` within ``seconds``, or None when it fails or runs out.

    The timer is SIGALRM, armed only on the main thread and only for this call;
    while it is armed the interpreter's gc callbacks (Hypothesis keeps some) are
    set aside, so the timer never fires inside one. Off the main thread the call
    runs unbounded (the per-op limit of :mod:`verification.prove.budget` still holds).
    """
    if threading.current_thread() is not threading.main_thread():
        try:
            return fn(expr)
        except Exception:
            return None
    saved = list(gc.callbacks)
    gc.callbacks.clear()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(expr)
    except (_OutOfTime, Exception, RecursionError):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        gc.callbacks[:] = saved


def _cancel_exp(e: Any) -> Any:
    return sympy.cancel(sympy.expand(e.rewrite(sympy.exp)))


def _freeze_exp(e: Any, found: dict[Any, Any]) -> Any:
    """Each exp(c*w) (c rational, w real) as E_w**c with E_w a positive Dummy; ``found`` maps w to E_w."""
    mapping = {}
    for node in e.atoms(sympy.exp):
        c, w = node.args[0].as_coeff_Mul()
        if w.is_real is not True or not c.is_Rational:
            continue
        if w.could_extract_minus_sign():
            c, w = -c, -w
        mapping[node] = found.setdefault(w, sympy.Dummy("E", positive=True)) ** c
    return e.xreplace(mapping)


def _exp_generators(e: Any) -> Any:
    """exp(a + b) split into exp(a)*exp(b), real exponentials frozen as positive generators, what
    remains (tanh, ...) written with exp and frozen likewise, then cancelled."""
    found: dict[Any, Any] = {}
    split = {"mul": False, "multinomial": False, "log": False}
    frozen = _freeze_exp(sympy.expand(e, **split), found)
    return sympy.cancel(_freeze_exp(sympy.expand(frozen.rewrite(sympy.exp), **split), found))


def _logs(e: Any) -> Any:
    """Inverse hyperbolic functions through log, logs of products/quotients split where the
    factors are positive (``expand_log(force=False)`` checks each factor's sign)."""
    return sympy.expand_log(sympy.expand(e.rewrite(sympy.log)), force=False)


def _exp_of(e: Any) -> Any:
    """``exp(e) - 1`` over real exponential generators: 0 exactly when the real ``e`` is 0
    (exp is injective on the reals), so ``x + log(1 + exp(y - x)) - log(exp(x) + exp(y))`` is 0."""
    if not e.has(sympy.log):
        return e
    return _exp_generators(sympy.expand(sympy.exp(e), power_exp=True) - 1)


def _fold_simplify(e: Any) -> Any:
    return sympy.simplify(sympy.piecewise_fold(e))


def _cheap_zero(e: Any) -> bool:
    return any(_zero_after(step, e) for _, step in CHEAP_LADDER)


def _each_branch(e: Any) -> Any:
    """0 when, under every truth assignment of the Piecewise conditions' relations, the branches
    taken make an expression the cheap steps reduce to 0 (:mod:`verification.prove.branches`)."""
    return sympy.S.Zero if each_assignment(e, _cheap_zero) else e


LADDER: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("as written", lambda e: e),
    ("cancel", sympy.cancel),
    ("each branch", _each_branch),
    ("expand", sympy.expand),
    ("rewrite(exp)", _cancel_exp),
    ("exp generators", _exp_generators),
    ("rewrite(log)", _logs),
    ("exp of the difference", _exp_of),
    ("trigsimp", sympy.trigsimp),
    ("piecewise_fold + simplify", _fold_simplify),
    ("simplify", sympy.simplify),
)
_CHEAP = ("as written", "cancel", "rewrite(exp)", "exp generators", "exp of the difference")
CHEAP_LADDER = tuple(step for step in LADDER if step[0] in _CHEAP)
COSTLY_LADDER = tuple(step for step in LADDER if step[0] not in _CHEAP)


def _zero_after(transform: Callable[[Any], Any], e: Any) -> bool:
    try:
        return bool(transform(e).is_zero is True)
    except Exception:
        return False


def reduces_to_zero(
    diff: Any, budget: float, ladder: Sequence[tuple[str, Callable[[Any], Any]]] | None = None
) -> str | None:
    """Name of the first transform of ``ladder`` (default: :data:`LADDER`) that turns ``diff`` into a provable 0."""
    for name, transform in LADDER if ladder is None else ladder:
        if attempt(partial(_zero_after, transform), diff, budget):
            return name
    return None
