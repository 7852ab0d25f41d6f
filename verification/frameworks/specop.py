"""An op declared by its mathematical definition alone: a sympy formula and a domain.

A user's framework op comes with no rule of ours, only what it should compute
(``log(1 + exp(x))``). :func:`spec_op` turns that into a registry op whose
forward and partials are the formula and its sympy derivative evaluated at
the backend's precision (sympy's ``evalf``, which raises its working
precision until the digits asked for are right), and whose ``spec`` is the
formula itself: so the certified truth, the error bounds of campaigns and the
per-op checks all apply to it unchanged. ``parse_domain`` reads ``--domain``.

Where the formula has a kink at a float (``Max(x, 0)`` and ``Abs(x)`` at 0,
``Abs(x - 1.5)`` at 1.5: a zero of the argument of ``Abs``, ``sign``,
``Heaviside``, or of the difference of ``Max``/``Min`` arguments, in one
variable), it is declared, so that any partial between the one-sided
derivatives is right there, as for the built-in ``relu`` and ``abs``: a
user's ``relu'(0) = 0`` is a convention, not an error against sympy's
``Heaviside(0) = 1/2``.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Sequence
from typing import Any

from autodiff import NONZERO, REALS, Domain, Interval, Kink, Op, defop
from autodiff.backends import Backend, MpmathBackend
from verification.errors import UsageError

__all__ = ["kinks_of", "parse_spec", "parse_domain", "spec_op"]

_NUMBER = r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf)"


def parse_spec(text: str) -> tuple[Any, tuple[Any, ...]]:
    """The sympy expression of ``text`` and its variables (real symbols, sorted by name)."""
    import sympy

    try:
        raw = sympy.sympify(text, convert_xor=True)
    except (sympy.SympifyError, SyntaxError, TypeError, ValueError) as exc:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"--spec {text!r} is not a formula sympy can read ({last})") from None
    if not isinstance(raw, sympy.Expr):
        raise UsageError(f"--spec {text!r} is not an expression")
    names = sorted(raw.free_symbols, key=lambda s: s.name)
    if not names:
        raise UsageError(f"--spec {text!r} has no variable")
    symbols = tuple(sympy.Symbol(s.name, real=True) for s in names)
    expr = raw.xreplace(dict(zip(names, symbols)))
    return expr, symbols


def parse_domain(text: str | None) -> Domain:
    """``x > 0``, ``x >= 0``, ``-1 < x < 1``, ``x != 0``, ``x < 2`` or ``reals`` (None) as a union of intervals."""
    if text is None or text.strip() in ("", "reals", "all", "R"):
        return REALS
    t = text.replace(" ", "").lower()
    if re.fullmatch(r"[a-z_]\w*!=0", t):
        return NONZERO
    m = re.fullmatch(rf"(?:({_NUMBER})(<=?))?[a-z_]\w*(?:(<=?|>=?)({_NUMBER}))?", t)
    if m is None or (m.group(1) is None and m.group(3) is None):
        raise UsageError(f"--domain {text!r}: write e.g. 'x > 0', 'x >= 0', '-1 < x < 1' or 'x != 0'")
    lo, hi, closed_lo, closed_hi = -math.inf, math.inf, False, False
    if m.group(1) is not None:
        lo, closed_lo = float(m.group(1)), m.group(2) == "<="
    if m.group(3) is not None:
        bound, rel = float(m.group(4)), m.group(3)
        if rel.startswith(">"):
            if m.group(1) is not None:
                raise UsageError(f"--domain {text!r}: write a two-sided domain as 'lo < x < hi'")
            lo, closed_lo = bound, rel == ">="
        else:
            hi, closed_hi = bound, rel == "<="
    try:
        return (Interval(lo, hi, closed_lo, closed_hi),)
    except Exception as exc:
        raise UsageError(f"--domain {text!r}: {exc}") from None


def _rational(x: Any) -> Any:
    """An mpmath or float number as an exact sympy Rational."""
    import sympy

    if hasattr(x, "_mpf_"):
        sign, man, exp, _ = x._mpf_
        value = sympy.Integer(man) * sympy.Integer(2) ** exp
        return -value if sign else value
    return sympy.Rational(float(x))


def _numeric(expr: Any, symbols: Sequence[Any], m: Backend, xs: Sequence[Any]) -> Any:
    """``expr`` at ``xs`` on a numeric backend, right to the backend's precision."""
    digits = m.dps + 5 if isinstance(m, MpmathBackend) else 20
    value = expr.evalf(digits, subs={s: _rational(x) for s, x in zip(symbols, xs)})
    if not value.is_number or not value.is_real:
        return m.num(math.nan)
    if isinstance(m, MpmathBackend):
        import sympy

        if value.is_infinite:
            return m.num(math.inf if value > 0 else -math.inf)
        return m.ctx.make_mpf(sympy.Float(value, digits)._mpf_)
    return float(value)


