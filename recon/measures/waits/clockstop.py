"""Clock-stop events and the clock stop of each spell (waits.md section 8).

Events are the earliest date of each category inside the spell's [Start, End]: a baseline
outcome (a scored assessment of NHS England's tool list), an agreed care plan or an intervention
(a SNOMED CT procedure in a refset), and for CMH a meaningful assessment. Every source row counts
only when its referral has a cohort month (of the spell's cohort) in the month it is submitted in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from recon.codes import assessment_tools
from recon.measures.common import table
from recon.measures.waits import codes as c
from recon.measures.waits.cohorts import CMH, CYP, cohort_month
from recon.measures.waits.contacts import in_cohort_submission, in_spell
from recon.measures.waits.months import month_of
from recon.measures.waits.refsets import category, windows
from recon.measures.waits.regimes import Regime
from recon.measures.waits.status import SPELL
from recon.months import Month
from recon.snomed import SnomedRelease
from recon.tables import (
    ASSESS_ACTIVITY,
    ASSESS_REFERRAL,
    CARE_ACTIVITY,
    CARE_PLAN,
    CARE_PLAN_AGREEMENT,
    INDIRECT,
)

BASELINE, CARE_PLAN_OR_INTERVENTION, MEANINGFUL_ASSESSMENT = "Baseline", "CarePlanOrIntervention", "MeaningfulAssessment"
CATEGORIES = (BASELINE, CARE_PLAN_OR_INTERVENTION, MEANINGFUL_ASSESSMENT)
ASSESSMENT_RULE_FROM = dt.date(2024, 4, 1)
CURRENT_VIEW = "Current View"
_EVENT = ("Cohort", "PersonKey", "Date", "Category")


def tool_codes(regime: Regime) -> pl.LazyFrame:
    """NHS England's scored assessments (Current View only while the regime counts it)."""
    tools = assessment_tools()
    if not regime.current_view_counts:
        tools = tools.filter(pl.col("tool") != CURRENT_VIEW)
    return tools.select(pl.col("snomed_code").alias("Tool")).unique().lazy()


def baseline_outcomes(
    tables: Mapping[str, pl.LazyFrame], contacts: pl.LazyFrame, cohort_refs: pl.LazyFrame, month: Month, regime: Regime
) -> pl.LazyFrame:
    """MHS606 rows (submitted in their month moved into the referral's months) and MHS607 rows on
    a contact of any attendance, whose tool is on the list."""
    tools = tool_codes(regime)
    scored = table(tables, ASSESS_REFERRAL.id)
    refer = (
        scored
        .select(
            "ServiceRequestId",
            c.by_value(scored, "CodedAssToolType", c.spark_bigint_text).alias("Tool"),
            pl.col("AssToolCompTimestamp").dt.date().alias("Date"),
        )
        .filter(pl.col("Date") <= month.end)
        .join(tools, on="Tool", how="semi")
        .join(cohort_refs.select("Cohort", "ServiceRequestId", "PersonKey", "F", "L", "Pre", "Post"), on="ServiceRequestId")
        .filter(cohort_month(month_of(pl.col("Date")).clip(pl.col("F"), pl.col("L"))))
    )
    act = activity_assessments(tables, contacts, tools)
    act = in_cohort_submission(act, cohort_refs)
    return pl.concat(
        [f.select("Cohort", "PersonKey", "Date", pl.lit(BASELINE).alias("Category")) for f in (refer, act)],
        how="vertical",
    )


def activity_assessments(
    tables: Mapping[str, pl.LazyFrame], contacts: pl.LazyFrame, tools: pl.LazyFrame
) -> pl.LazyFrame:
    """MHS607 rows of the ``tools`` with their contact's referral and date; a row that names only
    its MHS202 care activity (``CareActId``, as v6 extracts have it) reaches the contact through
    MHS202. The tools are chosen before the contacts are joined (the contacts are the largest table)."""
    scored = table(tables, ASSESS_ACTIVITY.id)
    via_activity = table(tables, CARE_ACTIVITY.id).select(
        pl.col("CareActId"), pl.col("CareContactId").alias("ViaContact")
    ).filter(pl.col("CareActId").is_first_distinct())
    return (
        scored
        .join(via_activity, on="CareActId", how="left")
        .select(
            pl.coalesce(pl.col("CareContactId"), pl.col("ViaContact")).alias("CareContactId"),
            c.by_value(scored, "CodedAssToolType", c.spark_bigint_text).alias("Tool"),
        )
        .join(tools, on="Tool", how="semi")
        .join(contacts.select("CareContactId", "ServiceRequestId", "Date"), on="CareContactId")
    )


