"""Turn an ``--engine`` spec into an engine under test: ours, a mutant of ours, or a foreign one."""

from __future__ import annotations

from verification.engine_api import Engine
from verification.engines import BUILTIN_SPECS, BuiltinEngine

__all__ = ["resolve_engine"]


def resolve_engine(spec: str) -> Engine:
    """The engine named by ``spec``.

    * ``gradproof`` / ``builtin``: the built-in engine;
    * ``mutant:NAME``: the built-in engine with one mutant of
      :mod:`verification.mutants` (a wrong rule, or a traversal fault);
    * ``jax``, ``autograd``, ``tinygrad``: a framework adapter (see
      :mod:`verification.frameworks`);
    * ``torch``, ``module:Class`` or ``path/to/file.py:Class``: a foreign engine
      (see :mod:`verification.foreign`).

    A spec that cannot be loaded is a UsageError naming the cause.
    """
    if spec in BUILTIN_SPECS:
        return BuiltinEngine()
    if spec.startswith("mutant:"):
        from verification.mutants import mutant_engine

        engine: Engine = mutant_engine(spec[len("mutant:") :])
        return engine
    from verification.frameworks import framework_engine

    framework: Engine | None = framework_engine(spec)  # jax, autograd, tinygrad, torch
    if framework is not None:
        return framework
    from verification.foreign import load_engine

    foreign: Engine = load_engine(spec)
    return foreign
