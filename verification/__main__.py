"""``python -m verification`` is the ``gradproof`` command."""

from verification.cli import entry_point

entry_point()
