"""Predicted SDCS outcome: which records national validation would reject, and why (quality.md 1).

Record rules run as one polars plan per table (one boolean column per rule); duplicate rules
flag every record sharing its key; parent rules ("No valid [parent] submitted for this [key]")
are a least fixed point over the rejected set, so a rejected referral takes its contacts, their
activities and their scores with it. The result says what SDCS would load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.months import Month
from recon.quality.codelists import VodimRules, load_vodim_rules
from recon.quality.logic import Check, Skip, checks_for, joined, supplied, tool_ranges
from recon.quality.national import (
    IDENTIFYING,
    JUDGED,
    TABLE_NAMES,
    NationalRule,
    NationalRules,
    Placeholder,
    load_national_rules,
)
from recon.quality.values import shown
from recon.quality.view import ROW, SubmissionView

Cause = str | dict[str, Any] | None
_LONG = {ROW: pl.Int64, "code": pl.String, "basis": pl.String}


@dataclass(frozen=True)
class SdcsFinding:
    """One record SDCS would report under one national code."""

    code: str
    level: str
    error_level: str
    table: str  # MHSnnn
    row: int
    keys: tuple[tuple[str, str | None], ...]
    message: str
    klass: str
    basis: str
    cause: Cause = None

    @property
    def rejects(self) -> bool:
        return self.error_level.endswith("rejected")

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.code, "level": self.level, "error_level": self.error_level, "table": self.table,
            "row": self.row, "keys": [list(k) for k in self.keys], "message": self.message,
            "class": self.klass, "basis": self.basis, "cause": self.cause,
        }


@dataclass(frozen=True)
class TableOutcome:
    table: str  # MHSnnn
    rows: int
    rejected: int
    rejected_by_cascade: int

    @property
    def loaded(self) -> int:
        return self.rows - self.rejected

    def to_json_dict(self) -> dict[str, Any]:
        return {"table": self.table, "rows": self.rows, "rejected": self.rejected,
                "rejected_by_cascade": self.rejected_by_cascade, "loaded": self.loaded}


@dataclass(frozen=True)
class NotEvaluated:
    code: str
    reason: str
    column: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rule_id": self.code, "reason": self.reason}
        if self.column is not None:
            d["column"] = self.column
        return d


@dataclass(frozen=True)
class SdcsPrediction:
    """What SDCS would report and load for M's submission, by recon's reading of the v6 rules."""

    rules_name: str
    month: Month
    findings: tuple[SdcsFinding, ...]
    tables: tuple[TableOutcome, ...]
    not_evaluated: tuple[NotEvaluated, ...]
    rejected_rows: Mapping[str, tuple[int, ...]] = field(repr=False, compare=False,
                                                          default_factory=lambda: MappingProxyType({}))

    @property
    def rejections(self) -> int:
        return sum(f.rejects for f in self.findings)

    @property
    def has_rejections(self) -> bool:
        return any(f.rejects for f in self.findings)

    def codes(self) -> frozenset[str]:
        return frozenset(f.code for f in self.findings)

    def by_code(self) -> list[dict[str, Any]]:
        """One entry per code: rejections first, then by count; the first two record keys."""
        counts: dict[str, list[SdcsFinding]] = {}
        for f in self.findings:
            counts.setdefault(f.code, []).append(f)
        out = []
        for code, fs in counts.items():
            first = fs[0]
            keys: list[tuple[tuple[str, str | None], ...]] = []
            for f in fs:
                shown_key = f.keys or ((f"row {f.row}", None),)
                if shown_key not in keys:
                    keys.append(shown_key)
                if len(keys) == 2:
                    break
            out.append({"rule_id": code, "table": first.table, "error_level": first.error_level,
                        "message": first.message, "count": len(fs), "records": len({f.row for f in fs}),
                        "basis": sorted({f.basis for f in fs}), "rejects": first.rejects, "first_keys": keys})
        return sorted(out, key=lambda d: (not d["rejects"], -d["count"], d["rule_id"]))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules_name,
            "findings": [f.to_json_dict() for f in self.findings],
            "tables": [t.to_json_dict() for t in self.tables],
            "not_evaluated": [n.to_json_dict() for n in self.not_evaluated],
        }


# ---------------------------------------------------------------- record-level rules


def _prepared(view: SubmissionView, table: str, checks: list[Check], rules: NationalRules) -> pl.LazyFrame:
    """The table with the columns its checks read from other tables (and tool ranges) joined on."""
    frame = view.tables[table]
    lf = frame.lazy()
    for other, item in sorted({j for c in checks for j in c.joins}):
        key = rules.config.joins[f"{table}.{other}"]
        parent = view.tables[other].lazy().filter(pl.col(key).is_not_null()).unique(key, keep="first")
        lf = lf.join(parent.select(key, pl.col(item).alias(joined(other, item))), on=key, how="left")
    if any(c.tools for c in checks):
        lf = lf.join(tool_ranges(), on="CodedAssToolType", how="left")
    return lf


def _record_failures(view: SubmissionView, table: str, checks: list[Check], rules: NationalRules
                     ) -> pl.DataFrame:
    """(row, code, basis) of every failing check: one pass over the table."""
    if not checks:
        return pl.DataFrame(schema=_LONG)
    names = [f"{c.rule.code}\x1f{c.basis}\x1f{i}" for i, c in enumerate(checks)]
    wide = _prepared(view, table, checks, rules).select(
        ROW, *(c.fires.fill_null(False).alias(n) for c, n in zip(checks, names, strict=True)))
    long = wide.unpivot(index=ROW, variable_name="__check", value_name="__fires").filter(pl.col("__fires"))
    parts = pl.col("__check").str.split("\x1f")
    return long.select(ROW, parts.list.get(0).alias("code"), parts.list.get(1).alias("basis")).collect()


def _duplicates(view: SubmissionView, rule: NationalRule) -> pl.DataFrame | Skip:
    keys = rule.duplicate_keys or ()
    frame = view.tables[rule.table]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        return Skip(rule.code, "column_absent", missing[0])
    present = pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    shared = present & (pl.len().over(list(keys)) > 1)
    return frame.lazy().filter(shared).select(ROW, pl.lit(rule.code).alias("code"),
                                              pl.lit("exact").alias("basis")).collect()


# ---------------------------------------------------------------- parent rules and the cascade


@dataclass(frozen=True)
class _Parent:
    rule: NationalRule
    parent: str
    key: str


def _parents(view: SubmissionView, rules: NationalRules) -> tuple[list[_Parent], list[Skip]]:
    out: list[_Parent] = []
    skips: list[Skip] = []
    for rule in rules.rules:
        if rule.parent is None or rule.table not in view.tables or (rule.reason and not supplied(rule, view)):
            continue
        parent, key = rule.parent
        if parent not in view.tables:
            skips.append(Skip(rule.code, "table_absent", None))
        elif not view.has(rule.table, key) or not view.has(parent, key):
            skips.append(Skip(rule.code, "column_absent", key))
        else:
            out.append(_Parent(rule, parent, key))
    return out, skips


def _orphans(view: SubmissionView, p: _Parent, rejected: Mapping[str, pl.Series]) -> pl.DataFrame:
    """Child rows with no parent outside the rejected set: (row, cause key)."""
    parent = view.tables[p.parent].select(ROW, p.key)
    gone = rejected.get(p.parent)
    valid = parent.filter(~pl.col(ROW).is_in(gone.implode())) if gone is not None else parent
    child = view.tables[p.rule.table].select(ROW, p.key)
    return child.join(valid.select(p.key).drop_nulls().unique(), on=p.key, how="anti")


def _cascade(view: SubmissionView, parents: list[_Parent], direct: Mapping[str, pl.Series]
             ) -> dict[str, pl.Series]:
    """Least fixed point: a child whose every parent is rejected (or absent) is rejected."""
    rejected = {t: s.unique() for t, s in direct.items()}
    changed = True
    while changed:
        changed = False
        for p in parents:
            if not p.rule.rejects:
                continue
            rows = _orphans(view, p, rejected).get_column(ROW)
            before = rejected.get(p.rule.table, pl.Series(ROW, [], dtype=pl.Int64))
            merged = pl.concat([before, rows]).unique()
            if merged.len() != before.len():
                rejected[p.rule.table] = merged
                changed = True
    return rejected


# ---------------------------------------------------------------- findings


def _key_exprs(rule: NationalRule, view: SubmissionView, columns: list[str]) -> list[pl.Expr]:
    """The value of each placeholder, in order: header values, own items, joined items."""
    out: list[pl.Expr] = []
    header = {
        "ReportingPeriodStartDate": view.month.start.isoformat(),
        "ReportingPeriodEndDate": view.month.end.isoformat(),
        "OrgIDProvider": view.header.provider,
        "DateTimeDatSetCreate": view.header.create_or_run.isoformat(),
    }
    for i, p in enumerate(rule.placeholders):
        name = f"__k{i}"
        other = TABLE_NAMES.get(p.table, p.table)
        if p.table == "MHS000":
            out.append(pl.lit(header.get(p.item), dtype=pl.String).alias(name))
        elif other == rule.table or (p.item in columns and joined(other, p.item) not in columns):
            out.append(_shown(p, p.item, columns).alias(name))
        else:
            out.append(_shown(p, joined(other, p.item), columns).alias(name))
    return out


def _shown(p: Placeholder, column: str, columns: list[str]) -> pl.Expr:
    if column not in columns:
        return pl.lit(None, dtype=pl.String)
    return shown(column, identifying=p.item in IDENTIFYING).cast(pl.String)


def _findings(view: SubmissionView, table: str, fails: pl.DataFrame, rules: NationalRules,
              causes: Mapping[tuple[str, int], Any]) -> list[SdcsFinding]:
    if not fails.height:
        return []
    by_code = rules.by_code
    joins = {(o, i) for code in fails.get_column("code").unique() for o, i in _joins_of(by_code[code], table, rules)}
    lf = view.tables[table].lazy()
    for other, item in sorted(joins):
        key = rules.config.joins[f"{table}.{other}"]
        parent = view.tables[other].lazy().filter(pl.col(key).is_not_null()).unique(key, keep="first")
        lf = lf.join(parent.select(key, pl.col(item).alias(joined(other, item))), on=key, how="left")
    base = lf.join(fails.lazy(), on=ROW, how="inner").collect()
    columns = list(base.columns)
    out: list[SdcsFinding] = []
    for (code,), group in base.group_by("code", maintain_order=True):
        rule = by_code[str(code)]
        keys = _key_exprs(rule, view, columns)
        picked = group.select(ROW, "basis", *keys) if keys else group.select(ROW, "basis")
        labels = [p.label for p in rule.placeholders]
        for row in picked.iter_rows():
            values = row[2:]
            out.append(SdcsFinding(
                code=rule.code, level=rule.level, error_level=rule.error_level, table=rule.short_table,
                row=int(row[0]), keys=tuple(zip(labels, values, strict=True)), message=rule.message,
                klass="A" if rule.reason == "table_absent" else rule.klass.value, basis=str(row[1]), cause=causes.get((rule.code, int(row[0]))),
            ))
    return out


def _joins_of(rule: NationalRule, table: str, rules: NationalRules) -> list[tuple[str, str]]:
    out = []
    for p in rule.placeholders:
        other = TABLE_NAMES.get(p.table, p.table)
        if other != table and f"{table}.{other}" in rules.config.joins:
            out.append((other, p.item))
    return out


def predict(view: SubmissionView, *, rules: NationalRules | None = None, codes: VodimRules | None = None
            ) -> SdcsPrediction:
    """Evaluate every rule the view can decide; list the others with the reason."""
    rules = rules or load_national_rules()
    codes = codes or load_vodim_rules()
    skips: list[Skip] = []
    fails: dict[str, list[pl.DataFrame]] = {t: [] for t in view.tables}
    for table in JUDGED:
        table_rules = rules.of_table(table)
        if table not in view.tables:
            skips += [Skip(r.code, r.reason or "table_absent") for r in table_rules]
            continue
        checks: list[Check] = []
        for rule in table_rules:
            got = checks_for(rule, view, rules, codes)
            if isinstance(got, Skip):
                skips.append(got)
            elif got is not None:
                checks += got
            elif rule.duplicate_keys:
                dup = _duplicates(view, rule)
                if isinstance(dup, Skip):
                    skips.append(dup)
                else:
                    fails[table].append(dup)
        fails[table].append(_record_failures(view, table, checks, rules))
    long = {t: pl.concat(parts) if parts else pl.DataFrame(schema=_LONG) for t, parts in fails.items()}
    by_code = rules.by_code
    rejecting = [c for c, r in by_code.items() if r.rejects]
    direct = {t: f.filter(pl.col("code").is_in(rejecting)).get_column(ROW) for t, f in long.items()}
    parents, parent_skips = _parents(view, rules)
    skips += parent_skips
    rejected = _cascade(view, parents, direct)

    causes: dict[tuple[str, int], Any] = {}
    for p in parents:
        orphans = _orphans(view, p, rejected)
        if not orphans.height:
            continue
        withcause = orphans.join(_parent_codes(view, p, parents, rejected, long, rejecting), on=p.key, how="left")
        for row, codes_ in withcause.select(ROW, "__codes").iter_rows():
            causes[(p.rule.code, int(row))] = ({"table": p.parent[:6], "codes": list(codes_)} if codes_
                                                else "absent")
        long[p.rule.table] = pl.concat([long[p.rule.table], orphans.select(
            ROW, pl.lit(p.rule.code).alias("code"), pl.lit("exact").alias("basis"))])

    findings: list[SdcsFinding] = []
    for table in JUDGED:
        if table in view.tables:
            findings += _findings(view, table, long[table].unique(maintain_order=True), rules, causes)
    findings.sort(key=lambda f: (f.table, f.row, f.code, f.basis))
    outcomes = []
    for table in JUDGED:
        if table not in view.tables:
            continue
        gone = rejected.get(table, pl.Series(ROW, [], dtype=pl.Int64)).unique()
        own = direct.get(table, pl.Series(ROW, [], dtype=pl.Int64)).unique()
        outcomes.append(TableOutcome(table[:6], view.rows(table), gone.len(),
                                     gone.filter(~gone.is_in(own.implode())).len()))
    unique_skips = sorted({(s.code, s.reason, s.column) for s in skips})
    return SdcsPrediction(
        rules_name=rules.config.rules_name, month=view.month, findings=tuple(findings), tables=tuple(outcomes),
        not_evaluated=tuple(NotEvaluated(c, r, col) for c, r, col in unique_skips),
        rejected_rows=MappingProxyType({t: tuple(sorted(s.to_list())) for t, s in rejected.items()}),
    )


def _parent_codes(view: SubmissionView, p: _Parent, parents: list[_Parent], rejected: Mapping[str, pl.Series],
                  long: Mapping[str, pl.DataFrame], rejecting: list[str]) -> pl.DataFrame:
    """Per key: the rejecting codes of its parent records (their record rules and their own parent
    rules). A key without any parent record has none (cause "absent")."""
    parent = view.tables[p.parent].select(ROW, p.key).filter(pl.col(p.key).is_not_null())
    parts = [long[p.parent].filter(pl.col("code").is_in(rejecting)).join(parent, on=ROW).select(p.key, "code")]
    for q in parents:
        if q.rule.table == p.parent and q.rule.rejects:
            rows = _orphans(view, q, rejected).get_column(ROW)
            parts.append(parent.filter(pl.col(ROW).is_in(rows.implode())).select(
                p.key, pl.lit(q.rule.code).alias("code")))
    return pl.concat(parts).group_by(p.key).agg(pl.col("code").unique().sort().alias("__codes"))
