"""NHS England's rounding and suppression rules, in one place.

Percentages are rounded to one decimal, halves away from zero (measures.md); below England
level, counts 0-4 are published as ``*`` and every other count is rounded to the nearest 5,
halves away from zero (mhsds.md section 5). Decimal arithmetic keeps the halves exact.
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
    """Percentage to one decimal, halves away from zero; None when the denominator is 0."""
    if denominator == 0:
        return None
    exact = Decimal(numerator) * 100 / Decimal(denominator)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
