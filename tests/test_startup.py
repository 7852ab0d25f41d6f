"""Start-up stays light: ``--help`` and the package imports load none of the heavy libraries.

The times themselves are measured by ``benchmarks/startup.py``; this checks
the cause of slowness that can regress silently: an eager heavy import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sympy", "symengine", "mpmath", "pandas", "numpy", "matplotlib", "hypothesis", "tqdm")

_PROBE = """
import json, sys
argv = json.loads(sys.argv[1])
if argv and argv[0] == "import":
    __import__(argv[1])
else:
    from gradproof.cli import main
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[2]))))
"""


def loaded(argv: list[str]) -> list[str]:
    """Heavy modules loaded by ``gradproof *argv`` (or ``import X`` for ``["import", "X"]``) in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return sorted({m.split(".")[0] for m in found})


@pytest.mark.parametrize("command", ["", "train", "report", "prove", "verify", "compare", "mutate"])
def test_help_loads_no_heavy_library(command: str) -> None:
    assert loaded([command, "--help"] if command else ["--help"]) == []


@pytest.mark.parametrize("package", ["autodiff", "verification", "reports"])
def test_import_loads_no_heavy_library(package: str) -> None:
    assert loaded(["import", package]) == []


def test_probe_sees_a_heavy_import() -> None:
    """The probe is not blind: importing the prover loads sympy."""
    assert "sympy" in loaded(["import", "verification.prove"])
