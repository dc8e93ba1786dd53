"""The CMH and CYP cohorts of the four-week waits (waits.md 3.3, 4.1-4.4).

A referral's team rows (its own row and one per MHS102 row) decide, month by month, whether it is
in a cohort. Team types, priority and reason do not change from month to month, so the rows in
scope differ only between the months before April 2024 (the own row only when it names a team;
a blank row when there is no row at all) and the months from April 2024 (the own row always):
two flags per referral, ``Pre`` and ``Post``, stand for its cohort months.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.measures.common import table
from recon.measures.waits import codes as c
from recon.measures.waits.months import APRIL_2024, as_at, index, month_end
from recon.measures.waits.regimes import CMH_TEAMS, CYP_EXCLUDED_ALWAYS, Regime
from recon.months import Month
from recon.tables import OTHER_SERVICE

CMH, CYP = "CMH", "CYP"
_ROW_COLUMNS = ("ServiceRequestId", "Kind", "InPre", "InPost", "Type", "TeamId", "Clos", "ClosReason", "Rej", "RejReason")


def team_rows(refs: pl.LazyFrame, tables: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Every team row of every referral (3.3): own, MHS102 (``other``) and ``blank`` rows with the
    eras they are present in (``InPre``: months before April 2024, ``InPost``: from April 2024)."""
    own = refs.select(
        "ServiceRequestId",
        pl.lit("own").alias("Kind"),
        (pl.col("TeamType").is_not_null() | pl.col("TeamId").is_not_null()).alias("InPre"),
        pl.lit(True).alias("InPost"),
        pl.col("TeamType").alias("Type"),
        "TeamId",
        pl.col("Disch").alias("Clos"),
        "ClosReason",
        "Rej",
        "RejReason",
    )
    other = (
        table(tables, OTHER_SERVICE.id)
        .filter(pl.struct("ServiceRequestId", "UniqOtherCareProfTeamLocalID").is_first_distinct())
        .join(refs.select("ServiceRequestId"), on="ServiceRequestId", how="semi")
        .select(
            "ServiceRequestId",
            pl.lit("other").alias("Kind"),
            pl.lit(True).alias("InPre"),
            pl.lit(True).alias("InPost"),
            c.team_type(pl.col("ServTeamTypeRefToMH")).alias("Type"),
            c.blank_to_null(pl.col("UniqOtherCareProfTeamLocalID")).alias("TeamId"),
            pl.col("ReferClosureDate").alias("Clos"),
            c.blank_to_null(pl.col("ReferClosReason")).alias("ClosReason"),
            pl.col("ReferRejectionDate").alias("Rej"),
            c.blank_to_null(pl.col("ReferRejectReason")).alias("RejReason"),
        )
    )
    has_other = other.select("ServiceRequestId").unique()
    blank = (
        refs.filter(pl.col("TeamType").is_null() & pl.col("TeamId").is_null())
        .join(has_other, on="ServiceRequestId", how="anti")
        .select(
            "ServiceRequestId",
            pl.lit("blank").alias("Kind"),
            pl.lit(True).alias("InPre"),
            pl.lit(False).alias("InPost"),
            pl.lit(None, dtype=pl.String).alias("Type"),
            pl.lit(None, dtype=pl.String).alias("TeamId"),
            pl.lit(None, dtype=pl.Date).alias("Clos"),
            pl.lit(None, dtype=pl.String).alias("ClosReason"),
            pl.lit(None, dtype=pl.Date).alias("Rej"),
            pl.lit(None, dtype=pl.String).alias("RejReason"),
        )
    )
    return pl.concat([own.select(_ROW_COLUMNS), other.select(_ROW_COLUMNS), blank], how="vertical")


def _in(expr: pl.Expr, values: tuple[str, ...]) -> pl.Expr:
    return expr.is_in(list(values)).fill_null(False)


