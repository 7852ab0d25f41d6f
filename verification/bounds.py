"""The high-precision run: where a point may be sampled, how well-conditioned it is, and error bounds.

The tree is run through the ops' own forwards and rules in mpmath at 80
digits, 30 more than the high-precision engine (the op rules may serve here: this run only estimates conditioning,
the truth comes from :mod:`verification.references`). Alongside, a
first-order running error analysis bounds what float64 arithmetic may cost:

* forward, node ``v = phi(x_1..x_n)`` computed from inputs carrying errors
  ``E_j``: ``E_v = sum_j max(|d phi/d x_j| E_j, |phi(x_j +- E_j) - v|) + |phi(x +- E) - v| + K u |v| + eta``
  (the measured changes, one input and all inputs at a time, catch what
  the first-order term misses);
* each local partial ``p_j``, computed in float64 from inputs and a forward
  result ``ans`` that carry errors: ``P_j = sum_s |d p_j / d s| E_s + K u |p_j| + eta``
  over the arguments ``s`` of the rule, the slope measured by re-running the
  rule with ``s`` moved by its high-precision error bound;
* backward, contribution ``c = a p_j`` of an adjoint ``a`` with bound ``A``:
  ``A_c = |p_j| A + |a| P_j + u |c| + eta``, and the ``m`` contributions
  reaching a variable add ``m u sum |c|`` for the accumulation.

Here ``u = 2**-53``, ``eta = 2**-1074`` (an underflowing rounding) and ``K = 8``
(each op's forward and rule are allowed 4 ULPs). The same recursion with
``u = 2**-prec`` of a 50-digit context and no underflow bounds the
high-precision engine. The *condition estimate*
of a partial is the backward pass over ``|p_j|`` divided by ``|gradient|``.

A point is discarded (and counted) as

* ``undefined`` -- an op input lies outside its domain, or within ``S E`` of
  a domain boundary (float64 could land on either side);
* ``near_kink`` -- an input of an op lies within ``S E + 1e-9 max(1, |k|)`` of a
  declared kink ``k``;
* ``non_finite`` -- a value, partial or adjoint contribution of the exact
  run is not finite or exceeds the float64 range, so float64 cannot follow
  it, or is nonzero below 2**-(2**20) (``exp(-1e136)``), where even the
  50-digit run knows the exponent only roughly.

``S = 4`` (:data:`SAFETY`) is the factor the verdicts also apply to the bounds.
When moving a rule's argument by its high-precision error bound changes the
partial by more than 10% (:data:`NONLINEAR`), or not 2**10 times as much as
moving it by 2**-10 of that (within a factor 2), first-order analysis does
not hold: that partial's bounds are infinite and the results are recorded
but not judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from autodiff import REALS, Domain, MpmathBackend, get_op, in_domain
from verification.expr import Apply, Const, Expr, Resolver, Var

__all__ = ["Analysis", "analyse", "SAFETY", "K_OP", "HP_DPS", "EXTRA_DPS", "U64", "ETA", "KINK_DELTA", "NONLINEAR"]

U64 = 2.0**-53
ETA = 2.0**-1074
K_OP = 8.0
SAFETY = 4.0
HP_DPS = 50
EXTRA_DPS = 30
KINK_DELTA = 1e-9
NONLINEAR = 0.1
_LNONLINEAR = math.log2(NONLINEAR)
_LSCALE = 10.0  # the rule is also moved by 2**-10 of the shift: linear changes scale alike
_LNOISE = -(HP_DPS + EXTRA_DPS - 5) * math.log2(10)  # relative changes below this are rounding


@dataclass(frozen=True)
class Analysis:
    """Result of the high-precision run at one point.

    ``discard`` is None for a usable point, else ``"undefined"``,
    ``"near_kink"`` or ``"non_finite"`` with ``detail`` saying where.
    Bounds are on absolute errors, before the safety factor, as 32-bit
    mpmath numbers (float64 would underflow or overflow on extreme points);
    ``abs_grads`` is the backward pass over ``|p_j|``.
    """

    discard: str | None
    detail: str = ""
    value: Any = None
    grads: tuple[Any, ...] = ()
    abs_grads: tuple[Any, ...] = ()
    value_bound: Any = math.inf
    grad_bounds: tuple[Any, ...] = ()
    value_bound_hp: Any = math.inf
    grad_bounds_hp: tuple[Any, ...] = ()

    def cond(self, k: int) -> float:
        """Condition estimate of the ``k``-th partial: ``sum over paths of prod |p| / |gradient|``."""
        g = abs(self.grads[k])
        if g == 0:
            return math.inf if self.abs_grads[k] > 0 else 1.0
        return float(self.abs_grads[k] / g)


class _Discard(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class _Node:
    """One op application of the run; errors are log2 of absolute bounds."""

    value: Any
    err: float = -math.inf
    err_hp: float = -math.inf
    tree: Expr | None = None
    kids: list[_Node] = field(default_factory=list)
    partials: tuple[Any, ...] = ()
    lp: list[float] = field(default_factory=list)
    p_err: list[float] = field(default_factory=list)
    p_err_hp: list[float] = field(default_factory=list)


_HP: MpmathBackend | None = None


def _hp() -> MpmathBackend:
    """The context of this run: :data:`HP_DPS` + :data:`EXTRA_DPS` digits."""
    global _HP
    if _HP is None:
        _HP = MpmathBackend(HP_DPS + EXTRA_DPS)
    return _HP


@lru_cache(maxsize=1)
def _hp_engine_prec() -> int:
    """Bits of the high-precision engine's context (:data:`HP_DPS` digits)."""
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = HP_DPS
    return int(ctx.prec)


