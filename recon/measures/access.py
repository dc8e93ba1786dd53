"""Access measures: MHS95 (CYP seen in the last 12 months) and MHS69 (CYP reaching a second
contact, counted once per financial year in the month it happened).

Breakdowns (besides provider level):
- MHS95 by Team: a person counts under every team that gave them a qualifying activity in
  the window (the national STP/region rows partition the same way), so teams do not sum to the
  provider figure; by Age band: the band of the age at referral of the person's first
  qualifying activity in the window (bands sum to the provider figure).
- MHS69 by Team and Age band: of the referral that gave the person's second-contact date
  (age 18 at referral is its own level "18").

Speed: the qualifying activity of CYP referrals up to M.end (millions of rows for a large
trust) is built once, keyed by small integers (referral and person indexes), and every
group-by over it uses those integers; record details are looked up on the small results.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.common import (
    AGE_BAND,
    TEAM,
    UNKNOWN_TEAM,
    age_at,
    age_band,
    collect_plan,
    distinct_counts,
    financial_year,
    qualifying_activities,
    referral_people,
    table,
    twelve_month_start,
)
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.tables import CARE_CONTACT, INDIRECT

FAMILY = "access"
IDS = ("MHS95", "MHS69")


def cyp_referrals(tables: Mapping[str, pl.LazyFrame], settings: ProviderSettings, codes: Codes) -> pl.LazyFrame:
    """Referrals aged 0-18 at referral (the widest age either access measure takes) with
    integer ``RefIdx`` (row) and ``PersonIdx`` (one per person key), their ``ReferralTeam``
    and ``AdultFrom`` (the person's 18th birthday: activity before it is "aged 0-17")."""
    return (
        referral_people(tables, settings)
        .filter(pl.col("AgeAtReferral").is_between(0, codes.cyp_inclusive_max_age))
        .select(
            "ServiceRequestId",
            "LocalPatientId",
            "PersonKey",
            "PersonBirthDate",
            "AgeAtReferral",
            pl.when(pl.col("UniqCareProfTeamLocalID") == "")
            .then(None)
            .otherwise(pl.col("UniqCareProfTeamLocalID"))
            .alias("ReferralTeam"),
        )
        .with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("RefIdx"),
            pl.col("PersonKey").rank("dense").cast(pl.UInt32).alias("PersonIdx"),
            birthday(pl.col("PersonBirthDate"), codes.cyp_max_age + 1).alias("AdultFrom"),
        )
    )


def birthday(birth: pl.Expr, years: int) -> pl.Expr:
    """The first day on which ``age_at(birth, day) >= years`` (29 February birthdays fall on
    1 March in a common year, as completed years count them)."""
    year = birth.dt.year() + years
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    feb29 = (birth.dt.month() == 2) & (birth.dt.day() == 29)
    return (
        pl.when(feb29 & ~leap)
        .then(pl.date(year, 3, 1))
        .otherwise(pl.date(year, birth.dt.month(), birth.dt.day()))
    )


def activities_with_referrals(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes, refs: pl.LazyFrame
) -> pl.LazyFrame:
    """Qualifying activities up to M.end of the ``refs`` referrals (activities whose referral is
    not there have no age and drop out): RefIdx, PersonIdx, ActDate, ActTime, ActId,
    PersonBirthDate, AdultFrom, AgeAtReferral and Team (the activity's team, else the referral's, else
    UNKNOWN).

    A repeated contact id (a duplicate key, which validation reports) is not collapsed here --
    that would hash every contact id of the trust: each row is an activity on its own date, so
    a repeat on the same date cannot change MHS95 (it counts people) nor MHS69 (it counts
    distinct ids on the first date); a repeat on another date counts on that date too."""
    contacts = table(tables, CARE_CONTACT.id).filter(pl.col("CareContDate") <= month.end)
    indirect = table(tables, INDIRECT.id).filter(pl.col("IndirectActDate") <= month.end)
    acts = qualifying_activities(contacts, indirect, codes, settings, dedupe_contacts=False)
    return acts.join(
        refs.select(
            "ServiceRequestId", "RefIdx", "PersonIdx", "PersonBirthDate", "AdultFrom", "AgeAtReferral", "ReferralTeam"
        ),
        on="ServiceRequestId",
        how="inner",
    ).select(
        "RefIdx",
        "PersonIdx",
        "ActDate",
        "ActTime",
        "ActId",
        "PersonBirthDate",
        "AdultFrom",
        "AgeAtReferral",
        pl.coalesce(
            pl.when(pl.col("UniqCareProfTeamLocalID") == "").then(None).otherwise(pl.col("UniqCareProfTeamLocalID")),
            pl.col("ReferralTeam"),
            pl.lit(UNKNOWN_TEAM),
        ).alias("Team"),
    )


def _order_key() -> pl.Expr:
    """Activity date and time as one integer (microseconds; a missing time sorts first on its
    day), so "order by date, then time" is a cheap integer minimum; ties fall to the id."""
    day = pl.col("ActDate").cast(pl.Int64) * 86_400_000_000
    time = pl.col("ActTime").cast(pl.Int64) // 1_000  # ns since midnight -> us
    return (day + time.fill_null(-1)).alias("Order")


