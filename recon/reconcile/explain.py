"""Tie record differences to the measures they move.

For every provider-level measure whose local value differs from the value computed on the
pre-deadline extract, find the units (people or referrals) counted differently and the record
differences that belong to them:

- MHS95 / MHS69: the people of ``details["mhs95_people"]`` / ``["mhs69_people"]`` counted on one
  side only (or counted through a different referral);
- MHS110-MHS115 and the RECON_ completeness measures: the referrals of
  ``details["outcomes_referrals"]`` whose row differs (cohort membership, flags, reasons);
- the one-month activity measures: records of the measure's table whose dates put them in
  the measure (e.g. a care contact dated in M for MHS29), from either source.

A record difference belongs to a person through its ``LocalPatientId`` and to a referral through
its ``ServiceRequestId`` (:class:`recon.reconcile.records.RecordComparison` ``links``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import polars as pl

from recon.codes import load_codes
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.reconcile.model import RecordDifference
from recon.reconcile.records import RecordComparison
from recon.tables import TABLES, key_expr

OUTCOME_PREFIXES = ("MHS110", "MHS111", "MHS112", "MHS113", "MHS114", "MHS115", "RECON_")

#: detail frame -> (unit column, measures it explains)
PEOPLE_DETAILS: dict[str, tuple[str, ...]] = {"mhs95_people": ("MHS95",), "mhs69_people": ("MHS69",)}


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


#: one-month activity measures: (table, which records, which items can move it; None = any)
def _activity_rules(month: Month) -> dict[str, list[tuple[str, pl.Expr, tuple[str, ...] | None]]]:
    codes = load_codes()
    s, e = month.start, month.end
    rec, con, mpi = "MHS101Referral", "MHS201CareContact", "MHS001MPI"
    received = pl.col("ReferralRequestReceivedDate").is_between(s, e)
    discharged = pl.col("ServDischDate").is_between(s, e)
    open_end = (pl.col("ReferralRequestReceivedDate") <= e) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") > e))
    open_during = (pl.col("ReferralRequestReceivedDate") <= e) & (
        pl.col("ServDischDate").is_null() | (pl.col("ServDischDate") >= s))
    in_m = pl.col("CareContDate").is_between(s, e)
    dates = ("ReferralRequestReceivedDate", "ServDischDate")
    birth = ("PersonBirthDate",)
    return {
        "MHS29": [(con, in_m, ("CareContDate",))],
        "MHS30": [(con, in_m & pl.col("AttendStatus").is_in(list(codes.attended)), ("CareContDate", "AttendStatus"))],
        "MHS58": [(con, in_m & pl.col("AttendStatus").is_in(list(codes.missed)), ("CareContDate", "AttendStatus"))],
        "MHS32": [(rec, received, ("ReferralRequestReceivedDate",))],
        "MHS32a": [(rec, received, ("ReferralRequestReceivedDate",)), (mpi, received, birth)],
        "MHS57a": [(rec, discharged, (*dates, "LocalPatientId")), (mpi, discharged, birth)],
        "MHS01": [(rec, open_end, (*dates, "LocalPatientId"))],
        "MHS23": [(rec, open_end, dates)],
        "MHS61a": [(rec, open_during, dates), (mpi, open_during, birth),
                   (con, pl.col("CareContDate") <= e, ("CareContDate", "AttendStatus", "ServiceRequestId"))],
    }


def _activity_ids(mid: str, month: Month, sources: list[Mapping[str, pl.DataFrame]],
                  records: RecordComparison) -> list[str] | None:
    """Exception ids of the record differences that can move a one-month activity measure."""
    rules = _activity_rules(month).get(mid)
    if rules is None:
        return None
    fields = {d.exception_id: {f.column for f in d.fields} for d in records.differences}
    # distinct counts ignore duplicates; a barren referral's own row is the same on both sides
    links = _movable(records.links).filter(~pl.col("class").is_in(["duplicate_key", "barren"]))
    ids: list[str] = []
    for tid, pred, columns in rules:
        if tid == "MHS001MPI":  # people whose referral the measure looks at
            people = pl.concat([_frame(src, "MHS101Referral").filter(pred.fill_null(False)).select(
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

    for mid in _differing(local, extract):
        lv, ev = local.get(mid), extract.get(mid)
        a_only = b_only = changed = 0
        ids: list[str] = []
        unit_word = "records"
        detail = next((d for d, ms in PEOPLE_DETAILS.items() if mid in ms), None)
        if detail is not None and detail in local.details:
            units, a_only, b_only, changed = _unit_diff(local.details.get(detail), extract.details.get(detail),
                                                        "LocalPatientId")
            ids = ids_for_people(units)
            unit_word = "people"
        elif mid.startswith(OUTCOME_PREFIXES) and "outcomes_referrals" in local.details:
            units, a_only, b_only, changed = _unit_diff(local.details.get("outcomes_referrals"),
                                                        extract.details.get("outcomes_referrals"), "ServiceRequestId")
            ids = ids_for_referrals(units)
            unit_word = "referrals"
        else:
            ids = _activity_ids(mid, month, sources, records) or []
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
