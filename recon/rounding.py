"""NHS England's rounding and suppression rules, in one place.

Percentages are ``(numerator / denominator) * 100`` in double precision, rounded half up to one
decimal on that double's shortest decimal form, as Spark's ``ROUND`` does (measures.md): 23/80
is 28.749999999999996, so 28.7. A provider-level percentage is then published rounded again to
a whole number (14.458 -> 14.5 -> 15). Below England level, counts 0-4 are published as ``*``
and every other count is rounded to the nearest 5, halves away from zero (mhsds.md section 5).
Decimal arithmetic keeps the halves exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SUPPRESSION_LIMIT = 5  # counts below this are '*' below England level
SUPPRESSED = "*"


def round_half_away(x: float | int, ndigits: int = 0) -> float:
    """Round halves away from zero (12.5 -> 13, -12.5 -> -13), exactly, via Decimal."""
    return float(Decimal(str(x)).quantize(Decimal(1).scaleb(-ndigits), rounding=ROUND_HALF_UP))


def round5(x: float | int) -> int:
    """Nearest multiple of 5, halves away from zero: 12 -> 10, 12.5 -> 15, -2.5 -> -5."""
    return int((Decimal(str(x)) / Decimal(5)).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 5)


def suppressed_text(x: float | int) -> str:
    """How NHS England publishes a provider-level count: '*' for 0-4, else rounded to 5."""
    return SUPPRESSED if 0 <= x < SUPPRESSION_LIMIT else str(round5(x))


def percent(numerator: int, denominator: int) -> float | None:
    """Percentage to one decimal the Spark way; None when the denominator is 0.

    The double ``numerator / denominator * 100`` is read at its shortest decimal form (Python's
    ``repr``, as Spark reads a double) and rounded half up: 29/200 -> 14.499999999999998 -> 14.5,
    23/80 -> 28.749999999999996 -> 28.7 (exact arithmetic would say 28.8)."""
    if denominator == 0:
        return None
    spark_double = numerator / denominator * 100
    return float(Decimal(repr(spark_double)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def published_percent(numerator: int, denominator: int, decimals: int = 0) -> float | None:
    """The text NHS England publishes for a provider percentage, as a number: one decimal the
    Spark way (``percent``), then, for a file showing ``decimals`` < 1, rounded again half up:
    14.458 -> 14.5 -> 15 (a single rounding would give 14)."""
    one = percent(numerator, denominator)
    if one is None or decimals >= 1:
        return one
    return round_half_away(one, decimals)
