"""How each framework spells the registry's built-in ops: one table per framework, in one place.

A spelling is Python source with ``{0}``, ``{1}`` for the operands and ``{c}``
for the op's parameter, evaluated in the framework's namespace (``jnp``,
``anp``, ...). The same string is compiled into the callable the engine runs
and pasted into reproduction snippets, so a snippet runs exactly what the
campaign ran. Operators (``+``, ``**``, unary ``-``) are spelled alike in
every framework.
"""

from __future__ import annotations

from verification.foreign import OP_SOURCE

__all__ = ["OPERATORS", "SPELLINGS", "spellings"]

OPERATORS: dict[str, str] = {
    k: OP_SOURCE[k] for k in ("add", "sub", "mul", "truediv", "neg", "pow", "pow_const", "const_pow")
}
"""Python's operators, written as for any micrograd-style class."""

_UNARY = ("exp", "log", "sqrt", "tanh", "sin", "cos")

SPELLINGS: dict[str, dict[str, str]] = {
    "jax": {
        **{op: f"jnp.{op}({{0}})" for op in _UNARY},
        "abs": "jnp.abs({0})",
        "sigmoid": "jax.nn.sigmoid({0})",
        "relu": "jax.nn.relu({0})",
    },
    "autograd": {
        **{op: f"anp.{op}({{0}})" for op in _UNARY},
        "abs": "anp.abs({0})",
        "sigmoid": "expit({0})",  # autograd.scipy.special.expit: autograd has no sigmoid of its own
        "relu": "anp.maximum({0}, 0.0)",  # no relu either: maximum is how its users write it
    },
    "tinygrad": {
        **{op: f"{{0}}.{op}()" for op in _UNARY},
        "abs": "{0}.abs()",
        "sigmoid": "{0}.sigmoid()",
        "relu": "{0}.relu()",
    },
}


def spellings(framework: str) -> dict[str, str]:
    """Every built-in op's spelling in ``framework`` (operators included)."""
    return {**OPERATORS, **SPELLINGS[framework]}
