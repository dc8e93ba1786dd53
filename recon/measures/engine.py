"""The measures engine: prepare one provider's canonical tables, run the four measure families
(access, activity, outcomes, completeness) and assemble one ordered ``MeasuresResult``.

The catalogue (``rules/measures.toml``) names, describes and orders every measure; renderers
and the pack read names and descriptions from it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.codes import RULES_DIR, Codes, load_codes
from recon.config import ProviderSettings
from recon.errors import RulesError
from recon.measures import access, activity, completeness, outcomes
from recon.measures.common import AGE_BAND, TEAM, age_band_labels, count_values, long_frame
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.snomed import SnomedRelease
from recon.sources import Extract
from recon.tables import CARE_CONTACT, MPI, REFERRAL, TABLES

FAMILIES = ("access", "activity", "outcomes", "completeness")
KINDS = ("count", "percentage")
BREAKDOWNS = (TEAM, AGE_BAND)
UNKNOWN_PROVIDER = "UNKNOWN"


# ---------------------------------------------------------------------------------------------
# Catalogue


@dataclass(frozen=True)
class MeasureDef:
    """One measure of measures.md as catalogued in rules/measures.toml."""

    id: str
    name: str
    family: str  # access | activity | outcomes | completeness
    kind: str  # count | percentage
    description: str
    main: bool = False  # headline measure to trend
    period_months: int = 1  # months the published row spans (12 for MHS95)
    numerator: str | None = None  # percentages: the count measure on top (None: own count)
    denominator: str | None = None  # percentages: the measure underneath
    breakdowns: tuple[str, ...] = ()

    @property
    def is_percentage(self) -> bool:
        return self.kind == "percentage"


@dataclass(frozen=True)
class Catalog:
    measures: tuple[MeasureDef, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.measures)

    def get(self, measure_id: str) -> MeasureDef:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def family(self, family: str) -> tuple[MeasureDef, ...]:
        return tuple(m for m in self.measures if m.family == family)

    def order(self, measure_id: str) -> int:
        """Position in measures.md (unknown ids sort last)."""
        return _order_index(self)[1].get(measure_id, len(self.measures))

    @property
    def main(self) -> tuple[MeasureDef, ...]:
        return tuple(m for m in self.measures if m.main)


@lru_cache(maxsize=4)
def _order_index(cat: Catalog) -> tuple[int, dict[str, int]]:
    return len(cat.measures), {m.id: i for i, m in enumerate(cat.measures)}


def _measure(entry: Mapping[str, Any], where: str) -> MeasureDef:
    def text(key: str, required: bool = True) -> str | None:
        value = entry.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise RulesError(f"{where}: '{key}' must be a non-empty string")
        return value

    family, kind = text("family"), text("kind")
    if family not in FAMILIES:
        raise RulesError(f"{where}: family {family!r} is not one of {', '.join(FAMILIES)}")
    if kind not in KINDS:
        raise RulesError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    breakdowns = entry.get("breakdowns", [])
    if not isinstance(breakdowns, list) or any(b not in BREAKDOWNS for b in breakdowns):
        raise RulesError(f"{where}: breakdowns must be a list drawn from {', '.join(BREAKDOWNS)}")
    main, period = entry.get("main", False), entry.get("period_months", 1)
    if not isinstance(main, bool):
        raise RulesError(f"{where}: 'main' must be true or false")
    if not isinstance(period, int) or isinstance(period, bool) or period < 1:
        raise RulesError(f"{where}: 'period_months' must be a positive whole number")
    return MeasureDef(
        id=str(text("id")),
        name=str(text("name")),
        family=str(family),
        kind=str(kind),
        description=str(text("description")),
        main=main,
        period_months=period,
        numerator=text("numerator", required=False),
        denominator=text("denominator", required=False),
        breakdowns=tuple(breakdowns),
    )


@lru_cache(maxsize=4)
def catalog(path: Path | None = None) -> Catalog:
    """rules/measures.toml parsed once into frozen definitions, in the order of measures.md."""
    path = path or RULES_DIR / "measures.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path.name} cannot be read: {exc}") from None
    entries = doc.get("measure")
    if not isinstance(entries, list) or not entries:
        raise RulesError(f"{path.name}: no [[measure]] entries")
    measures = tuple(_measure(e, f"{path.name} measure {i + 1}") for i, e in enumerate(entries))
    ids = [m.id for m in measures]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RulesError(f"{path.name}: measure id(s) listed twice: {', '.join(dupes)}")
    for m in measures:
        for ref in (m.numerator, m.denominator):
            if ref is not None and ref not in ids:
                raise RulesError(f"{path.name}: {m.id} refers to unknown measure {ref}")
        if m.is_percentage and m.denominator is None:
            raise RulesError(f"{path.name}: percentage {m.id} needs a denominator")
    return Catalog(measures)


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


def _check(values: list[MeasureValue], family: str, cat: Catalog) -> None:
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


def compute_measures(
    source: Extract | Mapping[str, pl.DataFrame | pl.LazyFrame],
    month: Month,
    settings: ProviderSettings = ProviderSettings(),
    codes: Codes | None = None,
    snomed: SnomedRelease | None = None,
) -> MeasuresResult:
    """Every measure of measures.md for one provider and month.

    ``snomed``: the SNOMED CT release given with ``--snomed`` (recon.snomed), for the waits
    family's clock stops; None = not given (those measures are then not computed).

    Values come provider level first, in the order of measures.md, then the team and age-band
    breakdowns in the same measure order. ``details`` gathers the families' record-level frames
    (``mhs95_people``, ``mhs69_people``, the outcomes frames, ...).
    """
    codes = codes or load_codes()
    cat = catalog()
    frames: Mapping[str, pl.DataFrame | pl.LazyFrame]
    if isinstance(source, Extract):
        frames, found = source.tables, source.provider
    else:
        frames, found = source, _provider_from(source)
    provider = settings.ods or found or UNKNOWN_PROVIDER
    tables = restrict_to_provider(canonical_tables(frames), settings.ods)

    values: list[MeasureValue] = []
    details: dict[str, pl.DataFrame] = {}
    # Access and activity are lazy plans (long id/breakdown/level/value frames and lazy details)
    # collected together, so the scans they share run once; outcomes and completeness share one
    # preparation of the cohort and its assessments.
    planned = [
        ("access", *access.plan(tables, month, settings, codes)),
        ("activity", *activity.plan(tables, month, settings, codes)),
    ]
    outcome_frames = outcomes.prepare(tables, month, settings, codes)
    for name, from_frames in (("outcomes", outcomes.from_frames), ("completeness", completeness.from_frames)):
        family_values, family_details = from_frames(outcome_frames)
        _check(family_values, name, cat)
        values.extend(family_values)
        details.update(family_details)
    plans = [long_frame(v) for _, v, _ in planned]
    names = [n for _, _, d in planned for n in d]
    plans += [d[n] for _, _, d in planned for n in d]
    collected = pl.collect_all(plans)
    for i, (name, _, _) in enumerate(planned):
        family_values = count_values(collected[i])
        _check(family_values, name, cat)
        values.extend(family_values)
    details.update(zip(names, collected[len(planned):], strict=True))

    bands = age_band_labels(codes, codes.cyp_inclusive_max_age)
    ordered = tuple(sorted(values, key=lambda v: _sort_key(v, cat, bands)))
    gap = source.month_gap(month) if isinstance(source, Extract) else None
    return MeasuresResult(provider=provider, month=month, values=ordered, details=MappingProxyType(details),
                          notes=(gap,) if gap else ())


def run_measures(epr: Path, month: Month, *, mapping: str | None, settings: ProviderSettings,
                 snomed: SnomedRelease | None = None) -> MeasuresResult:
    """Load the extract at ``epr`` (through ``mapping`` when given) and compute every measure."""
    from recon.sources import load_extract

    return compute_measures(load_extract(epr, mapping=mapping), month, settings, snomed=snomed)
