"""Building blocks every measure family shares: ages, qualifying activity, referral windows,
people, teams and age bands.

All functions take and return polars LazyFrames/expressions so families compose into one plan.
Tables reaching a family are canonical (``recon.tables``): every table present, every column
present and typed; the engine (and ``tests/measures/builders.py``) guarantee that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.hashkeys import surely_distinct
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.nhs_number import valid_expr
from recon.tables import MPI, REFERRAL, TABLES

UNKNOWN_TEAM = "UNKNOWN"  # level used for records with no team (the published files' word for it)
TEAM = "Team"
AGE_BAND = "Age band"
ACTIVITY_ORDER = ("ActDate", "ActTime", "ActId")  # "order activities by date, then time, then id"


def age_at(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    """Completed years from ``birth`` to ``at`` (a birthday on the day counts as reached)."""
    before_birthday = (at.dt.month() < birth.dt.month()) | (
        (at.dt.month() == birth.dt.month()) & (at.dt.day() < birth.dt.day())
    )
    return (at.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32))


CONTACT, INDIRECT_ACT = "contact", "indirect"


def qualifying_activities(
    contacts: pl.LazyFrame,
    indirect: pl.LazyFrame,
    codes: Codes,
    settings: ProviderSettings,
    *,
    dedupe_contacts: bool = True,
    digital_attended_only: bool = False,
) -> pl.LazyFrame:
    """The national CYP "contacts" (measures.md Conventions, "Qualifying activity"): attended
    direct contacts by 01/02/04/11 and any indirect activity (de-duplicated on its key); for a
    digital provider also 05/09/10/13 contacts -- whatever the attendance for MHS95, attended
    only for the outcomes cohort (``digital_attended_only``).

    A care contact id repeated in the extract (a duplicate key) counts once: the first
    qualifying row in file order, so no referral reaches its "second contact" by a duplicate.
    ``dedupe_contacts=False`` skips that (a hash of every contact id) for callers that
    handle repeats themselves (MHS95 counts people).

    Columns: ServiceRequestId, ActDate, ActTime, ActId, ActSource ("contact" | "indirect"),
    UniqCareProfTeamLocalID. Order activities by ActDate, ActTime, ActId (``ACTIVITY_ORDER``;
    polars sorts a null time first, as Spark's ascending ORDER BY does).
    """
    attended = pl.col("AttendStatus").is_in(list(codes.attended))
    qualifies = attended & pl.col("ConsMechanismMH").is_in(list(codes.mechanism_qualifying))
    if settings.digital:
        digital = pl.col("ConsMechanismMH").is_in(list(codes.mechanism_digital))
        qualifies = qualifies | ((attended & digital) if digital_attended_only else digital)
    direct = contacts.filter(qualifies)
    if dedupe_contacts:
        direct = direct.filter(pl.col("CareContactId").is_first_distinct())
    direct = direct.select(
        pl.col("ServiceRequestId"),
        pl.col("CareContDate").alias("ActDate"),
        pl.col("CareContTime").alias("ActTime"),
        pl.col("CareContactId").alias("ActId"),
        pl.lit(CONTACT).alias("ActSource"),
        pl.col("UniqCareProfTeamLocalID"),
    )
    ind = (
        indirect.unique(subset=["ServiceRequestId", "IndirectActDate", "IndirectActTime"], keep="first")
        .select(
            pl.col("ServiceRequestId"),
            pl.col("IndirectActDate").alias("ActDate"),
            pl.col("IndirectActTime").alias("ActTime"),
            indirect_id(),
            pl.lit(INDIRECT_ACT).alias("ActSource"),
            pl.lit(None, dtype=pl.String).alias("UniqCareProfTeamLocalID"),
        )
    )
    return pl.concat([direct, ind], how="vertical")


def indirect_id() -> pl.Expr:
    """A readable id for an indirect activity row (it has no id of its own): IND:date time."""
    return pl.concat_str(
        [pl.lit("IND:"), pl.col("IndirectActDate").cast(pl.String),
         pl.col("IndirectActTime").cast(pl.String).fill_null("")], separator=""
    ).alias("ActId")


def in_submission(day: pl.Expr) -> pl.Expr:
    """The referral (its ReferralRequestReceivedDate and ServDischDate columns) is in the
    submission of ``day``'s month: received by that month's end and not discharged before its
    start. An activity dated in a month whose submission lacks its referral is rejected by SDCS
    and counts in no national measure (measures.md Conventions)."""
    return (pl.col("ReferralRequestReceivedDate") <= day.dt.month_end()) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") >= day.dt.month_start())
    )


def resident_in_england(codes: Codes) -> pl.Expr:
    """MHS001 LADistrictAuth blank, null or starting with the England prefix (NHS England keeps
    ``LIKE 'E%' OR NULL OR ''``): everyone else is out of MHS95 and the MHS110 cohort."""
    la = pl.col("LADistrictAuth").str.strip_chars()
    return (la.is_null() | (la == "") | la.str.starts_with(codes.england_prefix)).fill_null(True)


def open_at(day: dt.date) -> pl.Expr:
    """Referral open at ``day``: received on or before it and not discharged by it."""
    return (pl.col("ReferralRequestReceivedDate") <= day) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") > day)
    )


def open_during(start: dt.date, end: dt.date) -> pl.Expr:
    return (pl.col("ReferralRequestReceivedDate") <= end) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") >= start)
    )


# ---------------------------------------------------------------------------------------------
# Windows


def twelve_month_start(month: Month) -> dt.date:
    """First day of the 12-month window ending at M.end: the first day of the month 11 months before M."""
    return month.shift(-11).start


def financial_year(month: Month) -> tuple[dt.date, dt.date]:
    """First and last day of the financial year (April to March) containing M."""
    first = month.financial_year_start
    return first.start, first.shift(11).end


# ---------------------------------------------------------------------------------------------
# Tables, people, teams


def table(tables: Mapping[str, pl.LazyFrame], table_id: str) -> pl.LazyFrame:
    """A canonical table from the mapping, or a typed empty one when the extract lacks it."""
    lf = tables.get(table_id)
    return TABLES[table_id].empty().lazy() if lf is None else lf


def first_distinct(frame: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """The rows of ``frame`` whose ``key`` is seen for the first time, in file order (collected).

    Exact and cheap on clean data (:func:`recon.hashkeys.surely_distinct`): nothing to drop
    when no key can repeat; any repeat (a real duplicate key, or a collision) falls back to
    polars' exact ``is_first_distinct``.
    """
    rows = frame.collect()
    if surely_distinct(rows.get_column(key)):
        return rows.lazy()
    return rows.lazy().filter(pl.col(key).is_first_distinct())


def person_key(settings: ProviderSettings) -> pl.Expr:
    """The key people are counted by (needs ``LocalPatientId`` and ``NHSNumber``).

    ``local``: LocalPatientId. ``nhs``: a valid NHS number; a person whose NHS number is
    missing or fails the check keeps their LocalPatientId as key (prefixed so the two kinds
    never collide), so nobody drops out of the count -- nationally such records still get a
    person id. The key may hold an NHS number: never put it in output.
    """
    if settings.person_key != "nhs":
        return pl.col("LocalPatientId")
    nhs = pl.col("NHSNumber").str.replace_all(r"[\s-]", "")
    return (
        pl.when(valid_expr(pl.col("NHSNumber")))
        .then(pl.lit("N:") + nhs)
        .otherwise(pl.lit("L:") + pl.col("LocalPatientId"))
    )


def referral_people(tables: Mapping[str, pl.LazyFrame], settings: ProviderSettings) -> pl.LazyFrame:
    """Referrals (one row per ServiceRequestId, the first in file order) with their person:
    every referral column plus ``PersonKey``, ``PersonBirthDate``, ``LADistrictAuth`` and ``AgeAtReferral``
    (null when the person or birth date is unknown). People are de-duplicated on
    LocalPatientId the same way, so a duplicate key never doubles a referral."""
    people = (
        table(tables, MPI.id)
        .select("LocalPatientId", "PersonBirthDate", "NHSNumber", "LADistrictAuth")
        .filter(pl.col("LocalPatientId").is_not_null() & pl.col("LocalPatientId").is_first_distinct())
    )
    if settings.person_key == "nhs":
        # the NHS-number key is worked out once per person, before the referrals join
        people = people.with_columns(person_key(settings).alias("PersonKey"))
        key = pl.coalesce(pl.col("PersonKey"), pl.lit("L:") + pl.col("LocalPatientId"))
    else:
        key = pl.col("LocalPatientId")
    return (
        table(tables, REFERRAL.id)
        .filter(pl.col("ServiceRequestId").is_not_null() & pl.col("ServiceRequestId").is_first_distinct())
        .join(people.drop("NHSNumber"), on="LocalPatientId", how="left")
        .with_columns(
            key.alias("PersonKey"),
            age_at(pl.col("PersonBirthDate"), pl.col("ReferralRequestReceivedDate")).alias("AgeAtReferral"),
        )
    )


def team_level(*teams: str) -> pl.Expr:
    """The team a record is counted under: the first non-empty of ``teams``, else UNKNOWN."""
    cols = [pl.when(pl.col(t) == "").then(None).otherwise(pl.col(t)) for t in teams]
    return pl.coalesce([*cols, pl.lit(UNKNOWN_TEAM)])


def age_band_labels(codes: Codes, upto: int | None = None) -> tuple[str, ...]:
    """Band labels in order; ages above the last band up to ``upto`` get one level each ("18")."""
    labels = [b.label for b in codes.age_bands]
    top = max(b.high for b in codes.age_bands)
    if upto is not None:
        labels += [str(a) for a in range(top + 1, upto + 1)]
    return tuple(labels)


def age_band(age: pl.Expr, codes: Codes, upto: int | None = None) -> pl.Expr:
    """The national CYP age band (rules/codes.toml ``ages.bands``) of ``age``; ages above the
    last band up to ``upto`` (e.g. 18 for "aged 0 to 18" measures) are their own level; else null."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    top = max(b.high for b in codes.age_bands)
    if upto is not None:
        for a in range(upto, top, -1):
            expr = pl.when(age == a).then(pl.lit(str(a))).otherwise(expr)
    for b in reversed(codes.age_bands):
        expr = pl.when((age >= b.low) & (age <= b.high)).then(pl.lit(b.label)).otherwise(expr)
    return expr


# ---------------------------------------------------------------------------------------------
# Turning frames into measure values

VALUE_SCHEMA = pl.Schema({"id": pl.String, "breakdown": pl.String, "level": pl.String, "value": pl.Int64})


def distinct_counts(
    lf: pl.LazyFrame, measure_id: str, key: str, breakdowns: Mapping[str, str] | None = None
) -> list[pl.LazyFrame]:
    """Long frames (id, breakdown, level, value) of distinct non-null ``key`` values: one
    provider-level row (0 on an empty frame) and, per breakdown name -> level column, one row
    per non-null level with a non-zero count."""
    out = [
        lf.select(
            pl.lit(measure_id).alias("id"),
            pl.lit(None, dtype=pl.String).alias("breakdown"),
            pl.lit(None, dtype=pl.String).alias("level"),
            pl.col(key).drop_nulls().n_unique().cast(pl.Int64).alias("value"),
        )
    ]
    for name, column in (breakdowns or {}).items():
        out.append(
            lf.filter(pl.col(column).is_not_null() & pl.col(key).is_not_null())
            .group_by(column)
            .agg(pl.col(key).n_unique().cast(pl.Int64).alias("value"))
            .select(
                pl.lit(measure_id).alias("id"),
                pl.lit(name).alias("breakdown"),
                pl.col(column).cast(pl.String).alias("level"),
                pl.col("value"),
            )
        )
    return out


def count_values(df: pl.DataFrame) -> list[MeasureValue]:
    """MeasureValues from a collected long frame (id, breakdown, level, value) of counts."""
    return [
        MeasureValue(r["id"], int(r["value"]), breakdown=r["breakdown"], level=r["level"])
        for r in df.iter_rows(named=True)
    ]


def long_frame(frames: list[pl.LazyFrame]) -> pl.LazyFrame:
    """The value frames of ``distinct_counts`` stacked into one plan (collected once)."""
    return pl.concat([f.cast(VALUE_SCHEMA) for f in frames], how="vertical")


def collect_plan(
    values: list[pl.LazyFrame], details: Mapping[str, pl.LazyFrame]
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """Collect a family's value and detail plans in one ``pl.collect_all`` (shared subplans run once)."""
    names = list(details)
    collected = pl.collect_all([long_frame(values), *(details[n] for n in names)])
    return count_values(collected[0]), dict(zip(names, collected[1:], strict=True))
