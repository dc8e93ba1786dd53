"""Proportions as NHS England stores them (float32) and their reported one-decimal form (waits.md 1)."""

from __future__ import annotations

import struct
from decimal import ROUND_HALF_UP, Decimal


def proportion32(numerator: int, denominator: int) -> float | None:
    """``num / den * 100`` in double, then the nearest float32 (``CAST(... AS FLOAT)``); None when den = 0."""
    if denominator == 0:
        return None
    return _float32(numerator / denominator * 100)


def _float32(value: float) -> float:
    """The nearest float32, as a float (IEEE round-to-nearest-even, as numpy's cast)."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def shortest32(value: float) -> str:
    """The shortest decimal that reads back to the same float32 (the digits NHS England prints)."""
    import numpy as np  # numpy's shortest float32 repr; imported here, not by every run

    return str(np.float32(value))


def reported(value: float | None) -> float | None:
    """A proportion's reported value: the float32's shortest decimal rounded half up to one decimal
    (float32 14.45 -> 14.5, though it is 14.4499998...)."""
    if value is None:
        return None
    return float(Decimal(shortest32(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
