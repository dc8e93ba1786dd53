"""One polars expression per national rule: does this row fire it? (quality.md 1.3-1.4).

A rule's logic is read from its national message; the few rules whose message does not say
enough (MHS00117-MHS00119, MHS00153, MHS00171) are written out here. A rule that cannot be
evaluated on this view gives a reason instead (``column_absent`` with the column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from recon.codes import assessment_tools
from recon.nhs_number import valid_expr
from recon.quality.codelists import VodimRules
from recon.quality.national import TABLE_NAMES, NationalRule, NationalRules, RuleClass
from recon.quality.values import clock, day, is_time_item, unreadable
from recon.quality.view import SubmissionView

_COMPARE = re.compile(
    r"- \[M\d{6}\](\w+) is (before|after) the (?:associated )?\[(M\d{6})\](\w+)( plus 24 hours)?\.")
_BLANK_BUT = re.compile(r"- \[M\d{6}\](\w+) is blank,? but \[(M\d{6})\](\w+) is populated\.")
_NUMBER = r"^-?\d+(\.\d+)?$"
TOOL_MIN, TOOL_MAX = "__tool_min", "__tool_max"


@dataclass(frozen=True)
class Check:
    """A rule's test on one table: ``fires`` is true for rows SDCS would report, on ``basis``."""

    rule: NationalRule
    fires: pl.Expr
    basis: str
    joins: tuple[tuple[str, str], ...] = ()  # (other table, item) read through the join key
    tools: bool = False  # needs the assessment tool ranges joined


@dataclass(frozen=True)
class Skip:
    code: str
    reason: str
    column: str | None = None


def supplied(rule: NationalRule, view: SubmissionView) -> bool:
    """A ``table_absent`` rule becomes class A when its parent table's file is supplied."""
    return rule.reason == "table_absent" and rule.parent is not None and rule.parent[0] in view.tables


def joined(table: str, item: str) -> str:
    return f"{table}.{item}"


def _need(view: SubmissionView, rule: NationalRule, *items: str) -> Skip | None:
    for item in items:
        if not view.has(rule.table, item):
            return Skip(rule.code, "column_absent", item)
    return None


def checks_for(rule: NationalRule, view: SubmissionView, rules: NationalRules, codes: VodimRules
               ) -> list[Check] | Skip | None:
    """The checks of one record-level rule, a Skip, or None for group rules (evaluated elsewhere)."""
    if rule.klass is RuleClass.NOT_DECIDABLE and not supplied(rule, view):
        return Skip(rule.code, rule.reason or "not_decidable")
    if rule.level != "Record":
        return None
    key_item = rules.config.key_required.get(rule.table)
    if key_item and any(p.item == key_item for p in rule.placeholders) and not view.has(rule.table, key_item):
        return Skip(rule.code, "column_absent", key_item)
    item = rule.item
    col = pl.col(item)
    if rule.vtype == "Blank":
        return _need(view, rule, item) or [Check(rule, col.is_null(), "exact")]
    if rule.basis == "code_shape":
        measure = codes.by_id[rules.config.code_list_items[f"{rule.table}.{item}"]]
        shape = col.str.contains(r"[^A-Z0-9]") | (col.str.len_chars() > measure.longest_code)
        return _need(view, rule, item) or [Check(rule, col.is_not_null() & shape, "code_shape")]
    if rule.basis == "menh_dq_codes":
        measure = codes.by_id[rules.config.code_list_items[f"{rule.table}.{item}"]]
        return _need(view, rule, item) or [
            Check(rule, col.is_not_null() & ~measure.in_list(col.str.to_uppercase()), "menh_dq_codes")]
    if rule.basis == "integer":
        return _need(view, rule, item) or [Check(rule, col.is_not_null() & ~col.str.contains(r"^\d+$"), "integer")]
    if rule.basis == "postcode_format":
        ok = col.str.to_uppercase().str.contains(rules.config.postcode_pattern)
        return _need(view, rule, item) or [Check(rule, col.is_not_null() & ~ok, "postcode_format")]
    if rule.basis == "tool_range":
        score = col.cast(pl.Float64, strict=False)
        bad = col.is_not_null() & pl.col(TOOL_MIN).is_not_null() & (
            ~col.str.contains(_NUMBER) | ~score.is_between(pl.col(TOOL_MIN), pl.col(TOOL_MAX)))
        return _need(view, rule, item, "CodedAssToolType") or [Check(rule, bad, "tool_range", tools=True)]
    if rule.vtype == "Format":
        if item == "NHSNumber":
            digits = col.str.replace_all(" ", "")
            shape = col.is_not_null() & ~digits.str.contains(r"^\d{10}$")
            check = col.is_not_null() & ~shape & ~valid_expr(digits)
            return _need(view, rule, item) or [Check(rule, shape, "exact"), Check(rule, check, "check_digit")]
        return _need(view, rule, item) or [Check(rule, unreadable(item), "exact")]
    return _additional(rule, view, rules)


