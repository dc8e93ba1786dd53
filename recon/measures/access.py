"""Access measures: MHS95 (CYP seen in the last 12 months) and MHS69 (CYP reaching a second
contact, counted once per financial year in the month it happened).

Breakdowns (besides provider level):
- MHS95 by Team: a person counts under every team that gave them a qualifying activity in
  the window (the national STP/region rows partition the same way), so teams do not sum to the
  provider figure; by Age band: the band of the age at referral of the person's first
  qualifying activity in the window (bands sum to the provider figure).
- MHS69 by Team and Age band: of the referral that gave the person's second-contact date
  (age 18 at referral is its own level "18").
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.common import (
    ACTIVITY_ORDER,
    AGE_BAND,
    TEAM,
    age_at,
    age_band,
    collect_plan,
    distinct_counts,
    financial_year,
    qualifying_activities,
    referral_people,
    table,
    team_level,
    twelve_month_start,
)
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.tables import CARE_CONTACT, INDIRECT

FAMILY = "access"
IDS = ("MHS95", "MHS69")


def activities_with_referrals(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> pl.LazyFrame:
    """Qualifying activities up to M.end joined to their referral and person, for referrals
    aged 0-18 at referral (the widest age either access measure takes; activities whose
    referral is not in the extract have no age and drop out). Adds PersonKey, LocalPatientId,
    PersonBirthDate, AgeAtReferral, ReferralTeam and Team (the activity's team, else the
    referral's, else UNKNOWN)."""
    refs = (
        referral_people(tables, settings)
        .filter(pl.col("AgeAtReferral").is_between(0, codes.cyp_inclusive_max_age))
        .select(
            "ServiceRequestId",
            "LocalPatientId",
            "PersonKey",
            "PersonBirthDate",
            "AgeAtReferral",
            pl.col("UniqCareProfTeamLocalID").alias("ReferralTeam"),
        )
    )
    # only the activity of CYP referrals up to M.end matters: cut the large tables down first,
    # so the de-duplication inside qualifying_activities runs on few rows (file order kept:
    # a duplicated contact id keeps its first row)
    cyp = refs.select("ServiceRequestId")
    contacts = (
        table(tables, CARE_CONTACT.id)
        .filter(pl.col("CareContDate") <= month.end)
        .join(cyp, on="ServiceRequestId", how="semi", maintain_order="left")
    )
    indirect = (
        table(tables, INDIRECT.id)
        .filter(pl.col("IndirectActDate") <= month.end)
        .join(cyp, on="ServiceRequestId", how="semi", maintain_order="left")
    )
    return (
        qualifying_activities(contacts, indirect, codes, settings)
        .join(refs, on="ServiceRequestId", how="inner")
        .with_columns(team_level("UniqCareProfTeamLocalID", "ReferralTeam").alias("Team"))
    )


def mhs95_frames(acts: pl.LazyFrame, month: Month, codes: Codes) -> tuple[list[pl.LazyFrame], pl.LazyFrame]:
    """MHS95 value frames and the per-person detail (first qualifying activity in the window)."""
    eligible = acts.filter(
        pl.col("ActDate").is_between(twelve_month_start(month), month.end)
        & pl.col("AgeAtReferral").is_between(0, codes.cyp_max_age)
        & age_at(pl.col("PersonBirthDate"), pl.col("ActDate")).is_between(0, codes.cyp_max_age)
    )
    first = (
        eligible.group_by("PersonKey")
        .agg(
            pl.struct("LocalPatientId", "ServiceRequestId", "Team", "ActDate", "AgeAtReferral")
            .sort_by(list(ACTIVITY_ORDER))
            .first()
            .alias("first")
        )
        .unnest("first")
        .with_columns(age_band(pl.col("AgeAtReferral"), codes).alias("AgeBand"))
    )
    values = [
        *distinct_counts(eligible, "MHS95", "PersonKey", {TEAM: "Team"}),
        *distinct_counts(first, "MHS95", "PersonKey", {AGE_BAND: "AgeBand"})[1:],
    ]
    detail = first.select(
        "LocalPatientId",
        "ServiceRequestId",
        "Team",
        pl.col("ActDate").alias("FirstActivityDate"),
        "AgeBand",
    ).sort("LocalPatientId", "ServiceRequestId")
    return values, detail


def mhs69_frames(acts: pl.LazyFrame, month: Month, codes: Codes) -> tuple[list[pl.LazyFrame], pl.LazyFrame]:
    """MHS69 value frames and the people counted in M with the referral that counted them.

    ``acts`` need only reach M.end: a person whose earliest second contact of the financial
    year is in M is decided by activities up to M.end alone.
    """
    fy_start, fy_end = financial_year(month)
    per_referral = (
        acts.group_by("ServiceRequestId")
        .agg(
            pl.col("PersonKey", "LocalPatientId", "PersonBirthDate", "AgeAtReferral", "ReferralTeam").first(),
            pl.col("ActDate").min().alias("FirstContactDate"),
            # the date of the second activity in (date, time, id) order is the second-smallest date
            pl.when(pl.len() >= 2).then(pl.col("ActDate").bottom_k(2).max()).alias("SecondContactDate"),
        )
        .filter(
            pl.col("SecondContactDate").is_between(fy_start, fy_end)
            & (age_at(pl.col("PersonBirthDate"), pl.col("FirstContactDate")) <= codes.cyp_max_age)
        )
    )
    people = (
        per_referral.group_by("PersonKey")
        .agg(
            pl.struct(
                "LocalPatientId", "ServiceRequestId", "ReferralTeam", "AgeAtReferral",
                "FirstContactDate", "SecondContactDate",
            )
            .sort_by("SecondContactDate", "ServiceRequestId")
            .first()
            .alias("first")
        )
        .unnest("first")
        .filter(pl.col("SecondContactDate").is_between(month.start, month.end))
        .with_columns(
            team_level("ReferralTeam").alias("Team"),
            age_band(pl.col("AgeAtReferral"), codes, codes.cyp_inclusive_max_age).alias("AgeBand"),
        )
    )
    values = distinct_counts(people, "MHS69", "PersonKey", {TEAM: "Team", AGE_BAND: "AgeBand"})
    detail = people.select(
        "LocalPatientId", "ServiceRequestId", "Team", "FirstContactDate", "SecondContactDate", "AgeBand"
    ).sort("LocalPatientId", "ServiceRequestId")
    return values, detail


def plan(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[pl.LazyFrame], dict[str, pl.LazyFrame]]:
    """The family as lazy plans: long value frames and detail frames (the engine collects them
    together with the activity family's so shared scans run once)."""
    # Materialised once: MHS95 and MHS69 read it under different filters, which the optimiser
    # would otherwise push into two copies of the contacts scan, de-duplication and join. It
    # holds only the CYP referrals' qualifying activity up to M.end.
    acts = activities_with_referrals(tables, month, settings, codes).collect().lazy()
    v95, d95 = mhs95_frames(acts, month, codes)
    v69, d69 = mhs69_frames(acts, month, codes)
    return [*v95, *v69], {"mhs95_people": d95, "mhs69_people": d69}


def compute(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """MHS95 and MHS69 at provider level and by team and age band; details name the people."""
    return collect_plan(*plan(tables, month, settings, codes))
