"""The measures engine: prepare one provider's canonical tables, run every family of the register
(:mod:`recon.register`) and assemble one ordered ``MeasuresResult``.

The catalogue (``rules/measures.toml``, :mod:`recon.measures.catalog`) names, describes and orders
every measure; renderers and the pack read names and descriptions from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.codes import Codes, load_codes
from recon.config import ProviderSettings
from recon.measures.catalog import BREAKDOWNS, Catalog, catalog
from recon.measures.common import AGE_BAND, age_band_labels, count_values, long_frame
from recon.measures.family import FamilyContext
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.register import FAMILIES, check_catalog
from recon.snomed import SnomedRelease
from recon.sources import Extract
from recon.tables import CARE_CONTACT, MPI, REFERRAL, TABLES

UNKNOWN_PROVIDER = "UNKNOWN"


# ---------------------------------------------------------------------------------------------
# Tables


def canonical_tables(source: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> dict[str, pl.LazyFrame]:
    """Every canonical table as a LazyFrame: absent tables typed empty, absent columns typed
    null, present columns cast to their canonical type, unknown columns dropped."""
    out: dict[str, pl.LazyFrame] = {}
    for tid, t in TABLES.items():
        given = source.get(tid)
        if given is None:
            out[tid] = t.empty().lazy()
            continue
        lf = given.lazy()
        have = set(lf.collect_schema().names())
        out[tid] = lf.select(
            [
                pl.col(c.name).cast(c.kind.dtype) if c.name in have else pl.lit(None, dtype=c.kind.dtype).alias(c.name)
                for c in t.columns
            ]
        )
    return out


def restrict_to_provider(tables: Mapping[str, pl.LazyFrame], ods: str | None) -> dict[str, pl.LazyFrame]:
    """Keep one provider's records when ``ods`` is given: people and referrals whose OrgIDProv is
    another provider's are dropped (a blank OrgIDProv is kept: it is in this provider's file),
    and so are the contacts, indirect activity, assessments and spells of dropped referrals
    (those tables carry no OrgIDProv)."""
    out = dict(tables)
    if not ods:
        return out
    code = ods.strip().upper()
    other = pl.col("OrgIDProv").is_not_null() & (pl.col("OrgIDProv").str.strip_chars().str.to_uppercase() != code)
    out[MPI.id] = tables[MPI.id].filter(~other)
    out[REFERRAL.id] = tables[REFERRAL.id].filter(~other)
    # collected now (a small key list) so that a single-provider extract -- the usual case --
    # does not pay for anti-joins over the large tables
    dropped = tables[REFERRAL.id].filter(other).select("ServiceRequestId").unique().collect()
    if dropped.height == 0:
        return out
    dropped_refs = dropped.lazy()
    for tid, t in TABLES.items():
        if tid not in (MPI.id, REFERRAL.id) and "ServiceRequestId" in t.names:
            out[tid] = tables[tid].join(dropped_refs, on="ServiceRequestId", how="anti")
    dropped_contacts = tables[CARE_CONTACT.id].join(dropped_refs, on="ServiceRequestId", how="semi").select(
        "CareContactId"
    )
    out["MHS607CodedScoreAssessmentAct"] = tables["MHS607CodedScoreAssessmentAct"].join(
        dropped_contacts, on="CareContactId", how="anti"
    )
    return out


def _provider_from(frames: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> str | None:
    """The most frequent OrgIDProv on referrals, else people (as ``Extract.provider``)."""
    for tid in (REFERRAL.id, MPI.id):
        given = frames.get(tid)
        if given is None or "OrgIDProv" not in given.lazy().collect_schema().names():
            continue
        col = given.lazy().select(pl.col("OrgIDProv").cast(pl.String)).collect().to_series().drop_nulls()
        if col.len():
            return str(col.mode().sort().item(0))
    return None


# ---------------------------------------------------------------------------------------------
# Families


def _check(values: Sequence[MeasureValue], family: str, cat: Catalog) -> None:
    """A family must return each of its catalogue ids exactly once at provider level."""
    ids = [v.id for v in values if v.breakdown is None]
    expected = {m.id for m in cat.family(family)}
    unknown = sorted(set(ids) - expected)
    missing = sorted(expected - set(ids))
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if unknown or missing or twice:
        raise RuntimeError(
            f"measure family {family!r} returned unknown {unknown}, missing {missing}, repeated {twice}"
        )


def _sort_key(v: MeasureValue, cat: Catalog, bands: tuple[str, ...]) -> tuple[Any, ...]:
    if v.breakdown is None:
        return (0, cat.order(v.id), 0, 0, "")
    level = v.level or ""
    band = bands.index(level) if v.breakdown == AGE_BAND and level in bands else len(bands)
    breakdown = BREAKDOWNS.index(v.breakdown) if v.breakdown in BREAKDOWNS else len(BREAKDOWNS)
    return (1, cat.order(v.id), breakdown, band, level)


def run_families(
    ctx: FamilyContext, cat: Catalog
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame], tuple[str, ...]]:
    """Every registered family's values, detail frames and notes.

    The families' lazy parts (count frames, lazy details) are collected together in one
    ``pl.collect_all``, so the scans they share run once.
    """
    # Planned last family first: a family that computes eagerly (waits) then frees its working
    # memory before the lazy families' materialised intermediates (access) are held for the
    # shared collect; the peak is the larger of the two, not their sum. Results keep register order.
    planned = {f.name: f.plan(ctx) for f in reversed(FAMILIES)}
    plans = [(f.name, planned[f.name]) for f in FAMILIES]
    lazy: list[pl.LazyFrame] = []
    counted: list[str] = []  # family of each long count frame, in ``lazy`` order
    for name, p in plans:
        if p.counts:
            lazy.append(long_frame(list(p.counts)))
            counted.append(name)
    lazy_details = [(n, d) for _, p in plans for n, d in p.details.items() if isinstance(d, pl.LazyFrame)]
    collected = pl.collect_all([*lazy, *(d for _, d in lazy_details)])
    counts = dict(zip(counted, collected[: len(lazy)], strict=True))
    done = dict(zip((n for n, _ in lazy_details), collected[len(lazy):], strict=True))

    values: list[MeasureValue] = []
    details: dict[str, pl.DataFrame] = {}
    for name, p in plans:
        family_values = [*p.values, *(count_values(counts[name]) if name in counts else ())]
        _check(family_values, name, cat)
        values.extend(family_values)
        for n, d in p.details.items():
            details[n] = d if isinstance(d, pl.DataFrame) else done[n]
    return values, details, tuple(n for _, p in plans for n in p.notes)


def compute_measures(
    source: Extract | Mapping[str, pl.DataFrame | pl.LazyFrame],
    month: Month,
    settings: ProviderSettings = ProviderSettings(),
    codes: Codes | None = None,
    snomed: SnomedRelease | None = None,
) -> MeasuresResult:
    """Every measure of the catalogue for one provider and month.

    Values come provider level first, in catalogue order, then the team and age-band
    breakdowns in the same measure order. ``details`` gathers the families' record-level frames
    (``mhs95_people``, ``mhs69_people``, the outcomes frames, ...).
    """
    codes = codes or load_codes()
    cat = check_catalog(catalog())
    frames: Mapping[str, pl.DataFrame | pl.LazyFrame]
    if isinstance(source, Extract):
        frames, found = source.tables, source.provider
    else:
        frames, found = source, _provider_from(source)
    provider = settings.ods or found or UNKNOWN_PROVIDER
    tables = restrict_to_provider(canonical_tables(frames), settings.ods)
    ctx = FamilyContext(tables=tables, month=month, settings=settings, codes=codes, snomed=snomed)
    values, details, family_notes = run_families(ctx, cat)

    bands = age_band_labels(codes, codes.cyp_inclusive_max_age)
    ordered = tuple(sorted(values, key=lambda v: _sort_key(v, cat, bands)))
    gap = source.month_gap(month) if isinstance(source, Extract) else None
    notes = ((gap,) if gap else ()) + family_notes
    return MeasuresResult(provider=provider, month=month, values=ordered, details=MappingProxyType(details),
                          notes=notes)


def run_measures(epr: Path, month: Month, *, mapping: str | None, settings: ProviderSettings,
                 snomed: SnomedRelease | None = None) -> MeasuresResult:
    """Load the extract at ``epr`` (through ``mapping`` when given) and compute every measure."""
    from recon.sources import load_extract

    return compute_measures(load_extract(epr, mapping=mapping), month, settings, snomed=snomed)
