"""What determines a campaign: its expressions, its checks and how it is cut into chunks."""

from __future__ import annotations

from dataclasses import dataclass

from verification.reference_options import DEFAULT_CAP_BITS

__all__ = ["CampaignConfig"]


@dataclass(frozen=True)
class CampaignConfig:
    """Everything that determines a campaign's expressions and checks."""

    examples: int = 2000
    ops: tuple[str, ...] | None = None
    max_depth: int = 4
    n_vars: int = 2
    seed: int = 0
    points: int = 3
    candidates: int = 6
    engine: str = "gradproof"
    plugins: tuple[str, ...] = ()
    symbolic: str = "symengine"
    cap_bits: int = DEFAULT_CAP_BITS
    chunk: int = 25
    oracle_every: int = 10
    max_shrinks: int = 3
    expr_timeout: float = 30.0

    def chunks(self) -> list[int]:
        """Number of expressions of each chunk."""
        full, rest = divmod(self.examples, self.chunk)
        return [self.chunk] * full + ([rest] if rest else [])
