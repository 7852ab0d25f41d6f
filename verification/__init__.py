"""gradproof's verification harness: proofs, expression campaigns and the CLI."""

from verification.errors import UsageError
from verification.plugins import load_plugin, load_plugins

__all__ = ["UsageError", "load_plugin", "load_plugins"]
