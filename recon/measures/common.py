"""Building blocks every measure family shares: ages, qualifying activity, referral windows.

All functions take and return polars LazyFrames/expressions so families compose into one plan.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings


def age_at(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    """Completed years from ``birth`` to ``at`` (a birthday on the day counts as reached)."""
    before_birthday = (at.dt.month() < birth.dt.month()) | (
        (at.dt.month() == birth.dt.month()) & (at.dt.day() < birth.dt.day())
    )
    return (at.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32))


def qualifying_activities(
    contacts: pl.LazyFrame,
    indirect: pl.LazyFrame,
    codes: Codes,
    settings: ProviderSettings,
) -> pl.LazyFrame:
    """The national CYP "contacts": attended direct contacts by 01/02/04/11, any indirect activity
    (de-duplicated on its key), and for digital providers 05/09/10/13 contacts whatever attendance.

    Columns: ServiceRequestId, ActDate, ActTime, ActId, ActSource ("contact" | "indirect"),
    UniqCareProfTeamLocalID. Order activities by ActDate, ActTime, ActId.
    """
    qualifies = pl.col("AttendStatus").is_in(list(codes.attended)) & pl.col("ConsMechanismMH").is_in(
        list(codes.mechanism_qualifying)
    )
    if settings.digital:
        qualifies = qualifies | pl.col("ConsMechanismMH").is_in(list(codes.mechanism_digital))
    direct = contacts.filter(qualifies).select(
        pl.col("ServiceRequestId"),
        pl.col("CareContDate").alias("ActDate"),
        pl.col("CareContTime").alias("ActTime"),
        pl.col("CareContactId").alias("ActId"),
        pl.lit("contact").alias("ActSource"),
        pl.col("UniqCareProfTeamLocalID"),
    )
    ind = (
        indirect.unique(subset=["ServiceRequestId", "IndirectActDate", "IndirectActTime"], keep="first")
        .select(
            pl.col("ServiceRequestId"),
            pl.col("IndirectActDate").alias("ActDate"),
            pl.col("IndirectActTime").alias("ActTime"),
            pl.concat_str(
                [pl.lit("IND:"), pl.col("IndirectActDate").cast(pl.String),
                 pl.col("IndirectActTime").cast(pl.String).fill_null("")], separator=""
            ).alias("ActId"),
            pl.lit("indirect").alias("ActSource"),
            pl.lit(None, dtype=pl.String).alias("UniqCareProfTeamLocalID"),
        )
    )
    return pl.concat([direct, ind], how="vertical")


def open_at(day: dt.date) -> pl.Expr:
    """Referral open at ``day``: received on or before it and not discharged by it."""
    return (pl.col("ReferralRequestReceivedDate") <= day) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") > day)
    )


def open_during(start: dt.date, end: dt.date) -> pl.Expr:
    return (pl.col("ReferralRequestReceivedDate") <= end) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") >= start)
    )


def percent(numerator: int, denominator: int) -> float | None:
    """Percentage rounded to one decimal, halves away from zero; None when the denominator is 0."""
    if denominator == 0:
        return None
    from decimal import ROUND_HALF_UP, Decimal

    return float((Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
