"""The built-in ops, each declared once against a backend ``m``.

Rules are chosen to be accurate in float64 over the whole domain, not only
right on paper: ``1 - tanh(x)**2`` is exactly 0 for |x| >= 19.1, and
``s * (1 - s)`` for sigmoid likewise, so both use ``e = exp(-|x|)`` forms that
keep every bit. Branches go through ``m.where`` so the same code runs on
sympy symbols.
"""

from __future__ import annotations

from typing import Any

from autodiff.backends import Backend
from autodiff.registry import NONNEGATIVE, NONZERO, POSITIVE, REALS, Domain, Kink, defop
from autodiff.spelling import Spelling

__all__ = [
    "add",
    "sub",
    "neg",
    "mul",
    "truediv",
    "pow",
    "pow_const",
    "const_pow",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "abs",
]

# --- arithmetic -----------------------------------------------------------


def _add(m: Backend, x: Any, y: Any) -> Any:
    """x + y."""
    return x + y


def _add_grad(m: Backend, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return (m.one, m.one)


add = defop("add", forward=_add, grad=_add_grad, template="({0} + {1})", spec=lambda sp, x, y: x + y)


def _sub(m: Backend, x: Any, y: Any) -> Any:
    """x - y."""
    return x - y


def _sub_grad(m: Backend, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return (m.one, -m.one)


sub = defop("sub", forward=_sub, grad=_sub_grad, template="({0} - {1})", spec=lambda sp, x, y: x - y)


def _neg(m: Backend, x: Any) -> Any:
    """-x."""
    return -x


def _neg_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (-m.one,)


neg = defop("neg", forward=_neg, grad=_neg_grad, template="(-{0})", spec=lambda sp, x: -x)


def _mul(m: Backend, x: Any, y: Any) -> Any:
    """x * y."""
    return x * y


def _mul_grad(m: Backend, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return (y, x)


mul = defop("mul", forward=_mul, grad=_mul_grad, template="({0} * {1})", spec=lambda sp, x, y: x * y)


def _truediv(m: Backend, x: Any, y: Any) -> Any:
    """x / y; d/dx = 1/y, d/dy = -x/y**2 = -(x/y)/y (no overflow of y**2)."""
    return x / y


def _truediv_grad(m: Backend, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return (1 / y, -ans / y)


truediv = defop(
    "truediv",
    forward=_truediv,
    grad=_truediv_grad,
    domain=(REALS, NONZERO),
    template="({0} / {1})",
    spec=lambda sp, x, y: x / y,
)

# --- powers ---------------------------------------------------------------


def _pow(m: Backend, x: Any, y: Any) -> Any:
    """x**y for x > 0; d/dx = y*x**(y-1) = y*ans/x, d/dy = x**y*log(x).

    While ans is a normal number, y*ans/x is grouped so that no intermediate
    overflows or underflows where the result does not: y*(ans/x), else
    (y*ans)/x, else (y/x)*ans (x subnormal makes ans/x overflow, a tiny y
    makes y*ans subnormal). Otherwise ans lost its digits and y*x**(y-1) is used.
    """
    return m.pow(x, y)


def _pow_grad(m: Backend, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
    ratio = ans / x
    scaled = y * ans
    grouped = m.where(m.isnormal(ratio), y * ratio, m.where(m.isnormal(scaled), scaled / x, (y / x) * ans))
    dx = m.where(m.isnormal(ans), grouped, y * m.pow(x, y - 1))
    return (dx, ans * m.log(x))


pow = defop(  # noqa: A001 - the op is called pow
    "pow",
    forward=_pow,
    grad=_pow_grad,
    domain=(POSITIVE, REALS),
    template="({0} ** {1})",
    spec=lambda sp, x, y: x**y,
)


def _pow_const_domain(c: Any) -> tuple[Domain]:
    c = float(c)
    if c.is_integer():
        return (REALS,) if c >= 0 else (NONZERO,)
    return (NONNEGATIVE,) if c > 0 else (POSITIVE,)


def _pow_const(m: Backend, x: Any, c: Any) -> Any:
    """x**c for a constant c; d/dx = c*x**(c-1).

    In float64, c - 1 is exact for every integer c and every c >= 0.5, so the
    rule is then as accurate as pow itself.
    """
    return m.pow(x, c)


def _pow_const_grad(m: Backend, ans: Any, x: Any, c: Any) -> tuple[Any]:
    # For c = 0 the exponent c - 1 would make 0 * 0**-1 = 0 * inf at x = 0; any
    # finite power times c = 0 is the right answer, 0.
    e = m.where(m.abs(c) > 0, c - 1, m.one)  # an order comparison stays a relation on symbols
    d = c * m.pow(x, e)
    # A subnormal d came from a subnormal x**e whose rounding c then scaled (5
    # ULPs at c = 10); (c*x**(e-1))*x, or (c*x**(e+1))/x for e < 0, rounds
    # into the subnormal range only once. Both branches are evaluated, and at
    # x = 0 (where d is exact) neither is used: x is replaced by 1 there so that
    # no backend divides by 0 (mpmath raises where floats give inf).
    nz = m.where(m.abs(x) > 0, x, m.one)
    tiny = m.where(e > 0, (c * m.pow(nz, e - 1)) * x, (c * m.pow(x, e + 1)) / nz)
    subnormal = m.where(m.abs(d) < 1, tiny, d)  # not normal and below 1: 0 or subnormal (not inf)
    return (m.where(m.isnormal(d), d, m.where(m.abs(d) > 0, subnormal, d)),)


pow_const = defop(
    "pow_const",
    forward=_pow_const,
    grad=_pow_const_grad,
    params=("c",),
    domain=_pow_const_domain,
    param_examples=((2.0,), (3.0,), (1.0,), (0.0,), (-1.0,), (-2.0,), (0.5,), (1.5,), (-0.5,)),
    template="({0} ** {c})",
    spec=lambda sp, x, c: x**c,
)


def _const_pow(m: Backend, x: Any, c: Any) -> Any:
    """c**x for a constant c > 0; d/dx = c**x * log(c)."""
    return m.pow(c, x)


def _const_pow_grad(m: Backend, ans: Any, x: Any, c: Any) -> tuple[Any]:
    return (ans * m.log(c),)


const_pow = defop(
    "const_pow",
    forward=_const_pow,
    grad=_const_pow_grad,
    params=("c",),
    param_domain=(POSITIVE,),
    template="({c} ** {0})",
    spec=lambda sp, x, c: c**x,
)

# --- elementary functions -----------------------------------------------


def _exp(m: Backend, x: Any) -> Any:
    """e**x; d/dx = e**x (the forward result)."""
    return m.exp(x)


def _exp_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (ans,)


exp = defop("exp", forward=_exp, grad=_exp_grad, spec=lambda sp, x: sp.exp(x))


def _log(m: Backend, x: Any) -> Any:
    """log(x) for x > 0; d/dx = 1/x."""
    return m.log(x)


def _log_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (1 / x,)


log = defop("log", forward=_log, grad=_log_grad, domain=(POSITIVE,), spec=lambda sp, x: sp.log(x))


def _sqrt(m: Backend, x: Any) -> Any:
    """sqrt(x) for x >= 0; d/dx = 1/(2*sqrt(x)), infinite at 0."""
    return m.sqrt(x)


def _sqrt_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (1 / (2 * ans),)


sqrt = defop("sqrt", forward=_sqrt, grad=_sqrt_grad, domain=(NONNEGATIVE,), spec=lambda sp, x: sp.sqrt(x))


def _tanh(m: Backend, x: Any) -> Any:
    """tanh(x); d/dx = 1 - tanh(x)**2 = 4e/(1+e)**2 with e = exp(-2|x|), exact in the tails."""
    return m.tanh(x)


def _tanh_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    e = m.exp(-2 * m.abs(x))
    return (4 * e / (1 + e) ** 2,)


tanh = defop("tanh", forward=_tanh, grad=_tanh_grad, spec=lambda sp, x: sp.tanh(x))


def _sigmoid(m: Backend, x: Any) -> Any:
    """1/(1 + exp(-x)), from e = exp(-|x|) so no branch overflows; d/dx = e/(1+e)**2."""
    e = m.exp(-m.abs(x))
    return m.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    e = m.exp(-m.abs(x))
    return (e / (1 + e) ** 2,)


sigmoid = defop(
    "sigmoid",
    forward=_sigmoid,
    grad=_sigmoid_grad,
    spec=lambda sp, x: 1 / (1 + sp.exp(-x)),
    # jax has it in jax.nn; autograd has none of its own but scipy's expit
    spelling=Spelling(
        source="{0}.sigmoid()", method="sigmoid", torch="sigmoid", jax="nn.sigmoid", autograd="scipy.special.expit"
    ),
)


def _relu(m: Backend, x: Any) -> Any:
    """max(0, x); d/dx = 1 for x > 0, 0 for x < 0, and 0 at the kink x = 0."""
    return m.where(x > 0, x, m.zero)


def _relu_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (m.where(x > 0, m.one, m.zero),)


relu = defop(
    "relu",
    forward=_relu,
    grad=_relu_grad,
    kinks=(Kink(at=0.0, convention=0.0),),
    spec=lambda sp, x: sp.Max(0, x),
    # autograd has no relu: maximum is how its users write it
    spelling=Spelling(
        source="{0}.relu()", method="relu", torch="relu", jax="nn.relu", autograd="numpy.maximum({0}, 0.0)"
    ),
)


def _sin(m: Backend, x: Any) -> Any:
    """sin(x); d/dx = cos(x)."""
    return m.sin(x)


def _sin_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (m.cos(x),)


sin = defop("sin", forward=_sin, grad=_sin_grad, spec=lambda sp, x: sp.sin(x))


def _cos(m: Backend, x: Any) -> Any:
    """cos(x); d/dx = -sin(x)."""
    return m.cos(x)


def _cos_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (-m.sin(x),)


cos = defop("cos", forward=_cos, grad=_cos_grad, spec=lambda sp, x: sp.cos(x))


def _abs(m: Backend, x: Any) -> Any:
    """|x|; d/dx = sign(x), and 0 at the kink x = 0."""
    return m.abs(x)


def _abs_grad(m: Backend, ans: Any, x: Any) -> tuple[Any]:
    return (m.sign(x),)


abs = defop(  # noqa: A001 - the op is called abs
    "abs",
    forward=_abs,
    grad=_abs_grad,
    kinks=(Kink(at=0.0, convention=0.0),),
    spec=lambda sp, x: sp.Abs(x),
    spelling=Spelling(source="abs({0})", operator="abs", torch="abs", jax="numpy.abs", autograd="numpy.abs"),
)
