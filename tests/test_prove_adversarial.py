"""The prover against adversarial plugin ops: no wrong rule proven, no right one refuted, per class."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from autodiff import get_op, op_names, unregister
from verification.prove import OpProof, Verdict, prove

HERE = Path(__file__).parent
CLASSES = ["floats", "trig", "equality", "kinks", "names", "params", "special", "complete", "undeclared"]


pytestmark = pytest.mark.usefixtures("restore_registry")


def _load(kind: str) -> object:
    module = importlib.import_module(f"tests.prove_ops.{kind}")
    return importlib.reload(module)


def _cases(attr: str) -> list[tuple[str, str]]:
    """The (module, op name) pairs listed under ``attr``; the ops stay unregistered until a test loads them."""
    out: list[tuple[str, str]] = []
    for kind in CLASSES:
        before = set(op_names())
        module = importlib.import_module(f"tests.prove_ops.{kind}")
        for name in set(op_names()) - before:
            unregister(name)
        out.extend((kind, name) for name in getattr(module, attr, []))
    return out


def _describe(proof: OpProof) -> str:
    lines: list[str] = []
    for p in proof.inputs:
        lines.extend(c.describe() for c in p.checks)
        lines.extend(k.describe() for k in p.kinks)
    lines.extend(c.describe() for c in proof.forward)
    return "\n".join(lines)


def test_the_set_is_large_enough() -> None:
    assert len(_cases("WRONG")) + len(_cases("RIGHT")) + len(_cases("UNDECLARED")) >= 40


@pytest.mark.parametrize(("kind", "name"), _cases("WRONG"))
def test_no_wrong_declaration_is_proven(kind: str, name: str) -> None:
    _load(kind)
    proof = prove(get_op(name))
    assert proof.verdict is not Verdict.PROVEN, _describe(proof)


@pytest.mark.parametrize(("kind", "name"), _cases("RIGHT"))
def test_no_right_declaration_is_refuted(kind: str, name: str) -> None:
    _load(kind)
    proof = prove(get_op(name))
    assert proof.verdict is not Verdict.REFUTED, _describe(proof)


@pytest.mark.parametrize(("kind", "name"), _cases("UNDECLARED"))
def test_an_undeclared_kink_is_reported_as_such(kind: str, name: str) -> None:
    _load(kind)
    proof = prove(get_op(name))
    assert proof.verdict is Verdict.NOT_DIFFERENTIABLE, _describe(proof)
    failure = proof.inputs[0].failure
    assert failure is not None and "declare Kink(at=0.0" in failure.describe()