# The bounds are carried as base-2 logarithms in Python floats: products are
# sums, nothing overflows or underflows, and it is much cheaper than mpmath.
_ZERO = -math.inf
_LU = -53.0  # log2 of the unit roundoff
_LETA = -1074.0  # log2 of the smallest subnormal
_LK = math.log2(K_OP)
_LS = math.log2(SAFETY)
_LMAX = 1024.0  # magnitudes from 2**1024 on are beyond float64
_LMIN = -(2.0**20)  # nonzero magnitudes below 2**-(2**20) are beyond any run's judgement


def _lg(x: Any) -> float:
    """log2 |x| of an mpmath number (-inf for 0, inf for inf and NaN; ±2**1000 for an exponent beyond that)."""
    _sign, man, exp, _bc = x._mpf_
    if not man:
        return _ZERO if x == 0 else math.inf
    return float(exp + math.log2(man)) if abs(exp) < 2**1000 else (math.inf if exp > 0 else -(2.0**1000))


def _lsum(*ls: float) -> float:
    """log2 of the sum of 2**l (a NaN, from inf - inf, counts as unbounded)."""
    top = max(ls)
    if top != top or any(v != v for v in ls):
        return math.inf
    if top in (_ZERO, math.inf):
        return top
    return top + math.log2(sum(2.0 ** (v - top) for v in ls))


def _capped(lg: float) -> float:
    """An error bound beyond float64's range is no bound at all (and must not be evaluated at)."""
    return lg if lg < _LMAX else math.inf


def _unlog(ctx: Any, lg: float) -> Any:
    """2**lg as a number of mpmath context ``ctx``."""
    if lg == _ZERO:
        return ctx.zero
    if not lg < math.inf:
        return ctx.inf
    e = math.floor(lg)
    return ctx.ldexp(ctx.mpf(2.0 ** (lg - e)), e)


_LOW: Any = None


def _low() -> Any:
    """A 32-bit mpmath context for the bounds handed out (float64 would under/overflow)."""
    global _LOW
    if _LOW is None:
        import mpmath

        _LOW = mpmath.MPContext()
        _LOW.prec = 32
    return _LOW


def _boundary_distance(domain: Domain, x: Any) -> float:
    """log2 of the distance from ``x`` to the nearest finite end of the domain interval that holds it."""
    best = math.inf
    for iv in domain:
        if iv.contains(x):
            for end in (iv.lo, iv.hi):
                if math.isfinite(end):
                    best = min(best, _lg(x - end))
    return best


def _finite(x: Any, what: str) -> float:
    lg = _lg(x)
    if not lg < _LMAX:
        raise _Discard("non_finite", f"{what} = {x} is beyond float64")
    if _ZERO < lg < _LMIN:
        # exp(-1e136): float64 holds 0, and 50 digits know the exponent itself
        # only to 86 places, so neither engine can be judged
        raise _Discard("non_finite", f"{what} is below 2**{_LMIN:.0f}")
    return lg


