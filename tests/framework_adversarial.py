"""Custom framework ops written to make a verdict lie, as users write them (frameworks imported lazily).

Each name says what the op does; the test that uses it says the verdict and exit status it must get.

* ``ZeroHoleSoftplus`` (torch), ``zero_hole_softplus`` (JAX), ``ag_zero_hole_softplus`` (autograd):
  softplus whose backward is right everywhere except exactly at 0, where it returns 0 (softplus is smooth
  there: no convention excuses it).
* ``ConventionRelu``: relu with the convention relu'(0) = 0 (inside the one-sided derivatives [0, 1]);
  ``KinkTwoAbs``: abs whose backward gives 2 at 0 (outside [-1, 1]).
* ``softplus_log2`` (JAX ``custom_jvp``): softplus in bits, ``log2(1 + exp(x))``, with ``1/ln 2`` written
  to 6 digits, ``1.442695``, in forward and derivative alike.
* ``RaisingEverywhere`` (torch), ``ag_raising`` (autograd): a backward that raises at every input.
* ``HangingBeyond100`` (torch), ``ag_hanging_beyond_100`` (autograd), ``hanging_beyond_100`` (JAX):
  a backward that never returns for x > 100.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from tests.framework_ops import jax_kit, torch_kit

LOG2E_6 = 1.442695
"""1 / ln 2 to 6 digits, as a user types it."""


def _hang() -> None:
    while True:
        time.sleep(0.05)


def _torch_ops() -> dict[str, Any]:
    torch, logistic, softplus, make = torch_kit()

    def raising(x: Any) -> Any:
        raise RuntimeError("backward of RaisingEverywhere is not implemented")

    def hanging(x: Any) -> Any:
        if float(x) > 100.0:
            _hang()
        return logistic(x)

    return {
        "ZeroHoleSoftplus": make(
            "ZeroHoleSoftplus", softplus, lambda x: torch.where(x == 0, torch.zeros_like(x), logistic(x))
        ),
        "ConventionRelu": make("ConventionRelu", lambda x: torch.clamp(x, min=0.0), lambda x: (x > 0).to(x.dtype)),
        "KinkTwoAbs": make(
            "KinkTwoAbs", torch.abs, lambda x: torch.where(x == 0, torch.full_like(x, 2.0), torch.sign(x))
        ),
        "RaisingEverywhere": make("RaisingEverywhere", softplus, raising),
        "HangingBeyond100": make("HangingBeyond100", softplus, hanging),
    }


def _jax_ops() -> dict[str, Any]:
    jax, jnp, logistic, softplus = jax_kit()

    zero_hole = jax.custom_vjp(softplus)
    zero_hole.defvjp(lambda x: (softplus(x), x), lambda x, g: (g * jnp.where(x == 0, 0.0, logistic(x)),))

    @jax.custom_jvp
    def softplus_log2(x: Any) -> Any:
        return LOG2E_6 * softplus(x)

    @softplus_log2.defjvp
    def _jvp(primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return softplus_log2(x), LOG2E_6 * logistic(x) * t

    def hanging_bwd(x: Any, g: Any) -> Any:
        if float(x) > 100.0:  # runs in Python when jax traces the backward: a user's debugging check
            _hang()
        return (g * logistic(x),)

    hanging = jax.custom_vjp(softplus)
    hanging.defvjp(lambda x: (softplus(x), x), hanging_bwd)
    return {"zero_hole_softplus": zero_hole, "softplus_log2": softplus_log2, "hanging_beyond_100": hanging}


def _autograd_ops() -> dict[str, Any]:
    extend: Any = importlib.import_module("autograd.extend")
    anp: Any = importlib.import_module("autograd.numpy")

    def logistic(x: Any) -> Any:
        e = anp.exp(-anp.abs(x))
        return anp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def make(backward: Any) -> Any:
        @extend.primitive
        def op(x: Any) -> Any:
            return anp.maximum(x, 0.0) + anp.log1p(anp.exp(-anp.abs(x)))

        extend.defvjp(op, lambda ans, x: lambda g: g * backward(x))
        return op

    def raising(x: Any) -> Any:
        raise RuntimeError("backward of ag_raising is not implemented")

    def hanging(x: Any) -> Any:
        if x > 100.0:
            _hang()
        return logistic(x)

    return {
        "ag_zero_hole_softplus": make(lambda x: 0.0 if x == 0 else logistic(x)),
        "ag_raising": make(raising),
        "ag_hanging_beyond_100": make(hanging),
    }


_BUILDERS = {"torch": _torch_ops, "jax": _jax_ops, "autograd": _autograd_ops}
_NAMES = {
    "torch": ("ZeroHoleSoftplus", "ConventionRelu", "KinkTwoAbs", "RaisingEverywhere", "HangingBeyond100"),
    "jax": ("zero_hole_softplus", "softplus_log2", "hanging_beyond_100"),
    "autograd": ("ag_zero_hole_softplus", "ag_raising", "ag_hanging_beyond_100"),
}


def __getattr__(name: str) -> Any:
    """Each op built on first use (its framework imported then)."""
    for framework, names in _NAMES.items():
        if name in names:
            ops = _BUILDERS[framework]()
            globals().update(ops)
            return ops[name]
    raise AttributeError(name)
