"""Mutation runs: how many wrong rules each detection method kills, and how small an error it sees.

Input is ``mutants.csv`` (columns in :data:`runstore.records.MUTANT_COLUMNS`),
one row per mutant and method.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reports import stats

__all__ = ["mutation_scores", "detection_limits"]


def mutation_scores(mutants: pd.DataFrame) -> pd.DataFrame:
    """Per method: mutants, killed, score = killed / mutants, median examples and seconds to kill."""
    rows = []
    for method, g in mutants.groupby("method", sort=False):
        killed = g[g["killed"]]
        rows.append(
            {
                "method": method,
                "mutants": len(g),
                "killed": len(killed),
                "score": len(killed) / len(g),
                "median_examples_to_kill": stats.nearest_rank(killed["examples_to_kill"].dropna().to_numpy(), 0.5),
                "median_time_to_kill": stats.nearest_rank(killed["time_to_kill"].dropna().to_numpy(), 0.5),
            }
        )
    columns = ["method", "mutants", "killed", "score", "median_examples_to_kill", "median_time_to_kill"]
    return stats.ordered(pd.DataFrame(rows, columns=columns), ["method"])


def detection_limits(mutants: pd.DataFrame) -> pd.DataFrame:
    """Per method, over mutants with a finite positive ``size`` (relative rule errors).

    ``smallest_detected`` is the smallest size the method killed;
    ``largest_missed`` the largest it did not; ``detects_all_from`` the
    smallest size s such that every mutant of size >= s was killed (NaN
    when even the largest was missed).
    """
    sized = mutants[np.isfinite(mutants["size"]) & (mutants["size"] > 0)]
    rows = []
    for method, g in sized.groupby("method", sort=False):
        hit, miss = g.loc[g["killed"], "size"], g.loc[~g["killed"], "size"]
        largest_missed = float(miss.max()) if len(miss) else math.nan
        above = hit[hit > largest_missed] if len(miss) else hit
        rows.append(
            {
                "method": method,
                "sized_mutants": len(g),
                "smallest_detected": float(hit.min()) if len(hit) else math.nan,
                "largest_missed": largest_missed,
                "detects_all_from": float(above.min()) if len(above) else math.nan,
            }
        )
    columns = ["method", "sized_mutants", "smallest_detected", "largest_missed", "detects_all_from"]
    return stats.ordered(pd.DataFrame(rows, columns=columns), ["method"])
