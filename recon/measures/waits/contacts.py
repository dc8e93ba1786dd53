"""Contacts of a spell (waits.md section 7): qualifying direct contacts, the CYP first contact
(indirect activity included) and the CMH first and second contacts (one entry per cohort row)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from recon.measures.common import first_distinct, table
from recon.measures.waits import codes as c
from recon.measures.waits.cohorts import CMH, CYP, cohort_month
from recon.measures.waits.months import APRIL_2024, as_at, month_end, month_of
from recon.measures.waits.regimes import Regime
from recon.measures.waits.status import SPELL
from recon.tables import CARE_CONTACT, INDIRECT

MECHANISM_RULE_FROM = dt.date(2021, 10, 1)
MECHANISMS = ("01", "02", "04", "11")
OLD_MECHANISMS_EXCLUDED = ("05", "06")
ATTENDED = ("5", "6")
_REF_COLUMNS = ("Cohort", "ServiceRequestId", "PersonKey", "F", "L", "Pre", "Post")


def care_contacts(tables: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """MHS201 rows (a repeated CareContactId once, the first) with normalised codes, dated; built
    once (collected): five plans read it."""
    rows = table(tables, CARE_CONTACT.id).select(
        "CareContactId", "ServiceRequestId", "CareContDate", "AttendStatus", "ConsMechanismMH"
    )
    dated = first_distinct(rows, "CareContactId").filter(pl.col("CareContDate").is_not_null()).collect()
    return dated.select(
        "CareContactId",
        "ServiceRequestId",
        pl.col("CareContDate").alias("Date"),
        c.by_value(dated, "AttendStatus", c.code1).alias("Attend"),
        c.by_value(dated, "ConsMechanismMH", c.code2).alias("Mech"),
    ).lazy()


def mechanism_qualifies(date: pl.Expr, mech: pl.Expr) -> pl.Expr:
    """7.1 by ``CareContDate``: before 2021-10-01 present and not 05/06; from then 01, 02, 04 or 11."""
    old = mech.is_not_null() & ~mech.is_in(list(OLD_MECHANISMS_EXCLUDED))
    new = mech.is_in(list(MECHANISMS))
    return pl.when(date < MECHANISM_RULE_FROM).then(old).otherwise(new).fill_null(False)


def in_cohort_submission(rows: pl.LazyFrame, cohort_refs: pl.LazyFrame, date: str = "Date") -> pl.LazyFrame:
    """Rows whose referral has a cohort month in the month of ``date`` (they then belong to a submission)."""
    return rows.join(cohort_refs.select(_REF_COLUMNS), on="ServiceRequestId").filter(
        cohort_month(month_of(pl.col(date)))
    )


def in_spell(rows: pl.LazyFrame, spells: pl.LazyFrame, date: str = "Date") -> pl.LazyFrame:
    """Rows joined to the person's spell (same cohort) whose [Start, End] holds ``date``."""
    return rows.join(spells.select((*SPELL, "End")), on=["Cohort", "PersonKey"]).filter(
        (pl.col(date) >= pl.col("Start")) & (pl.col(date) <= pl.col("End"))
    )


def qualifying_contacts(contacts: pl.LazyFrame, cohort_refs: pl.LazyFrame) -> pl.LazyFrame:
    """7.1: attended direct contacts by a qualifying mechanism, in a cohort month of their referral."""
    attended = contacts.filter(
        pl.col("Attend").is_in(list(ATTENDED)).fill_null(False) & mechanism_qualifies(pl.col("Date"), pl.col("Mech"))
    )
    return in_cohort_submission(attended, cohort_refs)


def cyp_first_contact(
    qualifying: pl.LazyFrame, tables: Mapping[str, pl.LazyFrame], cohort_refs: pl.LazyFrame, spells: pl.LazyFrame
) -> pl.LazyFrame:
    """7.2: the earliest qualifying direct contact or indirect activity of each CYP spell."""
    cyp = cohort_refs.filter(pl.col("Cohort") == CYP)
    indirect = table(tables, INDIRECT.id).select("ServiceRequestId", pl.col("IndirectActDate").alias("Date"))
    acts = pl.concat(
        [
            qualifying.filter(pl.col("Cohort") == CYP).select("Cohort", "PersonKey", "Date"),
            in_cohort_submission(indirect.filter(pl.col("Date").is_not_null()), cyp).select(
                "Cohort", "PersonKey", "Date"
            ),
        ],
        how="vertical",
    )
    return in_spell(acts, spells).group_by(SPELL).agg(pl.col("Date").min().alias("FirstContact"))


def _row_count(regime: Regime) -> pl.Expr:
    """Rows of a cohort month (4.3): every in-scope row (R1) or identical rows once (R2+), as at the month."""
    if not regime.distinct_rows:
        return pl.len().cast(pl.Int64)
    s = pl.col("S")
    rej, clos = as_at(pl.col("Rej"), s), as_at(pl.col("Clos"), s)
    end = pl.coalesce(as_at(pl.col("Disch"), s), rej, clos, month_end(s))
    row = pl.struct(
        pl.when(pl.col("Type") == "C03").then(pl.lit("C10")).otherwise(pl.col("Type")).alias("t"),
        pl.col("TeamId").alias("id"),
        end.alias("end"),
        pl.when(clos.is_not_null()).then(pl.col("ClosReason")).alias("cr"),
        rej.alias("rej"),
        pl.when(rej.is_not_null()).then(pl.col("RejReason")).alias("rr"),
    )
    return row.n_unique().cast(pl.Int64)


def cmh_contacts(
    qualifying: pl.LazyFrame, srows: pl.LazyFrame, refs: pl.LazyFrame, spells: pl.LazyFrame, regime: Regime
) -> pl.LazyFrame:
    """7.3: each CMH spell's first and second contact, a contact listed once per row of its
    referral's cohort month (so one contact on a referral with two rows is both)."""
    cmh = in_spell(qualifying.filter(pl.col("Cohort") == CMH), spells).with_columns(month_of(pl.col("Date")).alias("S"))
    rows = srows.filter(pl.col("ScopeCMH")).join(refs.select("ServiceRequestId", "Disch"), on="ServiceRequestId")
    present = ((pl.col("S") < APRIL_2024) & pl.col("InPre")) | ((pl.col("S") >= APRIL_2024) & pl.col("InPost"))
    weighted = (
        cmh.select(*SPELL, "CareContactId", "ServiceRequestId", "Date", "S")
        .join(rows, on="ServiceRequestId")
        .filter(present)
        .group_by([*SPELL, "CareContactId", "Date"])
        .agg(_row_count(regime).alias("N"))
    )
    ordered_n = pl.col("N").sort_by("Date").cum_sum()
    return weighted.group_by(SPELL).agg(
        pl.col("Date").min().alias("FirstContact"),
        pl.col("Date").sort_by("Date").filter(ordered_n >= 2).first().alias("SecondContact"),
    )
