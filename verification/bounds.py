"""The high-precision run: where a point may be sampled, how well-conditioned it is, and error bounds.

The tree is run through the ops' own forwards and rules in mpmath at 80
digits, 30 more than the high-precision engine (the op rules may serve here: this run only estimates conditioning,
the truth comes from :mod:`verification.references`). Alongside, a
first-order running error analysis bounds what float64 arithmetic may cost:

* forward, node ``v = phi(x_1..x_n)`` computed from inputs carrying errors
  ``E_j``: ``E_v = sum_j |d phi/d x_j| E_j + K u |v| + eta``;
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
  run is not finite or exceeds the float64 range, so float64 cannot follow it.

``S = 4`` (:data:`SAFETY`) is the factor the verdicts also apply to the bounds.
When moving a rule's argument by its high-precision error bound changes the
partial by more than 10% (:data:`NONLINEAR`), first-order analysis does not
hold: that partial's bounds are infinite and the results are recorded but
not judged.
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
_MAX = 1.7976931348623157e308


@dataclass(frozen=True)
class Analysis:
    """Result of the high-precision run at one point.

    ``discard`` is None for a usable point, else ``"undefined"``,
    ``"near_kink"`` or ``"non_finite"`` with ``detail`` saying where.
    Bounds are on absolute errors, before the safety factor, as 32-bit
    mpmath numbers (float64 would underflow or overflow on extreme points).
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
    value: Any
    err: Any = 0
    err_hp: Any = 0
    tree: Expr | None = None
    kids: list[_Node] = field(default_factory=list)
    partials: tuple[Any, ...] = ()
    p_err: list[Any] = field(default_factory=list)
    p_err_hp: list[Any] = field(default_factory=list)


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


class _Bounds:
    """Arithmetic for the bounds: 32-bit mpmath numbers, which neither overflow nor underflow."""

    def __init__(self) -> None:
        import mpmath

        ctx = mpmath.MPContext()
        ctx.prec = 32
        self.ctx = ctx
        self.zero = ctx.mpf(0)
        self.inf = ctx.inf
        self.u64 = ctx.mpf(U64)
        self.eta = ctx.mpf(ETA)
        self.k = ctx.mpf(K_OP)
        self.max = ctx.mpf(_MAX)


_B: _Bounds | None = None


def _bounds() -> _Bounds:
    global _B
    if _B is None:
        _B = _Bounds()
    return _B


def _mag(x: Any) -> Any:
    """|x| as a 32-bit mpmath number."""
    return _bounds().ctx.mpf(abs(x))


def _boundary_distance(domain: Domain, x: Any) -> Any:
    """Distance from ``x`` to the nearest finite end of the domain interval that holds it."""
    best = _bounds().inf
    for iv in domain:
        if iv.contains(x):
            for end in (iv.lo, iv.hi):
                if math.isfinite(end):
                    best = min(best, _mag(x - end))
    return best


def _finite(x: Any, what: str) -> Any:
    mag = _mag(x)
    if not mag <= _bounds().max:
        raise _Discard("non_finite", f"{what} = {x} is beyond float64")
    return mag


def analyse(tree: Expr, point: Sequence[float], *, resolve: Resolver = get_op) -> Analysis:
    """Run ``tree`` at ``point`` in high precision and bound its float64 errors."""
    m = _hp()
    b = _bounds()
    u_hp = b.ctx.mpf(2) ** -_hp_engine_prec()
    n = len(point)
    try:
        root = _forward(tree, point, m, u_hp, resolve)
        grads: list[Any] = [m.zero] * n
        abs_grads = [b.zero] * n
        bounds = [b.zero] * n
        bounds_hp = [b.zero] * n
        contrib: list[list[Any]] = [[] for _ in range(n)]
        stack: list[tuple[_Node, Any, Any, Any, Any]] = [(root, m.one, b.zero, b.zero, b.ctx.mpf(1))]
        while stack:
            node, a, bound, bound_hp, absa = stack.pop()
            t = node.tree
            if isinstance(t, Var):
                grads[t.index] += a
                abs_grads[t.index] += absa
                bounds[t.index] += bound
                bounds_hp[t.index] += bound_hp
                contrib[t.index].append(_mag(a))
                continue
            if isinstance(t, Const):
                continue
            amag = _mag(a)
            for j, kid in enumerate(node.kids):
                p = node.partials[j]
                pmag = _mag(p)
                c = a * p
                cmag = _finite(c, "an adjoint contribution")
                stack.append(
                    (
                        kid,
                        c,
                        pmag * bound + amag * node.p_err[j] + b.u64 * cmag + b.eta,
                        pmag * bound_hp + amag * node.p_err_hp[j] + u_hp * cmag,
                        absa * pmag,
                    )
                )
    except _Discard as d:
        return Analysis(discard=d.reason, detail=d.detail)
    for i in range(n):
        total = sum(contrib[i], b.zero)
        bounds[i] += len(contrib[i]) * b.u64 * total
        bounds_hp[i] += len(contrib[i]) * u_hp * total
    return Analysis(
        discard=None,
        value=root.value,
        grads=tuple(grads),
        abs_grads=tuple(abs_grads),
        value_bound=root.err,
        grad_bounds=tuple(bounds),
        value_bound_hp=root.err_hp,
        grad_bounds_hp=tuple(bounds_hp),
    )


