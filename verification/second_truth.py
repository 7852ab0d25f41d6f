"""Certified second-order truth for an expression tree: Hessian, HVP and JVP in interval arithmetic.

The tree is written in sympy's own functions through each op's ``spec`` (never
the engine's rules), differentiated twice by sympy, compiled once, and
evaluated in ``mpmath.iv`` at increasing precision until every enclosure is
narrower than a requested relative width. A point where an interval
comparison cannot be decided (a kink, a branch boundary) is not certified;
off the kinks the DiracDelta terms sympy writes for the second derivative of
``|x|`` or ``max(0, x)`` are 0.

:func:`gradient_tree` turns a gradient the engine built as a graph
(``create_graph=True``) back into an expression tree, so the first-order
error analysis of :mod:`verification.bounds` bounds what float64 and 50-digit
arithmetic may cost on its derivative (a row of the Hessian computed reverse
over reverse) exactly as it does for any gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from autodiff import Op, Value, get_op, topological_order
from verification.expr import Apply, Const, Expr, Resolver, Var, to_sympy
from verification.number_systems import INTERVALS
from verification.numeric import Compiled, Undecided, Unsupported, compile_exprs
from verification.references import sympy_symbols

__all__ = [
    "Enclosure",
    "SecondTruth",
    "second_truth",
    "gradient_tree",
    "within",
    "enclosure_of",
    "combine",
    "off_jumps",
]

_START_BITS = 128
_CAP_BITS = 2048


@dataclass(frozen=True)
class Enclosure:
    """A certified interval ``[lo, hi]`` (mpmath numbers) holding the exact value."""

    lo: Any
    hi: Any

    @property
    def mid(self) -> Any:
        """The midpoint (exact)."""
        return (_wide(self.lo) + _wide(self.hi)) / 2

    @property
    def width(self) -> Any:
        """hi - lo (exact)."""
        return _wide(self.hi) - _wide(self.lo)


_WIDE: Any = None


def _wide(x: Any) -> Any:
    """``x`` in a context wide enough that sums and halves of enclosure ends are exact."""
    global _WIDE
    if _WIDE is None:
        import mpmath

        _WIDE = mpmath.MPContext()
        _WIDE.prec = 8192
    return _WIDE.mpf(x)


def within(computed: Any, truth: Enclosure, rel: float) -> bool:
    """Whether ``computed`` lies within ``rel * max(1, |truth|)`` of the enclosure."""
    c, lo, hi = _wide(computed), _wide(truth.lo), _wide(truth.hi)
    gap = max(lo - c, c - hi, 0)
    scale = max(1, abs(lo), abs(hi))
    return bool(gap <= rel * scale)


class SecondTruth:
    """The gradient and Hessian of one tree in sympy, compiled for interval evaluation."""

    def __init__(self, tree: Expr, n_vars: int, *, resolve: Resolver = get_op) -> None:
        import sympy

        symbols = sympy_symbols(n_vars)
        f = to_sympy(tree, symbols, resolve=resolve)
        grads = [sympy.diff(f, s) for s in symbols]
        hess = [sympy.diff(grads[i], symbols[j]) for i in range(n_vars) for j in range(i, n_vars)]
        hess = [off_jumps(h) for h in hess]
        self.n_vars = n_vars
        self.forms = (f, *grads, *hess)
        try:
            self._run: Compiled | None = compile_exprs(self.forms, symbols)
        except Unsupported:  # sympy wrote a function no namespace evaluates (atan2 of a |.|)
            self._run = None

    def enclose(self, point: Sequence[float], *, rel: float = 1e-60) -> tuple[Enclosure, ...] | None:
        """Value, gradient and upper-triangle Hessian enclosures at ``point``, each narrower than ``rel`` relative.

        None when the precision cap is reached first, a comparison stays
        undecided, or the forms cannot be evaluated numerically. A value that
        cancels to far below its terms (``1 - tanh(785)**2``) is not certified
        rather than enclosed in a wide interval around 0.
        """
        if self._run is None:
            return None
        from mpmath import iv

        run = self._run
        saved = iv.prec
        bits = _START_BITS
        try:
            while bits <= _CAP_BITS:
                iv.prec = bits
                try:
                    outs = run(INTERVALS, [iv.mpf(p) for p in point])
                except (Undecided, ArithmeticError, ValueError):
                    outs = None
                if outs is not None:
                    found = tuple(enclosure_of(iv.mpf(o)) for o in outs)
                    if all(_narrow(e, rel) for e in found):
                        return found
                bits *= 2
        finally:
            iv.prec = saved
        return None

    def hessian(self, enclosures: Sequence[Enclosure]) -> list[list[Enclosure]]:
        """The full symmetric Hessian from :meth:`enclose`'s upper triangle."""
        n = self.n_vars
        upper = iter(enclosures[1 + n :])
        rows: list[list[Enclosure | None]] = [[None] * n for _ in range(n)]
        for i in range(n):
            for j in range(i, n):
                rows[i][j] = rows[j][i] = next(upper)
        return [[e for e in row if e is not None] for row in rows]