def care_plan_events(
    tables: Mapping[str, pl.LazyFrame], refs: pl.LazyFrame, spells: pl.LazyFrame
) -> pl.LazyFrame:
    """3.5 and 8: an agreed plan's date (C when Start <= C <= U, else U) for every spell of its
    person whose [Start, End] holds U, when U, C and an agreement fall on or before the end of the
    last month up to M in which the person is submitted."""
    last = refs.group_by("LocalPatientId").agg(
        pl.col("L").max().alias("P"), pl.col("PersonKey").first().alias("PersonKey")
    )
    agreed = (
        table(tables, CARE_PLAN_AGREEMENT.id)
        .select("CarePlanID", month_of(pl.col("CarePlanAgreedDate")).alias("A"))
    )
    plans = (
        table(tables, CARE_PLAN.id)
        .filter(pl.col("CarePlanID").is_first_distinct())
        .select(
            "CarePlanID",
            "LocalPatientId",
            pl.col("CarePlanCreatDate").alias("C"),
            pl.col("CarePlanLastUpdateDate").alias("U"),
        )
        .filter(pl.col("U").is_not_null())
        .join(last, on="LocalPatientId")
        .filter((month_of(pl.col("U")) <= pl.col("P")) & (pl.col("C").is_null() | (month_of(pl.col("C")) <= pl.col("P"))))
    )
    agreed_in_time = (
        plans.join(agreed, on="CarePlanID")
        .filter(pl.col("A").is_null() | (pl.col("A") <= pl.col("P")))
        .select("CarePlanID")
        .unique()
    )
    plans = plans.join(agreed_in_time, on="CarePlanID", how="semi")
    start_ok = pl.col("C").is_not_null() & (pl.col("C") >= pl.col("Start")) & (pl.col("C") <= pl.col("U"))
    return (
        plans.join(spells.select((*SPELL, "End")), on="PersonKey")
        .filter((pl.col("U") >= pl.col("Start")) & (pl.col("U") <= pl.col("End")))
        .select(
            *SPELL,
            pl.when(start_ok).then(pl.col("C")).otherwise(pl.col("U")).alias("Date"),
            pl.lit(CARE_PLAN_OR_INTERVENTION).alias("Category"),
        )
    )


def snomed_events(
    tables: Mapping[str, pl.LazyFrame],
    contacts: pl.LazyFrame,
    cohort_refs: pl.LazyFrame,
    release: SnomedRelease,
    month: Month,
    regime: Regime,
) -> pl.LazyFrame:
    """Procedures of MHS202 rows (on contacts of any attendance) and MHS204 rows in a cohort month,
    members of a refset on their date, as the cohort's categories."""
    procedures = (
        table(tables, CARE_ACTIVITY.id)
        .filter(pl.col("CareActId").is_first_distinct())
        .select("CareContactId", c.concept(pl.col("Procedure")).alias("Concept"))
        .join(contacts.select("CareContactId", "ServiceRequestId", "Date"), on="CareContactId")
        .select("ServiceRequestId", "Date", "Concept")
    )
    indirect = table(tables, INDIRECT.id).select(
        "ServiceRequestId", pl.col("IndirectActDate").alias("Date"), c.concept(pl.col("IndActProcedure")).alias("Concept")
    )
    coded = in_cohort_submission(
        pl.concat([procedures, indirect], how="vertical").filter(
            pl.col("Concept").is_not_null() & pl.col("Date").is_not_null()
        ),
        cohort_refs,
    )
    members = coded.join(windows(release, month, regime), on="Concept").filter(
        (pl.col("Date") >= pl.col("From")) & (pl.col("Date") <= pl.col("To"))
    )
    out = [
        members.filter(pl.col("Cohort") == cohort)
        .with_columns(category(cohort, regime).alias("Category"))
        .filter(pl.col("Category").is_not_null())
        .select(_EVENT)
        for cohort in (CMH, CYP)
    ]
    return pl.concat(out, how="vertical")


def events(
    tables: Mapping[str, pl.LazyFrame],
    contacts: pl.LazyFrame,
    refs: pl.LazyFrame,
    cohort_refs: pl.LazyFrame,
    spells: pl.LazyFrame,
    release: SnomedRelease | None,
    month: Month,
    regime: Regime,
) -> pl.LazyFrame:
    """The earliest event of each category per spell: one row per spell, a date column per category."""
    sources = [baseline_outcomes(tables, contacts, cohort_refs, month, regime)]
    if release is not None:
        sources.append(snomed_events(tables, contacts, cohort_refs, release, month, regime))
    dated = in_spell(pl.concat([s.select(_EVENT) for s in sources], how="vertical"), spells).select(
        *SPELL, "Date", "Category"
    )
    dated = pl.concat([dated, care_plan_events(tables, refs, spells)], how="vertical")
    return dated.group_by(SPELL).agg(
        pl.col("Date").filter(pl.col("Category") == cat).min().alias(cat) for cat in CATEGORIES
    )


def clock_stop() -> pl.Expr:
    """The latest required event, blank when any is blank (needs FirstContact, Start, Cohort and
    the category columns): CYP first contact, baseline, care plan or intervention; CMH also a
    meaningful assessment when Start or the first contact is on or after 2024-04-01."""
    first, base, cpi, ma = (pl.col(n) for n in ("FirstContact", BASELINE, CARE_PLAN_OR_INTERVENTION, MEANINGFUL_ASSESSMENT))
    core = pl.max_horizontal(first, base, cpi)
    core = pl.when(first.is_null() | base.is_null() | cpi.is_null()).then(None).otherwise(core)
    needs_ma = (pl.col("Cohort") == CMH) & (
        (pl.col("Start") >= ASSESSMENT_RULE_FROM) | (first >= ASSESSMENT_RULE_FROM).fill_null(False)
    )
    with_ma = pl.when(ma.is_null() | core.is_null()).then(None).otherwise(pl.max_horizontal(core, ma))
    return pl.when(needs_ma).then(with_ma).otherwise(core)
