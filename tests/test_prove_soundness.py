"""The prover's own safeguards: the audit catches an unsound step, bad declarations give one-line
errors, time limits hold, messages say what failed."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import sympy

from autodiff import NONNEGATIVE, POSITIVE, Kink, OpDeclarationError, defop, get_op
from gradproof.cli import main
from verification.prove import Verdict, prove
from verification.prove import ladder as ladder_module
from verification.prove.decide import infinite_verdict
from verification.prove.exact import construct, exact
from verification.prove.records import show

pytestmark = pytest.mark.usefixtures("restore_registry")


# --- the audit ---------------------------------------------------------------


def test_the_audit_catches_an_unsound_simplification(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ladder step that 'reduces' everything to 0 makes every region proven; the audit refutes."""
    monkeypatch.setattr(ladder_module, "LADDER", (("unsound", lambda e: sympy.S.Zero),))
    wrong = get_op("sin").with_rule(lambda m, ans, x: (-m.cos(x),), name="sin_wrong")
    proof = prove(wrong)
    assert all(c.verdict is Verdict.PROVEN for c in proof.inputs[0].checks if c.region != "audit")
    assert proof.verdict is Verdict.REFUTED
    audit = [c for c in proof.inputs[0].checks if c.region == "audit"]
    assert audit and audit[0].counterexample is not None and "audit" in audit[0].counterexample.how
    assert prove(get_op("sin")).verdict is Verdict.PROVEN  # a right rule survives the same unsound step


def test_the_audit_checks_other_parameter_values() -> None:
    op = defop(
        "pw",
        forward=lambda m, x, c: m.pow(x, c),
        grad=lambda m, ans, x, c: (m.where(c > 3.5, m.zero, c * m.pow(x, c - 1)),),
        params=("c",),
        domain=lambda c: (POSITIVE,),
        param_examples=((2.0,),),
        register=False,
    )
    proof = prove(op)
    assert proof.verdict is Verdict.REFUTED
    assert any("examples" in n for n in proof.notes)


# --- exact constants -----------------------------------------------------------


def test_floats_become_exact_binary_rationals() -> None:
    assert exact(sympy.Float(0.1)) == sympy.Rational(3602879701896397, 2**55)
    assert exact(sympy.Float(1 + 1e-13)) != 1


def test_a_closed_form_is_taken_only_when_it_rounds_to_the_float() -> None:
    def gelu_like(c: float) -> Any:
        return defop(
            "cf",
            forward=lambda m, x: c * x,
            grad=lambda m, ans, x: (c * m.one,),
            spec=lambda sp, x: sp.sqrt(2 / sp.pi) * x,
            register=False,
        )

    right = prove(gelu_like(0.7978845608028654))
    assert right.verdict is Verdict.PROVEN
    assert any("0.7978845608028654 as sqrt(2)/sqrt(pi), correctly rounded" in n for n in right.notes)
    one_ulp = prove(gelu_like(math.nextafter(0.7978845608028654, 1.0)))
    assert one_ulp.verdict is Verdict.REFUTED and not one_ulp.notes


def test_equality_conditions_become_relations() -> None:
    op = defop("e1", forward=lambda m, x: x, grad=lambda m, ans, x: (m.where(x == 1.0, m.zero, m.one),), register=False)
    x = sympy_symbol("x")
    built = construct(op, [x], [])
    assert built.partials[0].has(sympy.Eq)
    assert built.partials[0].subs(x, 1) == 0 and built.partials[0].subs(x, 2) == 1


def sympy_symbol(name: str) -> Any:
    from autodiff import sympy_backend

    return sympy_backend().symbol(name, real=True)


def test_isnormal_on_sympy_is_the_normal_range() -> None:
    from autodiff import sympy_backend

    m = sympy_backend()
    x = m.symbol("x", real=True)
    cond = m.isnormal(x)
    assert cond.subs(x, sympy.Rational(1, 2**1030)) is sympy.false
    assert cond.subs(x, sympy.Rational(1, 2**1022)) is sympy.true


# --- infinities and kinks ----------------------------------------------------------


def test_opposite_infinities_are_not_equal() -> None:
    assert infinite_verdict(-sympy.oo, sympy.oo) is not None
    assert infinite_verdict(-sympy.oo, sympy.oo)[0] is Verdict.REFUTED  # type: ignore[index]
    assert infinite_verdict(sympy.zoo, -sympy.oo)[0] is Verdict.PROVEN  # type: ignore[index]
    assert infinite_verdict(sympy.oo, sympy.zoo)[0] is not Verdict.PROVEN  # type: ignore[index]


def test_messages_name_the_failed_part_of_a_kink() -> None:
    clarke = defop(
        "kc",
        forward=lambda m, x: m.abs(x),
        grad=lambda m, ans, x: (m.where(x > 0, m.one, m.where(x < 0, -m.one, 2 * m.one)),),
        kinks=(Kink(at=0.0, convention=2.0),),
        register=False,
    )
    text = prove(clarke).inputs[0].kinks[0].describe()
    assert "outside the Clarke interval [-1, 1]" in text and "refuted" not in text
    mismatch = defop(
        "km",
        forward=lambda m, x: m.abs(x),
        grad=lambda m, ans, x: (m.sign(x),),
        kinks=(Kink(at=0.0, convention=0.5),),
        register=False,
    )
    text = prove(mismatch).inputs[0].kinks[0].describe()
    assert "the rule returns 0 there, the declared convention is 0.5" in text and "true" not in text


