"""Hypothesis strategies for expression trees and for points where they can be checked.

Use them in your own tests::

    from hypothesis import given
    from verification.strategies import expressions, points

    @given(expressions(ops=["mul", "tanh", "log"], n_vars=2, max_depth=3), st.data())
    def test_my_engine(tree, data):
        point = data.draw(points(tree, n_vars=2))
        ...

Every op node has at least one argument that contains a variable, so no
subtree is a constant in disguise. Trees shrink towards single leaves,
earlier ops of the list and the first constants (1.0, 2.0, 0.5, ...), points
towards small round numbers: counterexamples come out short and readable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from autodiff import Domain, Op, get_op, in_domain, op_names
from verification.bounds import analyse
from verification.expr import Apply, Const, Expr, Resolver, Var, size, variables

__all__ = [
    "CONSTANTS",
    "expressions",
    "constants",
    "coordinates",
    "points",
    "candidate_points",
    "classify_point",
    "PARAMETERS",
    "parameter_values",
]

CONSTANTS: tuple[float, ...] = (1.0, 2.0, 0.5, -1.0, 3.0, -2.0, 0.25, 10.0)
"""The readable constants trees use first (and shrink to)."""

PARAMETERS: tuple[float, ...] = (2.0, 3.0, 0.5, -1.0, 1.5, -2.0, -0.5, 10.0)
"""Candidate values of op parameters (e.g. the exponent of ``x ** c``), kept where the op allows them."""

_COORDINATES: tuple[float, ...] = (1.0, 0.5, 2.0, -1.0, -0.5, 3.0, -2.0, 0.25)


def constants() -> st.SearchStrategy[float]:
    """Nonzero constants: the readable ones first, then multiples of 1/1024 in [-10, 10].

    Constants are short binary fractions: as exact rationals, a float such as
    0.1 carries a 55-bit denominator, on which sympy can spend minutes (its
    ``tanh(x**0.1)`` never returns); the engine's rounding is exercised by the
    points, which are arbitrary floats.
    """
    return st.one_of(
        st.sampled_from(CONSTANTS),
        st.integers(-10 * 1024, 10 * 1024).filter(lambda k: k != 0).map(lambda k: k / 1024),
    )


def coordinates() -> st.SearchStrategy[float]:
    """One input value: round numbers, then uniform on [-4, 4], [-64, 64] and near zero."""
    return st.one_of(
        st.sampled_from(_COORDINATES),
        st.floats(min_value=-4.0, max_value=4.0),
        st.floats(min_value=-64.0, max_value=64.0),
        st.floats(min_value=-1e-3, max_value=1e-3),
    )


def _check_int(name: str, value: object, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int")
    if value < lowest:
        raise InvalidArgument(f"{name}={value!r} must be at least {lowest}")
    return value


def parameter_values(op: Op) -> list[tuple[float, ...]]:
    """Parameter tuples from :data:`PARAMETERS` inside the op's parameter domains."""
    combos: list[tuple[float, ...]] = [()]
    for dom in op.param_domain:
        combos = [(*c, v) for c in combos for v in PARAMETERS if in_domain(dom, v)]
    return combos


def expressions(
    *,
    ops: Sequence[str] | None = None,
    n_vars: int = 1,
    max_depth: int = 3,
    max_size: int | None = None,
    allow_constants: bool = True,
    resolve: Resolver = get_op,
) -> st.SearchStrategy[Expr]:
    """Trees over the named ops (all registered ops by default) and variables ``x0 .. x{n_vars-1}``.

    The root is an op; no path is longer than ``max_depth`` ops; ``max_size``
    bounds the number of nodes. Constants come from :func:`constants` when
    ``allow_constants``; op parameters from :data:`PARAMETERS`.
    """
    n_vars = _check_int("n_vars", n_vars, 1)
    max_depth = _check_int("max_depth", max_depth, 1)
    if max_size is not None:
        max_size = _check_int("max_size", max_size, 2)
    names = tuple(op_names()) if ops is None else tuple(ops)
    if not names:
        raise InvalidArgument("ops must name at least one op")
    table = [resolve(name) for name in names]  # UnknownOpError names the bad one
    var_leaves = st.builds(Var, st.integers(0, n_vars - 1))
    consts = st.builds(Const, constants())

    def apps(sub_var: st.SearchStrategy[Expr], with_consts: bool) -> st.SearchStrategy[Expr]:
        choices = []
        for op in table:
            for params in parameter_values(op):
                doms = op.domains(params)
                if op.arity == 1:
                    args_st: st.SearchStrategy[tuple[Expr, ...]] = st.tuples(sub_var)
                else:
                    # one argument (index k) holds a variable; a constant elsewhere lies in its domain
                    others = [st.one_of(_consts_in(consts, d), sub_var) if with_consts else sub_var for d in doms]
                    args_st = st.one_of(
                        [st.tuples(*[sub_var if i == k else o for i, o in enumerate(others)]) for k in range(op.arity)]
                    )
                choices.append(st.builds(Apply, st.just(op.name), args_st, st.just(params)))
        if not choices:
            raise InvalidArgument(f"no op of {names} can be applied with parameters from {PARAMETERS}")
        return st.one_of(choices)

    # Each level is wrapped in ``deferred`` so that a strategy's repr names
    # its level instead of spelling out every level below it.
    with_var: st.SearchStrategy[Expr] = var_leaves
    for _ in range(max_depth - 1):
        with_var = _level(var_leaves, apps(with_var, allow_constants))
    tree = apps(with_var, allow_constants)
    if max_size is not None:
        limit = max_size
        tree = tree.filter(lambda t: size(t) <= limit)
    return tree


def _level(leaves: st.SearchStrategy[Expr], inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    """A leaf (one time in three) or an op over the level below."""
    return st.deferred(lambda: st.one_of(leaves, inner, inner))


def _consts_in(consts: st.SearchStrategy[Const], dom: Domain) -> st.SearchStrategy[Const]:
    return consts.filter(lambda c: in_domain(dom, c.value))


def classify_point(tree: Expr, point: Sequence[float], *, resolve: Resolver = get_op) -> str | None:
    """Why ``point`` cannot be used for ``tree`` (``"undefined"``, ``"near_kink"``, ``"non_finite"``), or None.

    See :mod:`verification.bounds` for the definitions.
    """
    return analyse(tree, point, resolve=resolve).discard


def candidate_points(n_vars: int) -> st.SearchStrategy[tuple[float, ...]]:
    """Points of ``n_vars`` coordinates, not yet checked against any tree."""
    n_vars = _check_int("n_vars", n_vars, 1)
    return st.tuples(*[coordinates()] * n_vars)


def points(
    tree: Expr,
    *,
    n_vars: int | None = None,
    resolve: Resolver = get_op,
    discards: Counter[str] | None = None,
) -> st.SearchStrategy[tuple[float, ...]]:
    """Points where ``tree`` is defined, finite and away from declared kinks.

    Rejected candidates are counted by reason in ``discards`` when given.
    """
    n = n_vars if n_vars is not None else 1 + max(variables(tree), default=0)

    def usable(point: tuple[float, ...]) -> bool:
        reason = classify_point(tree, point, resolve=resolve)
        if reason is not None and discards is not None:
            discards[reason] += 1
        return reason is None

    return candidate_points(n).filter(usable)
