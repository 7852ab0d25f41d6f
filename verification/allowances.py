"""What a correct op may lose at exact inputs: the careful and textbook allowances, and which numbers are ordinary.

:mod:`verification.localjudge` explains them: an error within the careful
allowance is no defect, within the textbook one ``inaccurate``, beyond it
``wrong`` where inputs and results are :func:`ordinary` and ``fragile`` elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from verification.bounds import ETA, K_OP, SAFETY, U64
from verification.defect_kinds import Severity
from verification.metrics import ulp

__all__ = ["ordinary", "careful_allowance", "textbook_allowance", "classify_error"]

_INPUT_RANGE = (2.0**-30, 2.0**30)
_OUTPUT_RANGE = (2.0**-60, 2.0**60)
_FAIL_INPUT_RANGE = (1e-150, 350.0)
_FAIL_OUTPUT_RANGE = (1e-150, 1e150)


def ordinary(inputs: Sequence[float], outputs: Sequence[float], *, failure: bool = False) -> bool:
    """Whether inputs and true outputs are ordinary numbers (0 always is).

    For judging an error: inputs in ``[2**-30, 2**30]``, outputs in
    ``[2**-60, 2**60]``. For judging a failure (an exception, an overflow):
    inputs in ``[1e-150, 350]`` and outputs in ``[1e-150, 1e150]``, the range
    where no textbook intermediate (``exp(2x)``, ``x**2``, ``1/x**2``) leaves float64.
    """
    lo_in, hi_in = _FAIL_INPUT_RANGE if failure else _INPUT_RANGE
    lo_out, hi_out = _FAIL_OUTPUT_RANGE if failure else _OUTPUT_RANGE

    def within(x: float, lo: float, hi: float) -> bool:
        return x == 0.0 or lo <= abs(x) <= hi

    return all(within(x, lo_in, hi_in) for x in inputs) and all(within(y, lo_out, hi_out) for y in outputs)


def careful_allowance(truth: float, floor: float = ETA) -> float:
    """Absolute error an implementation keeping every bit may have at a result ``truth``.

    ``floor`` is what one underflowing rounding may lose: ``eta``, or the smallest normal number on an
    engine that flushes subnormals.
    """
    return SAFETY * (K_OP * U64 * abs(truth) + floor) + ulp(truth)


def textbook_allowance(truth: float, floor: float = ETA) -> float:
    """Absolute error any correct formula of O(1) intermediate terms may have at a result ``truth``."""
    t = abs(truth)
    log_term = t * abs(math.log(t)) if t > 0 else 0.0
    return SAFETY * K_OP * U64 * (t + log_term + 1.0) + SAFETY * floor + ulp(truth)


def classify_error(
    computed: float, truth: float, *, is_ordinary: bool, fails_ordinary: bool, floor: float = ETA
) -> Severity | None:
    """Severity of ``computed`` against ``truth`` (None: within what a careful formula loses).

    ``is_ordinary`` and ``fails_ordinary`` are :func:`ordinary` of the inputs
    and outputs, for errors and for failures (a non-finite result); ``floor``
    as in :func:`careful_allowance`.
    """
    if not math.isfinite(computed):
        return Severity.BROKEN if fails_ordinary else Severity.FRAGILE
    err = abs(computed - truth)
    if err <= careful_allowance(truth, floor):
        return None
    if err <= textbook_allowance(truth, floor):
        return Severity.INACCURATE
    return Severity.WRONG if is_ordinary else Severity.FRAGILE
