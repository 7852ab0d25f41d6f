"""Reproduction snippets: a few lines of Python a user runs to see an engine's wrong gradient."""

from __future__ import annotations

from collections.abc import Sequence

from autodiff import get_op
from verification.engines import Engine
from verification.expr import Expr, ops_in, to_source

__all__ = ["reproduction"]


def reproduction(engine: Engine, tree: Expr, point: Sequence[float], plugins: Sequence[str] = ()) -> str:
    """A few lines of Python that evaluate ``tree`` at ``point`` with ``engine`` and print the gradient."""
    custom = getattr(engine, "reproduction", None)
    if callable(custom):
        return str(custom(tree, point))
    names = [f"x{i}" for i in range(len(point))]
    resolve = getattr(engine, "resolve", get_op)
    called = sorted({op for op in ops_in(tree) if resolve(op).template is None})
    lines = ["from autodiff import Value, get_op"]
    if plugins:
        lines.append("from verification.plugins import load_plugin")
        lines.extend(f"load_plugin({p!r})" for p in plugins)
    lines.extend(f"{name} = get_op({name!r})" for name in called)
    lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {', '.join(f'Value({p!r})' for p in point)}")
    lines.append(f"y = {to_source(tree, names, resolve=resolve)}")
    lines.append("y.backward()")
    lines.append(f"print(y.data, {', '.join(n + '.grad' for n in names)})")
    return "\n".join(lines)
