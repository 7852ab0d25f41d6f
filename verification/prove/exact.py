"""Construction: an op's forward, rule and definition on symbols, with float constants made exact.

The op's code runs on :func:`~autodiff.sympy_backend` symbols that compare
like numbers (``x == 1`` is a condition, see :meth:`SympyBackend.symbol`),
inside ``sympy.evaluate(False)``: nothing is simplified while the code runs,
so ``0.7978845608028654 * (x + 0.044715*x**3)`` is not multiplied out in
53-bit floating point. The unevaluated tree is then rebuilt bottom-up with
every ``Float`` replaced by the binary rational it is (``0.1`` is
``3602879701896397/2**55``), so all arithmetic after that is exact.

A float of the rule may be read as a closed form of the definition (or as the
exact product of two constants, which a float product rounds) only when that
closed form rounds to exactly that float; each such reading is recorded and
printed with the verdict. A float one ULP away is a different number.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from autodiff import Op, OpDeclarationError, sympy_backend

__all__ = ["Construction", "construct", "exact", "exact_number", "Identification"]

_FULL_MANTISSA = 2**20  # a float with a shorter binary expansion is taken as meant exactly


@dataclass(frozen=True)
class Identification:
    """A float of the rule read as a closed form that rounds to it."""

    value: float
    closed_form: Any
    label: str = ""

    def describe(self) -> str:
        """e.g. ``taking c = 0.7978845608028654 as sqrt(2)/sqrt(pi), correctly rounded``."""
        return f"taking c = {self.value!r} as {self.label or self.closed_form}, correctly rounded"


@dataclass(frozen=True)
class Construction:
    """Forward, partials and definition of an op on symbols, exact; and what the construction assumed."""

    forward: Any
    partials: tuple[Any, ...]
    definition: Any
    identifications: tuple[Identification, ...]
    opaque_conditions: int


def exact_number(x: float | Fraction) -> Any:
    """A float or fraction as the exact sympy rational it is."""
    return sympy.Rational(Fraction(x))


def exact(e: Any, mapping: dict[Any, Any] | None = None) -> Any:
    """``e`` rebuilt with evaluation, each Float replaced by ``mapping[f]`` or its exact rational."""
    memo: dict[Any, Any] = {}
    table = mapping or {}

    def walk(node: Any) -> Any:
        if isinstance(node, sympy.Float):
            return table.get(node, sympy.Rational(node))
        if not isinstance(node, sympy.Basic) or not node.args:
            return node
        key = id(node)
        if key not in memo:
            memo[key] = node.func(*[walk(a) for a in node.args])
        return memo[key]

    return walk(sympy.sympify(e))


def _run(fn: Any, *args: Any) -> Any:
    m = sympy_backend()
    with sympy.evaluate(False):
        return fn(m, *args)


def _check_partials(op: Op, partials: Sequence[Any]) -> None:
    for i, p in enumerate(partials):
        if (
            isinstance(p, bool)
            or p is None
            or (isinstance(p, sympy.logic.boolalg.Boolean) and not isinstance(p, sympy.Expr))
        ):
            shown = "None" if p is None else f"the condition {p}"
            raise OpDeclarationError(
                f"the rule of {op.name} returned {shown} as partial {i}; a partial must be a number"
            )
        if not isinstance(p, (int, float, sympy.Basic)):
            raise OpDeclarationError(
                f"the rule of {op.name} returned a {type(p).__name__} as partial {i}; a partial must be a number"
            )


def construct(op: Op, inputs: Sequence[Any], params: Sequence[Any]) -> Construction:
    """The op on ``inputs``/``params`` (symbols of :meth:`SympyBackend.symbol`), exact.

    Raises :class:`OpDeclarationError` when the code cannot run on symbols or a
    partial is not a number.
    """
    m = sympy_backend()
    m.opaque_conditions = 0
    try:
        raw_forward = _run(op.forward, *inputs, *params)
        with sympy.evaluate(False):
            raw_partials = op.partials(m, raw_forward, *inputs, *params)
        _check_partials(op, raw_partials)
        if op.spec is not None:
            with sympy.evaluate(False):
                raw_definition = op.spec(sympy, *inputs, *params)
        else:
            raw_definition = raw_forward
        definition = exact(raw_definition)
        if not isinstance(definition, sympy.Expr):
            raise OpDeclarationError(f"the spec of {op.name} returned {definition!r}, not an expression")
    except OpDeclarationError:
        raise
    except Exception as exc:
        raise OpDeclarationError(
            f"op {op.name!r} cannot run on sympy symbols: {type(exc).__name__}: {exc} "
            "(write forward, rule and spec against the backend m / sympy, not math)"
        ) from None
    identified = _identify(raw_definition, raw_forward, raw_partials)
    mapping = {f: i.closed_form for f, i in identified.items()}
    forward = exact(raw_forward, mapping)
    partials = tuple(exact(p, mapping) for p in raw_partials)
    used = {f: i for f, i in identified.items() if any(p.has(f) for p in raw_partials) or raw_forward.has(f)}
    return Construction(forward, partials, definition, tuple(used.values()), m.opaque_conditions)


def _floats(e: Any) -> set[Any]:
    return set(sympy.sympify(e).atoms(sympy.Float)) if isinstance(e, sympy.Basic) else set()


def _constants(definition: Any) -> list[Any]:
    """Number-valued parts of the exact definition: closed forms, and numeric coefficients of products."""
    found: dict[Any, None] = {}
    for node in sympy.preorder_traversal(exact(definition)):
        if isinstance(node, sympy.Mul) and node.free_symbols:
            coeff = node.as_independent(*node.free_symbols)[0]
            if coeff.is_number and coeff not in (sympy.S.One, sympy.S.NegativeOne):
                found[abs(coeff)] = None
        elif isinstance(node, sympy.Expr) and node.is_number and not node.is_Integer and node.is_real:
            found[abs(node)] = None
    return list(found)


def rounds_to(value: Any, f: float) -> bool:
    """Whether the real number ``value`` rounds (to nearest) to exactly the float ``f``."""
    try:
        with mpmath.workdps(80):
            v = mpmath.mpf(sympy.N(value, 80))
            r = mpmath.mpf(f)
            return bool(abs(v - r) < mpmath.mpf(math.ulp(f)) / 2 - mpmath.mpf(10) ** -70 * abs(r))
    except (TypeError, ValueError):
        return False


def _label(c: Any) -> str:
    """A constant for a message: a float64 as that float, anything else as sympy prints it."""
    if c.is_Rational and Fraction(float(c)) == Fraction(int(c.p), int(c.q)):
        return repr(float(c))
    return str(c)


def _first_rounding(f: Any, candidates: Sequence[tuple[Any, Any, str]]) -> Identification | None:
    """The first candidate (value, replacement, label) whose value is not ``f`` itself but rounds to it."""
    value, own = float(f), sympy.Rational(f)
    sign = 1 if value > 0 else -1
    for v, replacement, label in candidates:
        if sign * v != own and rounds_to(sign * v, value):
            return Identification(value, sign * replacement, label if sign > 0 else f"-({label})")
    return None


def _identify(definition: Any, forward: Any, partials: Sequence[Any]) -> dict[Any, Identification]:
    """Floats of the forward and rule that round-to-nearest a closed form of the definition or a product."""
    own = set().union(*(_floats(p) for p in (forward, *partials)))
    defined = {sympy.Rational(f) for f in _floats(definition)}
    wanted = [
        f
        for f in own
        if f != 0 and sympy.Rational(f) not in defined and Fraction(float(f)).denominator >= _FULL_MANTISSA
    ]
    if not wanted:
        return {}
    closed_forms = _constants(definition)
    out: dict[Any, Identification] = {}
    for f in wanted:  # first: a closed form of the definition itself
        found = _first_rounding(f, [(c, c, _label(c)) for c in closed_forms])
        if found is not None:
            out[f] = found
    # then: the exact product of two constants (a float product rounds it), each read as identified
    floats = [f for f in own | _floats(definition) if f != 0]
    base = [(c, c, _label(c)) for c in closed_forms] + [
        (sympy.Rational(abs(f)), out[f].closed_form if f in out else sympy.Rational(abs(f)), repr(abs(float(f))))
        for f in floats
    ]
    base = list(dict.fromkeys(base))
    products = [(k * v, k * e, f"{k}*{t}") for v, e, t in base for k in range(2, 11)]
    products += [(v / k, e / k, f"{t}/{k}") for v, e, t in base for k in range(2, 11)]
    products += [
        (v * w, e * g, f"{t}*{u}") for (v, e, t), (w, g, u) in itertools.combinations_with_replacement(base, 2)
    ]
    for f in wanted:
        if f not in out:
            found = _first_rounding(f, products)
            if found is not None:
                out[f] = found
    return out
