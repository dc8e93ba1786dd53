"""Caveat codes of a waits run (waits.md section 15): what a local reading cannot reproduce."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.measures.common import table
from recon.measures.waits.refsets import ties
from recon.measures.waits.regimes import R3_FROM, Regime
from recon.months import Month
from recon.snomed import SnomedRelease
from recon.tables import CARE_ACTIVITY, CARE_PLAN, CARE_PLAN_AGREEMENT, MPI, OTHER_SERVICE

OPTIONAL_TABLES = (OTHER_SERVICE.id, CARE_ACTIVITY.id, CARE_PLAN.id, CARE_PLAN_AGREEMENT.id)


def caveats(
    tables: Mapping[str, pl.LazyFrame], month: Month, snomed: SnomedRelease | None, regime: Regime
) -> pl.DataFrame:
    """One row per caveat code that applies (code, detail); never a patient value."""
    rows: list[tuple[str, str]] = [("WAITS_HISTORY", "records are read as they are now, not as submitted")]
    if snomed is None:
        rows.append(("WAITS_NO_SNOMED", "the clock-stop measures are not computed"))
    else:
        if regime.later:
            rows.append(("WAITS_SNOMED_RELEASE", f"memberships dated with the release given ({snomed.source or 'unnamed'})"))
        if ties(snomed).collect().height:
            rows.append(("WAITS_SNOMED_TIES", "refset rows of one concept share an effectiveTime"))
    if month < R3_FROM:
        rows.append(("WAITS_EARLY_RULES", f"rules of the nearest public code ({regime.name})"))
    checks = [table(tables, MPI.id).select(pl.col("LADistrictAuth").is_not_null().any().alias("la"))]
    checks += [table(tables, t).select((pl.len() > 0).alias(t)) for t in OPTIONAL_TABLES]
    found = pl.collect_all(checks)
    if not found[0].item():
        rows.append(("WAITS_NO_RESIDENCE", "no LADistrictAuth: everyone treated as resident in England"))
    missing = [t for t, f in zip(OPTIONAL_TABLES, found[1:], strict=True) if not f.item()]
    if missing:
        rows.append(("WAITS_MISSING_TABLE", "no rows: " + ", ".join(missing)))
    return pl.DataFrame(rows, schema={"code": pl.String, "detail": pl.String}, orient="row")