def _forward(tree: Expr, point: Sequence[float], m: MpmathBackend, u_hp: Any, resolve: Resolver) -> _Node:
    if isinstance(tree, Var):
        return _Node(m.num(point[tree.index]), tree=tree)
    if isinstance(tree, Const):
        return _Node(m.num(tree.value), tree=tree)
    assert isinstance(tree, Apply)
    kids = [_forward(a, point, m, u_hp, resolve) for a in tree.args]
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
        if SAFETY * kid.err >= _boundary_distance(dom, kid.value):
            raise _Discard(
                "undefined", f"{op.name}: input {j} = {kid.value} is within float64 error of its domain's end"
            )
    for kink in op.kinks:
        kid = kids[kink.input]
        if _mag(kid.value - kink.at) <= SAFETY * kid.err + KINK_DELTA * max(1.0, abs(kink.at)):
            raise _Discard("near_kink", f"{op.name}: input {kink.input} = {kid.value} is near its kink at {kink.at}")
    try:
        ans = op.forward(m, *vals, *params)
        partials = op.partials(m, ans, *vals, *params)
    except (ArithmeticError, ValueError) as exc:
        raise _Discard("non_finite", f"{op.name} at {vals}: {exc}") from None
    amag = _finite(ans, f"{op.name}(...)")
    pmags = [_finite(p, f"the partial of {op.name}") for p in partials]
    b = _bounds()
    err = sum((pm * k.err for pm, k in zip(pmags, kids)), b.zero) + b.k * b.u64 * amag + b.eta
    err_hp = sum((pm * k.err_hp for pm, k in zip(pmags, kids)), b.zero) + b.k * u_hp * amag
    p_err = [b.k * b.u64 * pm + b.eta for pm in pmags]
    p_err_hp = [b.k * u_hp * pm for pm in pmags]
    # Sensitivity of the rule to errors in its arguments (position 0 is
    # ``ans``, positions 1.. the inputs), measured by moving one argument by
    # its high-precision error bound -- resolvable, since this run carries
    # more digits than the engine's high-precision run -- and extrapolated
    # linearly to the float64 bound.
    args = [ans, *vals]
    shifts = [(err, err_hp)] + [(k.err, k.err_hp) for k in kids]
    for s, (shift, shift_hp) in enumerate(shifts):
        if shift_hp == 0:
            continue
        moved = list(args)
        moved[s] = args[s] + m.num(shift_hp)
        try:
            q = op.partials(m, *moved, *params)
        except (ArithmeticError, ValueError) as exc:
            raise _Discard("undefined", f"the rule of {op.name} fails within rounding error: {exc}") from None
        for j in range(len(p_err)):
            change = _mag(q[j] - partials[j])
            if change > NONLINEAR * pmags[j]:
                # even the high-precision error moves this partial by a large
                # fraction (e.g. cos at 1e223 known to 47 digits): first-order
                # analysis does not apply and the result cannot be judged
                p_err[j] = p_err_hp[j] = b.inf
                continue
            p_err[j] += change / shift_hp * shift
            p_err_hp[j] += change
    return _Node(ans, err, err_hp, tree, kids, partials, p_err, p_err_hp)
