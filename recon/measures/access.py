"""Access measures: MHS95 (CYP seen in the last 12 months) and MHS69 (CYP reaching a second
contact, counted once per financial year in the month it happened).

Breakdowns (besides provider level):
- MHS95 by Team: a person counts under every team that gave them a qualifying activity in
  the window (the national STP/region rows partition the same way), so teams do not sum to the
  provider figure; by Age band: the band of the age at referral of the person's first
  qualifying activity in the window (bands sum to the provider figure).
- MHS69 by Team and Age band: of the referral that gave the person's second-contact date
  (age 18 at referral is its own level "18").

The two measures read different activity (measures.md Conventions): MHS95 the national
"qualifying activity", MHS69 NHS England's menh_analysis rule (every indirect row, no
de-duplication; a digital provider's attended 05/09/10/13 contacts only). Both drop an
activity dated in a month whose submission lacks its referral.

Speed: the qualifying activity of CYP referrals up to M.end (millions of rows for a large
trust) is built once, keyed by small integers (referral and person indexes), and every
group-by over it uses those integers; record details are looked up on the small results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.common import (
    AGE_BAND,
    CONTACT,
    INDIRECT_ACT,
    TEAM,
    UNKNOWN_TEAM,
    age_at,
    age_band,
    collect_plan,
    distinct_counts,
    financial_year,
    in_submission,
    indirect_id,
    referral_people,
    resident_in_england,
    table,
    twelve_month_start,
)
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.tables import CARE_CONTACT, INDIRECT

FAMILY = "access"
IDS = ("MHS95", "MHS69")


def cyp_referrals(
    tables: Mapping[str, pl.LazyFrame], settings: ProviderSettings, codes: Codes
) -> pl.LazyFrame:
    """Referrals aged 0-18 at referral (the widest age either access measure takes) with
    integer ``RefIdx`` (row) and ``PersonIdx`` (one per person key), their ``ReferralTeam``,
    ``AdultFrom`` (the person's 18th birthday: activity before it is "aged 0-17"), the dates
    that place the referral in a month's submission and ``InEngland`` (residence)."""
    return (
        referral_people(tables, settings)
        .filter(pl.col("AgeAtReferral").is_between(0, codes.cyp_inclusive_max_age))
        .select(
            "ServiceRequestId",
            "LocalPatientId",
            "PersonKey",
            "PersonBirthDate",
            "AgeAtReferral",
            "ReferralRequestReceivedDate",
            "ServDischDate",
            resident_in_england(codes).alias("InEngland"),
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


def access_activity(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> pl.LazyFrame:
    """Every care contact and indirect activity row up to M.end that either access measure may
    use, flagged: ``Q95`` (measures.md "Qualifying activity": attended 01/02/04/11; a digital
    provider's 05/09/10/13 whatever the attendance) and ``Q69`` ("MHS69 activity": attended
    01/02/04/11, or for a digital provider attended 05/09/10/13 only). Indirect rows are kept
    one by one, never de-duplicated: MHS69 counts a repeated row as a second activity, and
    MHS95 counts people, which a repeat cannot change.

    A repeated contact id (a duplicate key, which validation reports) is not collapsed here:
    a repeat cannot change MHS95 (people); MHS69 collapses it per referral and date."""
    attended = pl.col("AttendStatus").is_in(list(codes.attended))
    qualifying = pl.col("ConsMechanismMH").is_in(list(codes.mechanism_qualifying))
    digital = pl.col("ConsMechanismMH").is_in(list(codes.mechanism_digital))
    q95 = (attended & qualifying) | digital if settings.digital else attended & qualifying
    q69 = attended & (digital if settings.digital else qualifying)
    contacts = (
        table(tables, CARE_CONTACT.id)
        .filter(pl.col("CareContDate") <= month.end)
        .select(
            "ServiceRequestId",
            pl.col("CareContDate").alias("ActDate"),
            pl.col("CareContTime").alias("ActTime"),
            pl.col("CareContactId").alias("ActId"),
            pl.lit(CONTACT).alias("ActSource"),
            "UniqCareProfTeamLocalID",
            q95.fill_null(False).alias("Q95"),
            q69.fill_null(False).alias("Q69"),
        )
        .filter(pl.col("Q95") | pl.col("Q69"))
    )
    indirect = (
        table(tables, INDIRECT.id)
        .filter(pl.col("IndirectActDate") <= month.end)
        .select(
            "ServiceRequestId",
            pl.col("IndirectActDate").alias("ActDate"),
            pl.col("IndirectActTime").alias("ActTime"),
            indirect_id(),
            pl.lit(INDIRECT_ACT).alias("ActSource"),
            pl.lit(None, dtype=pl.String).alias("UniqCareProfTeamLocalID"),
            pl.lit(True).alias("Q95"),
            pl.lit(True).alias("Q69"),
        )
    )
    return pl.concat([contacts, indirect], how="vertical")


def activities_with_referrals(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes, refs: pl.LazyFrame
) -> pl.LazyFrame:
    """Access activities up to M.end of the ``refs`` referrals, kept only when the referral was
    in the submission of the activity's month (activities whose referral is not there drop
    out): RefIdx, PersonIdx, ActDate, ActTime, ActId, ActSource, Q95, Q69, PersonBirthDate,
    AdultFrom, AgeAtReferral, InEngland and Team (the activity's team, else the referral's,
    else UNKNOWN)."""
    acts = access_activity(tables, month, settings, codes)
    return (
        acts.join(
            refs.select(
                "ServiceRequestId", "RefIdx", "PersonIdx", "PersonBirthDate", "AdultFrom", "AgeAtReferral",
                "ReferralTeam", "ReferralRequestReceivedDate", "ServDischDate", "InEngland",
            ),
            on="ServiceRequestId",
            how="inner",
        )
        .filter(in_submission(pl.col("ActDate")))
        .select(
            "RefIdx",
            "PersonIdx",
            "ActDate",
            "ActTime",
            "ActId",
            "ActSource",
            "Q95",
            "Q69",
            "PersonBirthDate",
            "AdultFrom",
            "AgeAtReferral",
            "InEngland",
            pl.coalesce(
                pl.when(pl.col("UniqCareProfTeamLocalID") == "").then(None).otherwise(pl.col("UniqCareProfTeamLocalID")),
                pl.col("ReferralTeam"),
                pl.lit(UNKNOWN_TEAM),
            ).alias("Team"),
        )
    )


def _order_key() -> pl.Expr:
    """Activity date and time as one integer (microseconds; a missing time sorts first on its
    day), so "order by date, then time" is a cheap integer minimum; ties fall to the id."""
    day = pl.col("ActDate").cast(pl.Int64) * 86_400_000_000
    time = pl.col("ActTime").cast(pl.Int64) // 1_000  # ns since midnight -> us
    return (day + time.fill_null(-1)).alias("Order")


def mhs95_age_date() -> pl.Expr:
    """The day an MHS95 activity is aged on: a care contact's own date; an indirect activity's
    month end (NHS England ages it with the submission month's AgeRepPeriodEnd)."""
    return (
        pl.when(pl.col("ActSource") == INDIRECT_ACT)
        .then(pl.col("ActDate").dt.month_end())
        .otherwise(pl.col("ActDate"))
    )


def mhs95_frames(
    acts: pl.LazyFrame, refs: pl.LazyFrame, month: Month, codes: Codes
) -> tuple[list[pl.LazyFrame], pl.LazyFrame]:
    """MHS95 value frames and the per-person detail (first qualifying activity in the window,
    ordered by date, then time, then id)."""
    aged_on = mhs95_age_date()
    eligible = acts.filter(
        pl.col("Q95")
        & pl.col("InEngland")
        & pl.col("ActDate").is_between(twelve_month_start(month), month.end)
        & pl.col("AgeAtReferral").is_between(0, codes.cyp_max_age)
        & (aged_on >= pl.col("PersonBirthDate"))  # age at activity >= 0 ...
        & (aged_on < pl.col("AdultFrom"))  # ... and <= 17
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


EPOCH = dt.date(1970, 1, 1)


def _rank_date(rank: pl.Expr) -> pl.Expr:
    """A rank back to its date (rank // 2 days after 1970-01-01)."""
    return (pl.lit(EPOCH) + pl.duration(days=rank // 2)).cast(pl.Date)


def _ordered(m69: pl.LazyFrame) -> pl.LazyFrame:
    """MHS69 activities in MHS69 order within each referral: ``Rank`` is the date and kind as one
    integer (date, then care contacts before indirect activities), and ``Age69`` the age that
    matters (rows of one kind on one date share it).

    A repeated care contact id on one date (a duplicate key) is one contact; a repeated indirect
    row is a second activity (NHS England counts MHS204 rows). One integer sort and neighbour
    comparisons: the activity has about one row per group, where a group-by is slowest."""
    indirect = pl.col("ActSource") == INDIRECT_ACT
    same = [pl.col(c).eq_missing(pl.col(c).shift(1)) for c in ("RefIdx", "Rank", "ActId")]
    return (
        m69.select(
            "RefIdx",
            (pl.col("ActDate").cast(pl.Int64) * 2 + indirect.cast(pl.Int64)).alias("Rank"),
            "ActId",
            pl.when(indirect).then(pl.col("AgeAtReferral"))
            .otherwise(age_at(pl.col("PersonBirthDate"), pl.col("ActDate"))).alias("Age69"),
        )
        .sort("RefIdx", "Rank", "ActId")
        .filter(~(((pl.col("Rank") % 2) == 0) & same[0] & same[1] & same[2]))
        .select("RefIdx", "Rank", "Age69")
    )


def _first_two(ordered: pl.LazyFrame, suffix: str) -> pl.LazyFrame:
    """Per referral, the first activity's date and age and the second activity's date: the
    referral's first row and the row after it (``ordered`` as :func:`_ordered` leaves it)."""
    starts = pl.col("RefIdx").ne_missing(pl.col("RefIdx").shift(1))
    has_next = pl.col("RefIdx").shift(-1).eq_missing(pl.col("RefIdx"))
    return ordered.with_columns(
        pl.when(has_next).then(pl.col("Rank").shift(-1)).alias("Next"), starts.alias("Starts")
    ).filter(pl.col("Starts")).select(
        "RefIdx",
        _rank_date(pl.col("Rank")).alias(f"First{suffix}"),
        pl.col("Age69").alias(f"FirstAge{suffix}"),
        _rank_date(pl.col("Next")).alias(f"Second{suffix}"),
    )


def mhs69_frames(
    acts: pl.LazyFrame, refs: pl.LazyFrame, month: Month, codes: Codes
) -> tuple[list[pl.LazyFrame], pl.LazyFrame]:
    """MHS69 value frames and the people counted in M with the referral that counted them.

    measures.md MHS69: a referral's candidate second-contact date comes by route A (all its
    activities ranked; the first aged under 18, the second dated in the financial year) or
    route B (only its activities dated in the financial year ranked; the first of those aged
    under 18). A care contact is aged on its date, an indirect activity at referral. A person's
    date is the earliest candidate over their referrals and both routes; MHS69 counts the people
    whose date is in M. ``acts`` need only reach M.end: that earliest date is decided by them.

    The activities are ordered once (collected: both routes read the same order, route B only
    the rows in the financial year) instead of sorted within each referral twice.
    """
    fy_start, _ = financial_year(month)
    ordered = _ordered(acts.filter(pl.col("Q69"))).collect().lazy()
    all_time = _first_two(ordered, "A")
    in_year = _first_two(ordered.filter(pl.col("Rank") >= (fy_start - EPOCH).days * 2), "B")
    adult = codes.cyp_max_age + 1
    route_a = pl.when((pl.col("FirstAgeA") < adult) & (pl.col("SecondA") >= fy_start)).then(pl.col("SecondA"))
    route_b = pl.when(pl.col("FirstAgeB") < adult).then(pl.col("SecondB"))
    per_referral = (
        all_time.join(in_year, on="RefIdx", how="left")
        .with_columns(route_a.alias("_a"), route_b.alias("_b"))
        .with_columns(pl.min_horizontal("_a", "_b").alias("SecondContactDate"))
        .filter(pl.col("SecondContactDate").is_not_null())
        .with_columns(
            pl.when(pl.col("SecondContactDate") == pl.col("_a"))
            .then(pl.col("FirstA"))
            .otherwise(pl.col("FirstB"))
            .alias("FirstContactDate")
        )
        .join(refs, on="RefIdx")
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
