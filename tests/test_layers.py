"""The import graph: layers depend one way and no modules import each other in a circle.

Layers, lowest first: ``autodiff`` (the engine), ``runstore`` (what a run
writes), ``verification`` and ``reports`` (side by side: reports reads runs
through ``runstore`` and never imports ``verification``), ``gradproof`` (the
command line). Every import counts, at module level or inside a function:
a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ALLOWED: dict[str, frozenset[str]] = {
    "autodiff": frozenset({"autodiff"}),
    "runstore": frozenset({"runstore", "autodiff"}),
    "verification": frozenset({"verification", "runstore", "autodiff"}),
    "reports": frozenset({"reports", "runstore", "autodiff"}),
    "gradproof": frozenset({"gradproof", "reports", "verification", "runstore", "autodiff"}),
}
"""Package -> the packages of this project its modules may import."""

ENTRY_POINTS = frozenset({"verification.__main__"})
"""Program entry points (run with ``python -m``, never imported): ``python -m verification`` starts the CLI."""

MAX_LINES = 400
"""A module longer than this says why at its top (its docstring contains "longer than 400 lines")."""

PENDING_LONG: frozenset[str] = frozenset({"verification.prove"})
"""Long modules being split; an entry no longer over the limit must be deleted from here."""

PENDING_CIRCLES: frozenset[frozenset[str]] = frozenset(
    {frozenset({"verification.engines", "verification.foreign", "verification.mutants"})}
)
"""Circles known and being removed; an entry that is no longer a circle must be deleted from here."""


@dataclass(frozen=True)
class Import:
    """One import statement's target module, and where it is."""

    source: str
    target: str
    line: int


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    out: dict[str, Path] = {}
    for package in ALLOWED:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """The project modules ``name`` imports (``from a.b import c`` is ``a.b.c`` when that is a module)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ALLOWED:
                yield Import(name, target, node.lineno)


def graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    return {
        name: {i.target for i in imports(name, path, known) if i.target in known and i.target != name}
        for name, path in known.items()
    }


def circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(edges[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            cut = stack.index(node)
            component, stack[cut:] = frozenset(stack[cut:]), []
            if len(component) > 1:
                found.append(component)

    for start in sorted(edges):
        if start not in index:
            visit(start)
    return found


def upward(known: dict[str, Path]) -> list[Import]:
    """Imports of a package its layer may not use."""
    return [
        i
        for name, path in known.items()
        if name not in ENTRY_POINTS
        for i in imports(name, path, known)
        if i.target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    ]


def test_no_upward_import() -> None:
    known = modules()
    bad = [f"{i.source} (line {i.line}) imports {i.target}" for i in upward(known)]
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_circle() -> None:
    found = set(circles(graph(modules())))
    new = [sorted(c) for c in found - PENDING_CIRCLES]
    assert not new, f"modules importing each other in a circle: {new}"
    stale = [sorted(c) for c in PENDING_CIRCLES - found]
    assert not stale, f"no longer a circle, delete from PENDING_CIRCLES: {stale}"


def test_checks_catch_a_bad_graph(tmp_path: Path) -> None:
    """The checks see an upward import (lazy, inside a function) and a circle through ``from . import``."""
    for package in ALLOWED:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "reports" / "a.py").write_text("def f():\n    import verification.b\n")
    (tmp_path / "verification" / "b.py").write_text("from verification import c\n")
    (tmp_path / "verification" / "c.py").write_text("from .b import x\n")
    known = modules(tmp_path)
    assert [(i.source, i.target) for i in upward(known)] == [("reports.a", "verification.b")]
    assert circles(graph(known)) == [frozenset({"verification.b", "verification.c"})]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_every_module_says_its_job(package: str) -> None:
    """Each module opens with a docstring whose first line states what it is for."""
    silent = [
        name
        for name, path in modules().items()
        if name.split(".")[0] == package
        and not (ast.get_docstring(ast.parse(path.read_text())) or "").strip().splitlines()[:1]
    ]
    assert not silent, f"modules without a one-line statement of their job: {silent}"


def test_a_long_module_says_why() -> None:
    long = {name: path for name, path in modules().items() if len(path.read_text().splitlines()) > MAX_LINES}
    silent = [
        name
        for name, path in sorted(long.items())
        if name not in PENDING_LONG
        and f"longer than {MAX_LINES} lines" not in (ast.get_docstring(ast.parse(path.read_text())) or "").lower()
    ]
    assert not silent, f"modules over {MAX_LINES} lines without a reason at their top: {silent}"
    stale = sorted(PENDING_LONG - set(long))
    assert not stale, f"no longer over {MAX_LINES} lines, delete from PENDING_LONG: {stale}"