def spec_op(
    name: str,
    spec: str,
    *,
    domain: Sequence[Domain] | None = None,
    kinks: Sequence[Kink] = (),
    register: bool = True,
    replace_existing: bool = False,
) -> Op:
    """A registry op defined by the formula ``spec`` (inputs in the order of their names)."""
    import sympy

    expr, symbols = parse_spec(spec)
    derivatives = tuple(sympy.diff(expr, s) for s in symbols)
    arity = len(symbols)

    def forward(m: Backend, *xs: Any) -> Any:
        if m.symbolic:
            return expr.xreplace(dict(zip(symbols, xs)))
        return _numeric(expr, symbols, m, xs)

    def grad(m: Backend, ans: Any, *xs: Any) -> tuple[Any, ...]:
        if m.symbolic:
            return tuple(d.xreplace(dict(zip(symbols, xs))) for d in derivatives)
        return tuple(_numeric(d, symbols, m, xs) for d in derivatives)

    if not kinks:
        kinks = kinks_of(expr, symbols)

    def sympy_spec(sp: Any, *xs: Any) -> Any:
        return _rebuild(expr, sp, dict(zip(symbols, xs)))

    forward.__doc__ = f"{spec}."
    try:  # the inputs named as in the spec (messages say d/dx); a name Python cannot take keeps x0, x1, ...
        forward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in ("m", *(str(s) for s in symbols))]
        )
    except ValueError:
        pass
    return defop(
        name,
        forward=forward,
        grad=grad,
        arity=arity,
        domain=tuple(domain) if domain is not None else None,
        kinks=kinks,
        spec=sympy_spec,
        template=None,
        register=register,
        replace_existing=replace_existing,
    )


def kinks_of(expr: Any, symbols: Sequence[Any]) -> tuple[Kink, ...]:
    """The kinks of ``expr`` at floats: zeros (in one variable) of what ``Abs``, ``sign``, ``Heaviside``,
    ``Max`` and ``Min`` switch on, each with the derivative sympy gives there as the convention."""
    import sympy

    switches = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
            switches.append(node.args[0])
        elif isinstance(node, (sympy.Max, sympy.Min)):
            switches.extend(a - b for i, a in enumerate(node.args) for b in node.args[i + 1 :])
    found: dict[tuple[int, float], Kink] = {}
    for arg in switches:
        free = arg.free_symbols
        if len(free) != 1:
            continue
        (s,) = free
        j = list(symbols).index(s)
        try:
            roots = sympy.solve(sympy.Eq(arg, 0), s)
        except (NotImplementedError, ValueError, TypeError):
            continue
        for r in roots:
            at = _exact_float(r)
            if at is not None and (j, at) not in found:
                rule = sympy.diff(expr, s).subs(s, sympy.Rational(at))
                rest = {t: 1 for t in symbols if t != s}
                value = rule.subs(rest) if rest else rule
                convention = float(value) if value.is_real and value.is_finite else 0.0
                found[(j, at)] = Kink(at=at, convention=convention, input=j)
    return tuple(found.values())


def _exact_float(r: Any) -> float | None:
    """``r`` as a float when it is exactly one (a kink at an irrational point is never an input)."""
    import sympy

    if isinstance(r, sympy.Float):
        return float(r)  # a constant of the formula, read as the float it names
    if not r.is_Rational:
        return None  # sqrt(2), pi/4: never exactly a float input
    f = float(r)
    return f if sympy.Rational(f) == r else None


def _rebuild(expr: Any, sp: Any, leaves: dict[Any, Any]) -> Any:
    """``expr`` rebuilt with the functions of namespace ``sp`` (sympy, or symengine through its spec shim)."""
    import sympy

    if expr in leaves:
        return leaves[expr]
    if expr.is_Rational:
        return sp.Rational(int(expr.p), int(expr.q)) if hasattr(sp, "Rational") else expr
    if expr.is_Number or expr.is_NumberSymbol:
        return sp.sympify(expr) if sp is not sympy else expr
    args = [_rebuild(a, sp, leaves) for a in expr.args]
    if expr.is_Add:
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if expr.is_Pow:
        return args[0] ** args[1]
    return getattr(sp, type(expr).__name__)(*args)
