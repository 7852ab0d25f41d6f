"""Backend namespaces: the ``m`` every op's forward and rule are written against.

An op never calls ``math`` directly. It receives a backend ``m`` and uses
``m.exp``, ``m.where`` and friends, so one body of code runs on

* :data:`FLOAT` -- Python floats with IEEE semantics (overflow gives ``inf``),
  which is what training runs;
* :class:`MpmathBackend` -- mpmath numbers at a configurable precision, to tell
  rounding from a wrong rule;
* :data:`SYMPY` -- sympy expressions, which is what the prover checks.

Representation predicates (:meth:`Backend.isnormal`) describe the number
format: on sympy ``isnormal(v)`` is the condition ``|v| >= 2**-1022`` (the
smallest positive normal float64), so the subnormal range stays a region of
its own instead of collapsing into ``v != 0``.

On sympy, ``==`` and ``!=`` of two expressions are structural (Python
``bool``). Symbols made by :meth:`SympyBackend.symbol` compare like numbers
instead: ``x == 1`` and ``x != y`` give conditions that ``m.where`` turns into
``Eq``/``Ne``, and float constants become exact binary rationals
(:meth:`SympyBackend.num`), so that ``0 == 0.0`` holds as it does on floats.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "Backend",
    "FloatBackend",
    "MpmathBackend",
    "SympyBackend",
    "FLOAT",
    "backend_of",
    "mpmath_backend",
    "sympy_backend",
]

_INF = math.inf
_TINY = 2.2250738585072014e-308  # smallest positive normal float64


class Backend:
    """The functions an op body may use; subclasses bind them to a number system.

    Every function takes and returns numbers of the backend. ``where`` evaluates
    both branches (so a branch must not raise for inputs the other handles);
    ``isnormal`` is True for a nonzero finite number at full precision (on
    sympy: nonzero).
    """

    name: str = "abstract"
    symbolic: bool = False
    zero: Any = 0
    one: Any = 1

    exp: Callable[[Any], Any]  # e**x
    expm1: Callable[[Any], Any]  # e**x - 1, accurate near 0
    log: Callable[[Any], Any]  # natural logarithm
    log1p: Callable[[Any], Any]  # log(1 + x), accurate near 0
    sqrt: Callable[[Any], Any]  # square root
    pow: Callable[[Any, Any], Any]  # x**y, real result (the caller guarantees the domain)
    tanh: Callable[[Any], Any]  # hyperbolic tangent
    sin: Callable[[Any], Any]  # sine
    cos: Callable[[Any], Any]  # cosine
    abs: Callable[[Any], Any]  # |x|
    sign: Callable[[Any], Any]  # -1, 0 or 1 (sign(0) = 0)
    where: Callable[[Any, Any, Any], Any]  # a where cond holds, else b
    isnormal: Callable[[Any], Any]  # nonzero, finite, full precision

    def num(self, value: Any) -> Any:
        """Convert a Python number (a constant in user code) into this backend."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


def _guard_overflow(fn: Callable[[float], float]) -> Callable[[float], float]:
    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return _INF

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _float_tanh(x: float) -> float:
    """tanh in float64, never overflowing.

    On 0.5 <= |x| <= 20 it uses (e^{2x} - 1) / (e^{2x} + 1): within 2 ULPs there,
    and bit for bit what classic micrograd computes, so its published figures
    reproduce. Near 0 that formula cancels, so ``math.tanh`` is used; past 20
    tanh(x) rounds to +-1 exactly.
    """
    if -0.5 < x < 0.5:
        return math.tanh(x)
    if x > 20.0:
        return 1.0
    if x < -20.0:
        return -1.0
    e = math.exp(2.0 * x)
    return (e - 1.0) / (e + 1.0)


def _float_pow(x: float, y: float) -> float:
    """IEEE pow: overflow gives a signed infinity, 0**negative gives inf."""
    try:
        return math.pow(x, y)
    except OverflowError:
        if x < 0.0 and y == math.floor(y) and math.fmod(y, 2.0) != 0.0:
            return -_INF
        return _INF
    except ValueError:
        if x == 0.0 and y < 0.0:
            if y == math.floor(y) and math.fmod(y, 2.0) != 0.0:
                return math.copysign(_INF, x)
            return _INF
        raise


