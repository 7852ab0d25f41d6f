"""Error metrics between a computed float64 and the truth rounded to float64.

* absolute error ``|c - t|`` and relative error ``|c - t| / |t|`` (the
  absolute error when ``t = 0``);
* ULP distance: how many float64 values lie between ``c`` and ``t``, counted
  on the ordered line of doubles, so ``0.0`` and ``-0.0`` are one point;
* Herbie's bits of error, ``log2(ulps + 1)``: 0 when exact, 64 at most.

A NaN or an infinity where the truth is finite is the maximum error: ULP
distance :data:`MAX_ULPS` (2**64) and 64 bits.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

__all__ = [
    "MAX_ULPS",
    "MAX_BITS",
    "ErrorMetrics",
    "ordinal",
    "ulp_distance",
    "bits_of_error",
    "ulp",
    "measure",
]

MAX_ULPS = float(2**64)
"""ULP distance charged for a NaN or an infinity where the truth is finite."""

MAX_BITS = 64.0
"""Bits of error charged for a NaN or an infinity where the truth is finite."""

_SIGN = 0x7FFFFFFFFFFFFFFF


def ordinal(x: float) -> int:
    """Position of ``x`` on the ordered line of float64 values; ``ordinal(0.0) == ordinal(-0.0) == 0``."""
    i: int = struct.unpack("<q", struct.pack("<d", x))[0]
    return i if i >= 0 else -(i & _SIGN)


def ulp_distance(computed: float, truth: float) -> float:
    """Number of float64 steps between ``computed`` and ``truth``.

    Equal infinities are 0 apart; a NaN, or an infinity that differs from the
    truth, is :data:`MAX_ULPS` away.
    """
    if computed == truth:
        return 0.0
    if not (math.isfinite(computed) and math.isfinite(truth)):
        return MAX_ULPS
    return float(abs(ordinal(computed) - ordinal(truth)))


def bits_of_error(ulps: float) -> float:
    """Herbie's bits of error: ``log2(ulps + 1)``, capped at 64."""
    if ulps >= MAX_ULPS:
        return MAX_BITS
    return min(MAX_BITS, math.log2(ulps + 1.0))


def ulp(x: float) -> float:
    """The spacing of float64 values at ``x``: ``nextafter(|x|, inf) - |x|`` (inf for inf/NaN)."""
    if not math.isfinite(x):
        return math.inf
    return math.ulp(x)


@dataclass(frozen=True)
class ErrorMetrics:
    """The four error measures of one computed value against its truth."""

    abs_err: float
    rel_err: float
    ulp_err: float
    bits_err: float


def measure(computed: float, truth: float) -> ErrorMetrics:
    """Absolute, relative, ULP and bits error of ``computed`` against ``truth`` (both float64)."""
    ulps = ulp_distance(computed, truth)
    if ulps == 0.0:
        return ErrorMetrics(0.0, 0.0, 0.0, 0.0)
    if ulps >= MAX_ULPS:
        return ErrorMetrics(math.inf, math.inf, MAX_ULPS, MAX_BITS)
    diff = abs(computed - truth)
    rel = diff / abs(truth) if truth != 0.0 else diff
    return ErrorMetrics(diff, rel, ulps, bits_of_error(ulps))
