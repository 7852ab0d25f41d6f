"""Errors the engine raises, each naming the op and the offending values."""

from __future__ import annotations

__all__ = ["AutodiffError", "DomainError", "GradientError", "OpDeclarationError", "UnknownOpError"]


class AutodiffError(Exception):
    """Base class of every error the engine raises on purpose."""


class DomainError(AutodiffError, ValueError):
    """An op was applied outside its declared domain (log(-1), sqrt(-1), 0**-1)."""


class GradientError(AutodiffError, ArithmeticError):
    """A backward rule could not produce a finite local derivative (sqrt'(0))."""


class OpDeclarationError(AutodiffError, TypeError):
    """An op declaration is malformed (wrong arity in a rule, duplicate name, ...)."""


class UnknownOpError(AutodiffError, KeyError):
    """No op of that name is registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
