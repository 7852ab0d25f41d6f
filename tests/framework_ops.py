"""Custom framework ops written the way users write them: correct ones, and ones with a planted bug.

torch: ``autograd.Function`` subclasses; JAX: ``jax.custom_vjp`` and ``jax.custom_jvp``
functions. Each softplus is ``log(1 + exp(x))`` (derivative: the logistic
function), each log-sigmoid ``-log(1 + exp(-x))`` (derivative: logistic of -x).
Planted: a backward with the wrong sign for x < 0, one off by 1e-9 relative, one
(JAX) that returns 0 for |x| < 1e-300, subnormals included.
The framework is imported lazily: the module imports without either installed.
"""

from __future__ import annotations

import importlib
from typing import Any

SOFTPLUS = "log(1 + exp(x))"
LOG_SIGMOID = "-log(1 + exp(-x))"


def torch_kit() -> tuple[Any, Any, Any, Any]:
    """torch, its stable logistic and softplus, and ``make(name, forward, backward)``: an
    ``autograd.Function`` whose backward is ``g * backward(x)``."""
    torch: Any = importlib.import_module("torch")

    def logistic(x: Any) -> Any:
        """exp(x) / (1 + exp(x)) without overflow or cancellation on either side."""
        e = torch.exp(-torch.abs(x))
        return torch.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus_value(x: Any) -> Any:
        return torch.clamp(x, min=0.0) + torch.log1p(torch.exp(-torch.abs(x)))

    def make(name: str, forward: Any, backward: Any) -> Any:
        def fwd(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return forward(x)

        def bwd(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * backward(x)

        return type(name, (torch.autograd.Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})

    return torch, logistic, softplus_value, make


def _torch_ops() -> dict[str, Any]:
    torch, logistic, softplus_value, make = torch_kit()
    return {
        "StableSoftplus": make("StableSoftplus", softplus_value, logistic),
        "StableLogSigmoid": make("StableLogSigmoid", lambda x: -softplus_value(-x), lambda x: logistic(-x)),
        "SignFlipSoftplus": make(
            "SignFlipSoftplus", softplus_value, lambda x: torch.where(x < 0, -logistic(x), logistic(x))
        ),
        "PpbSoftplus": make("PpbSoftplus", softplus_value, lambda x: logistic(x) * (1.0 + 1e-9)),
        # wrong only in the far tail, where a few finite-difference points never go
        "TailSoftplus": make(
            "TailSoftplus", softplus_value, lambda x: torch.where(x < -600, torch.zeros_like(x), logistic(x))
        ),
        "RaisingSoftplus": make("RaisingSoftplus", softplus_value, _raise_beyond(torch, logistic, 100.0)),
    }


def _raise_beyond(torch: Any, fn: Any, limit: float) -> Any:
    def backward(x: Any) -> Any:
        if float(x) > limit:
            raise ValueError(f"backward not implemented beyond {limit}")
        return fn(x)

    return backward


def jax_kit() -> tuple[Any, Any, Any, Any]:
    """jax (float64 on), jax.numpy, and their stable logistic and softplus."""
    jax: Any = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    jnp: Any = importlib.import_module("jax.numpy")

    def logistic(x: Any) -> Any:
        e = jnp.exp(-jnp.abs(x))
        return jnp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus_value(x: Any) -> Any:
        return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))

    return jax, jnp, logistic, softplus_value


def _jax_ops() -> dict[str, Any]:
    jax, jnp, logistic, softplus_value = jax_kit()

    def vjp_op(forward: Any, derivative: Any) -> Any:
        op = jax.custom_vjp(forward)
        op.defvjp(lambda x: (forward(x), x), lambda x, g: (g * derivative(x),))
        return op

    softplus_jvp = jax.custom_jvp(softplus_value)
    softplus_jvp.defjvp(lambda primals, tangents: (softplus_value(primals[0]), logistic(primals[0]) * tangents[0]))
    return {
        "softplus": vjp_op(softplus_value, logistic),
        "softplus_jvp": softplus_jvp,
        "log_sigmoid": vjp_op(lambda x: -softplus_value(-x), lambda x: logistic(-x)),
        "sign_flip_softplus": vjp_op(softplus_value, lambda x: jnp.where(x < 0, -logistic(x), logistic(x))),
        "ppb_softplus": vjp_op(softplus_value, lambda x: logistic(x) * (1.0 + 1e-9)),
        # "the gradient vanishes for tiny x": wrong at 0 and at every subnormal (XLA reads them as 0)
        "tiny_guard_softplus": vjp_op(softplus_value, lambda x: jnp.where(jnp.abs(x) < 1e-300, 0.0, logistic(x))),
    }


def __getattr__(name: str) -> Any:
    """``tests.framework_ops:StableSoftplus`` (torch) or ``tests.framework_ops:softplus`` (JAX), built on first use."""
    for build in (_torch_ops, _jax_ops):
        if name in _NAMES[build.__name__]:
            ops = build()
            globals().update(ops)
            return ops[name]
    raise AttributeError(name)


_NAMES = {
    "_torch_ops": (
        "StableSoftplus",
        "StableLogSigmoid",
        "SignFlipSoftplus",
        "PpbSoftplus",
        "TailSoftplus",
        "RaisingSoftplus",
    ),
    "_jax_ops": (
        "softplus",
        "softplus_jvp",
        "log_sigmoid",
        "sign_flip_softplus",
        "ppb_softplus",
        "tiny_guard_softplus",
    ),
}
