"""Membership of the four MHSDS SNOMED CT refsets on a date, by regime (waits.md section 8).

R1: a concept is a member of a refset on every date when the refset files hold an active row for
the pair. R2+: NHS England's date windows: the concept's refset rows (all four refsets, active
or not) in ``effectiveTime`` order, each active row's window running to the next row's time
(M.end for the latest), starting at the concept's first row in the concept files. Ties on one
``effectiveTime`` are put inactive first, then by refset id (NHS England's order is undefined).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.measures.waits.regimes import Regime
from recon.months import Month
from recon.snomed import SnomedRelease

ASSESSMENTS = "1853441000000109"
INTERVENTIONS = ("1853461000000105", "1853481000000101", "1853451000000107")
CYP_ASSESSMENTS_THAT_STOP = ("1085671000000109", "1914891000000100")
_ALWAYS_FROM, _ALWAYS_TO = dt.date(1, 1, 1), dt.date(9999, 12, 31)
WINDOW_SCHEMA = pl.Schema({"Concept": pl.String(), "Refset": pl.String(), "From": pl.Date(), "To": pl.Date()})


def windows(release: SnomedRelease, month: Month, regime: Regime) -> pl.LazyFrame:
    """One row per (concept, refset) membership window [From, To] (both ends count)."""
    rows = release.refset.lazy().select(
        pl.col("referencedComponentId").alias("Concept"),
        pl.col("refsetId").alias("Refset"),
        pl.col("effectiveTime").alias("Eff"),
        pl.col("active").cast(pl.Int8).alias("Active"),
    )
    if not regime.dated_snomed:
        return (
            rows.filter(pl.col("Active") == 1)
            .select("Concept", "Refset")
            .unique()
            .with_columns(pl.lit(_ALWAYS_FROM).alias("From"), pl.lit(_ALWAYS_TO).alias("To"))
        )
    first_seen = release.concepts.lazy().group_by(pl.col("id").alias("Concept")).agg(pl.col("effectiveTime").min().alias("From"))
    ordered = (
        rows.unique(subset=["Concept", "Refset", "Eff", "Active"])
        .sort(["Concept", "Eff", "Active", "Refset"])
        .with_columns(pl.col("Eff").shift(-1).over("Concept").fill_null(month.end).alias("Next"))
    )
    return (
        ordered.filter(pl.col("Active") == 1)
        .group_by("Concept", "Refset")
        .agg(pl.col("Next").max().alias("To"))
        .join(first_seen, on="Concept")
        .select("Concept", "Refset", "From", "To")
    )


def ties(release: SnomedRelease) -> pl.LazyFrame:
    """Concepts with two rows that differ in refset or active status on one ``effectiveTime``."""
    return (
        release.refset.lazy()
        .unique(subset=["referencedComponentId", "refsetId", "effectiveTime", "active"])
        .group_by("referencedComponentId", "effectiveTime")
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .select(pl.col("referencedComponentId").alias("Concept"))
        .unique()
    )


def category(cohort: str, regime: Regime) -> pl.Expr:
    """The clock-stop category a (Concept, Refset) membership gives in ``cohort``; null for none.

    CMH: Assessments give a meaningful assessment, the other three a care plan or intervention;
    the regime's excluded concepts never count. CYP: the three intervention refsets, and of the
    Assessments refset only the two ASD/ADHD assessment concepts, give a care plan or intervention.
    """
    refset, concept = pl.col("Refset"), pl.col("Concept")
    if cohort == "CMH":
        excluded = concept.is_in(list(regime.cmh_excluded_concepts))
        return (
            pl.when(excluded)
            .then(None)
            .when(refset == ASSESSMENTS)
            .then(pl.lit("MeaningfulAssessment"))
            .when(refset.is_in(list(INTERVENTIONS)))
            .then(pl.lit("CarePlanOrIntervention"))
        )
    return (
        pl.when(refset.is_in(list(INTERVENTIONS)))
        .then(pl.lit("CarePlanOrIntervention"))
        .when((refset == ASSESSMENTS) & concept.is_in(list(CYP_ASSESSMENTS_THAT_STOP)))
        .then(pl.lit("CarePlanOrIntervention"))
    )
