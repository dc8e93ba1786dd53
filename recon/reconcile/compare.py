"""Aggregate comparison: local measures against the published file and the pre-deadline extract.

The published rule is measures.md "Comparing with the published file":

- published ``*``: consistent when the local count is below 5, or (percentages) the local
  numerator is below 5;
- a published number at provider level: consistent when the local value, suppressed and
  rounded the national way, reads the same. Counts are rounded to the nearest 5, halves away
  from zero (and 0-4 would have been ``*``). Percentages: the published provider-level
  percentage carries its own precision (whole numbers in the real files, e.g. ``41``); the local
  percentage, computed from the unrounded numerator and denominator, is rounded as NHS England
  does -- to one decimal (Spark ``ROUND`` of the double), then again half up to a whole number
  for a whole-number file (14.458 -> 14.5 -> 15: one rounding, 14, would be a false
  discrepancy) -- and must equal it (and its numerator must be 5 or more, else ``*``);
- England rows compare exactly (same precision as published, no suppression);
- otherwise the difference ``published - local`` is judged against the measure's tolerance from
  ``rules/tolerances.toml``: within tolerance, or a discrepancy with the tolerance's severity.

Local against the pre-deadline extract is exact: both are recon's own unrounded figures.

A measure compared with both sources gets ``status`` from the published comparison (the
contract pairs ``status`` with ``published``) and keeps each verdict in ``published_status`` and
``extract_status``; a discrepancy against either counts towards exit code 1
(:attr:`ReconcileResult.discrepancies`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
import polars as pl

from recon.findings import Severity
from recon.measures.catalog import Catalog
from recon.measures.catalog import catalog as measure_catalog
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.reconcile.model import Comparison, ComparisonStatus
from recon.reconcile.tolerances import Kind, Tolerance, Tolerances, load_tolerances
from recon.rounding import (
    SUPPRESSED,
    SUPPRESSION_LIMIT,
    published_percent,
    round5,
    round_half_away,
    suppressed_text,
)

#: What a published waits value is: a count, a proportion (float32) or a percentile (a double)
WaitsKind = Literal["count", "percentage", "percentile"]
#: ``MeasuresResult.details`` frame of the waits family: one row per measure id with columns id,
#: period_start, value (a proportion as NHS England's float32), suppression_numerator
WAITS_DETAIL = "waits_measures"

# Worst first (for renderers that want one verdict per measure across sources).
_RANK = {
    ComparisonStatus.DISCREPANCY: 0,
    ComparisonStatus.MISSING_LOCAL: 1,
    ComparisonStatus.NOT_COMPARED: 2,
    ComparisonStatus.MISSING_PUBLISHED: 3,
    ComparisonStatus.WITHIN_TOLERANCE: 4,
    ComparisonStatus.CONSISTENT: 5,
}


# --------------------------------------------------------------------------------------------
# Rounding


def decimals_of(text: str) -> int:
    """Decimals shown in a published value ('41' -> 0, '41.3' -> 1)."""
    t = text.strip()
    return len(t.split(".", 1)[1]) if "." in t else 0


# --------------------------------------------------------------------------------------------
# Judging one value


@dataclass(frozen=True)
class Verdict:
    status: ComparisonStatus
    difference: float | None
    explanation: str
    tolerance: Tolerance | None = None


def _fmt(v: float | int | None) -> str:
    if v is None:
        return "none"
    f = float(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _shown_percent(local: MeasureValue, decimals: int) -> float | None:
    """The local percentage as NHS England would publish it with ``decimals`` places: one
    decimal the Spark way, then (a whole-number file) rounded again: 14.458 -> 14.5 -> 15."""
    if local.numerator is not None and local.denominator:
        return published_percent(local.numerator, local.denominator, decimals)
    if local.value is None:
        return None
    one = float(local.value)
    return one if decimals >= 1 else round_half_away(one, decimals)


def judge_published(
    local: MeasureValue,
    published_text: str | None,
    published_value: float | None,
    *,
    kind: Kind,
    tolerance: Tolerance,
    exact: bool = False,
) -> Verdict:
    """One local value against one published figure (``exact`` for England rows)."""
    if published_text is None or (published_value is None and published_text.strip() != "*"):
        return Verdict(ComparisonStatus.MISSING_PUBLISHED, None, "the published value is blank")
    v = local.value
    if published_text.strip() == "*":
        if kind == "percentage":
            num = local.numerator if local.numerator is not None else (0 if v is None else None)
            if num is not None and num < SUPPRESSION_LIMIT:
                return Verdict(ComparisonStatus.CONSISTENT, None,
                               f"published * (numerator 0-4); local numerator {num} would also be suppressed")
            return Verdict(ComparisonStatus.DISCREPANCY, None,
                           f"published * (numerator below 5) but the local numerator is {_fmt(num)}", tolerance)
        if v is not None and v < SUPPRESSION_LIMIT:
            return Verdict(ComparisonStatus.CONSISTENT, None,
                           f"published * (0-4); local {_fmt(v)} would also be suppressed")
        return Verdict(ComparisonStatus.DISCREPANCY, None,
                       f"published * (0-4) but local is {_fmt(v)}: the national count is below 5", tolerance)
    assert published_value is not None
    p = published_value
    if v is None:
        return Verdict(ComparisonStatus.DISCREPANCY, None,
                       f"published {_fmt(p)} but the local value cannot be computed (denominator 0)", tolerance)
    if kind == "percentage":
        shown: float | None
        if exact:  # England rows: the unrounded local figure to the published precision
            raw = local.numerator * 100 / local.denominator if local.numerator is not None and local.denominator \
                else float(v)
            shown = round_half_away(raw, decimals_of(published_text))
        else:
            shown = _shown_percent(local, decimals_of(published_text))
        big_enough = exact or local.numerator is None or local.numerator >= SUPPRESSION_LIMIT
        if shown is not None and big_enough and shown == p:
            how = "exactly" if exact else f"rounded to {decimals_of(published_text)} decimals"
            return Verdict(ComparisonStatus.CONSISTENT, 0.0,
                           f"local {_fmt(v)}% reads {_fmt(shown)}% {how}, as published")
        basis = f" (rounds to {_fmt(shown)}%)" if shown is not None and not exact else ""
        local_text = f"local {_fmt(v)}%{basis}"
    else:
        if exact:
            if float(v) == p:
                return Verdict(ComparisonStatus.CONSISTENT, 0.0, f"local {_fmt(v)} equals the published value")
            local_text = f"local {_fmt(v)}"
        else:
            text = suppressed_text(v)
            if text != "*" and float(text) == p:
                note = "" if float(v) == p else f" rounds to {text}"
                return Verdict(ComparisonStatus.CONSISTENT, 0.0, f"local {_fmt(v)}{note}, as published")
            local_text = f"local {_fmt(v)} (published as {text})"
    diff = round(p - float(v), 6)  # both sides have few decimals: drop float noise (-4.699999999999999)
    if tolerance.allows(diff, p):
        return Verdict(ComparisonStatus.WITHIN_TOLERANCE, diff,
                       f"published {_fmt(p)}, {local_text}: difference {diff:+g} is within "
                       f"{tolerance.text} ({tolerance.id})", tolerance)
    return Verdict(ComparisonStatus.DISCREPANCY, diff,
                   f"published {_fmt(p)}, {local_text}: difference {diff:+g} is beyond "
                   f"{tolerance.text} ({tolerance.id})", tolerance)


def judge_extract(local: MeasureValue, extract: MeasureValue, *, tolerance: Tolerance) -> Verdict:
    """Local against the pre-deadline extract: both unrounded, so equal means consistent."""
    a, b = local.value, extract.value
    if a is None and b is None:
        return Verdict(ComparisonStatus.CONSISTENT, None, "neither source can compute it (denominator 0)")
    if a is None or b is None:
        return Verdict(ComparisonStatus.DISCREPANCY, None,
                       f"extract {_fmt(b)}, local {_fmt(a)}: one source cannot compute it", tolerance)
    diff = round(float(b) - float(a), 6)
    if diff == 0:
        return Verdict(ComparisonStatus.CONSISTENT, 0.0, "the extract gives the same value")
    status = ComparisonStatus.WITHIN_TOLERANCE if tolerance.allows(diff, float(b)) else ComparisonStatus.DISCREPANCY
    word = "within" if status is ComparisonStatus.WITHIN_TOLERANCE else "beyond"
    return Verdict(status, diff,
                   f"extract {_fmt(b)}, local {_fmt(a)}: difference {diff:+g} is {word} "
                   f"{tolerance.text} ({tolerance.id})", tolerance)


def worse(a: ComparisonStatus, b: ComparisonStatus) -> ComparisonStatus:
    return a if _RANK[a] <= _RANK[b] else b


# --------------------------------------------------------------------------------------------
# Waits family: per-measure periods, suppression numerators, float32 values (waits.md 1 and 12)


@dataclass(frozen=True)
class Publication:
    """How NHS England publishes one waits measure for this run: the row's period start, the
    unrounded value as it stores it (a proportion as float32, a percentile as a double), and the
    local value of its suppression numerator (MRS02f: MRS02a)."""

    period_start: dt.date | None
    value: float | None
    suppression: int | None


def waits_publications(local: MeasuresResult) -> dict[str, Publication]:
    """The waits family's publication facts, from its ``waits_measures`` detail frame (empty
    when the family did not run)."""
    frame = local.details.get(WAITS_DETAIL)
    if frame is None or frame.height == 0 or "id" not in frame.columns:
        return {}
    have = set(frame.columns)
    out: dict[str, Publication] = {}
    for r in frame.iter_rows(named=True):
        supp = r["suppression_numerator"] if "suppression_numerator" in have else None
        value = r["value"] if "value" in have else None
        out[str(r["id"])] = Publication(
            r["period_start"] if "period_start" in have else None,
            None if value is None else float(value),
            None if supp is None else int(supp),
        )
    return out


def half_up32(value: float, decimals: int = 0) -> float:
    """A stored value as NHS England prints it below England: the float32 value, exactly, rounded
    half up (float32 14.5 -> 15; float32 14.45 is 14.4499998... -> 14; 40.5 -> 41)."""
    exact = Decimal(float(np.float32(value)))
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def published_form(value: float | int | None, kind: WaitsKind, suppression: int | None,
                   decimals: int = 0) -> str | None:
    """The provider-level published text of a local waits value: a count ``*`` below 5, else to
    the nearest 5; a proportion or percentile ``*`` when its suppression numerator is below 5,
    else its float32 value rounded half up. None for a null proportion or percentile."""
    if kind == "count":
        return None if value is None else suppressed_text(value)
    if suppression is not None and suppression < SUPPRESSION_LIMIT:
        return SUPPRESSED
    if value is None:
        return None
    shown = half_up32(float(value), decimals)
    return str(int(shown)) if decimals == 0 else f"{shown:.{decimals}f}"


def judge_waits(
    local: MeasureValue, published_text: str | None, published_value: float | None, *, kind: WaitsKind,
    publication: Publication, tolerance: Tolerance,
) -> Verdict:
    """One waits value against its provider row (waits.md section 12)."""
    if published_text is None or (published_value is None and published_text.strip() != SUPPRESSED):
        return Verdict(ComparisonStatus.MISSING_PUBLISHED, None, "the published value is blank")
    stored = publication.value if publication.value is not None else (
        None if local.value is None else float(local.value))
    supp = publication.suppression
    if kind != "count" and stored is None:
        supp = 0  # a null proportion or percentile has numerator 0
    if kind == "count":
        supp = None if local.value is None else int(local.value)
    supp_text = "" if kind == "count" or supp is None else f" (suppressed on {supp})"
    form = published_form(stored, kind, supp, decimals_of(published_text) if published_text != SUPPRESSED else 0)
    if published_text.strip() == SUPPRESSED:
        if form == SUPPRESSED or (kind != "count" and stored is None):
            return Verdict(ComparisonStatus.CONSISTENT, None,
                           f"published * (below 5); local {_fmt(stored)}{supp_text} would also be suppressed")
        return Verdict(ComparisonStatus.DISCREPANCY, None,
                       f"published * (below 5) but local {_fmt(stored)}{supp_text} would be published as {form}",
                       tolerance)
    assert published_value is not None
    p = published_value
    if stored is None or form is None:
        return Verdict(ComparisonStatus.DISCREPANCY, None,
                       f"published {_fmt(p)} but the local value is null (nothing to count)", tolerance)
    if form == SUPPRESSED:
        return Verdict(ComparisonStatus.DISCREPANCY, None,
                       f"published {_fmt(p)} but local {_fmt(stored)}{supp_text} would be published as *", tolerance)
    if float(form) == p:
        return Verdict(ComparisonStatus.CONSISTENT, 0.0, f"local {_fmt(stored)} is published as {form}, as published")
    diff = round(p - stored, 6)
    word, status = ("within", ComparisonStatus.WITHIN_TOLERANCE) if tolerance.allows(diff, p) else (
        "beyond", ComparisonStatus.DISCREPANCY)
    return Verdict(status, diff, f"published {_fmt(p)}, local {_fmt(stored)} (published as {form}): difference "
                                 f"{diff:+g} is {word} {tolerance.text} ({tolerance.id})", tolerance)


def expected_start(measure_id: str, month: Month, cat: Catalog,
                   waits: Mapping[str, Publication]) -> dt.date | None:
    """The REPORTING_PERIOD_START of the measure's own row: Q.start for a quarterly waits measure,
    11 months back for MHS95, M.start for a monthly one; None when unknown (any start accepted)."""
    pub = waits.get(measure_id)
    if pub is not None and pub.period_start is not None:
        return pub.period_start
    info = cat.find(measure_id)
    if info is None:
        return None
    return month.shift(-(info.period_months - 1)).start


def unpublished_files(published: pl.DataFrame, provider: str) -> dict[str, set[str]]:
    """Files of the selection (already cut to the month) with no Provider row for ``provider``:
    file name -> the measure ids the file carries for other levels."""
    ods = provider.strip().upper()
    mine = (pl.col("breakdown").str.to_lowercase() == "provider") & (pl.col("level").str.to_uppercase() == ods)
    per_file = published.group_by("file").agg(mine.any().alias("mine"), pl.col("measure_id").unique())
    return {str(f): set(ids) for f, has, ids in per_file.iter_rows() if not has}


# --------------------------------------------------------------------------------------------
# All measures


def _waits_kind(measure_id: str, cat: Catalog, published_name: str | None, kind: Kind) -> WaitsKind:
    """A percentile is told by the catalogue, else by its published name (Median, 90th percentile)."""
    info = cat.find(measure_id)
    name = (published_name or "").lower()
    if (info is not None and info.kind.value == "percentile") or "median" in name or "percentile" in name:
        return "percentile"
    return kind


def _kind(measure_id: str, local: MeasureValue | None, extract: MeasureValue | None,
          cat: Catalog, published_name: str | None) -> Kind:
    for mv in (local, extract):
        if mv is not None:
            return "percentage" if mv.is_percentage else "count"
    info = cat.find(measure_id)
    if info is not None:
        return "percentage" if info.is_percentage else "count"
    name = (published_name or "").lower()
    return "percentage" if any(w in name for w in ("proportion", "percentage", "%")) else "count"


@dataclass(frozen=True)
class ComparisonSet:
    comparisons: tuple[Comparison, ...]
    notes: tuple[str, ...]


def provider_rows(published: pl.DataFrame, provider: str) -> pl.DataFrame:
    """Provider-level rows (BREAKDOWN=Provider, PRIMARY_LEVEL=ODS) of a published selection."""
    return published.filter(
        (pl.col("breakdown").str.to_lowercase() == "provider")
        & (pl.col("level").str.to_uppercase() == provider.strip().upper())
    )


def compare_measures(
    local: MeasuresResult,
    *,
    published: pl.DataFrame | None = None,
    provider: str | None = None,
    extract: MeasuresResult | None = None,
    tolerances: Tolerances | None = None,
    catalog: Catalog | None = None,
) -> ComparisonSet:
    """Compare every provider-level measure with the published rows and/or the extract.

    ``published`` is a published selection's rows already cut to the month and status
    (:func:`recon.published.select_published`); only its Provider rows for ``provider`` are used.
    Measure ids there that recon does not know are ignored and listed in the notes.
    """
    tolerances = tolerances or load_tolerances()
    cat = measure_catalog() if catalog is None else catalog
    notes: list[str] = []
    local_ids = [v.id for v in local.provider_level]
    known = set(local_ids) | set(cat.ids)
    pub: dict[str, dict[str, Any]] = {}
    waits = waits_publications(local)
    unpublished: dict[str, set[str]] = {}  # files without a row for the provider -> their measure ids
    nothing_for_provider = False
    ods = (provider or local.provider or "").strip().upper()
    if published is not None:
        rows = provider_rows(published, ods) if ods else published.clear()
        nothing_for_provider = published.height > 0 and rows.height == 0
        unpublished = unpublished_files(published, ods) if published.height else {}
        for f, ids in sorted(unpublished.items()):
            others = published.filter((pl.col("file") == f) & (pl.col("breakdown").str.to_lowercase() == "provider"))
            n = others.get_column("level").n_unique()
            notes.append(
                f"provider {ods or '(unknown)'} has no rows in {f} for {local.month} ({n} other provider"
                f"{'s' if n != 1 else ''} there): its {len(ids)} measure{'s' if len(ids) != 1 else ''} "
                f"({', '.join(sorted(ids)[:4])}{', ...' if len(ids) > 4 else ''}) are not compared; "
                "check the ODS code (--provider) and that the file is this provider's publication")
        unknown: list[str] = []
        for r in rows.iter_rows(named=True):
            mid = r["measure_id"]
            if mid not in known:
                if mid not in unknown:
                    unknown.append(mid)
                continue
            start = expected_start(mid, local.month, cat, waits)
            if start is not None and r["period_start"] != start:
                notes.append(f"{mid}: the provider row at line {r['line']} of {r['file']} starts {r['period_start']}, "
                             f"not {start}: not that measure's row, ignored")
                continue
            if mid in pub:
                notes.append(f"{mid} appears twice among the provider rows; the first (line {pub[mid]['line']}) is used")
                continue
            pub[mid] = r
        if unknown:
            notes.append(
                f"{len(unknown)} published measure id{'s' if len(unknown) > 1 else ''} not computed by recon, "
                f"ignored: {', '.join(sorted(unknown))}"
            )
    skipped = set().union(*unpublished.values()) if unpublished else set()
    order = list(dict.fromkeys([*local_ids, *pub]))
    out: list[Comparison] = []
    for mid in order:
        lv = local.get(mid)
        ev = extract.get(mid) if extract is not None else None
        row = pub.get(mid)
        kind = _kind(mid, lv, ev, cat, row["measure_name"] if row else None)
        tol = tolerances.for_measure(mid, kind)
        info = cat.find(mid)
        name = info.name if info else (row["measure_name"] if row and row["measure_name"] else mid)
        verdicts: list[tuple[str, Verdict]] = []
        pub_status: ComparisonStatus | None = None
        ext_status: ComparisonStatus | None = None
        if published is not None and not (row is None and mid.startswith("RECON_")):
            if row is None and (nothing_for_provider or mid in skipped):
                v = Verdict(ComparisonStatus.NOT_COMPARED, None,
                            f"not compared: the published file has no row for {ods or 'this provider'} this month")
            elif lv is None or lv.reason is not None:
                why = lv.reason if lv is not None and lv.reason else "recon has no local value"
                v = Verdict(ComparisonStatus.MISSING_LOCAL, None,
                            f"published {row['value_text']} but {why}" if row else why)
            elif row is None:
                v = Verdict(ComparisonStatus.MISSING_PUBLISHED, None,
                            "not in the published file for this provider and month")
            elif mid in waits:
                v = judge_waits(lv, row["value_text"], row["value"], kind=_waits_kind(mid, cat, row["measure_name"], kind),
                                publication=waits[mid], tolerance=tol)
            else:
                exact = str(row["breakdown"]).lower() == "england"
                v = judge_published(lv, row["value_text"], row["value"], kind=kind, tolerance=tol, exact=exact)
            verdicts.append(("published", v))
            pub_status = v.status
        if extract is not None:
            if lv is None:
                v = Verdict(ComparisonStatus.MISSING_LOCAL, None, "the extract has it, the local extract does not")
            elif ev is None:
                v = Verdict(ComparisonStatus.MISSING_PUBLISHED, None, "not computed from the extract")
            else:
                v = judge_extract(lv, ev, tolerance=tol)
            verdicts.append(("extract", v))
            ext_status = v.status
        if not verdicts:
            continue
        # ``status`` is the verdict against the published figure when there is one (the contract
        # pairs it with "published"), else against the extract; both stay in *_status.
        status = verdicts[0][1].status
        main = verdicts[0][1]
        explanation = "; ".join(f"{src}: {v.explanation}" for src, v in verdicts) if len(verdicts) > 1 \
            else main.explanation
        failed = any(v.status is ComparisonStatus.DISCREPANCY for _, v in verdicts)
        severity = tol.severity if failed else Severity.INFO
        difference = next((v.difference for _, v in verdicts if v.difference is not None), None)
        by_source = dict(verdicts)
        out.append(Comparison(
            id=mid,
            name=name,
            local=None if lv is None else lv.value,
            status=status,
            published=None if row is None else _num(row["value"]),
            published_text=None if row is None else row["value_text"],
            extract=None if ev is None else ev.value,
            difference=difference,
            tolerance=f"{tol.text} ({tol.id})",
            severity=severity,
            explanation=explanation[:1].upper() + explanation[1:] if explanation else "",
            numerator=None if lv is None else lv.numerator,
            denominator=None if lv is None else lv.denominator,
            published_status=pub_status,
            extract_status=ext_status,
            published_difference=_minus(row["value"] if row else None, lv) if "published" in by_source else None,
            extract_difference=_minus(None if ev is None else ev.value, lv) if "extract" in by_source else None,
        ))
    return ComparisonSet(tuple(out), tuple(notes))


def _minus(other: float | int | None, local: MeasureValue | None) -> float | None:
    """``other - local`` as shown beside its status: the real difference, even where national
    rounding makes the two read the same (published 150, local 151: -1, consistent)."""
    if other is None or local is None or local.value is None:
        return None
    return round(float(other) - float(local.value), 6)


def _num(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


def with_explanation(c: Comparison, extra: str) -> Comparison:
    return replace(c, explanation=f"{c.explanation} {extra}".strip())


__all__ = [
    "ComparisonSet",
    "Tolerance",
    "Tolerances",
    "Verdict",
    "compare_measures",
    "decimals_of",
    "half_up32",
    "judge_extract",
    "judge_published",
    "judge_waits",
    "load_tolerances",
    "published_form",
    "round5",
    "round_half_away",
    "suppressed_text",
    "worse",
]