def test_an_undeclared_kink_is_its_own_verdict() -> None:
    op = defop("uk", forward=lambda m, x: m.abs(x), grad=lambda m, ans, x: (m.sign(x),), register=False)
    proof = prove(op)
    assert proof.verdict is Verdict.NOT_DIFFERENTIABLE
    failure = proof.inputs[0].failure
    assert failure is not None and "declare Kink(at=0.0" in failure.describe()


def test_show_prints_binary_rationals_as_floats() -> None:
    assert show(exact(sympy.Float(0.3))) == "0.3"
    assert show(sympy.Rational(1, 3)) == "1/3"


# --- declarations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kink", "message"),
    [
        (Kink(at=-1.0, convention=0.0), "outside the domain"),
        (Kink(at=math.inf, convention=0.0), "finite number"),
        (Kink(at=math.nan, convention=0.0), "finite number"),
        (Kink(at=1.0, convention=math.nan), "finite number"),
    ],
)
def test_defop_rejects_kinks_outside_the_domain_or_not_finite(kink: Kink, message: str) -> None:
    with pytest.raises(OpDeclarationError, match=message):
        defop(
            "k",
            forward=lambda m, x: m.sqrt(x),
            grad=lambda m, ans, x: (0.5 / ans,),
            domain=(NONNEGATIVE,),
            kinks=(kink,),
            register=False,
        )


BAD = {
    "none partial": "defop('bad1', forward=lambda m, x: x, grad=lambda m, ans, x: (None,), replace_existing=True)",
    "none rule": "defop('bad2', forward=lambda m, x: x, grad=lambda m, ans, x: None, replace_existing=True)",
    "math in spec": (
        "import math\n"
        "defop('bad3', forward=lambda m, x: m.exp(x), grad=lambda m, ans, x: (ans,),"
        " spec=lambda sp, x: math.exp(x), replace_existing=True)"
    ),
    "bool partial": ("defop('bad4', forward=lambda m, x: x, grad=lambda m, ans, x: (x > 0,), replace_existing=True)"),
    "kink outside": (
        "from autodiff import Kink, POSITIVE\n"
        "defop('bad5', forward=lambda m, x: m.log(x), grad=lambda m, ans, x: (1 / x,), domain=(POSITIVE,),"
        " kinks=(Kink(at=-1.0, convention=0.0),), replace_existing=True)"
    ),
    "kink at inf": (
        "from autodiff import Kink\n"
        "defop('bad6', forward=lambda m, x: x, grad=lambda m, ans, x: (m.one,),"
        " kinks=(Kink(at=float('inf'), convention=0.0),), replace_existing=True)"
    ),
    "kink at nan": (
        "from autodiff import Kink\n"
        "defop('bad7', forward=lambda m, x: x, grad=lambda m, ans, x: (m.one,),"
        " kinks=(Kink(at=float('nan'), convention=0.0),), replace_existing=True)"
    ),
}


@pytest.mark.parametrize("label", list(BAD))
def test_bad_declarations_exit_2_with_one_line(label: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.py"
    path.write_text("from autodiff import defop\n" + BAD[label] + "\n")
    name = BAD[label].split("defop('")[1].split("'")[0]
    args = [name] if "kink" not in label else []  # a bad kink fails at import
    assert main(["prove", *args, "--plugin", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_complex_one_sided_limit_is_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        "from autodiff import defop, Kink\n"
        "defop('rootabs', forward=lambda m, x: m.sqrt(m.abs(x)),"
        " grad=lambda m, ans, x: (m.where(x > 0, 1 / (2 * m.where(x > 0, ans, m.one)), m.zero),),"
        " kinks=(Kink(at=0.0, convention=0.0),), spec=lambda sp, x: sp.sqrt(x), replace_existing=True)\n"
    )
    status = main(["prove", "rootabs", "--plugin", str(path)])
    captured = capsys.readouterr()
    assert status in (1, 3) and "Traceback" not in captured.err + captured.out


# --- time ---------------------------------------------------------------------------


def _slow_rule(m: Any, ans: Any, x: Any) -> tuple[Any]:
    if getattr(m, "symbolic", False):
        time.sleep(30)
    return (m.one,)


def test_an_op_past_its_time_limit_is_undecided() -> None:
    op = defop("slow", forward=lambda m, x: x, grad=_slow_rule, register=False)
    start = time.perf_counter()
    proof = prove(op, timeout=1.0)
    assert time.perf_counter() - start < 10
    assert proof.verdict is Verdict.UNDECIDED
    assert "time budget" in proof.inputs[0].checks[0].method


def test_cli_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        "import time\nfrom autodiff import defop\n"
        "def g(m, ans, x):\n    if m.symbolic:\n        time.sleep(30)\n    return (m.one,)\n"
        "defop('slow2', forward=lambda m, x: x, grad=g, replace_existing=True)\n"
    )
    assert main(["prove", "slow2", "--plugin", str(path), "--timeout", "1"]) == 3
    out = capsys.readouterr().out
    assert "undecided" in out and "time budget" in out