def cyp_row_in_scope(regime: Regime) -> pl.Expr:
    """4.2 CYP: a row is in scope unless one of the five exclusions holds (blanks trigger none)."""
    t = pl.col("Type")
    excluded = (
        ((t == "A18").fill_null(False) & _in(pl.col("Priority"), ("1", "2", "4")))
        | ((pl.col("Reason") == "12").fill_null(False) & (t.is_null() | ~_in(t, ("A18", "F01"))))
        | ((pl.col("Reason") == "01").fill_null(False) & (t == "A14").fill_null(False))
        | _in(t, regime.cyp_crisis_teams)
        | _in(t, CYP_EXCLUDED_ALWAYS)
    )
    return ~excluded


def scoped_rows(refs: pl.LazyFrame, rows: pl.LazyFrame, regime: Regime) -> pl.LazyFrame:
    """Team rows with ``ScopeCMH`` and ``ScopeCYP`` (the referral's priority and reason apply)."""
    return rows.join(refs.select("ServiceRequestId", "Priority", "Reason"), on="ServiceRequestId").with_columns(
        _in(pl.col("Type"), CMH_TEAMS).alias("ScopeCMH"),
        cyp_row_in_scope(regime).alias("ScopeCYP"),
    )


def eligible(regime: Regime, provider: str) -> pl.Expr:
    """4.1 without age: an MPI row resident in England, no hospital spell, provider not excluded."""
    ok = pl.col("HasMPI") & pl.col("England") & ~pl.col("Hosp")
    return ok & pl.lit(provider.strip().upper() not in regime.excluded_providers)


def cohort_month(month_idx: pl.Expr) -> pl.Expr:
    """Is ``month_idx`` a cohort month of the row's referral (needs F, L, Pre, Post)?"""
    return (
        (month_idx >= pl.col("F"))
        & (month_idx <= pl.col("L"))
        & (((month_idx < APRIL_2024) & pl.col("Pre")) | ((month_idx >= APRIL_2024) & pl.col("Post")))
    )


def cohort_referrals(
    refs: pl.LazyFrame, srows: pl.LazyFrame, month: Month, regime: Regime, provider: str
) -> pl.LazyFrame:
    """Cohort referrals of both cohorts (age separates them), with their ``DerEnd`` (4.4).

    Columns: Cohort, ServiceRequestId, PersonKey, Recv, DerEnd, F, L, DischM, Pre, Post.
    """
    m = index(month)
    m_end = month_end(pl.lit(m))
    present_in_m = pl.col("InPost") if m >= APRIL_2024 else pl.col("InPre")
    if regime.row_end_uses_rejection_and_closure:
        row_end = pl.coalesce(as_at(pl.col("Rej"), m), as_at(pl.col("Clos"), m), m_end)
    else:
        row_end = m_end
    out = []
    for cohort, age_ok in ((CMH, pl.col("Age") >= 18), (CYP, (pl.col("Age") >= 0) & (pl.col("Age") <= 17))):
        scope = pl.col(f"Scope{cohort}")
        flags = srows.group_by("ServiceRequestId").agg(
            (pl.col("InPre") & scope).any().alias("Pre"),
            (pl.col("InPost") & scope).any().alias("Post"),
            row_end.filter(scope & present_in_m).max().alias("RowsEnd"),
        )
        out.append(
            refs.filter(eligible(regime, provider) & age_ok.fill_null(False))
            .join(flags, on="ServiceRequestId")
            .filter((pl.col("Pre") & (pl.col("F") < APRIL_2024)) | (pl.col("Post") & (pl.col("L") >= APRIL_2024)))
            .select(
                pl.lit(cohort).alias("Cohort"),
                "ServiceRequestId",
                "PersonKey",
                "Recv",
                pl.coalesce(pl.col("DischM"), pl.col("RowsEnd"), m_end).alias("DerEnd"),
                "F",
                "L",
                "DischM",
                "Pre",
                "Post",
            )
        )
    return pl.concat(out, how="vertical")
