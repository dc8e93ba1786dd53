"""The waits family for one provider and month: every MRS01-MRS14f and MHS130-MHS135 value and
the record-level frames behind them (waits.md). ``compute`` is the standalone entry point."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.common import table
from recon.measures.model import MeasureValue
from recon.measures.waits import clockstop, cohorts, contacts, first_contact, spells, status
from recon.measures.waits.caveats import caveats
from recon.measures.waits.definitions import (
    COUNT,
    MEASURES,
    NOT_COMPUTED,
    PROPORTION,
    spell_sets,
    suppression_numerator,
)
from recon.measures.waits.months import days, quarter_start
from recon.measures.waits.percentile import spark_percentile
from recon.measures.waits.referrals import referrals
from recon.measures.waits.regimes import Regime, regime_for
from recon.measures.waits.values import proportion32, reported
from recon.months import Month
from recon.snomed import SnomedRelease
from recon.tables import REFERRAL

MEASURE_DETAIL_SCHEMA = pl.Schema(
    {
        "id": pl.String(), "period": pl.String(), "period_start": pl.Date(), "period_end": pl.Date(),
        "value": pl.Float64(), "numerator": pl.Int64(), "denominator": pl.Int64(),
        "suppression_numerator": pl.Int64(), "regime": pl.String(), "reason": pl.String(),
    }
)


def provider_code(tables: Mapping[str, pl.LazyFrame], settings: ProviderSettings) -> str:
    """The provider's ODS code: the setting, else the most frequent ``OrgIDProv`` on referrals."""
    if settings.ods:
        return settings.ods.strip().upper()
    found = table(tables, REFERRAL.id).select(pl.col("OrgIDProv").drop_nulls().mode().sort().first()).collect()
    value = found.item() if found.height else None
    return str(value).strip().upper() if value else ""


