"""The waiting list: every CYP (and adult community, CMH) referral open at month end whose child
or adult is still waiting, computed from the canonical tables so the pack can show it whatever the
waits family computes.

A referral is on the list at month M when it was received on or before M.end, is neither
discharged nor rejected as at M.end, has no hospital spell (MHS501), and

- CYP (age 0-17 at receipt): no first contact yet, a first contact being an attended direct
  contact (AttendStatus 5 or 6) by a qualifying mechanism (rules/codes.toml, waits.md 7.1 from
  October 2021) or any indirect activity, on or before M.end;
- CMH (age 18 or over at receipt, with a core community team type, waits.md 4.2): fewer than
  two qualifying attended contacts (waiting for a first or a second contact);

and, when the waits family ran with the SNOMED CT release, any referral its ``waits_waiting``
detail marks as waiting for a clock stop (``waiting_for`` = "clock stop"). Crisis and
learning-disability team types (waits.md 4.2: the regime's crisis list and E02-E04) take a CYP
referral off the list when every team type it has is one of them. These are local operational
rules, not a national measure: the exact MRS counts come from the waits family.

Columns (:data:`WAITING_SCHEMA`): team, team_type, cohort, ServiceRequestId, LocalPatientId,
NHSNumber (identifying: the pack masks it), referral_date, days_waiting (M.end - received),
over_4_weeks / over_18_weeks / over_52_weeks (days_waiting > 28, > 126, > 364), priority
(ClinRespPriorityType), waiting_for, first_contact, last_contact (last attended contact),
days_since_contact (since the last attended contact, or since the referral when never seen),
unseen (days_since_contact > ``no_contact_days``). Longest wait first.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.codes import load_codes
from recon.months import Month

CMH_TEAMS = ("A05", "A06", "A08", "A09", "A12", "A13", "A16", "C03", "C10")
NOT_WAITING_CYP_TEAMS = ("A02", "A03", "A04", "A11", "A19", "A20", "A21", "A22", "A23", "A24", "A25", "C05",
                         "E02", "E03", "E04")
WEEK_BANDS = (("over_4_weeks", 28), ("over_18_weeks", 126), ("over_52_weeks", 364))
WAITING_SCHEMA = pl.Schema({
    "team": pl.String(), "team_type": pl.String(), "cohort": pl.String(), "ServiceRequestId": pl.String(),
    "LocalPatientId": pl.String(), "NHSNumber": pl.String(), "referral_date": pl.Date(),
    "days_waiting": pl.Int64(), "over_4_weeks": pl.Boolean(), "over_18_weeks": pl.Boolean(),
    "over_52_weeks": pl.Boolean(), "priority": pl.String(), "waiting_for": pl.String(),
    "first_contact": pl.Date(), "last_contact": pl.Date(), "days_since_contact": pl.Int64(), "unseen": pl.Boolean(),
})
FAMILY_DETAIL = "waits_waiting"  # the waits family's frame of referrals waiting at month end


def _frame(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], tid: str, columns: tuple[str, ...]) -> pl.LazyFrame:
    from recon.tables import TABLES

    given = tables.get(tid)
    lf = TABLES[tid].empty().lazy() if given is None else given.lazy()
    have = lf.collect_schema().names()
    return lf.select(pl.col(c) if c in have else pl.lit(None, dtype=TABLES[tid].schema[c]).alias(c) for c in columns)


def _age(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Completed years at ``on`` (null without a birth date, or born after it)."""
    years = on.dt.year() - birth.dt.year()
    before = (on.dt.month() < birth.dt.month()) | ((on.dt.month() == birth.dt.month()) & (on.dt.day() < birth.dt.day()))
    age = years - before.cast(pl.Int32)
    return pl.when(birth.is_null() | (birth > on)).then(None).otherwise(age)


