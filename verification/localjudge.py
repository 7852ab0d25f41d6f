"""Judge one op application of an engine, in isolation, against the op's declaration at exact float inputs.

The engine runs the single op at float64 inputs; the truth is the op's
declared forward and rule run in mpmath at those very inputs (the rule is the
one ``prove`` proves). With the inputs exact, the only error left is the op's
own arithmetic, and two allowances tell its kind (``S = 4``, ``K = 8``,
``u = 2**-53``, ``eta = 2**-1074``):

* *careful*: ``S (K u |t| + eta) + ulp(t)`` -- what an implementation that keeps
  every bit (gradproof's own rules) may lose;
* *textbook*: ``S K u (|t| (1 + |ln |t||) + 1) + S eta`` -- what any correct
  formula built from O(1) intermediate terms may lose: the ``+ 1`` is an
  absolute error of one rounding of an O(1) term, which is all that
  ``1 - tanh(x)**2``, ``s * (1 - s)`` or ``(e**2x - 1)/(e**2x + 1)`` lose (the
  cancellation is absolute, so it is harmless where the result is O(1) and
  costs every bit where it is tiny); ``|t| |ln |t||`` is the atomic condition
  number of ``exp`` at ``ln |t|``, what a result computed as ``exp(y log x)``
  loses.

An error within the careful allowance is no defect; within the textbook one it
is ``inaccurate``; beyond it, at ordinary inputs, ``wrong`` -- no correct
formula loses that much where inputs and results are ordinary numbers
(:func:`ordinary`) -- and at extreme inputs ``fragile``. An exception, a hang
or a non-number where the truth is a finite float is ``broken`` at ordinary
inputs and ``fragile`` at extreme ones. At a declared kink the partial is
judged against the Clarke subdifferential: anything between the one-sided
derivatives (widened by the allowances) is right.

On an engine that flushes subnormals to zero (:func:`verification.judging.engine_flushes`)
the op is judged twice: as IEEE arithmetic, and as the engine computes --
subnormal inputs read as zeros of their sign, the truth there with its
subnormal results flushed, and the smallest normal number in place of
``eta`` in both allowances. Ordinary inputs are those the engine reads (a
subnormal input is a zero to it); ordinary results are the true ones (a
subnormal result is as extreme as any tiny one). The less severe verdict
stands; an error that only the flushing view explains is ``inaccurate``
with aspect ``flush-to-zero`` (a documented behaviour of the framework, not
of the op), while an error neither view explains keeps its severity: a
backward giving 0 at ``x = 1e-310``, which the engine reads as 0, where
the derivative is 0.5, is ``wrong``. Where the op is undefined at the
flushed inputs (``log`` of a subnormal read as 0) the result is not judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from autodiff import get_op, in_domain, mpmath_backend
from verification.allowances import careful_allowance, classify_error, ordinary, textbook_allowance
from verification.bounds import ETA
from verification.defect_kinds import Form, Severity
from verification.engine_api import Engine, Evaluation
from verification.expr import Apply, Const, Var
from verification.forms import form_of
from verification.judging import SMALLEST_NORMAL, engine_flushes, flushed
from verification.metrics import measure

__all__ = [
    "FLUSH",
    "LocalCheck",
    "judge_local",
    "ordinary",
    "careful_allowance",
    "textbook_allowance",
    "classify_error",
]

_DPS = 60
_FLOAT_MAX = 1.7976931348623157e308
_SIDE = 1e-30  # distance of the one-sided points from a kink (in mpmath, exact enough for a limit)


@dataclass(frozen=True)
class LocalCheck:
    """One op run alone by the engine at exact inputs, and what is wrong with it (``severity`` None: nothing)."""

    op: str
    form: Form
    inputs: tuple[float, ...]
    is_value: tuple[bool, ...]
    params: tuple[float, ...]
    severity: Severity | None
    aspect: str  # "value", "gradient", "raises", "hangs", "non-number", "" when fine or not judged
    detail: str
    engine_value: float | None = None
    true_value: float | None = None
    engine_partials: tuple[float | None, ...] = ()
    true_partials: tuple[float | None, ...] = ()
    ulps: float = 0.0
    bits: float = 0.0
    judged: bool = True

    def tree(self) -> Apply:
        """The single-op expression the engine ran (Values as variables, numbers as constants)."""
        args: list[Var | Const] = []
        k = 0
        for x, is_v in zip(self.inputs, self.is_value):
            if is_v:
                args.append(Var(k))
                k += 1
            else:
                args.append(Const(x))
        return Apply(self.op, tuple(args), self.params)

    def point(self) -> tuple[float, ...]:
        """Values of the expression's variables."""
        return tuple(x for x, is_v in zip(self.inputs, self.is_value) if is_v)


