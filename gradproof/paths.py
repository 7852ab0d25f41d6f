"""Checks on the directories a user names on the command line, worded as one-line errors."""

from __future__ import annotations

from pathlib import Path

from verification.errors import UsageError

__all__ = ["make_output_dir"]


def make_output_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) for writing; a file in the way or no permission is a UsageError."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise UsageError(f"{str(part)!r} is not a directory")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to output directory {str(path)!r}: {exc.strerror or exc}") from None
    return path
