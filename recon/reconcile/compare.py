"""Aggregate comparison: local measures against the published file and the pre-deadline extract.

The published rule is measures.md "Comparing with the published file":

- published ``*``: consistent when the local count is below 5, or (percentages) the local
  numerator is below 5;
- a published number at provider level: consistent when the local value, suppressed and
  rounded the national way, reads the same. Counts are rounded to the nearest 5, halves away
  from zero (and 0-4 would have been ``*``). Percentages: the published provider-level
  percentage carries its own precision (whole numbers in the real files, e.g. ``41``); the local
  percentage, computed from the unrounded numerator and denominator, is rounded halves away
  from zero to as many decimals as the published text shows, and must equal it (and its
  numerator must be 5 or more, else it would have been ``*``);
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

from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from recon.findings import Severity
from recon.measures.catalog import Catalog
from recon.measures.catalog import catalog as measure_catalog
from recon.measures.model import MeasuresResult, MeasureValue
from recon.reconcile.model import Comparison, ComparisonStatus
from recon.reconcile.tolerances import Kind, Tolerance, Tolerances, load_tolerances
from recon.rounding import SUPPRESSION_LIMIT, round5, round_half_away, suppressed_text

# Worst first (for renderers that want one verdict per measure across sources).
_RANK = {
    ComparisonStatus.DISCREPANCY: 0,
    ComparisonStatus.MISSING_LOCAL: 1,
    ComparisonStatus.MISSING_PUBLISHED: 2,
    ComparisonStatus.WITHIN_TOLERANCE: 3,
    ComparisonStatus.CONSISTENT: 4,
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


def _local_percent(local: MeasureValue) -> float | None:
    if local.numerator is not None and local.denominator:
        return local.numerator * 100 / local.denominator
    return None if local.value is None else float(local.value)


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
        pct = _local_percent(local)
        shown = round_half_away(pct, decimals_of(published_text)) if pct is not None else None
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
# All measures


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
    if published is not None:
        ods = (provider or local.provider or "").strip().upper()
        rows = provider_rows(published, ods) if ods else published.clear()
        if published.height and rows.height == 0:
            notes.append(f"the published file has no Provider rows for {ods or 'this provider'} in this month")
        unknown: list[str] = []
        for r in rows.iter_rows(named=True):
            mid = r["measure_id"]
            if mid not in known:
                if mid not in unknown:
                    unknown.append(mid)
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
            if lv is None:
                v = Verdict(ComparisonStatus.MISSING_LOCAL, None,
                            f"published {row['value_text'] if row else ''} but recon has no local value")
            elif row is None:
                v = Verdict(ComparisonStatus.MISSING_PUBLISHED, None,
                            "not in the published file for this provider and month")
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
        ))
    return ComparisonSet(tuple(out), tuple(notes))


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
    "judge_extract",
    "judge_published",
    "load_tolerances",
    "round5",
    "round_half_away",
    "suppressed_text",
    "worse",
]
