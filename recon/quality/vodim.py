"""NHS England's VODIM per data item and recon's DQMI estimate (quality.md 3).

Counted on the rows of M's submission that the predicted SDCS outcome loads. Each category is
counted on its own, as in NHS England's menh_dq SQL (validity.sql), so a value can fall in
none (a blank care plan type). Blank counts as Missing only for the item and population of
the measure: the discharge date of an open referral is never missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.months import Month
from recon.quality.codelists import CATEGORIES, VodimMeasure, VodimRules, load_vodim_rules
from recon.quality.national import load_national_rules
from recon.quality.predict import SdcsPrediction
from recon.quality.values import day
from recon.quality.view import ROW, SubmissionView

VALUE = "__value"
_SINCE_2016 = dt.date(2016, 1, 1)


@dataclass(frozen=True)
class VodimCount:
    measure: str
    name: str
    table: str
    denominator: int
    valid: int
    other: int
    default: int
    invalid: int
    missing: int
    published: tuple[str, ...]
    threshold: float
    basis: str

    def score(self, threshold: float | None = None) -> float | None:
        """S_i = (valid + other + default - defaults in excess) / N x 100 (DQMI methodology, App. 1)."""
        if not self.denominator:
            return None
        t = self.threshold if threshold is None else threshold
        excess = max(0.0, self.default - t * self.denominator)
        return (self.valid + self.other + self.default - excess) / self.denominator * 100

    def to_json_dict(self) -> dict[str, Any]:
        s = self.score()
        return {
            "measure": self.measure, "name": self.name, "table": self.table, "denominator": self.denominator,
            "valid": self.valid, "other": self.other, "default": self.default, "invalid": self.invalid,
            "missing": self.missing, "published": list(self.published),
            "score": None if s is None else round(s, 1), "threshold": self.threshold, "basis": self.basis,
        }


@dataclass(frozen=True)
class DqmiEstimate:
    label: str
    value: float | None
    low: float | None
    high: float | None
    items: int
    target: float
    not_computed: tuple[str, ...]

    @property
    def meets_target(self) -> bool | None:
        return None if self.value is None else self.value >= self.target

    def to_json_dict(self) -> dict[str, Any]:
        return {"estimate": True, "label": self.label, "value": self.value, "low": self.low, "high": self.high,
                "items": self.items, "coverage": 1, "target": self.target,
                "not_computed": list(self.not_computed)}


@dataclass(frozen=True)
class VodimResult:
    month: Month
    measures: tuple[VodimCount, ...]
    dqmi: DqmiEstimate

    def to_json_dict(self) -> dict[str, Any]:
        return {"vodim": [m.to_json_dict() for m in self.measures], "dqmi": self.dqmi.to_json_dict()}


# ---------------------------------------------------------------- populations


def _without_rejected(view: SubmissionView, prediction: SdcsPrediction | None) -> SubmissionView:
    """The view as SDCS would load it: each table without its predicted rejected rows (once,
    not once per measure)."""
    if prediction is None:
        return view
    tables = {t: frame.filter(~pl.col(ROW).is_in(pl.Series(list(gone), dtype=pl.Int64).implode()))
              if (gone := prediction.rejected_rows.get(t, ())) else frame
              for t, frame in view.tables.items()}
    return dataclasses.replace(view, tables=MappingProxyType(tables))


def _loaded(view: SubmissionView, table: str) -> pl.LazyFrame | None:
    """A table of the view as SDCS loads it (``view`` is :func:`_without_rejected`'s)."""
    frame = view.frame(table)
    return None if frame is None else frame.lazy()


def _col(lf: pl.LazyFrame, item: str) -> pl.Expr:
    names = lf.collect_schema().names()
    return pl.col(item) if item in names else pl.lit(None, dtype=pl.String)


def _has(lf: pl.LazyFrame, *items: str) -> bool:
    names = lf.collect_schema().names()
    return all(i in names for i in items)


def _age(born: pl.Expr, on: pl.Expr | dt.date) -> pl.Expr:
    """Completed years from ``born`` to ``on``."""
    at = pl.lit(on) if isinstance(on, dt.date) else on
    def md(d: pl.Expr) -> pl.Expr:
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    return at.dt.year().cast(pl.Int32) - born.dt.year().cast(pl.Int32) - (md(at) < md(born)).cast(pl.Int32)


def _team_types(view: SubmissionView) -> pl.LazyFrame | None:
    """Team type of each loaded MHS101 and MHS102 row, except referrals with a loaded MHS501 row."""
    ref = _loaded(view, "MHS101Referral")
    if ref is None:
        return None
    teams = _loaded(view, "MHS902ServiceTeamDetails")
    lookup = (teams.filter(pl.col("CareProfTeamLocalID").is_not_null()).unique("CareProfTeamLocalID", keep="first")
              .select("CareProfTeamLocalID", pl.col("ServTeamTypeMH").alias("__team"))
              if teams is not None and _has(teams, "CareProfTeamLocalID", "ServTeamTypeMH") else None)

    def typed(lf: pl.LazyFrame, own: str, team_id: str) -> pl.LazyFrame:
        if _has(lf, own):
            return lf.select("ServiceRequestID", pl.col(own).alias(VALUE))
        if lookup is not None and _has(lf, team_id):
            return lf.join(lookup.rename({"CareProfTeamLocalID": team_id}), on=team_id, how="left").select(
                "ServiceRequestID", pl.col("__team").alias(VALUE))
        return lf.select("ServiceRequestID", pl.lit(None, dtype=pl.String).alias(VALUE))

    parts = [typed(ref, "ServTeamType", "CareProfTeamLocalID")]
    other = _loaded(view, "MHS102OtherServiceType")
    if other is not None and _has(other, "ServiceRequestID"):
        parts.append(typed(other, "ServTeamTypeRefToMH", "OtherCareProfTeamLocalID"))
    rows = pl.concat(parts)
    spells = _loaded(view, "MHS501HospProvSpell")
    if spells is not None and _has(spells, "ServiceRequestID"):
        rows = rows.join(spells.select("ServiceRequestID").unique(), on="ServiceRequestID", how="anti")
    return rows.select(VALUE)


def _population(m: VodimMeasure, view: SubmissionView) -> pl.LazyFrame | None:
    """The rows counted for a measure, with the judged value as ``__value`` (other columns kept)."""
    if m.kind == "team_type":
        return _team_types(view)
    if m.kind == "closure_reason":
        ref = _loaded(view, "MHS101Referral")
        if ref is None:
            return None
        parts = [ref.filter(_col(ref, "ServDischDate").is_not_null() & _col(ref, "ReferRejectionDate").is_null())
                 .select(_col(ref, m.item).alias(VALUE))]
        other = _loaded(view, "MHS102OtherServiceType")
        if other is not None:
            parts.append(other.filter(_col(other, "ReferClosureDate").is_not_null()
                                      & _col(other, "ReferRejectionDate").is_null())
                         .select(_col(other, m.item).alias(VALUE)))
        return pl.concat(parts)
    lf = _loaded(view, m.table)
    if lf is None:
        return None
    lf = lf.with_columns(_col(lf, m.item).alias(VALUE))
    pop = m.population
    if pop in ("not_rejected_02", "not_rejected_02_since_2016"):
        lf = lf.filter(_col(lf, "ReferRejectReason").fill_null("") != "02")
        if pop.endswith("2016"):
            lf = lf.filter(day("ReferralRequestReceivedDate") >= _SINCE_2016) if _has(
                lf, "ReferralRequestReceivedDate") else lf.filter(pl.lit(False))
    elif pop == "eating_disorder_under_19":
        people = _loaded(view, "MHS001MPI")
        if people is None or not _has(people, "LocalPatientID", "PersonBirthDate") or not _has(
                lf, "LocalPatientID", "ReferralRequestReceivedDate"):
            return lf.filter(pl.lit(False))
        born = people.filter(pl.col("LocalPatientID").is_not_null()).unique("LocalPatientID", keep="first").select(
            "LocalPatientID", day("PersonBirthDate").alias("__born"))
        lf = lf.join(born, on="LocalPatientID", how="left").filter(
            (_col(lf, "PrimReasonReferralMH") == "12")
            & (_age(pl.col("__born"), day("ReferralRequestReceivedDate")) < 19))
    elif pop == "discharged":
        lf = lf.filter(_col(lf, "DischDateHospProvSpell").is_not_null())
    return lf


def _categorised(lf: pl.LazyFrame, m: VodimMeasure, month: Month, pattern: str) -> pl.LazyFrame:
    """One row: the population's size and its valid, other, default, invalid and missing counts.

    The judged value is normalised (and a date parsed) once in its own step, then each category
    is a flag built on the one before: written as one nested expression per category, polars
    evaluated the trimming, the code lists and the date parsing again for every category."""
    v, d = pl.col("__v"), pl.col("__d")
    blank = v.is_null() | (v == "")
    present = ~blank
    no = pl.lit(False)
    steps: list[dict[str, pl.Expr]] = [{"__v": pl.col(VALUE).str.strip_chars().str.to_uppercase()}]
    if m.kind == "present":
        flags = {"valid": present, "other": no, "default": no, "invalid": no, "missing": blank}
    elif m.kind == "postcode":
        steps.append({"default": present & v.str.starts_with("ZZ99")})
        steps.append({"valid": present & ~pl.col("default") & v.str.contains(pattern)})
        flags = {"other": no, "invalid": present & ~pl.col("default") & ~pl.col("valid"), "missing": blank}
    elif m.kind == "birth_date":
        steps.append({"__d": _age(day(VALUE), month.end)})
        flags = {"valid": d <= 120, "other": no, "default": no, "invalid": d > 120, "missing": blank}
    elif m.kind in ("date_on_or_after_start", "date_on_or_before_start"):
        steps.append({"__d": day(VALUE), "__s": day("StartDateHospProvSpell")})
        ok = d >= pl.col("__s") if m.kind == "date_on_or_after_start" else d <= pl.col("__s")
        flags = {"valid": ok, "other": no, "default": no, "invalid": ~ok, "missing": blank}
    else:
        steps.append({"valid": present & m.is_valid(v)})
        steps.append({"other": present & ~pl.col("valid") & m.is_other(v)})
        steps.append({"default": present & ~pl.col("valid") & ~pl.col("other") & m.is_default(v)})
        flags = {"invalid": present & ~pl.col("valid") & ~pl.col("other") & ~pl.col("default"),
                 "missing": no if m.kind == "no_missing" else blank}
    for step in [*steps, flags]:
        lf = lf.with_columns(e.alias(k) for k, e in step.items())
    return lf.select(pl.len().alias("n"), *(pl.col(k).fill_null(False).sum().alias(k) for k in CATEGORIES))


def vodim(view: SubmissionView, prediction: SdcsPrediction | None, *, rules: VodimRules | None = None
          ) -> VodimResult:
    """Every VODIM measure recon computes, and the DQMI estimate over those with rows."""
    rules = rules or load_vodim_rules()
    pattern = load_national_rules().config.postcode_pattern
    loaded = _without_rejected(view, prediction)
    plans: list[tuple[VodimMeasure, pl.LazyFrame]] = []
    for m in rules.measures:
        lf = _population(m, loaded)
        if lf is None:
            continue
        if m.kind in ("date_on_or_after_start", "date_on_or_before_start") and not _has(lf, "StartDateHospProvSpell"):
            lf = lf.with_columns(pl.lit(None, dtype=pl.String).alias("StartDateHospProvSpell"))
        plans.append((m, _categorised(lf, m, view.month, pattern)))
    rows = pl.collect_all([lf for _, lf in plans])  # one pass: the measures share their tables
    counts: list[VodimCount] = []
    for (m, _), frame in zip(plans, rows, strict=True):
        row = frame.row(0, named=True)
        table = view.frame(m.table)
        absent = m.kind not in ("team_type",) and (table is None or m.item not in table.columns)
        basis = "column_absent" if absent else "postcode_format" if m.kind == "postcode" else "exact"
        counts.append(VodimCount(
            measure=m.id, name=m.name, table=m.table[:6], denominator=int(row["n"]),
            **{k: int(row[k] or 0) for k in CATEGORIES},
            published=m.published, threshold=rules.dqmi.thresholds.get(m.id, 0.0), basis=basis,
        ))
    return VodimResult(view.month, tuple(counts), dqmi_estimate(counts, rules))


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def dqmi_estimate(counts: list[VodimCount], rules: VodimRules) -> DqmiEstimate:
    """Mean item score over the items with data; low with every threshold 0, high with every 1."""
    chosen = set(rules.dqmi.items)
    items = [c for c in counts if c.denominator and (not chosen or c.measure in chosen)]
    scores: Mapping[str, list[float]] = {
        "value": [s for c in items if (s := c.score(rules.dqmi.thresholds.get(c.measure, 0.0))) is not None],
        "low": [s for c in items if (s := c.score(0.0)) is not None],
        "high": [s for c in items if (s := c.score(1.0)) is not None],
    }
    return DqmiEstimate(
        label=rules.dqmi.label, value=_mean(list(scores["value"])), low=_mean(list(scores["low"])),
        high=_mean(list(scores["high"])), items=len(items), target=rules.dqmi.target,
        not_computed=tuple(sorted(rules.dqmi.not_computed)),
    )
