"""Mutants aimed at the prover: one per class of unsound proof it must not make, and 1-ULP constants.

For an op with partials ``d = rule(m, ans, *xs)`` (see :mod:`verification.mutants`):

* ``ulp``: every numeric constant of the rule's code (literals, closure cells,
  numeric globals; all occurrences of one value at once) moved one ULP up with
  ``math.nextafter`` -- ``1`` becomes ``1.0000000000000002``, ``0`` the
  smallest subnormal; the rule's code is rebuilt with the new constant, no
  source is edited;
* ``equality``: ``d_i + 1`` only where ``x_i == a`` for a point ``a`` of the
  domain (a wrong value hidden behind an equality condition);
* ``trig_sign``: ``-d_i`` where ``cos(x_i) < 0`` (a sign hidden behind a
  trigonometric condition);
* ``subnormal``: ``d_i + 1`` where ``x_i`` is not a normal float64 (zero and
  the subnormals);
* ``removable``: ``d_i * (x_i - a) / (x_i - a)``: equal on paper, a division by
  zero at ``a`` in every number system;
* ``infinite_sign``: ``-inf`` at a closed domain end where the derivative is
  infinite (sqrt at 0).

The relative sizes 2**-40 and 2**-52 of the ``relative`` kind are in
:data:`verification.mutants.RELATIVE_SIZES`.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

from autodiff import Backend, Op
from verification.mutant import Mutant

__all__ = ["prover_mutants", "with_constant"]

Rule = Callable[..., tuple[Any, ...]]


def _same(a: Any, b: float) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and float(a) == b and math.isfinite(a)


def _code(code: types.CodeType, old: float, new: float) -> types.CodeType:
    consts = tuple(
        _code(c, old, new) if isinstance(c, types.CodeType) else (new if _same(c, old) else c) for c in code.co_consts
    )
    return code.replace(co_consts=consts)


def with_constant(fn: Callable[..., Any], old: float, new: float) -> Callable[..., Any]:
    """``fn`` with every numeric constant equal to ``old`` (literal, closure cell, numeric global) as ``new``."""
    globs = dict(fn.__globals__)
    for name in fn.__code__.co_names:
        if _same(globs.get(name), old):
            globs[name] = new
    closure = tuple(types.CellType(new) if _same(c.cell_contents, old) else c for c in (fn.__closure__ or ())) or None
    out = types.FunctionType(_code(fn.__code__, old, new), globs, fn.__name__, fn.__defaults__, closure)
    out.__kwdefaults__ = fn.__kwdefaults__
    return out


def _constants(fn: Callable[..., Any]) -> list[float]:
    from verification.prove.audit import code_constants

    return sorted(code_constants(fn))


def _change(rule: Rule, i: int, f: Callable[..., Any]) -> Rule:
    def mutated(m: Backend, ans: Any, *xs: Any) -> tuple[Any, ...]:
        parts = list(rule(m, ans, *xs))
        parts[i] = f(m, parts[i], xs)
        return tuple(parts)

    return mutated


def _inner_point(op: Op, i: int) -> float | None:
    """A point inside input ``i``'s domain (1 when it is one), None for a parameter-dependent domain."""
    if callable(op.domain):
        return None
    domain = op.domains()[i]
    for candidate in (1.0, 2.0, 0.5, -1.0):
        if any(iv.contains(candidate) for iv in domain):
            return candidate
    return None


def prover_mutants(op: Op) -> list[Mutant]:
    """The prover-class mutants of ``op`` (see the module docstring)."""
    rule = op.grad
    out: list[Mutant] = []

    def add(kind: str, suffix: str, new_rule: Rule, size: float | None = None) -> None:
        out.append(Mutant(f"{op.name}:{kind}:{suffix}", op.name, kind, size, op.with_rule(new_rule, name=op.name)))

    for c in _constants(rule):
        up = math.nextafter(c, math.inf)
        add("ulp", f"{c:g}->{up!r}", with_constant(rule, c, up), size=abs(up - c) / abs(c) if c else None)
    for i in range(op.arity):
        a = _inner_point(op, i)
        if a is not None:
            add(
                "equality",
                f"d{i}+1 at x{i}=={a:g}",
                _change(rule, i, lambda m, d, xs, i=i, a=a: m.where(xs[i] == a, d + 1, d)),
            )
            add(
                "removable",
                f"d{i}*(x{i}-{a:g})/(x{i}-{a:g})",
                _change(rule, i, lambda m, d, xs, i=i, a=a: d * (xs[i] - a) / (xs[i] - a)),
            )
        add(
            "trig_sign",
            f"-d{i} where cos(x{i})<0",
            _change(rule, i, lambda m, d, xs, i=i: m.where(m.cos(xs[i]) < 0, -d, d)),
        )
        add(
            "subnormal",
            f"d{i}+1 where x{i} not normal",
            _change(rule, i, lambda m, d, xs, i=i: m.where(m.isnormal(xs[i]), d, d + 1)),
        )
        if not callable(op.domain):
            for iv in op.domains()[i]:
                if iv.closed_lo:
                    end = iv.lo
                    add(
                        "infinite_sign",
                        f"-inf at x{i}={end:g}",
                        _change(rule, i, lambda m, d, xs, i=i, end=end: m.where(xs[i] == end, m.num(-math.inf), d)),
                    )
    return out
