"""MHS130-MHS135: CYP referral to first contact (waits.md section 11).

One unit per referral; no spells, no team, inpatient, rejection or closure rules. A contact
counts when it is in a submission of its referral (dated in one of the referral's submission
months, so a contact earlier in the received month counts) and the person is 0-17 on its date.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.measures.waits.contacts import ATTENDED, MECHANISM_RULE_FROM, mechanism_qualifies
from recon.measures.waits.months import days, index, month_of, quarter_start
from recon.measures.waits.referrals import age
from recon.measures.waits.regimes import Regime
from recon.months import Month

COHORT_FROM = dt.date(2019, 4, 1)
DIGITAL_MECHANISMS = ("05", "09", "10", "13")
DIGITAL_MECHANISMS_OLD = ("05", "06")


def referrals(refs: pl.LazyFrame, contacts: pl.LazyFrame, month: Month, regime: Regime, provider: str) -> pl.LazyFrame:
    """The cohort at M, one row per referral: Recv, FirstContact, Wait (days to first contact),
    InMHS130, InMHS133 and WaitingDays (days to M.end + 1 for MHS133 referrals)."""
    cohort = refs.filter(
        pl.col("HasMPI")
        & pl.col("England")
        & (pl.col("Recv") >= COHORT_FROM)
        & (pl.col("Age") >= 0).fill_null(False)
        & (pl.col("Age") <= 17).fill_null(False)
    )
    date, mech = pl.col("Date"), pl.col("Mech")
    qualifies = pl.col("Attend").is_in(list(ATTENDED)).fill_null(False) & mechanism_qualifies(date, mech)
    if provider.strip().upper() in regime.digital_providers:
        digital = pl.when(date < MECHANISM_RULE_FROM).then(mech.is_in(list(DIGITAL_MECHANISMS_OLD))).otherwise(
            mech.is_in(list(DIGITAL_MECHANISMS))
        )
        qualifies = qualifies | digital.fill_null(False)
    contact_age = age(pl.col("Birth"), date)
    first = (
        contacts.join(cohort.select("ServiceRequestId", "Birth", "F", "L"), on="ServiceRequestId")
        .filter(
            (month_of(date) >= pl.col("F"))
            & (month_of(date) <= pl.col("L"))
            & (contact_age <= 17).fill_null(False)
            & qualifies
        )
        .group_by("ServiceRequestId")
        .agg(date.min().alias("FirstContact"))
    )
    q_start = quarter_start(month)
    return (
        cohort.join(first, on="ServiceRequestId", how="left")
        .with_columns(
            days(pl.col("Recv"), pl.col("FirstContact")).alias("Wait"),
            ((pl.col("FirstContact") >= q_start) & (pl.col("FirstContact") <= month.end)).fill_null(False).alias("InMHS130"),
            (pl.col("FirstContact").is_null() & (pl.col("L") == index(month)) & pl.col("DischM").is_null()).alias("InMHS133"),
        )
        .with_columns(
            pl.when(pl.col("InMHS133")).then(days(pl.col("Recv"), pl.lit(month.end)) + 1).alias("WaitingDays")
        )
        .select(
            "ServiceRequestId", "PersonKey", "TeamId", "TeamType", "Priority", "Recv", "FirstContact", "Wait",
            "InMHS130", "InMHS133", "WaitingDays",
        )
    )