def waiting_list(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame], month: Month, *, no_contact_days: int = 28,
    family: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Everyone waiting at ``month``'s end (module docstring), longest wait first."""
    end = month.end
    codes = load_codes()
    ref = _frame(tables, "MHS101Referral", (
        "ServiceRequestId", "LocalPatientId", "ReferralRequestReceivedDate", "ServDischDate", "ReferRejectionDate",
        "ClinRespPriorityType", "UniqCareProfTeamLocalID", "ServTeamType"))
    mpi = _frame(tables, "MHS001MPI", ("LocalPatientId", "NHSNumber", "PersonBirthDate")).unique(
        "LocalPatientId", keep="first")
    spells = _frame(tables, "MHS501HospProvSpell", ("ServiceRequestId",)).unique()
    other = _frame(tables, "MHS102OtherServiceType", ("ServiceRequestId", "UniqOtherCareProfTeamLocalID",
                                                       "ServTeamTypeRefToMH"))
    received = pl.col("ReferralRequestReceivedDate")
    open_ = (
        ref.filter((received <= end) & ~(pl.col("ServDischDate") <= end).fill_null(False)
                   & ~(pl.col("ReferRejectionDate") <= end).fill_null(False))
        .unique("ServiceRequestId", keep="first")
        .join(spells, on="ServiceRequestId", how="anti")
        .join(mpi, on="LocalPatientId", how="left")
        .with_columns(_age(pl.col("PersonBirthDate"), received).alias("_age"))
    )
    types = pl.concat([
        ref.select("ServiceRequestId", pl.col("ServTeamType").alias("_type"),
                   pl.col("UniqCareProfTeamLocalID").alias("_team")),
        other.select("ServiceRequestId", pl.col("ServTeamTypeRefToMH").alias("_type"),
                     pl.col("UniqOtherCareProfTeamLocalID").alias("_team")),
    ]).group_by("ServiceRequestId").agg(
        pl.col("_type").str.strip_chars().is_in(CMH_TEAMS).any().alias("_cmh_team"),
        (pl.col("_type").is_null() | ~pl.col("_type").str.strip_chars().is_in(NOT_WAITING_CYP_TEAMS))
        .any().alias("_cyp_team"),
        pl.col("_team").drop_nulls().first().alias("_any_team"),
        pl.col("_type").drop_nulls().first().alias("_any_type"),
    )
    contacts = _frame(tables, "MHS201CareContact", ("ServiceRequestId", "CareContDate", "AttendStatus",
                                                    "ConsMechanismMH")).filter(
        pl.col("CareContDate") <= end)
    attended = contacts.filter(pl.col("AttendStatus").str.strip_chars().is_in(list(codes.attended)))
    qualifying = attended.filter(pl.col("ConsMechanismMH").str.strip_chars().str.zfill(2)
                                 .is_in(list(codes.mechanism_qualifying)))
    indirect = _frame(tables, "MHS204IndirectActivity", ("ServiceRequestId", "IndirectActDate")).filter(
        pl.col("IndirectActDate") <= end)
    direct = qualifying.group_by("ServiceRequestId").agg(
        pl.col("CareContDate").min().alias("_first_direct"), pl.len().alias("_n_direct"))
    first_ind = indirect.group_by("ServiceRequestId").agg(pl.col("IndirectActDate").min().alias("_first_ind"))
    last = attended.group_by("ServiceRequestId").agg(pl.col("CareContDate").max().alias("last_contact"))
    cyp = pl.col("_age").is_between(0, 17)
    cmh = (pl.col("_age") >= 18) & pl.col("_cmh_team").fill_null(False)
    n_direct = pl.col("_n_direct").fill_null(0)
    first_cyp = pl.min_horizontal("_first_direct", "_first_ind")
    listed = (
        open_.join(types, on="ServiceRequestId", how="left")
        .join(direct, on="ServiceRequestId", how="left")
        .join(first_ind, on="ServiceRequestId", how="left")
        .join(last, on="ServiceRequestId", how="left")
        .with_columns(
            pl.when(cyp).then(pl.lit("CYP")).when(cmh).then(pl.lit("CMH")).alias("cohort"),
            pl.when(cyp).then(first_cyp).otherwise(pl.col("_first_direct")).alias("first_contact"),
            pl.when(cyp & first_cyp.is_null()).then(pl.lit("first contact"))
            .when(cmh & (n_direct == 0)).then(pl.lit("first contact"))
            .when(cmh & (n_direct == 1)).then(pl.lit("second contact")).alias("waiting_for"),
        )
        .filter(pl.col("cohort").is_not_null() & ((pl.col("cohort") == "CMH") | pl.col("_cyp_team").fill_null(True)))
    )
    if family is not None and family.height and {"ServiceRequestId", "NoClockStop"} <= set(family.columns):
        stop = family.lazy().filter(pl.col("NoClockStop").fill_null(False)).select(
            pl.col("ServiceRequestId").cast(pl.String), pl.lit(True).alias("_no_stop")).unique()
        listed = listed.join(stop, on="ServiceRequestId", how="left").with_columns(
            pl.coalesce("waiting_for", pl.when(pl.col("_no_stop")).then(pl.lit("clock stop"))).alias("waiting_for"))
    days_waiting = (pl.lit(end) - received).dt.total_days()
    since = (pl.lit(end) - pl.coalesce("last_contact", received)).dt.total_days()
    out = (
        listed.filter(pl.col("waiting_for").is_not_null())
        .with_columns(
            pl.coalesce("UniqCareProfTeamLocalID", "_any_team").alias("team"),
            pl.coalesce("ServTeamType", "_any_type").alias("team_type"),
            received.alias("referral_date"),
            days_waiting.alias("days_waiting"),
            *[(days_waiting > d).alias(name) for name, d in WEEK_BANDS],
            pl.col("ClinRespPriorityType").alias("priority"),
            since.alias("days_since_contact"),
            (since > no_contact_days).alias("unseen"),
        )
        .select(WAITING_SCHEMA.names())
        .sort(["days_waiting", "team", "ServiceRequestId"], descending=[True, False, False], nulls_last=True)
    )
    return out.collect().cast(dict(WAITING_SCHEMA))  # type: ignore[arg-type]


def summary_counts(frame: pl.DataFrame) -> dict[str, int]:
    """Headline counts of a waiting list: waiting, over 4/18/52 weeks, unseen."""
    return {
        "waiting": frame.height,
        **{name: int(frame.get_column(name).sum()) for name, _ in WEEK_BANDS},
        "unseen": int(frame.get_column("unseen").sum()),
    }