def _float_sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0 * x)


def _float_where(cond: Any, a: Any, b: Any) -> Any:
    return a if cond else b


def _float_isnormal(x: float) -> bool:
    return _TINY <= abs(x) < _INF


class FloatBackend(Backend):
    """Python floats (IEEE double): what the engine trains with."""

    name = "float"
    zero = 0.0
    one = 1.0

    def __init__(self) -> None:
        # Bind plain functions as instance attributes: a rule's ``m.exp(x)`` is
        # then one attribute load and one C call on the hot path.
        self.exp = _guard_overflow(math.exp)
        self.expm1 = _guard_overflow(math.expm1)
        self.log = math.log
        self.log1p = math.log1p
        self.sqrt = math.sqrt
        self.pow = _float_pow
        self.tanh = _float_tanh
        self.sin = math.sin
        self.cos = math.cos
        self.abs = abs
        self.sign = _float_sign
        self.where = _float_where
        self.isnormal = _float_isnormal

    def num(self, value: Any) -> float:
        return float(value)


class MpmathBackend(Backend):
    """mpmath numbers in a context of their own, at ``dps`` decimal digits.

    ``MpmathBackend()`` with no argument uses mpmath's global context (its
    precision is whatever ``mpmath.mp.dps`` says); ``MpmathBackend(dps=60)``
    makes a private context so that its precision cannot be changed from
    outside.
    """

    def __init__(self, dps: int | None = None) -> None:
        import mpmath

        if dps is None:
            ctx = mpmath.mp
            self.name = "mpmath"
        else:
            if isinstance(dps, bool) or not isinstance(dps, int) or dps < 1:
                raise ValueError(f"dps must be a positive integer, got {dps!r}")
            ctx = mpmath.MPContext()
            ctx.dps = dps
            self.name = f"mpmath[{dps}]"
        self.ctx = ctx
        self.mpf_type: type = type(ctx.mpf(0))
        self.zero = ctx.mpf(0)
        self.one = ctx.mpf(1)
        self.exp = ctx.exp
        self.expm1 = ctx.expm1
        self.log = ctx.log
        self.log1p = ctx.log1p
        self.sqrt = ctx.sqrt
        self.pow = ctx.power
        self.tanh = ctx.tanh
        self.sin = ctx.sin
        self.cos = ctx.cos
        self.abs = ctx.fabs
        self.sign = ctx.sign
        self.where = _float_where
        self.isnormal = ctx.isnormal
        _register_type(self.mpf_type, self)

    @property
    def dps(self) -> int:
        """Working precision in decimal digits."""
        return int(self.ctx.dps)

    def num(self, value: Any) -> Any:
        """Exact for floats and ints: every float64 is an mpf."""
        return self.ctx.mpf(value)


