"""Tie record differences to the measures they move.

For every provider-level measure whose local value differs from the value computed on the
pre-deadline extract, find the units counted differently and the record differences that belong
to them. How is the measure's family's business (:mod:`recon.register`):

- a family with a ``unit`` (people, referrals): the units of the measure's detail frame (the
  catalogue's ``detail``, else the family's) counted on one side only or whose row differs
  (e.g. the people of ``details["mhs95_people"]`` for MHS95, the referrals of
  ``details["outcomes_referrals"]`` for MHS110-MHS115 and the completeness measures);
- a family with ``record_rules`` (activity): records of the rule's table whose dates put them in
  the measure (e.g. a care contact dated in M for MHS29), from either source.

A record difference belongs to a person through its ``LocalPatientId`` and to a referral through
its ``ServiceRequestId`` (:class:`recon.reconcile.records.RecordComparison` ``links``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import polars as pl

from recon.codes import load_codes
from recon.measures.catalog import catalog
from recon.measures.family import Family, RecordRule, RecordUnit
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.reconcile.model import RecordDifference
from recon.reconcile.records import RecordComparison
from recon.register import FAMILIES
from recon.tables import MPI, REFERRAL, TABLES, key_expr


@dataclass(frozen=True)
class MeasureExplanation:
    measure_id: str
    local: float | int | None
    extract: float | int | None
    only_local: int  # units counted from the local extract only
    only_extract: int  # units counted from the pre-deadline extract only
    changed: int  # units on both sides whose detail row differs
    exception_ids: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Explained:
    records: tuple[RecordDifference, ...]  # with ``measures`` filled
    measures: Mapping[str, MeasureExplanation]


def _differing(local: MeasuresResult, extract: MeasuresResult) -> list[str]:
    out = []
    for v in local.provider_level:
        e = extract.get(v.id)
        if e is None or e.value != v.value or e.numerator != v.numerator or e.denominator != v.denominator:
            out.append(v.id)
    return out


def _unit_diff(a: pl.DataFrame | None, b: pl.DataFrame | None, unit: str) -> tuple[pl.DataFrame, int, int, int]:
    """Units (values of ``unit``) whose detail rows differ; counts of local-only, extract-only, changed."""
    if a is None or b is None or unit not in a.columns or unit not in b.columns:
        return pl.DataFrame(schema={unit: pl.String}), 0, 0, 0
    common = [c for c in a.columns if c in b.columns]
    a1 = a.select(common).with_columns(pl.col(unit).cast(pl.String))
    b1 = b.select(common).with_columns(pl.col(unit).cast(pl.String))
    only_a = a1.join(b1.select(unit), on=unit, how="anti").select(unit).unique()
    only_b = b1.join(a1.select(unit), on=unit, how="anti").select(unit).unique()
    # rows present on both sides but not identical (anti join on every column, nulls equal)
    changed = (
        a1.join(b1, on=common, how="anti", nulls_equal=True).select(unit).unique()
        .join(only_a, on=unit, how="anti")
    )
    units = pl.concat([only_a, only_b, changed]).unique()
    return units, only_a.height, only_b.height, changed.height


def _frame(tables: Mapping[str, pl.DataFrame], tid: str) -> pl.LazyFrame:
    f = tables.get(tid)
    return (TABLES[tid].empty() if f is None else f).lazy()


def _keys(tables: list[Mapping[str, pl.DataFrame]], tid: str, pred: pl.Expr) -> pl.LazyFrame:
    t = TABLES[tid]
    return pl.concat([_frame(s, tid).filter(pred.fill_null(False)).select(key_expr(t).alias("key")) for s in tables]) \
        .unique().with_columns(pl.lit(tid).alias("table"))


def _rule_ids(rules: Sequence[RecordRule], sources: list[Mapping[str, pl.DataFrame]],
              records: RecordComparison) -> list[str]:
    """Exception ids of the record differences that ``rules`` say can move a measure."""
    fields = {d.exception_id: {f.column for f in d.fields} for d in records.differences}
    # distinct counts ignore duplicates; a barren referral's own row is the same on both sides
    links = _movable(records.links).filter(~pl.col("class").is_in(["duplicate_key", "barren"]))
    ids: list[str] = []
    for rule in rules:
        tid, pred, columns = rule.table, rule.where, rule.columns
        if tid == MPI.id:  # people whose referral the measure looks at
            people = pl.concat([_frame(src, REFERRAL.id).filter(pred.fill_null(False)).select(
                pl.col("LocalPatientId").alias("key")) for src in sources]).unique().collect()
            keys = people.with_columns(pl.lit(tid).alias("table"))
        else:
            keys = _keys(sources, tid, pred).collect()
        hit = links.join(keys, on=["table", "key"], how="semi")
        for eid, cls in hit.select("exception_id", "class").iter_rows():
            if cls == "field_differs" and columns is not None and not fields.get(eid, set()) & set(columns):
                continue
            if eid not in ids:
                ids.append(eid)
    return ids


def _movable(links: pl.DataFrame) -> pl.DataFrame:
    """Differences that can make the two sources' figures differ: a duplicate, orphan or barren
    record found identically in both sources cannot."""
    structural = ["duplicate_key", "orphan", "barren"]
    return links.filter(~(pl.col("class").is_in(structural) & (pl.col("side") == "both")))


def explain_records(
    local: MeasuresResult,
    extract: MeasuresResult,
    records: RecordComparison,
    *,
    month: Month,
    local_tables: Mapping[str, pl.DataFrame],
    extract_tables: Mapping[str, pl.DataFrame],
) -> Explained:
    """Fill ``RecordDifference.measures`` and say, per differing measure, which records explain it."""
    links = _movable(records.links)
    by_measure: dict[str, set[str]] = {}
    explanations: dict[str, MeasureExplanation] = {}
    sources = [local_tables, extract_tables]
    referral_person = pl.concat([
        _frame(s, "MHS101Referral").select("ServiceRequestId", "LocalPatientId") for s in sources
    ]).unique("ServiceRequestId", keep="first").collect()

    def ids_for_people(people: pl.DataFrame) -> list[str]:
        return links.join(people.select(pl.col(people.columns[0]).alias("LocalPatientId")),
                          on="LocalPatientId", how="semi").get_column("exception_id").to_list()

    def ids_for_referrals(refs: pl.DataFrame) -> list[str]:
        refs = refs.select(pl.col(refs.columns[0]).alias("ServiceRequestId"))
        people = refs.join(referral_person, on="ServiceRequestId", how="inner").select("LocalPatientId")
        by_ref = links.join(refs, on="ServiceRequestId", how="semi")
        # a person-level difference (MPI: age, sex) moves every referral of the person
        by_person = links.filter(pl.col("table") == "MHS001MPI").join(people, on="LocalPatientId", how="semi")
        return pl.concat([by_ref, by_person]).get_column("exception_id").unique(maintain_order=True).to_list()

    cat = catalog()
    families = {f.name: f for f in FAMILIES}
    rule_sets: dict[str, Mapping[str, Sequence[RecordRule]]] = {}

    def rules_of(f: Family) -> Mapping[str, Sequence[RecordRule]]:
        if f.name not in rule_sets:
            rule_sets[f.name] = f.record_rules(month, load_codes()) if f.record_rules is not None else {}
        return rule_sets[f.name]

    for mid in _differing(local, extract):
        lv, ev = local.get(mid), extract.get(mid)
        a_only = b_only = changed = 0
        ids: list[str] = []
        unit_word = "records"
        measure = cat.find(mid)
        family = families.get(measure.family) if measure is not None else None
        detail = (measure.detail if measure is not None else None) or (family.detail if family else None)
        if family is not None and family.unit is not None and detail is not None and detail in local.details:
            units, a_only, b_only, changed = _unit_diff(local.details.get(detail), extract.details.get(detail),
                                                        family.unit.column)
            ids = ids_for_people(units) if family.unit is RecordUnit.PEOPLE else ids_for_referrals(units)
            unit_word = family.unit.word
        elif family is not None:
            ids = _rule_ids(rules_of(family).get(mid, ()), sources, records)
        for i in ids:
            by_measure.setdefault(i, set()).add(mid)
        lval = None if lv is None else lv.value
        evalue = None if ev is None else ev.value
        parts = []
        if a_only or b_only or changed:
            bits = []
            if a_only:
                bits.append(f"{a_only} counted from the local extract only")
            if b_only:
                bits.append(f"{b_only} from the pre-deadline extract only")
            if changed:
                bits.append(f"{changed} counted differently")
            parts.append(f"{unit_word}: " + ", ".join(bits))
        if ids:
            parts.append(f"explained by {len(ids)} record difference{'s' if len(ids) != 1 else ''}")
        else:
            parts.append("no record difference found for it")
        explanations[mid] = MeasureExplanation(
            mid, lval, evalue, a_only, b_only, changed, tuple(ids), "; ".join(parts)
        )
    filled = tuple(
        replace(d, measures=tuple(sorted(by_measure[d.exception_id]))) if d.exception_id in by_measure else d
        for d in records.differences
    )
    return Explained(filled, explanations)


__all__ = ["Explained", "MeasureExplanation", "explain_records"]
