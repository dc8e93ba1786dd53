"""Referral spells by NHS England's literal +1/-1 event algorithm (waits.md section 5).

Each cohort referral gives (received, +1) and (DerEnd + 5 days, -1); per cohort and person the
events are summed by date and walked in date order; a date where the running total is 0 closes
a spell. Start = the run's first date, End = its closing date - 5 days. The literal algorithm
(not "join when received <= latest end + 5") decides the data errors: an end before the receipt
makes the total negative and can close or split spells.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

GAP_DAYS = 5
EARLIEST_START = dt.date(2016, 1, 1)


def spells(cohort_refs: pl.LazyFrame) -> pl.LazyFrame:
    """Spells of each cohort and person: Cohort, PersonKey, Start, End (Start >= 2016-01-01 only)."""
    events = pl.concat(
        [
            cohort_refs.select("Cohort", "PersonKey", pl.col("Recv").alias("Date"), pl.lit(1).alias("Inc")),
            cohort_refs.select(
                "Cohort",
                "PersonKey",
                (pl.col("DerEnd") + pl.duration(days=GAP_DAYS)).alias("Date"),
                pl.lit(-1).alias("Inc"),
            ),
        ],
        how="vertical",
    )
    person = ["Cohort", "PersonKey"]
    walked = (
        events.group_by([*person, "Date"])
        .agg(pl.col("Inc").sum())
        .sort([*person, "Date"])
        .with_columns(pl.col("Inc").cum_sum().over(person).alias("Total"))
        .with_columns(
            # spells closed before this date: a closing date belongs to the spell it closes
            (pl.col("Total") == 0).cast(pl.Int32).shift(1, fill_value=0).cum_sum().over(person).alias("Spell")
        )
    )
    return (
        walked.group_by([*person, "Spell"])
        .agg(pl.col("Date").min().alias("Start"), (pl.col("Date").max() - pl.duration(days=GAP_DAYS)).alias("End"))
        .filter(pl.col("Start") >= EARLIEST_START)
        .select(*person, "Start", "End")
    )