def analyse(tree: Expr, point: Sequence[float], *, resolve: Resolver = get_op) -> Analysis:
    """Run ``tree`` at ``point`` in high precision and bound its float64 errors."""
    m = _hp()
    lu_hp = -float(_hp_engine_prec())
    n = len(point)
    try:
        root = _forward(tree, point, m, lu_hp, resolve)
        grads: list[Any] = [m.zero] * n
        abs_grads = [_ZERO] * n
        bounds = [_ZERO] * n
        bounds_hp = [_ZERO] * n
        contrib: list[list[float]] = [[] for _ in range(n)]
        stack: list[tuple[_Node, Any, float, float, float]] = [(root, m.one, _ZERO, _ZERO, 0.0)]
        while stack:
            node, a, bound, bound_hp, absa = stack.pop()
            t = node.tree
            if isinstance(t, Var):
                i = t.index
                grads[i] += a
                abs_grads[i] = _lsum(abs_grads[i], absa)
                bounds[i] = _lsum(bounds[i], bound)
                bounds_hp[i] = _lsum(bounds_hp[i], bound_hp)
                contrib[i].append(_lg(a))
                continue
            if isinstance(t, Const):
                continue
            la = _lg(a)
            for j, kid in enumerate(node.kids):
                lp = node.lp[j]
                c = a * node.partials[j]
                lc = _finite(c, "an adjoint contribution")
                stack.append(
                    (
                        kid,
                        c,
                        _lsum(lp + bound, la + node.p_err[j], _LU + lc, _LETA),
                        _lsum(lp + bound_hp, la + node.p_err_hp[j], lu_hp + lc),
                        absa + lp,
                    )
                )
    except _Discard as d:
        return Analysis(discard=d.reason, detail=d.detail)
    for i in range(n):
        if contrib[i]:
            total = _lsum(*contrib[i]) + math.log2(len(contrib[i]))
            bounds[i] = _lsum(bounds[i], _LU + total)
            bounds_hp[i] = _lsum(bounds_hp[i], lu_hp + total)
    low = _low()
    return Analysis(
        discard=None,
        value=root.value,
        grads=tuple(grads),
        abs_grads=tuple(_unlog(low, v) for v in abs_grads),
        value_bound=_unlog(low, root.err),
        grad_bounds=tuple(_unlog(low, v) for v in bounds),
        value_bound_hp=_unlog(low, root.err_hp),
        grad_bounds_hp=tuple(_unlog(low, v) for v in bounds_hp),
    )