def _value(view: SubmissionView, rule: NationalRule, uid: str, item: str, rules: NationalRules
           ) -> tuple[pl.Expr, tuple[tuple[str, str], ...]] | Skip:
    """A date to compare with: a header value, an item of the rule's table, or a joined item."""
    month = view.month
    if item == "ReportingPeriodStartDate":
        return pl.lit(month.start), ()
    if item == "ReportingPeriodEndDate":
        return pl.lit(month.end), ()
    if item == "DateTimeDatSetCreate":
        return pl.lit(view.header.create_or_run), ()
    other = TABLE_NAMES.get("MHS" + uid[1:4], "")
    if other == rule.table:
        skip = _need(view, rule, item)
        return skip if skip else ((clock(item) if is_time_item(item) else day(item)), ())
    key = rules.config.joins.get(f"{rule.table}.{other}")
    if key is None or not view.has(other, item) or not view.has(other, key):
        return Skip(rule.code, "column_absent", item)
    skip = _need(view, rule, key)
    return skip if skip else (day(joined(other, item)), ((other, item),))


def _additional(rule: NationalRule, view: SubmissionView, rules: NationalRules) -> list[Check] | Skip:
    code, item = rule.code, rule.item
    basis = rule.basis or "exact"
    if code == "MHS00171":
        born = day(item)
        start = view.month.start
        years = (start.year - born.dt.year().cast(pl.Int32)) - (
            (pl.lit(start.month * 100 + start.day) < born.dt.month().cast(pl.Int32) * 100 + born.dt.day()).cast(pl.Int32))
        return _need(view, rule, item) or [Check(rule, (years < 0) | (years > 130), basis)]
    if code in ("MHS00117", "MHS00118", "MHS00119"):
        status, number = pl.col("NHSNumberStatus"), pl.col("NHSNumber")
        fires = {
            "MHS00117": (status == "07") & number.is_not_null(),
            "MHS00118": status.is_null() & number.is_null(),
            "MHS00119": number.is_null() & status.is_not_null() & (status != "07"),
        }[code]
        return _need(view, rule, "NHSNumberStatus", "NHSNumber") or [Check(rule, fires, basis)]
    if code == "MHS00153":
        provider = view.header.provider
        if provider is None:
            return Skip(code, "provider_unknown")
        return _need(view, rule, item) or [Check(rule, pl.col(item).is_not_null() & (pl.col(item) != provider),
                                                 basis)]
    if m := _BLANK_BUT.search(rule.text):
        blank, other = m.group(1), m.group(3)
        return _need(view, rule, blank, other) or [
            Check(rule, pl.col(blank).is_null() & pl.col(other).is_not_null(), basis)]
    if m := _COMPARE.search(rule.text):
        subject, op, uid, target, plus_day = m.groups()
        skip = _need(view, rule, subject)
        if skip:
            return skip
        got = _value(view, rule, uid, target, rules)
        if isinstance(got, Skip):
            return got
        other, joins = got
        if plus_day:
            other = other + pl.duration(days=1)
        if target == "DateTimeDatSetCreate":
            basis = "exact" if view.header.create_date is not None else "assumed_create_date"
        mine = day(subject)
        fires = (mine < other) if op == "before" else (mine > other)
        return [Check(rule, fires.fill_null(False), basis, joins)]
    return Skip(code, "not_decidable")


def tool_ranges() -> pl.LazyFrame:
    """CodedAssToolType -> min and max score, for MHS60607 and MHS60707."""
    return assessment_tools().lazy().select(
        pl.col("snomed_code").alias("CodedAssToolType"),
        pl.col("min_score").alias(TOOL_MIN), pl.col("max_score").alias(TOOL_MAX),
    ).unique("CodedAssToolType", keep="first")