_Truth = tuple[Any, tuple[Any, ...]]
"""True value and partials, in mpmath."""


def _truth(op_name: str, inputs: Sequence[float], params: Sequence[float]) -> _Truth | str:
    """True value and partials in mpmath at the exact inputs, or why there are none."""
    op = get_op(op_name)
    m = _backend(_DPS)
    if any(not in_domain(dom, x) for dom, x in zip(op.domains(params), inputs)):
        return "outside the op's domain"
    xs = [m.num(x) for x in inputs]
    ps = [m.num(p) for p in params]
    try:
        ans = m.num(op.forward(m, *xs, *ps))
        rules = op.partials(m, ans, *xs, *ps)
        partials = tuple(_derivative(op, inputs, params, j, rules[j]) for j in range(op.arity))
    except (ArithmeticError, ValueError):
        return "undefined there"
    except Exception as exc:  # the declaration itself fails inside its domain
        return f"the op's declaration fails here: {type(exc).__name__}: {exc}"
    return ans, partials


@lru_cache(maxsize=8)
def _backend(dps: int) -> Any:
    """One mpmath backend per precision (a context is costly to make)."""
    return mpmath_backend(dps)


def _derivative(op: Any, xs: Sequence[float], params: Sequence[float], j: int, rule: Any) -> Any:
    """d forward / d x_j: the op's rule where a central difference of its forward confirms it, else the difference.

    The truth must not rest on the rule alone: the rule is what an engine
    (ours with a plugin op included) is being checked against. The step is
    ``2**-70 |x_j|`` (``2**-70`` at 0) and the context carries 130 bits
    beyond it. Where the difference cannot resolve the derivative (tanh' at
    58.5 is 1e-51 next to tanh = 1), its error bound covers the rule and
    the rule's exact value is kept; a rule off by more than that bound is
    replaced by the difference.
    """
    x = float(xs[j])
    exponent = math.frexp(x)[1] - 70 if x != 0.0 else -70
    dps = _DPS + 50 * max(0, math.ceil((-exponent - 70) / 166))
    m = _backend(dps)
    ctx = m.ctx
    args = [m.num(v) for v in xs]
    ps = [m.num(p) for p in params]

    def central(h: Any) -> tuple[Any, Any]:
        up, down = list(args), list(args)
        up[j] = args[j] + h
        down[j] = args[j] - h
        f_up, f_down = m.num(op.forward(m, *up, *ps)), m.num(op.forward(m, *down, *ps))
        return (f_up - f_down) / (2 * h), ctx.ldexp(max(abs(f_up), abs(f_down)), -ctx.prec + 2) / h

    h = ctx.ldexp(ctx.one, exponent)
    coarse, _ = central(h)
    diff, rounding = central(h / 2)
    truncation = abs(coarse - diff)  # the h**2 term: x**3 at 0 differs by h**2 / 4 from its derivative 0
    if abs(m.num(rule) - diff) <= 2 * (rounding + truncation) + ctx.ldexp(abs(diff), -100):
        return m.num(rule)
    return diff


def _clarke(op_name: str, inputs: Sequence[float], params: Sequence[float], j: int) -> tuple[float, float] | None:
    """The one-sided derivatives' range of input ``j`` when it sits exactly on a declared kink."""
    op = get_op(op_name)
    if not any(k.input == j and k.at == inputs[j] for k in op.kinks):
        return None
    sides = []
    for step in (-_SIDE, _SIDE):
        moved = list(inputs)
        m = _backend(_DPS)
        xs = [m.num(x) for x in moved]
        xs[j] = xs[j] + step
        ps = [m.num(p) for p in params]
        ans = op.forward(m, *xs, *ps)
        sides.append(float(op.partials(m, ans, *xs, *ps)[j]))
    return min(sides), max(sides)