def mhs95_frames(
    acts: pl.LazyFrame, refs: pl.LazyFrame, month: Month, codes: Codes
) -> tuple[list[pl.LazyFrame], pl.LazyFrame]:
    """MHS95 value frames and the per-person detail (first qualifying activity in the window,
    ordered by date, then time, then id)."""
    eligible = acts.filter(
        pl.col("ActDate").is_between(twelve_month_start(month), month.end)
        & pl.col("AgeAtReferral").is_between(0, codes.cyp_max_age)
        & (pl.col("ActDate") >= pl.col("PersonBirthDate"))  # age at activity >= 0 ...
        & (pl.col("ActDate") < pl.col("AdultFrom"))  # ... and <= 17
    ).with_columns(_order_key())
    # one pass over the activity: each person's earliest activity with each team
    pairs = eligible.group_by("PersonIdx", "Team").agg(pl.col("Order").min())
    person_first = pairs.group_by("PersonIdx").agg(pl.col("Order").min())
    first = (
        eligible.join(person_first, on=["PersonIdx", "Order"], how="semi")  # the first moment only
        .group_by("PersonIdx")
        .agg(pl.struct("RefIdx", "Team", "ActDate").sort_by("ActId").first().alias("first"))
        .unnest("first")
        .join(refs.select("RefIdx", "LocalPatientId", "ServiceRequestId", "AgeAtReferral"), on="RefIdx")
        .with_columns(age_band(pl.col("AgeAtReferral"), codes).alias("AgeBand"))
    )
    values = [
        *distinct_counts(pairs, "MHS95", "PersonIdx", {TEAM: "Team"}),
        *distinct_counts(first, "MHS95", "PersonIdx", {AGE_BAND: "AgeBand"})[1:],
    ]
    detail = first.select(
        "LocalPatientId",
        "ServiceRequestId",
        "Team",
        pl.col("ActDate").alias("FirstActivityDate"),
        "AgeBand",
    ).sort("LocalPatientId", "ServiceRequestId")
    return values, detail


def mhs69_frames(
    acts: pl.LazyFrame, refs: pl.LazyFrame, month: Month, codes: Codes
) -> tuple[list[pl.LazyFrame], pl.LazyFrame]:
    """MHS69 value frames and the people counted in M with the referral that counted them.

    ``acts`` need only reach M.end: a person whose earliest second contact of the financial
    year is in M is decided by activities up to M.end alone. The second activity in (date,
    time, id) order is dated on the first date when two distinct activities share it, else on
    the earliest later date -- so a repeated contact id never makes a second contact.
    """
    fy_start, fy_end = financial_year(month)
    first = acts.group_by("RefIdx").agg(pl.col("ActDate").min().alias("FirstContactDate"))
    per_referral = (
        acts.join(first, on="RefIdx")
        .group_by("RefIdx")
        .agg(
            pl.col("FirstContactDate").first(),
            pl.col("ActId").filter(pl.col("ActDate") == pl.col("FirstContactDate")).n_unique().alias("on_first"),
            pl.when(pl.col("ActDate") > pl.col("FirstContactDate")).then(pl.col("ActDate")).min().alias("later"),
        )
        .select(
            "RefIdx",
            "FirstContactDate",
            pl.when(pl.col("on_first") >= 2)
            .then(pl.col("FirstContactDate"))
            .otherwise(pl.col("later"))
            .alias("SecondContactDate"),
        )
        .filter(pl.col("SecondContactDate").is_between(fy_start, fy_end))
        .join(refs, on="RefIdx")
        .filter(age_at(pl.col("PersonBirthDate"), pl.col("FirstContactDate")) <= codes.cyp_max_age)
    )
    people = (
        per_referral.group_by("PersonIdx")
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
            pl.col("ReferralTeam").fill_null(UNKNOWN_TEAM).alias("Team"),
            age_band(pl.col("AgeAtReferral"), codes, codes.cyp_inclusive_max_age).alias("AgeBand"),
        )
    )
    values = distinct_counts(people, "MHS69", "PersonIdx", {TEAM: "Team", AGE_BAND: "AgeBand"})
    detail = people.select(
        "LocalPatientId", "ServiceRequestId", "Team", "FirstContactDate", "SecondContactDate", "AgeBand"
    ).sort("LocalPatientId", "ServiceRequestId")
    return values, detail


def plan(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[pl.LazyFrame], dict[str, pl.LazyFrame]]:
    """The family as lazy plans over two materialised intermediates: the CYP referrals and
    their qualifying activity (built once each; MHS95 and MHS69 read them under different
    filters, which the optimiser would otherwise push into separate copies of the scan)."""
    refs = cyp_referrals(tables, settings, codes).collect().lazy()
    acts = activities_with_referrals(tables, month, settings, codes, refs).collect().lazy()
    v95, d95 = mhs95_frames(acts, refs, month, codes)
    v69, d69 = mhs69_frames(acts, refs, month, codes)
    return [*v95, *v69], {"mhs95_people": d95, "mhs69_people": d69}


def compute(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """MHS95 and MHS69 at provider level and by team and age band; details name the people."""
    return collect_plan(*plan(tables, month, settings, codes))