def spell_plan(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, snomed: SnomedRelease | None,
    regime: Regime, provider: str,
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Lazy plans of the in-scope spells with every per-spell value (section 9), their referrals,
    the referrals of the first-contact measures, the care contacts and the referrals' items."""
    # referral-level frames are materialised in two steps: one row per referral (or team row,
    # or spell), they keep the later plans small (polars' optimiser slows on deep shared plans)
    refs_df, = pl.collect_all([referrals(tables, month, settings)])
    refs = refs_df.lazy()
    srows_df, crefs_df = pl.collect_all(
        [srows_lf := cohorts.scoped_rows(refs, cohorts.team_rows(refs, tables), regime),
         cohorts.cohort_referrals(refs, srows_lf, month, regime, provider)]
    )
    srows, crefs = srows_df.lazy(), crefs_df.lazy()
    built = status.in_scope(spells.spells(crefs), month).collect().lazy()
    spell_frame = status.with_status(built, crefs, month, regime)
    care = contacts.care_contacts(tables)
    qualifying = contacts.qualifying_contacts(care, crefs)
    cyp = contacts.cyp_first_contact(qualifying, tables, crefs, built).rename({"FirstContact": "FirstCYP"})
    cmh = contacts.cmh_contacts(qualifying, srows, refs, built, regime).rename({"FirstContact": "FirstCMH"})
    events = clockstop.events(tables, care, refs, crefs, built, snomed, month, regime)
    key = list(status.SPELL)
    q_start = quarter_start(month)
    parts = pl.collect_all([spell_frame, cyp, cmh, events])
    joined = (
        parts[0].join(parts[1], on=key, how="left")
        .join(parts[2], on=key, how="left")
        .join(parts[3], on=key, how="left")
        .with_columns(
            pl.when(pl.col("Cohort") == cohorts.CYP).then(pl.col("FirstCYP")).otherwise(pl.col("FirstCMH")).alias(
                "FirstContact"
            )
        )
        .with_columns((clockstop.clock_stop() if snomed is not None else pl.lit(None, dtype=pl.Date)).alias("ClockStop"))
        .with_columns(
            days(pl.col("Start"), pl.col("ClockStop")).alias("DaysToStop"),
            ((pl.col("ClockStop") >= q_start) & (pl.col("ClockStop") <= month.end)).fill_null(False).alias("StopInQ"),
        )
        .select(
            "Cohort", "PersonKey", "Start", "End", "Referrals", "Open", "IsOpen", "IsClosed", "IsStarted", "W",
            "FirstContact", "SecondContact", *clockstop.CATEGORIES, "ClockStop", "DaysToStop", "StopInQ",
        )
        .sort("Cohort", "PersonKey", "Start")
        .lazy()
    )
    first = first_contact.referrals(refs, care, month, regime, provider)
    spell_refs = status.spell_referrals(built, crefs).select("Cohort", "PersonKey", "Start", "ServiceRequestId")
    items = refs.select("ServiceRequestId", "Recv", "TeamId", "TeamType", "Priority")
    return joined, spell_refs, first, care, items


def waiting(spell_df: pl.DataFrame, spell_refs: pl.DataFrame, first: pl.DataFrame, care: pl.LazyFrame,
            items: pl.LazyFrame, month: Month, snomed: bool) -> pl.LazyFrame:
    """Every referral waiting at month end: referrals of open spells without a first contact
    (CYP), a second contact (CMH) or a clock stop, and the referrals MHS133 counts."""
    spell_flags = spell_df.lazy().filter(pl.col("IsOpen")).select(
        "Cohort", "PersonKey", "Start", "W",
        pl.col("FirstContact").is_null().alias("NoFirstContact"),
        pl.when(pl.col("Cohort") == cohorts.CMH).then(pl.col("SecondContact").is_null()).alias("NoSecondContact"),
        (pl.col("ClockStop").is_null() if snomed else pl.lit(None, dtype=pl.Boolean)).alias("NoClockStop"),
    )
    in_spells = (
        spell_refs.lazy()
        .join(spell_flags, on=["Cohort", "PersonKey", "Start"])
        .filter(pl.col("NoFirstContact") | pl.col("NoSecondContact").fill_null(False) | pl.col("NoClockStop").fill_null(False))
        .select("ServiceRequestId", "Cohort", "PersonKey", pl.col("Start").alias("SpellStart"), pl.col("W").alias("SpellDays"),
                "NoFirstContact", "NoSecondContact", "NoClockStop")
    )
    mhs133 = first.lazy().filter(pl.col("InMHS133")).select("ServiceRequestId", "PersonKey", pl.lit(True).alias("InMHS133"),
                                                              "WaitingDays")
    last = (
        care.filter(pl.col("Attend").is_in(["5", "6"]).fill_null(False) & (pl.col("Date") <= month.end))
        .group_by("ServiceRequestId")
        .agg(pl.col("Date").max().alias("LastAttendedContact"))
    )
    return (
        in_spells.join(mhs133, on="ServiceRequestId", how="full", coalesce=True, suffix="_133")
        .with_columns(pl.coalesce("PersonKey", "PersonKey_133").alias("PersonKey"), pl.col("InMHS133").fill_null(False))
        .drop("PersonKey_133")
        .join(last, on="ServiceRequestId", how="left")
        .join(items, on="ServiceRequestId", how="left")
        # longest first; the referral id settles ties, so the same records give the same order
        .sort(pl.coalesce("SpellDays", "WaitingDays"), pl.col("ServiceRequestId"), descending=[True, False],
              nulls_last=True)
    )


def _measure_rows(
    spell_df: pl.DataFrame, first: pl.DataFrame, month: Month, snomed: bool, regime: Regime
) -> tuple[list[MeasureValue], pl.DataFrame]:
    sets = spell_sets()
    counts: dict[str, int] = {}
    if sets:
        row = spell_df.select(expr.sum().cast(pl.Int64).alias(mid) for mid, expr in sets.items()).row(0, named=True)
        counts.update({k: int(v) for k, v in row.items()})
    counts["MHS130"] = int(first["InMHS130"].sum())
    counts["MHS133"] = int(first["InMHS133"].sum())
    series = {
        "MRS03": spell_df.filter(sets["MRS03"])["W"],
        "MRS10": spell_df.filter(sets["MRS10"])["W"],
        "MHS130": first.filter(pl.col("InMHS130"))["Wait"],
        "MHS133": first.filter(pl.col("InMHS133"))["WaitingDays"],
    }
    values: list[MeasureValue] = []
    rows: list[dict[str, object]] = []
    for m in MEASURES:
        start = quarter_start(month) if m.period == "Q" else month.start
        base: dict[str, object] = {"id": m.id, "period": m.period, "period_start": start, "period_end": month.end,
                                   "regime": regime.name, "value": None, "numerator": None, "denominator": None,
                                   "suppression_numerator": None, "reason": None}
        if m.snomed and not snomed:
            values.append(MeasureValue(m.id, None, reason=NOT_COMPUTED))
            rows.append({**base, "reason": NOT_COMPUTED})
            continue
        supp = counts[suppression_numerator(m)]
        if m.kind == COUNT:
            values.append(MeasureValue(m.id, counts[m.id]))
            rows.append({**base, "value": float(counts[m.id]), "suppression_numerator": supp})
        elif m.kind == PROPORTION:
            assert m.of is not None and m.denominator is not None
            num, den = counts[m.of], counts[m.denominator]
            p32 = proportion32(num, den)
            values.append(MeasureValue(m.id, reported(p32), numerator=num, denominator=den))
            rows.append({**base, "value": p32, "numerator": num, "denominator": den, "suppression_numerator": supp})
        else:
            assert m.of is not None and m.p is not None
            pct = spark_percentile(series[m.of], m.p)
            values.append(MeasureValue(m.id, pct))
            rows.append({**base, "value": pct, "suppression_numerator": supp})
    return values, pl.DataFrame(rows, schema=MEASURE_DETAIL_SCHEMA)


def compute(
    tables: Mapping[str, pl.LazyFrame],
    month: Month,
    settings: ProviderSettings,
    codes: Codes | None = None,
    snomed: SnomedRelease | None = None,
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """Provider-level waits values for M and the record-level frames behind them.

    ``tables``: canonical tables of one provider (recon.tables). Without ``snomed`` the clock-stop
    measures are not computed (value None with the reason). Details: ``waits_spells`` (every
    in-scope spell with its referrals, status, contacts, events, clock stop and days),
    ``waits_waiting`` (every referral waiting at month end), ``waits_first_contact`` (the
    MHS130-MHS135 cohort), ``waits_measures`` (period, float32 value, numerator, denominator and
    suppression numerator of every id) and ``waits_caveats``.
    """
    del codes  # the waits family's code lists are its own (waits.md)
    regime = regime_for(month)
    provider = provider_code(tables, settings)
    spell_lf, spell_refs_lf, first_lf, care, items = spell_plan(tables, month, settings, snomed, regime, provider)
    spell_df, spell_refs, first = pl.collect_all([spell_lf, spell_refs_lf, first_lf])
    values, measure_df = _measure_rows(spell_df, first, month, snomed is not None, regime)
    waiting_df = waiting(spell_df, spell_refs, first, care, items, month, snomed is not None).collect()
    spell_key = list(status.SPELL)
    details = {
        "waits_spells": spell_df,
        "waits_referrals": spell_refs.join(spell_df, on=spell_key, how="left").sort("ServiceRequestId", *spell_key),
        "waits_waiting": waiting_df,
        "waits_first_contact": first.sort("ServiceRequestId"),
        "waits_measures": measure_df,
        "waits_caveats": caveats(tables, month, snomed, regime),
    }
    return values, details
