"""Symbols that compare like numbers: ``x == 1`` on them is a condition ``m.where`` turns into ``Eq``.

On sympy, ``==`` of two expressions is structural and gives a Python bool. The
prover runs op code on :func:`comparing_symbol_class` symbols instead, whose
``==``/``!=`` give a :class:`Comparison`: truthy as the structural answer (so
sympy's own code keeps working), and a relation for the sympy backend's ``where``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Comparison", "comparing_symbol_class"]


def _exact(value: float) -> Any:
    import sympy

    return sympy.Rational(*value.as_integer_ratio())


class Comparison:
    """``a == b`` or ``a != b`` of a :class:`_ComparingSymbol`: truthy as sympy's structural
    comparison (so sympy's own code keeps working), a relation for ``where``."""

    __slots__ = ("equal", "lhs", "rhs", "structural")

    def __init__(self, equal: bool, lhs: Any, rhs: Any, structural: bool) -> None:
        self.equal, self.lhs, self.rhs, self.structural = equal, lhs, rhs, structural

    def __bool__(self) -> bool:
        return self.structural

    def relation(self) -> Any:
        import sympy

        rhs = _exact(self.rhs) if isinstance(self.rhs, float) else self.rhs
        return sympy.Eq(self.lhs, rhs) if self.equal else sympy.Ne(self.lhs, rhs)

    def __or__(self, other: Any) -> Any:
        import sympy

        return sympy.Or(self.relation(), _relation(other))

    def __and__(self, other: Any) -> Any:
        import sympy

        return sympy.And(self.relation(), _relation(other))

    def __invert__(self) -> Any:
        import sympy

        return sympy.Not(self.relation())

    __ror__ = __or__
    __rand__ = __and__


def _relation(cond: Any) -> Any:
    return cond.relation() if isinstance(cond, Comparison) else cond


def _comparable(other: Any) -> bool:
    if isinstance(other, bool):
        return False
    if isinstance(other, (int, float)):
        return True
    import sympy

    return isinstance(other, sympy.Expr)


def _make_comparing_symbol() -> type:
    import sympy

    class ComparingSymbol(sympy.Symbol):
        """A real symbol of the prover: ``==`` and ``!=`` give :class:`Comparison` objects."""

        def __eq__(self, other: object) -> Any:
            same = sympy.Symbol.__eq__(self, other)
            same = False if same is NotImplemented else bool(same)
            return Comparison(True, self, other, same) if _comparable(other) else same

        def __ne__(self, other: object) -> Any:
            same = sympy.Symbol.__eq__(self, other)
            same = False if same is NotImplemented else bool(same)
            return Comparison(False, self, other, not same) if _comparable(other) else not same

        __hash__ = sympy.Symbol.__hash__

    ComparingSymbol.__module__ = __name__
    ComparingSymbol.__qualname__ = "_ComparingSymbol"
    return ComparingSymbol


_symbol_class: type | None = None


def comparing_symbol_class() -> type:
    """The symbol class, made on first use (sympy is imported lazily)."""
    global _symbol_class
    if _symbol_class is None:
        _symbol_class = _make_comparing_symbol()
    return _symbol_class


def __getattr__(name: str) -> Any:
    """``_ComparingSymbol`` resolves lazily, so that pickle finds the class by name."""
    if name == "_ComparingSymbol":
        return comparing_symbol_class()
    raise AttributeError(name)
