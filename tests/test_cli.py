"""The command line as people expect it: version, verbosity, help with exit statuses, pipes, clear errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import autodiff
from gradproof.cli import EXIT_PIPE_CLOSED, SUBCOMMANDS, build_parser, main
from verification.progress import Progress, duration

COMMANDS = [name.rsplit(".", 1)[1] for name in SUBCOMMANDS]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradproof {autodiff.__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_help_lists_the_exit_statuses(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "exit status:" in out and "\n  0 " in out and "\n  2 " in out
    assert "--quiet" in out and "--verbose" in out


def test_verify_help_lists_the_engine_forms(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    out = capsys.readouterr().out
    for form in ("gradproof, builtin", "torch", "MODULE:CLASS", "path/to/file.py:CLASS", "mutant:NAME", "130"):
        assert form in out


@pytest.mark.parametrize(
    ("argv", "quiet", "verbose"),
    [
        (["verify"], False, False),
        (["-q", "verify"], True, False),
        (["verify", "--quiet"], True, False),
        (["--verbose", "verify"], False, True),
        (["verify", "-v"], False, True),
    ],
)
def test_quiet_and_verbose_before_or_after_the_command(argv: list[str], quiet: bool, verbose: bool) -> None:
    args = build_parser().parse_args(argv)
    assert (args.quiet, args.verbose) == (quiet, verbose)


def test_progress_off_a_terminal_is_plain_lines() -> None:
    log = io.StringIO()
    bar = Progress(10, "expr", interval=0.0, stream=log)
    bar.update(4, bugs=0)
    bar.update(6, bugs=1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("gradproof: 4/10 expr (40%), ") and lines[0].endswith("left, bugs=0")
    assert lines[-1].startswith("gradproof: 10/10 expr (100%), ") and lines[-1].endswith("elapsed, bugs=1")
    assert "\r" not in log.getvalue()


def test_progress_lines_wait_for_the_interval_and_quiet_writes_nothing() -> None:
    log = io.StringIO()
    bar = Progress(10, "expr", interval=3600.0, stream=log)
    bar.update(5)
    bar.close()
    assert log.getvalue() == ""  # no line before the interval, so no closing line either
    quiet = io.StringIO()
    off = Progress(10, "expr", enabled=False, interval=0.0, stream=quiet)
    off.update(10)
    off.close()
    assert quiet.getvalue() == ""


def test_duration() -> None:
    assert [duration(s) for s in (4.4, 95.2, 7322)] == ["4 s", "1 min 35 s", "2 h 2 min"]


def test_output_piped_into_head_ends_quietly() -> None:
    """The reader closes the pipe after one line: no BrokenPipe traceback, exit status 141.

    The child writes unbuffered, so its first line arrives at once and the rest of its
    lines (over seconds of training) are written after the reader has gone; buffered,
    its whole output could reach the pipe at exit, before the reader closes it.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradproof", "train", "--iterations", "3000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_PIPE_CLOSED
    assert first.startswith(b"Dataset") and "Traceback" not in err and "BrokenPipe" not in err, err


def test_prove_budget_inf_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "exp", "--budget", "inf"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "gradproof prove: error: --budget must be a positive finite number of seconds, got inf"


def test_train_divergence_is_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--lr", "1e308", "--iterations", "5"]) == 1
    out, err = capsys.readouterr()
    assert "✓" not in out and "diverged: the loss became nan at iteration 1" in err


def test_train_converging_is_a_success(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--iterations", "5"]) == 0
    assert "diverged" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["verify", "--examples", "1"], ["mutate", "--ops", "neg"]])
def test_an_output_path_through_a_file_is_not_a_directory(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("")
    for out in (tmp_path / "afile", tmp_path / "afile" / "run"):
        assert main([*command, "--out", str(out)]) == 2
        assert capsys.readouterr().err.strip().endswith(f"error: {str(tmp_path / 'afile')!r} is not a directory")


def test_a_directory_given_as_a_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--plugin", str(tmp_path)]) == 2
    assert "is a directory, not a .py file" in capsys.readouterr().err


def test_a_name_clash_in_a_plugin_points_at_the_plugin_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = tmp_path / "clash.py"
    plugin.write_text(
        "from autodiff import REALS, defop\n"
        "\n"
        "exp = defop('exp', forward=lambda m, x: m.exp(x), grad=lambda m, ans, x: (ans,), domain=(REALS,))\n"
    )
    assert main(["prove", "--plugin", str(plugin)]) == 2
    err = capsys.readouterr().err
    assert "already registered" in err and err.rstrip().endswith(f"(at {plugin}:3)")
