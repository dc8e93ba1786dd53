"""Referrals as the monthly submissions carry them (waits.md 3.1, 3.2, 3.6, 4.1).

One row per referral that is in at least one submission up to M: its person, age at receipt,
residence, first and last submission months (``F``, ``L``) and its dates as at M.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.config import ProviderSettings
from recon.measures.common import age_at, person_key, table
from recon.measures.waits import codes as c
from recon.measures.waits.months import as_at, index, month_of
from recon.months import Month
from recon.tables import HOSP_SPELL, MPI, REFERRAL


def people(tables: Mapping[str, pl.LazyFrame], settings: ProviderSettings) -> pl.LazyFrame:
    """One MPI row per LocalPatientId (the first): person key, birth date, residence in England."""
    return (
        table(tables, MPI.id)
        .filter(pl.col("LocalPatientId").is_not_null() & pl.col("LocalPatientId").is_first_distinct())
        .select(
            "LocalPatientId",
            person_key(settings).alias("PersonKey"),
            pl.col("PersonBirthDate").alias("Birth"),
            c.resident_in_england(pl.col("LADistrictAuth")).alias("England"),
        )
    )


def age(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    """Completed years; no birth date or a birth date after the date: no age."""
    years = age_at(birth, at)
    return pl.when(birth.is_null() | at.is_null() | (birth > at)).then(None).otherwise(years)


def referrals(tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings) -> pl.LazyFrame:
    """Referrals in some submission up to M, with F, L and their items normalised.

    Columns: ServiceRequestId, LocalPatientId, PersonKey (null without an MPI row), HasMPI, Birth,
    England, Recv, Disch (raw), DischM (as at M), RejM, F, L, Age, ClosReason, RejReason,
    Priority, Reason, TeamType, TeamId, Hosp.
    """
    m = index(month)
    hosp = table(tables, HOSP_SPELL.id).select("ServiceRequestId").unique().with_columns(pl.lit(True).alias("Hosp"))
    recv, disch = pl.col("ReferralRequestReceivedDate"), pl.col("ServDischDate")
    return (
        table(tables, REFERRAL.id)
        .filter(pl.col("ServiceRequestId").is_not_null() & pl.col("ServiceRequestId").is_first_distinct())
        .filter(recv.is_not_null() & (month_of(recv) <= m))
        # discharged before the first day of its received month: in no submission
        .filter(disch.is_null() | (month_of(disch) >= month_of(recv)))
        .join(people(tables, settings), on="LocalPatientId", how="left")
        .join(hosp, on="ServiceRequestId", how="left")
        .select(
            "ServiceRequestId",
            "LocalPatientId",
            "PersonKey",
            pl.col("England").is_not_null().alias("HasMPI"),
            "Birth",
            pl.col("England").fill_null(False),
            recv.alias("Recv"),
            disch.alias("Disch"),
            as_at(disch, m).alias("DischM"),
            as_at(pl.col("ReferRejectionDate"), m).alias("RejM"),
            pl.col("ReferRejectionDate").alias("Rej"),
            month_of(recv).alias("F"),
            pl.when(month_of(disch) <= m).then(month_of(disch)).otherwise(pl.lit(m, dtype=pl.Int32)).alias("L"),
            age(pl.col("Birth"), recv).alias("Age"),
            c.blank_to_null(pl.col("ReferClosReason")).alias("ClosReason"),
            c.blank_to_null(pl.col("ReferRejectReason")).alias("RejReason"),
            c.code1(pl.col("ClinRespPriorityType")).alias("Priority"),
            c.code2(pl.col("PrimReasonReferralMH")).alias("Reason"),
            c.team_type(pl.col("ServTeamType")).alias("TeamType"),
            c.blank_to_null(pl.col("UniqCareProfTeamLocalID")).alias("TeamId"),
            pl.col("Hosp").fill_null(False),
        )
    )
