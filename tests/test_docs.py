"""The Python code in README.md and docs/*.md runs as written, and prints what its comments say.

Each document's ```python blocks run in order in one fresh interpreter, in a
scratch directory. A block that is a file of the reader's own project (its
first line ``# NAME.py ...``, or the sentence before it ending in
```NAME.py`:``) is written there as ``NAME.py`` instead of run. Test
functions a block defines (``def test_...``) are called, as pytest would.
A ``print(...)`` line with a trailing comment must print that comment, where
``...`` stands for any text (two spaces in the comment start a remark that is
not output). Documents that read a run directory get one: a small campaign
written where the snippet looks.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_FILE_HEADER = re.compile(r"#\s*([\w.]+\.py)\b")
_FILE_SENTENCE = re.compile(r"`([\w.]+\.py)`:\s*$")
_EXPECTED = re.compile(r"^\s*print\(.*\)\s+#\s?(.*\S)\s*$")
OPTIONAL = ("torch", "jax", "autograd", "tinygrad")
"""Frameworks a document may use that are optional extras: without them its snippets are skipped."""
_RUN_DIRS = re.compile(r"""\b(?:load|load_run|build_report)\(\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Snippet:
    """One fenced block: its code, and the file name it is meant to be saved as (None: run it)."""

    code: str
    file: str | None


def snippets(text: str) -> list[Snippet]:
    """The document's python blocks, in order."""
    out = []
    for match in _BLOCK.finditer(text):
        code = match.group(1)
        header = _FILE_HEADER.match(code.lstrip().splitlines()[0]) if code.strip() else None
        before = text[: match.start()].rstrip().splitlines()[-1:] or [""]
        sentence = _FILE_SENTENCE.search(before[0])
        name = header.group(1) if header else (sentence.group(1) if sentence else None)
        out.append(Snippet(code, name))
    return out


def expected_output(code: str) -> list[str]:
    """The comments of the block's ``print(...)  # ...`` lines, in order."""
    return [re.split(r"\s{2,}", m.group(1))[0] for line in code.splitlines() if (m := _EXPECTED.match(line))]


def matches(line: str, expected: str) -> bool:
    """``line`` is the comment's text, ``...`` standing for any text."""
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, line.strip()) is not None


_RUNNER = """
import json, sys
blocks = json.loads(sys.stdin.read())
scope = {"__name__": "__doc_snippets__"}
for code in blocks:
    print("\\x00block", flush=True)
    exec(compile(code, "<snippet>", "exec"), scope)
    for name, value in list(scope.items()):
        if name.startswith("test_") and callable(value) and not getattr(value, "_doc_ran", False):
            value()
            try:
                value._doc_ran = True
            except AttributeError:
                pass
"""


def write_run(path: Path) -> None:
    """A small finished campaign of the built-in engine at ``path``."""
    from verification.campaign import CampaignConfig, run_campaign

    run_campaign(CampaignConfig(examples=6, chunk=6, ops=("mul", "tanh", "exp")), path, progress=False)


def test_matching_a_printed_line() -> None:
    assert matches("6.0 -4.0", "6.0 -4.0")
    assert matches("1.1032 0.6681", "1.1032... 0.6681...")
    assert not matches("6.0 -4.5", "6.0 -4.0")
    assert not matches("1.1 0.6681", "1.1032... 0.6681...")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_snippets_run_as_written(document: Path, tmp_path: Path) -> None:
    text = document.read_text()
    missing = [m for m in OPTIONAL if re.search(rf"^(import|from) {m}\b", text, re.M) and find_spec(m) is None]
    if missing:
        pytest.skip(f"{document.name} imports {', '.join(missing)}, which is not installed")
    found = snippets(text)
    runnable = [s.code for s in found if s.file is None]
    for s in found:
        if s.file is not None:
            (tmp_path / s.file).write_text(s.code)
    if not runnable:
        pytest.skip(f"{document.name} has no python to run")
    for run_dir in sorted({m.group(1) for code in runnable for m in _RUN_DIRS.finditer(code)}):
        write_run(tmp_path / run_dir)
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps(runnable),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    assert done.returncode == 0, f"{document.name}: a snippet failed:\n{done.stderr[-3000:]}"
    outputs = done.stdout.split("\x00block\n")[1:]
    for code, output in zip(runnable, outputs):
        printed = output.splitlines()
        wanted = expected_output(code)
        assert len(printed) >= len(wanted), f"{document.name}: expected {wanted}, printed {printed}"
        for line, expected in zip(printed, wanted):
            assert matches(line, expected), f"{document.name}: printed {line!r}, the comment says {expected!r}"
