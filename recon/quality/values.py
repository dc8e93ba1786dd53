"""Reading one text value of a national item, as SDCS judges it (quality.md 1.4).

Every column of the submission view is text (trimmed, blank = null); these expressions parse
dates, times and timestamps where a rule needs them. An unreadable value is null here, so it
fires only the item's Format rule and is blank for every other rule.
"""

from __future__ import annotations

import re

import polars as pl

from recon.sources.convert import date_expr, time_expr

MASKED = "[masked]"


def is_date_item(item: str) -> bool:
    """Dates: ...Date, and the hospital spell dates (StartDateHospProvSpell)."""
    return "Date" in item


def is_time_item(item: str) -> bool:
    """Times: ...Time, and the hospital spell times (StartTimeHospProvSpell); not timestamps."""
    return re.search(r"Time(?!stamp)", item) is not None and "Date" not in item


def is_timestamp_item(item: str) -> bool:
    return item.endswith("Timestamp")


def day(item: str) -> pl.Expr:
    """The calendar date of a date or timestamp item (timestamps compare by their date)."""
    return date_expr(item)


def clock(item: str) -> pl.Expr:
    return time_expr(item)


def unreadable(item: str) -> pl.Expr:
    """Not blank and not readable in the item's format (dates, times, timestamps)."""
    parsed = clock(item) if is_time_item(item) else day(item)
    return pl.col(item).is_not_null() & parsed.is_null()


def shown(item: str, *, identifying: bool) -> pl.Expr:
    """The value SDCS would print for a key: dates YYYY-MM-DD, times HH:MM:SS, else trimmed text."""
    col = pl.col(item)
    if identifying:
        return pl.when(col.is_not_null()).then(pl.lit(MASKED)).otherwise(None)
    if is_time_item(item):
        return pl.coalesce(clock(item).dt.strftime("%H:%M:%S"), col)
    if is_date_item(item) or is_timestamp_item(item):
        return pl.coalesce(day(item).dt.strftime("%Y-%m-%d"), col)
    return col
