"""One-month activity measures: referrals started, contacts, discharges, open caseload and
first attended contacts (MHS32, MHS32a, MHS29, MHS30, MHS58, MHS57a, MHS01, MHS23, MHS61a).

Breakdowns (besides provider level): every measure by Team -- the referral's team, and for
contacts the contact's team falling back to the referral's (UNKNOWN when neither is
recorded); a person-count (MHS57a, MHS01) counts a person under each team of a counted
referral. The "aged 0 to 18" measures (MHS32a, MHS57a, MHS61a) also by Age band of the age at
referral (national CYP bands, 18 its own level). All-age measures get no age band: the CYP
bands stop at 17.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.common import (
    AGE_BAND,
    TEAM,
    age_band,
    collect_plan,
    distinct_counts,
    in_submission,
    open_at,
    open_during,
    referral_people,
    table,
    team_level,
)
from recon.measures.family import FamilyContext, FamilyPlan, RecordRule
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.tables import CARE_CONTACT, MPI, REFERRAL


def activity_frames(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> list[pl.LazyFrame]:
    """Long value frames (id, breakdown, level, value) for every activity measure, in ID order."""
    start, end = month.start, month.end
    in_month = pl.col("ReferralRequestReceivedDate").is_between(start, end)
    aged_0_18 = pl.col("AgeAtReferral").is_between(0, codes.cyp_inclusive_max_age)
    refs = referral_people(tables, settings).with_columns(
        team_level("UniqCareProfTeamLocalID").alias("Team"),
        age_band(pl.col("AgeAtReferral"), codes, codes.cyp_inclusive_max_age).alias("AgeBand"),
    ).cache()  # read by every measure under different filters: build it once
    team = {TEAM: "Team"}
    team_age = {TEAM: "Team", AGE_BAND: "AgeBand"}

    # A care contact counts only with its referral, in a month whose submission holds the
    # referral (measures.md Conventions: SDCS rejects the rest, orphans included).
    submitted = refs.select(
        "ServiceRequestId", "ReferralRequestReceivedDate", "ServDischDate",
        pl.col("UniqCareProfTeamLocalID").alias("ReferralTeam"),
    )
    def with_referral(rows: pl.LazyFrame) -> pl.LazyFrame:
        # file order kept: "first row" below must mean the first row in the file, not a join's order
        return rows.join(submitted, on="ServiceRequestId", how="inner", maintain_order="left").filter(
            in_submission(pl.col("CareContDate"))
        )

    care = table(tables, CARE_CONTACT.id)
    # one row per care contact id (a duplicated key counts once, first row in file order); the
    # month's rows are chosen before the join, so the history is never joined whole
    month_contacts = (
        with_referral(care.filter(pl.col("CareContDate").is_between(start, end) & pl.col("CareContactId").is_not_null()))
        .filter(pl.col("CareContactId").is_first_distinct())
        .with_columns(team_level("UniqCareProfTeamLocalID", "ReferralTeam").alias("Team"))
        .cache()
    )
    # MHS61a: the first attended contact ever is in M <=> an attended contact in M and none
    # before M.start (so only the few referrals attended in M are looked up in the history)
    attended = pl.col("AttendStatus").is_in(list(codes.attended))
    attended_in_month = month_contacts.filter(attended).select("ServiceRequestId").unique()
    attended_before = (
        with_referral(
            care.filter(attended & (pl.col("CareContDate") < start)).join(
                attended_in_month, on="ServiceRequestId", how="semi"
            )
        )
        .select("ServiceRequestId")
        .unique()
    )
    mhs61a = (
        refs.filter(
            aged_0_18
            & (pl.col("ReferralRequestReceivedDate") >= codes.outcomes_referrals_from)
            & open_during(start, end)
        )
        .join(attended_in_month, on="ServiceRequestId", how="semi")
        .join(attended_before, on="ServiceRequestId", how="anti")
    )
    return [
        *distinct_counts(refs.filter(in_month), "MHS32", "ServiceRequestId", team),
        *distinct_counts(refs.filter(in_month & aged_0_18), "MHS32a", "ServiceRequestId", team_age),
        *distinct_counts(month_contacts, "MHS29", "CareContactId", team),
        *distinct_counts(
            month_contacts.filter(pl.col("AttendStatus").is_in(list(codes.attended))), "MHS30", "CareContactId", team
        ),
        *distinct_counts(
            month_contacts.filter(pl.col("AttendStatus").is_in(list(codes.missed))), "MHS58", "CareContactId", team
        ),
        *distinct_counts(
            refs.filter(pl.col("ServDischDate").is_between(start, end) & aged_0_18), "MHS57a", "PersonKey", team_age
        ),
        *distinct_counts(refs.filter(open_at(end)), "MHS01", "PersonKey", team),
        *distinct_counts(refs.filter(open_at(end)), "MHS23", "ServiceRequestId", team),
        *distinct_counts(mhs61a, "MHS61a", "ServiceRequestId", team_age),
    ]


def plan(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[pl.LazyFrame], dict[str, pl.LazyFrame]]:
    """The family as lazy plans (no detail frames)."""
    return activity_frames(tables, month, settings, codes), {}


def compute(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """The activity measures at provider level and by team (and age band for the 0-18 ones)."""
    return collect_plan(*plan(tables, month, settings, codes))


def family_plan(ctx: FamilyContext) -> FamilyPlan:
    """The register's entry point: the activity counts as lazy plans."""
    return FamilyPlan(counts=activity_frames(ctx.tables, ctx.month, ctx.settings, ctx.codes))


def record_rules(month: Month, codes: Codes) -> dict[str, tuple[RecordRule, ...]]:
    """Which records can move each activity measure (they have no detail frame of units).

    A rule on MHS001MPI selects the people whose referral its ``where`` selects: a person-level
    difference (birth date) moves the referrals' measure.
    """
    s, e = month.start, month.end
    rec, con, mpi = REFERRAL.id, CARE_CONTACT.id, MPI.id
    received = pl.col("ReferralRequestReceivedDate").is_between(s, e)
    discharged = pl.col("ServDischDate").is_between(s, e)
    open_end = (pl.col("ReferralRequestReceivedDate") <= e) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") > e))
    open_in_month = (pl.col("ReferralRequestReceivedDate") <= e) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") >= s))
    in_m = pl.col("CareContDate").is_between(s, e)
    dates = ("ReferralRequestReceivedDate", "ServDischDate")
    birth = ("PersonBirthDate",)
    attend = ("CareContDate", "AttendStatus")
    return {
        "MHS29": (RecordRule(con, in_m, ("CareContDate",)),),
        "MHS30": (RecordRule(con, in_m & pl.col("AttendStatus").is_in(list(codes.attended)), attend),),
        "MHS58": (RecordRule(con, in_m & pl.col("AttendStatus").is_in(list(codes.missed)), attend),),
        "MHS32": (RecordRule(rec, received, ("ReferralRequestReceivedDate",)),),
        "MHS32a": (RecordRule(rec, received, ("ReferralRequestReceivedDate",)), RecordRule(mpi, received, birth)),
        "MHS57a": (RecordRule(rec, discharged, (*dates, "LocalPatientId")), RecordRule(mpi, discharged, birth)),
        "MHS01": (RecordRule(rec, open_end, (*dates, "LocalPatientId")),),
        "MHS23": (RecordRule(rec, open_end, dates),),
        "MHS61a": (RecordRule(rec, open_in_month, dates), RecordRule(mpi, open_in_month, birth),
                   RecordRule(con, pl.col("CareContDate") <= e, (*attend, "ServiceRequestId"))),
    }