def _finite_float(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        return None
    return f


def judge_local(
    engine: Engine,
    op_name: str,
    inputs: Sequence[float],
    is_value: Sequence[bool],
    params: Sequence[float] = (),
) -> LocalCheck:
    """Run ``op_name`` alone on ``engine`` at ``inputs`` (Values where ``is_value``) and judge it."""
    op = get_op(op_name)
    inputs, is_value, params = tuple(float(x) for x in inputs), tuple(is_value), tuple(params)
    base = LocalCheck(op_name, form_of(op, is_value), inputs, is_value, params, None, "", "")
    ev: Evaluation = engine.evaluate(base.tree(), base.point())
    truth = _truth(op_name, inputs, params)
    if isinstance(truth, str):
        return _without_truth(base, ev, truth)
    if not engine_flushes(engine):
        return _against(base, ev, truth, _View(inputs, params))
    ieee = _against(base, ev, truth, _View(inputs, params, inputs_read=True))
    if ieee.severity is None or not ieee.judged:
        return ieee
    return _flushing_view(base, ev, truth, ieee)


@dataclass(frozen=True)
class _View:
    """The arithmetic a result is judged in: IEEE, or flushing subnormals (operands read as zeros, results
    flushed, the smallest normal number for ``eta``); ``inputs_read``: ordinary inputs are those the engine
    reads (a subnormal is a zero)."""

    inputs: tuple[float, ...]
    params: tuple[float, ...]
    flushing: bool = False
    inputs_read: bool = False

    @property
    def floor(self) -> float:
        """What one underflowing rounding may lose."""
        return SMALLEST_NORMAL if self.flushing else ETA

    def held(self, x: float) -> float:
        """``x`` as this arithmetic holds it."""
        return flushed(x) if self.flushing else x

    def ordinary(self, outputs: Sequence[float], *, failure: bool = False) -> bool:
        """:func:`ordinary` of the inputs (those the engine reads, when ``inputs_read``) and the true ``outputs``."""
        held = [flushed(x) for x in self.inputs] if self.inputs_read else self.inputs
        return ordinary(held, outputs, failure=failure)


def _flushing_view(base: LocalCheck, ev: Evaluation, truth: _Truth, ieee: LocalCheck) -> LocalCheck:
    """``ieee`` (a defect as IEEE arithmetic) judged again as an engine that flushes subnormals computes."""
    view = _View(tuple(flushed(x) for x in base.inputs), tuple(flushed(p) for p in base.params), True, True)
    if view.inputs + view.params != base.inputs + base.params:
        found = _truth(base.op, view.inputs, view.params)
        if isinstance(found, str):
            return _replace(base, judged=False, detail=f"{found} once its subnormal operands are read as 0")
        truth = found
    ftz = _against(base, ev, truth, view)
    if ftz.severity is None:
        said = f"{ieee.detail}: only flushing subnormals to zero explains it (the engine flushes them)"
        return _replace(ieee, severity=Severity.INACCURATE, aspect=FLUSH, detail=said)
    rank = list(Severity).index
    return ftz if rank(ftz.severity) > rank(ieee.severity or Severity.WRONG) else ieee


FLUSH = "flush-to-zero"
"""The aspect of an error that only an engine's flushing of subnormals to zero explains."""


def _against(base: LocalCheck, ev: Evaluation, truth: _Truth, view: _View) -> LocalCheck:
    """``ev`` judged against ``truth`` (value and partials in mpmath) in the arithmetic of ``view``."""
    t_val = float(truth[0]) if abs(truth[0]) <= _FLOAT_MAX else math.inf
    t_parts = [float(p) if abs(p) <= _FLOAT_MAX else math.inf for p in truth[1]]
    is_value = base.is_value
    wanted = [p for p, v in zip(t_parts, is_value) if v]
    if not math.isfinite(t_val) or not all(math.isfinite(p) for p in wanted):
        return _replace(base, judged=False, detail="the true result is beyond float64")
    is_ordinary = view.ordinary([t_val, *wanted])
    fails_ordinary = view.ordinary([t_val, *wanted], failure=True)
    t_val, t_parts = view.held(t_val), [view.held(p) for p in t_parts]
    if not ev.ok:
        return _failed(base, ev, t_val, fails_ordinary)
    e_val = _finite_float(ev.value)
    e_grads = [_finite_float(g) for g in ev.grads or ()]
    if e_val is None or any(g is None for g in e_grads):
        return _replace(base, severity=Severity.BROKEN, aspect="non-number", detail="the engine returned a non-number")
    it = iter(e_grads)
    e_parts = tuple(next(it) if v else None for v in is_value)
    t_parts_shown = tuple(p if v else None for p, v in zip(t_parts, is_value))
    result = _replace(base, engine_value=e_val, true_value=t_val, engine_partials=e_parts, true_partials=t_parts_shown)
    checks: list[tuple[str, str, float, float, tuple[float, float] | None]] = [
        ("value", f"value {e_val!r}, true {t_val!r}", e_val, t_val, None)
    ]
    names = get_op(base.op).input_names()
    for j, (e, t) in enumerate(zip(e_parts, t_parts)):
        if e is not None:
            said = f"local partial d/d{names[j]} {e!r}, true {t!r}"
            checks.append(("gradient", said, e, t, _clarke(base.op, view.inputs, view.params, j)))
    return _worst(result, checks, is_ordinary=is_ordinary, fails_ordinary=fails_ordinary, floor=view.floor)


def _without_truth(base: LocalCheck, ev: Evaluation, why: str) -> LocalCheck:
    """No true result: not judged, unless the declaration and the engine both fail inside the domain."""
    if why.startswith("the op's declaration fails") and not ev.ok:
        severity = Severity.BROKEN if ordinary(base.inputs, [], failure=True) else Severity.FRAGILE
        return _replace(base, severity=severity, aspect="raises", detail=f"{ev.error} ({why})")
    return _replace(base, judged=False, detail=why)


def _failed(base: LocalCheck, ev: Evaluation, t_val: float, fails_ordinary: bool) -> LocalCheck:
    """The engine raised where the truth is a finite float: a hang or a non-number is broken, else by the inputs."""
    kind = (ev.error or "").partition(":")[0]
    if kind == "TimeLimit":
        return _replace(base, severity=Severity.BROKEN, aspect="hangs", detail=str(ev.error), true_value=t_val)
    if kind == "NonNumber":
        return _replace(base, severity=Severity.BROKEN, aspect="non-number", detail=str(ev.error), true_value=t_val)
    severity = Severity.BROKEN if fails_ordinary else Severity.FRAGILE
    return _replace(base, severity=severity, aspect="raises", detail=str(ev.error), true_value=t_val)


def _worst(
    result: LocalCheck,
    checks: Sequence[tuple[str, str, float, float, tuple[float, float] | None]],
    *,
    is_ordinary: bool,
    fails_ordinary: bool,
    floor: float = ETA,
) -> LocalCheck:
    """The most severe of the (aspect, wording, engine, truth, Clarke range) comparisons, or ``result`` if none."""
    worst: tuple[int, Severity, str, str, float, float] | None = None
    for aspect, said, e, t, clarke in checks:
        target = t
        if clarke is not None:
            target = min(max(e, clarke[0]), clarke[1])  # anywhere in the Clarke subdifferential is right
            said += f" (one-sided derivatives {clarke[0]!r} .. {clarke[1]!r})"
        sev = classify_error(e, target, is_ordinary=is_ordinary, fails_ordinary=fails_ordinary, floor=floor)
        if sev is None:
            continue
        rank = list(Severity).index(sev)
        if worst is None or rank < worst[0]:
            m = measure(e, target)
            worst = (rank, sev, aspect if math.isfinite(e) else "non-finite", said, m.ulp_err, m.bits_err)
    if worst is None:
        return result
    _, sev, aspect, said, ulps, bits = worst
    return _replace(result, severity=sev, aspect=aspect, ulps=ulps, bits=bits, detail=said)


def _replace(c: LocalCheck, **changes: Any) -> LocalCheck:
    return replace(c, **changes)
