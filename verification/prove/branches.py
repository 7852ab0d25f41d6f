"""Branch by branch: an expression holding Piecewises is 0 when it is 0 under every truth assignment of its relations.

Every relation in a Piecewise condition (``T <= x**y``, ``x > 0``, ``Eq(x, 1)``)
is treated as an independent boolean. At any point of the region each
relation is true or false, so the point's truth values are one of the
assignments enumerated here (and most assignments are more than the real
values can give: ``x > 1`` false with ``x > 2`` true is enumerated too, which
only costs time). Under one assignment every Piecewise takes one branch (the
first whose condition is true), so the expression *is* the Piecewise-free
expression those branches make; if that reduces to 0 for every assignment,
the expression is 0 at every point. Nothing about the relations is assumed
beyond their being true or false, except, under an assignment that makes
``Eq(a, b)`` true (or ``Ne(a, b)`` false), ``a = b`` solved for a symbol it
is linear in (so the solution is the only one) and substituted.

Unlike ``piecewise_fold``, whose output lists one branch per *combination* of
the conditions (with combinations no assignment reaches, such as ``a & b``
after ``a``, and a cost that grows with every product of ``where``
indicators), the enumeration costs ``2**n`` Piecewise-free expressions for
``n`` relations, fewer after duplicates: ``d2 pow / dx2`` has four.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import sympy

__all__ = ["each_assignment", "MAX_RELATIONS"]

MAX_RELATIONS = 10
"""At most this many distinct relations are enumerated (1024 assignments); past it the step gives up."""


class _Undecided(Exception):
    """A condition neither true nor false under the assignment (not made of relations alone)."""


def relations(e: Any) -> list[Any]:
    """The distinct relations of every Piecewise condition in ``e``, nested ones included."""
    found: set[Any] = set()
    for node in sympy.preorder_traversal(e):
        if isinstance(node, sympy.Piecewise):
            for _, cond in node.args:
                found |= cond.atoms(sympy.core.relational.Relational)
    return sorted(found, key=sympy.default_sort_key)


def select(e: Any, assignment: dict[Any, Any]) -> Any:
    """``e`` with each Piecewise replaced by the branch ``assignment`` selects (outermost first)."""
    memo: dict[Any, Any] = {}

    def walk(node: Any) -> Any:
        if node in memo:
            return memo[node]
        if isinstance(node, sympy.Piecewise):
            out = walk(_branch(node, assignment))
        elif node.args and not isinstance(node, sympy.logic.boolalg.Boolean):
            out = node.func(*(walk(a) for a in node.args))
        else:
            out = node
        memo[node] = out
        return out

    return walk(e)


def _branch(pw: Any, assignment: dict[Any, Any]) -> Any:
    for value, cond in pw.args:
        holds = cond.xreplace(assignment)
        if holds is sympy.true:
            return value
        if holds is not sympy.false:
            raise _Undecided
    raise _Undecided  # no branch holds: the Piecewise is undefined there


def _equalities(e: Any, assignment: dict[Any, Any]) -> Any:
    """``e`` with ``a = b`` substituted for each ``Eq(a, b)`` the assignment makes true (``Ne`` false)."""
    for rel, holds in assignment.items():
        equal = holds is sympy.true if isinstance(rel, sympy.Eq) else holds is sympy.false
        if not isinstance(rel, (sympy.Eq, sympy.Ne)) or not equal:
            continue
        u = rel.lhs - rel.rhs
        for s in sorted(u.free_symbols, key=str):
            slope = sympy.diff(u, s)
            if slope.is_number and slope.is_zero is False:  # linear in s: a = b for exactly one s
                e = e.xreplace({s: s - u / slope})
                break
    return e


def each_assignment(e: Any, is_zero: Callable[[Any], bool]) -> bool:
    """True when ``e`` holds a Piecewise and, under every truth assignment of its relations, the
    selected Piecewise-free expression satisfies ``is_zero``; False otherwise (or past
    :data:`MAX_RELATIONS` relations, or when a condition is not made of relations alone)."""
    rels = relations(e)
    if not rels or len(rels) > MAX_RELATIONS:
        return False
    seen: set[Any] = set()
    for bits in itertools.product((sympy.true, sympy.false), repeat=len(rels)):
        assignment = dict(zip(rels, bits))
        try:
            branch = _equalities(select(e, assignment), assignment)
        except _Undecided:
            return False
        if branch in seen:
            continue
        if not is_zero(branch):
            return False
        seen.add(branch)
    return True