class SympyBackend(Backend):
    """sympy expressions: the rule code run on symbols, for the prover."""

    name = "sympy"
    symbolic = True

    def __init__(self) -> None:
        import sympy

        self._sympy = sympy
        self.zero = sympy.Integer(0)
        self.one = sympy.Integer(1)
        self.exp = sympy.exp
        self.log = sympy.log
        self.sqrt = sympy.sqrt
        self.tanh = sympy.tanh
        self.sin = sympy.sin
        self.cos = sympy.cos
        self.abs = sympy.Abs
        self.sign = sympy.sign

    def num(self, value: Any) -> Any:
        """Exact conversion; a float becomes the binary rational it is (0.1 is 3602879701896397/2**55)."""
        sympy = self._sympy
        if isinstance(value, float):
            if not math.isfinite(value):
                return sympy.oo if value > 0 else (-sympy.oo if value < 0 else sympy.nan)
            return sympy.Rational(*value.as_integer_ratio())
        return sympy.sympify(value)

    def symbol(self, name: str, **assumptions: bool) -> Any:
        """A symbol whose ``==``/``!=`` against numbers and symbols give conditions ``where`` understands."""
        from autodiff.comparing import comparing_symbol_class

        return comparing_symbol_class()(name, **assumptions)

    def expm1(self, x: Any) -> Any:
        return self._sympy.exp(x) - 1

    def log1p(self, x: Any) -> Any:
        return self._sympy.log(1 + x)

    def pow(self, x: Any, y: Any) -> Any:
        return self._sympy.Pow(x, y)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        sympy = self._sympy
        from autodiff.comparing import Comparison

        if isinstance(cond, Comparison):
            cond = cond.relation()
        elif isinstance(cond, bool):
            # a structural == / != of expressions: the condition the rule meant is lost
            self.opaque_conditions += 1
            return a if cond else b
        if not sympy.core.parameters.global_parameters.evaluate:
            # unevaluated construction (the prover's): Piecewise would fold a condition that holds a
            # Piecewise right away, which needs evaluation; build the nodes as they are
            from sympy.functions.elementary.piecewise import ExprCondPair

            pairs = (
                sympy.Tuple.__new__(ExprCondPair, sympy.sympify(a), cond),
                sympy.Tuple.__new__(ExprCondPair, sympy.sympify(b), sympy.true),
            )
            return sympy.Basic.__new__(sympy.Piecewise, *pairs)
        return sympy.Piecewise((a, cond), (b, True))

    def isnormal(self, x: Any) -> Any:
        sympy = self._sympy
        return sympy.Abs(x) >= sympy.Rational(1, 2**1022)

    opaque_conditions: int = 0
    """How many times ``where`` got a Python bool for a condition (reset by the prover)."""


FLOAT = FloatBackend()

_BY_TYPE: dict[type, Backend] = {float: FLOAT, int: FLOAT}
"""Backends of the built-in number types and of sympy's expression classes (a fixed set)."""
_sympy_backend: SympyBackend | None = None
_default_mpmath: MpmathBackend | None = None
_BACKEND_ATTR = "_gradproof_backend"


def _register_type(tp: type, backend: Backend) -> None:
    """Tie a context's number type to its backend on the type itself.

    Each mpmath context has a number type of its own; keeping the link on the
    type (not in a module-level map) lets a private context, its backend and
    its numbers be freed together, however many ``mpmath_backend(dps)`` are made.
    """
    setattr(tp, _BACKEND_ATTR, backend)


def sympy_backend() -> SympyBackend:
    """The shared sympy backend (sympy is imported on first use)."""
    global _sympy_backend
    if _sympy_backend is None:
        _sympy_backend = SympyBackend()
    return _sympy_backend


def mpmath_backend(dps: int | None = None) -> MpmathBackend:
    """The mpmath backend on the global context, or a private one at ``dps`` digits."""
    global _default_mpmath
    if dps is not None:
        return MpmathBackend(dps)
    if _default_mpmath is None:
        _default_mpmath = MpmathBackend()
    return _default_mpmath


def backend_of(data: Any) -> Backend | None:
    """The backend a number belongs to, or None when it is not a supported number."""
    tp = type(data)
    found = _BY_TYPE.get(tp) or tp.__dict__.get(_BACKEND_ATTR)
    if found is not None:
        return found
    if tp is bool:
        return None
    module = tp.__module__ or ""
    if module.startswith("mpmath"):
        import mpmath

        if isinstance(data, mpmath.mpf):
            return mpmath_backend()
        return None  # mpc and interval types are not real numbers
    if module.startswith("sympy"):
        import sympy

        if isinstance(data, sympy.Expr):
            backend = sympy_backend()
            _BY_TYPE[tp] = backend
            return backend
        return None
    if isinstance(data, float):  # float subclasses such as numpy.float64
        return FLOAT
    if isinstance(data, int):
        return FLOAT
    loaded = sys.modules.get("sympy")
    if loaded is not None and isinstance(data, loaded.Expr):  # a sympy class defined outside sympy
        backend = sympy_backend()
        _BY_TYPE[tp] = backend
        return backend
    return None
