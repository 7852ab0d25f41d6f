"""Start-up cost: ``gradproof --help``, each subcommand's ``--help`` and the package imports, in fresh processes.

Each case runs in a new interpreter (``python -m gradproof ...`` or
``python -c 'import ...'``), timed from spawn to exit, best of ``--repeat``.
Two baselines are measured in the same run, so figures from a loaded machine
still compare: ``python -c pass`` (the interpreter alone) and
``python -c 'import sympy'`` (what one heavy import costs). With
``--before DIR`` the same cases also run on an older source tree (for
instance ``git archive <commit> | tar -x -C DIR``) and the speed-up
before / after is printed.

Run: ``python benchmarks/startup.py [--repeat 7] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SUBCOMMANDS = ("train", "report", "prove", "verify", "mutate")
IMPORTS = ("autodiff", "verification", "reports")
TARGETS = {"cli": 0.3, "import autodiff": 0.1}
"""Goals on an idle machine, seconds: any ``--help``, and ``import autodiff``."""


@dataclass(frozen=True)
class Case:
    """One thing to time: a label and the interpreter arguments that do it."""

    label: str
    args: tuple[str, ...]
    target: float | None = None


def cases(cli_module: str) -> list[Case]:
    """Every case, the CLI run as ``python -m cli_module``."""
    cli = TARGETS["cli"]
    out = [Case("gradproof --help", ("-m", cli_module, "--help"), cli)]
    out += [Case(f"gradproof {name} --help", ("-m", cli_module, name, "--help"), cli) for name in SUBCOMMANDS]
    out += [Case(f"import {name}", ("-c", f"import {name}"), TARGETS.get(f"import {name}")) for name in IMPORTS]
    return out


BASELINES = (Case("python -c pass", ("-c", "pass")), Case("import sympy", ("-c", "import sympy")))


def best_time(args: tuple[str, ...], repeat: int, tree: Path | None) -> float:
    """Fewest seconds of ``repeat`` runs of ``python *args`` (in ``tree``, first on the path, when given)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *args], cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()[-300:]}")
        best = min(best, elapsed)
    return best


def cli_module(tree: Path | None) -> str:
    """The module that runs the command line in ``tree`` (older trees kept it in ``verification``)."""
    if tree is not None and not (tree / "gradproof" / "cli.py").exists():
        return "verification"
    return "gradproof"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per case; the best counts (7)")
    parser.add_argument("--before", type=Path, metavar="DIR", help="older source tree to compare with")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.before is not None and not args.before.is_dir():
        parser.error(f"--before {args.before} is not a directory")

    base = {b.label: best_time(b.args, args.repeat, None) for b in BASELINES}
    sympy_s = base["import sympy"]
    interpreter = base["python -c pass"]
    print(f"baselines (best of {args.repeat}): interpreter {interpreter:.3f} s, import sympy {sympy_s:.3f} s")
    now = cases(cli_module(None))
    old = cases(cli_module(args.before)) if args.before is not None else None
    head = f"{'case':<26}{'now s':>8}{'/ sympy':>9}{'target':>8}"
    print(head + (f"{'before s':>10}{'/ sympy':>9}{'speed-up':>10}" if old else ""))
    for i, case in enumerate(now):
        t = best_time(case.args, args.repeat, None)
        target = f"{case.target:.1f}" if case.target is not None else "-"
        line = f"{case.label:<26}{t:>8.3f}{t / sympy_s:>9.2f}{target:>8}"
        if old is not None:
            b = best_time(old[i].args, args.repeat, args.before)
            line += f"{b:>10.3f}{b / sympy_s:>9.2f}{b / t:>9.1f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