def _forward(tree: Expr, point: Sequence[float], m: MpmathBackend, lu_hp: float, resolve: Resolver) -> _Node:  # noqa: C901 -- one node of the module doc's error recursion, step by step
    if isinstance(tree, Var):
        return _Node(m.num(point[tree.index]), tree=tree)
    if isinstance(tree, Const):
        return _Node(m.num(tree.value), tree=tree)
    assert isinstance(tree, Apply)
    kids = [_forward(a, point, m, lu_hp, resolve) for a in tree.args]
    op = resolve(tree.op)
    vals = [k.value for k in kids]
    params = [m.num(p) for p in tree.params]
    for name, p, dom in zip(op.params, tree.params, op.param_domain):
        if not in_domain(dom, p):
            raise _Discard("undefined", f"{op.name}: parameter {name} = {p!r} is outside its domain")
    for j, (kid, dom) in enumerate(zip(kids, op.domains(tree.params))):
        if dom == REALS:
            continue
        if not in_domain(dom, kid.value):
            raise _Discard("undefined", f"{op.name}: input {j} = {kid.value} is outside its domain")
        if _LS + kid.err >= _boundary_distance(dom, kid.value):
            raise _Discard(
                "undefined", f"{op.name}: input {j} = {kid.value} is within float64 error of its domain's end"
            )
    for kink in op.kinks:
        kid = kids[kink.input]
        near = _lsum(_LS + kid.err, math.log2(KINK_DELTA * max(1.0, abs(kink.at))))
        if _lg(kid.value - kink.at) <= near:
            raise _Discard("near_kink", f"{op.name}: input {kink.input} = {kid.value} is near its kink at {kink.at}")
    try:
        ans = m.num(op.forward(m, *vals, *params))
        # a rule may return plain numbers (``(1.0,)``): bring them into this context
        partials = tuple(m.num(p) for p in op.partials(m, ans, *vals, *params))
    except (ArithmeticError, ValueError) as exc:
        raise _Discard("non_finite", f"{op.name} at {vals}: {exc}") from None
    la = _finite(ans, f"{op.name}(...)")
    lp = [_finite(p, f"the partial of {op.name}") for p in partials]
    # What the inputs' errors do to the value: the first-order term
    # |d phi / d x_j| E_j, or the change measured by moving x_j by E_j (both
    # ways for float64) when that is larger -- as where x**y with x = 1 + 1e-31
    # and y = -2e79 is 0 but float64 rounds x to 1 and returns 1.
    moved_err = [_ZERO] * len(kids)
    moved_err_hp = [_ZERO] * len(kids)
    for j, kid in enumerate(kids):
        if kid.err != _ZERO:
            moved_err[j] = max(_moved(op, m, vals, params, {j: kid.err}, s, ans) for s in (1, -1))
        if kid.err_hp != _ZERO:
            moved_err_hp[j] = _moved(op, m, vals, params, {j: kid.err_hp}, 1, ans)
    err = _lsum(*(max(lpj + k.err, e) for lpj, k, e in zip(lp, kids, moved_err)), _LK + _LU + la, _LETA)
    err_hp = _lsum(*(max(lpj + k.err_hp, e) for lpj, k, e in zip(lp, kids, moved_err_hp)), _LK + lu_hp + la)
    inexact = {j: k for j, k in enumerate(kids) if k.err != _ZERO}
    if len(inexact) > 1:
        # all inputs at once: the product of the errors (x y at x = y = 0) is
        # second order, which no single move shows
        joint = max(_moved(op, m, vals, params, {j: k.err for j, k in inexact.items()}, s, ans) for s in (1, -1))
        joint_hp = _moved(op, m, vals, params, {j: k.err_hp for j, k in inexact.items()}, 1, ans)
        err, err_hp = _lsum(err, joint), _lsum(err_hp, joint_hp)
    err, err_hp = _capped(err), _capped(err_hp)
    p_err = [_lsum(_LK + _LU + lpj, _LETA) for lpj in lp]
    p_err_hp = [_LK + lu_hp + lpj for lpj in lp]
    # Sensitivity of the rule to errors in its arguments (position 0 is
    # ``ans``, positions 1.. the inputs), measured by moving one argument by
    # its high-precision error bound -- resolvable, since this run carries
    # more digits than the engine's high-precision run -- and extrapolated
    # linearly to the float64 bound.
    args = [ans, *vals]
    shifts = [(err, err_hp)] + [(k.err, k.err_hp) for k in kids]
    for s, (shift, shift_hp) in enumerate(shifts):
        if shift_hp == _ZERO:
            continue
        if not shift_hp < _LMAX:
            p_err = [math.inf] * len(p_err)
            p_err_hp = [math.inf] * len(p_err_hp)
            break
        q = _rule_at(op, m, args, params, s, shift_hp)
        q_small = _rule_at(op, m, args, params, s, shift_hp - _LSCALE)
        for j in range(len(p_err)):
            change = _lg(q[j] - partials[j])
            small = _lg(q_small[j] - partials[j])
            linear = change <= lp[j] + _LNOISE or abs(change - small - _LSCALE) <= 1.0
            if change > _LNONLINEAR + lp[j] or not linear:
                # the high-precision error moves this partial by a large
                # fraction, or not in proportion to the move (cos at 8e51,
                # known to 50 digits, is anything): first-order analysis does
                # not apply and the result cannot be judged
                p_err[j] = p_err_hp[j] = math.inf
                continue
            p_err[j] = _lsum(p_err[j], change - shift_hp + shift)
            p_err_hp[j] = _lsum(p_err_hp[j], change)
    return _Node(ans, err, err_hp, tree, kids, partials, lp, p_err, p_err_hp)


def _moved(
    op: Any, m: MpmathBackend, vals: list[Any], params: list[Any], shifts: dict[int, float], sign: int, ans: Any
) -> float:
    """log2 |phi(.., x_j + sign 2**shift_j, ..) - ans| over the inputs ``j`` in ``shifts``.

    inf when a shift is beyond float64's range, or phi fails or leaves the
    reals at the moved point.
    """
    moved = list(vals)
    for j, shift in shifts.items():
        if not shift < _LMAX:
            return math.inf  # an error beyond float64's range: the value can be anything
        moved[j] = vals[j] + sign * _unlog(m.ctx, shift)
    try:
        out = op.forward(m, *moved, *params) - ans
        return _lg(out) if hasattr(out, "_mpf_") else math.inf
    except (ArithmeticError, ValueError):
        return math.inf


def _rule_at(op: Any, m: MpmathBackend, args: list[Any], params: list[Any], s: int, shift: float) -> tuple[Any, ...]:
    """The rule with argument ``s`` (0 is ``ans``, then the inputs) moved by ``2**shift``."""
    moved = list(args)
    moved[s] = args[s] + _unlog(m.ctx, shift)
    try:
        return op.partials(m, *moved, *params)
    except (ArithmeticError, ValueError) as exc:
        raise _Discard("undefined", f"the rule of {op.name} fails within rounding error: {exc}") from None