def off_jumps(e: Any) -> Any:
    """``e`` with the derivatives of steps set to 0.

    The derivative of a kink (``|u|``, ``max(0, u)``) is a step (``sign(u)``,
    ``Heaviside(u)``) whose own derivative sympy writes as a ``DiracDelta`` or
    leaves unevaluated: it is 0 wherever the step can be evaluated, and at
    the jump the step's interval comparison stays undecided, so such a point
    is never certified.
    """
    import sympy

    e = e.replace(sympy.DiracDelta, lambda *args: sympy.Integer(0))
    return e.replace(
        lambda d: isinstance(d, sympy.Derivative) and d.expr.func in (sympy.sign, sympy.Heaviside),
        lambda d: sympy.Integer(0),
    )


def enclosure_of(x: Any) -> Enclosure:
    """The ends of an ``mpmath.iv`` number, exactly."""
    from mpmath import mp

    lo, hi = x._mpi_
    return Enclosure(mp.make_mpf(lo), mp.make_mpf(hi))


def _narrow(e: Enclosure, rel: float) -> bool:
    """Whether the enclosure is finite and narrower than ``rel`` times its magnitude (or exactly one number)."""
    a, b = _wide(e.lo), _wide(e.hi)
    if not (_WIDE.isfinite(a) and _WIDE.isfinite(b)):
        return False
    return bool(b - a <= rel * max(abs(a), abs(b)))


def combine(rows: Sequence[Sequence[Enclosure]], vector: Sequence[float]) -> tuple[Enclosure, ...]:
    """Enclosures of ``rows . vector`` (an HVP from the Hessian, a JVP from the gradient)."""
    from mpmath import iv

    out = []
    saved = iv.prec
    iv.prec = 4096
    try:
        for row in rows:
            total = iv.mpf(0)
            for e, v in zip(row, vector):
                total += iv.mpf([e.lo, e.hi]) * iv.mpf(v)
            out.append(enclosure_of(total))
    finally:
        iv.prec = saved
    return tuple(out)


@cache
def second_truth(tree: Expr, n_vars: int) -> SecondTruth:
    """The (cached) :class:`SecondTruth` of ``tree`` over registered ops."""
    return SecondTruth(tree, n_vars)


def gradient_tree(root: Value, inputs: Sequence[Value]) -> tuple[Expr, Resolver]:
    """The graph under ``root`` as an expression tree over ``inputs`` (Var k), and a resolver for its ops.

    Leaves other than the inputs become constants (float64 data). Ops are
    named uniquely per op object, so a graph holding two ops of one name (a
    mutant and the op it mutates) resolves each to its own.
    """
    index = {id(x): k for k, x in enumerate(inputs)}
    names: dict[int, str] = {}
    table: dict[str, Op] = {}
    built: dict[int, Expr] = {}
    for node in topological_order(root):
        k = index.get(id(node))
        op = node.op_object
        if k is not None:
            built[id(node)] = Var(k)
        elif op is None:
            built[id(node)] = Const(float(node.data))
        else:
            name = names.get(id(op))
            if name is None:
                name = op.name if op.name not in table else f"{op.name}_{len(table)}"
                names[id(op)] = name
                table[name] = op
            args = tuple(built[id(p)] for p in node.parents())
            built[id(node)] = Apply(name, args, tuple(float(p) for p in node.params))
    return built[id(root)], table.__getitem__
