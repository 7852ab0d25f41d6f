"""JAX at second order: Hessians by ``jax.jacrev`` twice, H v by ``jax.grad``/``jax.jvp`` of ``jax.grad``, JVPs.

Float64 on the CPU, each op as the first-order JAX engine runs it (its
spelling below ``jax``, or the user's custom function):

* ``hessian`` -- ``jax.jacrev(jax.jacrev(f))`` (reverse over reverse);
* ``hvp_rev`` -- ``jax.grad`` of ``jax.grad(f)(x) . v``;
* ``hvp_fwd`` -- ``jax.jvp(jax.grad(f), x, v)`` (forward over reverse);
* ``jvp`` -- ``jax.jvp(f, x, v)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from verification.expr import Expr, ops_in
from verification.forms import assignments
from verification.second_check import Mode
from verification.second_framework import FrameworkOrder2

__all__ = ["JaxOrder2"]


class JaxOrder2(FrameworkOrder2):
    """The order-2 adapter of the first-order JAX engine (:class:`verification.frameworks.jax.JaxEngine`)."""

    name = "jax"

    def __init__(self, first: Any) -> None:
        super().__init__(first)
        self.jax = first._jax
        self.jnp = first._jnp

    def constant(self, c: float) -> Any:
        return self.first.constant(c)

    def apply(self, name: str, args: list[Any], params: tuple[float, ...]) -> Any:
        return self.first.forms[name](*args, *params)

    def _f(self, tree: Expr) -> Callable[..., Any]:
        return lambda *xs: self.build(tree, xs)

    def _xs(self, values: Sequence[float]) -> tuple[Any, ...]:
        return tuple(self.first.constant(float(p)) for p in values)

    def _hessian(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        argnums = tuple(range(len(point)))
        h = self.jax.jacrev(self.jax.jacrev(self._f(tree), argnums=argnums), argnums=argnums)(*self._xs(point))
        return [float(h[i][j]) for i in argnums for j in argnums]

    def _hvp_rev(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        argnums = tuple(range(len(point)))
        grad = self.jax.grad(self._f(tree), argnums=argnums)

        def dot(*xs: Any) -> Any:
            return sum(g * c for g, c in zip(grad(*xs), v))

        return [float(h) for h in self.jax.grad(dot, argnums=argnums)(*self._xs(point))]

    def _hvp_fwd(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        grad = self.jax.grad(self._f(tree), argnums=tuple(range(len(point))))
        _, hv = self.jax.jvp(grad, self._xs(point), self._xs(v))
        return [float(h) for h in hv]

    def _jvp(self, tree: Expr, point: Sequence[float], v: Sequence[float]) -> list[float]:
        _, jv = self.jax.jvp(self._f(tree), self._xs(point), self._xs(v))
        return [float(jv)]

    def values(self, tree: Expr, point: Sequence[float]) -> dict[Expr, float]:
        memo: dict[Expr, Any] = {}
        self.build(tree, self._xs(point), memo)
        return {node: float(x) for node, x in memo.items()}

    def reproduction(self, tree: Expr, point: Sequence[float], v: Sequence[float], mode: Mode) -> str:
        """JAX code printing the engine's result for ``mode`` at ``point``."""
        names = [f"x{i}" for i in range(len(point))]
        forms = self.first.forms
        used = set(ops_in(tree))
        lines = [*self.first.preamble(), *forms.import_lines({n for n in used if forms.custom(n)})]
        lines.append(f"def f({', '.join(names)}):")
        lines.extend(f"    {line}" for line in assignments(tree, names, dialect="jax", resolve=forms.resolve))
        lines.append("    return y")
        argnums = tuple(range(len(point)))
        lines.append(f"xs = tuple(jax.numpy.float64(p) for p in {list(point)!r})")
        lines.append(f"vs = tuple(jax.numpy.float64(c) for c in {list(v)!r})")
        calls = {
            Mode.HESSIAN: f"jax.jacrev(jax.jacrev(f, argnums={argnums!r}), argnums={argnums!r})(*xs)",
            Mode.HVP_REV: (
                f"jax.grad(lambda *a: sum(g * c for g, c in zip(jax.grad(f, argnums={argnums!r})(*a), vs)), "
                f"argnums={argnums!r})(*xs)"
            ),
            Mode.HVP_FWD: f"jax.jvp(jax.grad(f, argnums={argnums!r}), xs, vs)[1]",
            Mode.JVP: "jax.jvp(f, xs, vs)[1]",
        }
        lines.append(f"print({calls[mode]})")
        return "\n".join(lines)
