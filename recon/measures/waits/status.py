"""Spell status at M (waits.md section 6): in scope, spell referrals, Open, open/closed/started."""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.measures.waits.months import days, index, quarter_start
from recon.measures.waits.regimes import Regime
from recon.months import Month

SPELL = ("Cohort", "PersonKey", "Start")


def in_scope(spells: pl.LazyFrame, month: Month) -> pl.LazyFrame:
    """Spells with Start <= M.end and End >= Q.start; others are ignored for M."""
    return spells.filter((pl.col("Start") <= month.end) & (pl.col("End") >= quarter_start(month)))


def spell_referrals(spells: pl.LazyFrame, cohort_refs: pl.LazyFrame) -> pl.LazyFrame:
    """The person's cohort referrals received inside each spell's [Start, End]."""
    return (
        spells.join(cohort_refs, on=["Cohort", "PersonKey"])
        .filter((pl.col("Recv") >= pl.col("Start")) & (pl.col("Recv") <= pl.col("End")))
    )


def with_status(spells: pl.LazyFrame, cohort_refs: pl.LazyFrame, month: Month, regime: Regime) -> pl.LazyFrame:
    """Spells with Referrals (their ids, ", "-separated text), Open (null, 0, 1) and the open, closed and started flags."""
    m_end = pl.lit(month.end)
    x = pl.col("End") + pl.duration(days=5) if regime.open_uses_end_plus_5 else pl.col("End")
    referral_open = (pl.col("L") == index(month)) & (pl.col("DischM").is_null() | (days(x, m_end) <= 5))
    per_spell = (
        spell_referrals(spells, cohort_refs)
        .group_by(SPELL)
        .agg(
            pl.col("ServiceRequestId").sort().str.join(", ").alias("Referrals"),
            referral_open.any().cast(pl.Int8).alias("Open"),
        )
    )
    q_start, last6 = quarter_start(month), month.end - dt.timedelta(days=5)
    end_in_q = (pl.col("End") >= q_start) & (pl.col("End") <= month.end)
    return spells.join(per_spell, on=list(SPELL), how="left").with_columns(
        ((pl.col("End") >= last6) & (pl.col("End") <= month.end) & (pl.col("Open") == 1)).fill_null(False).alias("IsOpen"),
        (end_in_q & (pl.col("Open") == 0)).fill_null(False).alias("IsClosed"),
        ((pl.col("Start") >= q_start) & (pl.col("Start") <= month.end)).alias("IsStarted"),
        days(pl.col("Start"), m_end).alias("W"),
    )
