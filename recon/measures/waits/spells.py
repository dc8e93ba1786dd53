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
    # one ordered pass, no window over text keys: a person's first row resets the running total,
    # and a spell starts on a person's first row or after a row whose total is 0 (a closing date
    # belongs to the spell it closes)
    new_person = (
        (pl.int_range(pl.len()) == 0)
        | pl.col("Cohort").ne_missing(pl.col("Cohort").shift(1))
        | pl.col("PersonKey").ne_missing(pl.col("PersonKey").shift(1))
    )
    running = pl.col("Inc").cum_sum()
    walked = (
        events.group_by([*person, "Date"])
        .agg(pl.col("Inc").sum())
        .sort([*person, "Date"])
        .with_columns(new_person.alias("New"), running.alias("Run"))
        .with_columns((pl.col("Run") - pl.when(pl.col("New")).then(pl.col("Run") - pl.col("Inc")).forward_fill())
                      .alias("Total"))
        .with_columns((pl.col("New") | (pl.col("Total").shift(1) == 0)).fill_null(True).cum_sum().alias("Spell"))
    )
    return (
        walked.group_by("Spell")
        .agg(
            pl.col("Cohort").first(), pl.col("PersonKey").first(),
            pl.col("Date").min().alias("Start"), (pl.col("Date").max() - pl.duration(days=GAP_DAYS)).alias("End"),
        )
        .filter(pl.col("Start") >= EARLIEST_START)
        .select(*person, "Start", "End")
    )
