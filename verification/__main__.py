"""``python -m verification`` runs the ``gradproof`` command (kept for existing scripts)."""

from gradproof.cli import entry_point

entry_point()
