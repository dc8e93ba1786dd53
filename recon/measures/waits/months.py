"""Reading the extract month by month (waits.md section 3).

NHS England reads one submission per provider per month; recon rebuilds, for the computation of
M, which records each month m <= M would have carried. Months are handled as whole-number
indexes (year * 12 + month - 1) so "in month m's submission" is integer arithmetic and no
referral is exploded into its months.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.months import Month

APRIL_2024 = 2024 * 12 + 3  # MHSDS v6: the referral's own team row travels in every month


def index(month: Month) -> int:
    """The month index of ``month``."""
    return month.year * 12 + month.month - 1


def month_of(date: pl.Expr) -> pl.Expr:
    """The month index of a date column (null for a null date)."""
    return date.dt.year().cast(pl.Int32) * 12 + date.dt.month().cast(pl.Int32) - 1


def month_end(idx: pl.Expr) -> pl.Expr:
    """The last day of the month with index ``idx``."""
    return pl.date(idx // 12, idx % 12 + 1, 1).dt.month_end()


def as_at(date: pl.Expr, idx: pl.Expr | int) -> pl.Expr:
    """A date as month ``idx``'s submission carries it: blank when it is later than that month (3.2)."""
    bound = pl.lit(idx) if isinstance(idx, int) else idx
    return pl.when(month_of(date) <= bound).then(date).otherwise(None)


def days(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """``days(a, b)`` = b - a in whole days (same day 0)."""
    return (b - a).dt.total_days().cast(pl.Int64)


def quarter_start(month: Month) -> dt.date:
    """Q.start: the first day of the month two months before M."""
    return month.shift(-2).start
