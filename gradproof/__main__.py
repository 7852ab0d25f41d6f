"""``python -m gradproof`` is the ``gradproof`` command."""

from gradproof.cli import entry_point

entry_point()
