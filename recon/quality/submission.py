"""``recon submission``: what SDCS did with M's upload, tied back to the local records (quality.md 2.4-2.5).

Rows received per table against the local extract, rejections and warnings by code with their
distinct records, each record key matched to local rows, and the change since the previous
month's report. Codes are matched on CODE, never on DESCRIPTION (its wording changed with each
dataset version). Identifying values never leave this module unmasked.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from recon.config import ProviderSettings
from recon.errors import InputError, UsageError
from recon.months import Month
from recon.quality.national import IDENTIFYING, TABLE_NAMES, load_national_rules
from recon.quality.predict import SdcsPrediction, predict
from recon.quality.reports import Chosen, SummaryReport, choose_reports, read_report
from recon.quality.values import MASKED, clock, day, is_date_item, is_time_item
from recon.quality.view import SubmissionView, submission_view
from recon.rules_files import rules_file
from recon.sources import load_extract

FAMILIES = (("MHSARVnnn", r"^MHSARV\d{3}$"), ("MHSDAGnnn", r"^MHSDAG\d{3}$"), ("MHSnnnnn", r"^MHS\d{5}$"),
            ("MHSREJnnn", r"^MHSREJ\d{3}$"))
LEVELS = ("file_rejected", "record_rejected", "group_rejected", "severity_1", "warning")
_V6 = re.compile(r"^\[(M\d{6})\](\w+)$")
_V5 = re.compile(r"^(M\d{6}) (.+)$")
DICTIONARY_IDS = {
    "LOCAL PATIENT IDENTIFIER (EXTENDED)": "LocalPatientID", "SERVICE REQUEST IDENTIFIER": "ServiceRequestID",
    "CARE CONTACT IDENTIFIER": "CareContactID", "CARE ACTIVITY IDENTIFIER": "CareActID",
    "HOSPITAL PROVIDER SPELL IDENTIFIER": "HospProvSpellID", "HOSPITAL PROVIDER SPELL NUMBER": "HospProvSpellID",
    "CARE PROFESSIONAL TEAM LOCAL IDENTIFIER": "CareProfTeamLocalID",
}
Key = tuple[tuple[str, str], ...]


def family(code: str) -> str:
    for name, pattern in FAMILIES:
        if re.match(pattern, code):
            return name
    return "other"


def level_of(description: str) -> str | None:
    d = description.strip().lower()
    for prefix, level in (("record rejected", "record_rejected"), ("group rejected", "group_rejected"),
                          ("file rejected", "file_rejected"), ("warning", "warning")):
        if d.startswith(prefix):
            return level
    return None


@lru_cache(maxsize=1)
def _severity_1_codes() -> frozenset[str]:
    out = {r.code for r in load_national_rules().rules if r.error_level == "Severity 1 Warning"}
    text = rules_file("reference/sdcs_codes.csv").read_text(encoding="utf-8").splitlines()[1:]
    for row in csv.DictReader(io.StringIO("\n".join(text))):
        if row.get("v6_error_level", "").strip().lower() == "severity 1 warning":
            out.add(row["code"])
    return frozenset(out)


def item_identity(name: str, code_table: str | None) -> tuple[str | None, str | None, bool]:
    """(table MHSnnn, local item or None, identifying) of a DATA_ITEM name of any dataset version."""
    if m := _V6.match(name):
        uid, item = m.groups()
        return "MHS" + uid[1:4], item, item in IDENTIFYING
    upper = name.upper()
    identifying = ("NHS NUMBER" in upper and "STATUS" not in upper) or any(
        w in upper for w in ("POSTCODE", "BIRTH DATE", "DEATH DATE"))
    if m := _V5.match(name):
        uid, dictionary = m.groups()
        return "MHS" + uid[1:4], DICTIONARY_IDS.get(dictionary.strip().upper()), identifying
    return code_table, DICTIONARY_IDS.get(upper.strip()), identifying


def masked_key(key: Key, code_table: str | None) -> list[list[str]]:
    return [[item, MASKED if value and item_identity(item, code_table)[2] else value] for item, value in key]


@dataclass(frozen=True)
class CodeSummary:
    code: str
    family: str
    level: str | None
    severity_1: bool
    table: str | None
    description: str
    items: tuple[str, ...]
    rows: int
    distinct_records: int
    matched_local: int | None
    predicted: bool | None
    rows_previous: int | None

    @property
    def change(self) -> int | None:
        return None if self.rows_previous is None else self.rows - self.rows_previous

    @property
    def rejects(self) -> bool:
        return self.level in ("record_rejected", "group_rejected", "file_rejected")

    def to_json_dict(self) -> dict[str, Any]:
        return {"rule_id": self.code, "family": self.family, "level": self.level, "severity_1": self.severity_1,
                "table": self.table, "description": self.description, "items": list(self.items),
                "rows": self.rows, "distinct_records": self.distinct_records, "matched_local": self.matched_local,
                "predicted": self.predicted, "rows_previous": self.rows_previous, "change": self.change}


@dataclass(frozen=True)
class TableCount:
    table: str
    rows_received: int | None
    rows_local: int | None
    rows_local_loaded: int | None
    rows_received_previous: int | None

    @property
    def change(self) -> int | None:
        if self.rows_received is None or self.rows_received_previous is None:
            return None
        return self.rows_received - self.rows_received_previous

    def to_json_dict(self) -> dict[str, Any]:
        return {"table": self.table, "rows_received": self.rows_received, "rows_local": self.rows_local,
                "rows_local_loaded": self.rows_local_loaded, "rows_received_previous": self.rows_received_previous,
                "change": self.change}


@dataclass(frozen=True)
class RecordKey:
    code: str
    table: str | None
    key: Key
    rows: int
    local_rows: int | None

    def to_json_dict(self) -> dict[str, Any]:
        return {"rule_id": self.code, "table": self.table, "key": masked_key(self.key, self.table), "rows": self.rows,
                "local_rows": self.local_rows}


@dataclass(frozen=True)
class SubmissionResult:
    period: Month
    previous_period: Month | None
    report: SummaryReport
    tables: tuple[TableCount, ...]
    codes: tuple[CodeSummary, ...]
    diagnostics: tuple[dict[str, Any], ...]
    records: tuple[RecordKey, ...]
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]
    local: bool

    @property
    def rejection_rows(self) -> int:
        return sum(c.rows for c in self.codes if c.rejects)

    @property
    def warning_rows(self) -> int:
        return sum(c.rows for c in self.codes if c.level == "warning")

    @property
    def exit_code(self) -> int:
        return 1 if self.rejection_rows else 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "period": str(self.period),
            "previous_period": str(self.previous_period) if self.previous_period else None,
            "report": {"name": self.report.name, "period_from": self.report.period_from,
                       "files": list(self.report.files)},
            "tables": [t.to_json_dict() for t in self.tables],
            "codes": [c.to_json_dict() for c in self.codes],
            "diagnostics": list(self.diagnostics),
            "records": [r.to_json_dict() for r in self.records],
            "ignored": list(self.ignored), "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------- reading the rows


def _long(report: SummaryReport) -> pl.DataFrame:
    """validations.csv and data_quality.csv, one row per report row, with its key as a list of pairs."""
    frames = [report.frame("validations.csv"), report.frame("data_quality.csv")]
    rows = pl.concat(frames).with_row_index("__line")
    pairs = [pl.struct(pl.col(f"DATA_ITEM{n}").alias("item"), pl.col(f"DATA_VALUE{n}").fill_null("").alias("value"))
             for n in range(1, 11)]
    return rows.with_columns(pl.concat_list(pairs).list.eval(
        pl.element().filter(pl.element().struct.field("item").fill_null("") != "")).alias("__key"))


def _check_period(rows: pl.DataFrame, period: Month, shown: str) -> None:
    for n in range(1, 11):
        item, value = pl.col(f"DATA_ITEM{n}"), pl.col(f"DATA_VALUE{n}")
        for name, expected in (("[M000050]ReportingPeriodStartDate", period.start),
                               ("[M000060]ReportingPeriodEndDate", period.end)):
            bad = rows.filter((item == name) & (value.str.slice(0, 10) != expected.isoformat()))
            if bad.height:
                raise InputError(f"its rows carry another month's reporting period dates than {period}: "
                                 "give the right --month or the right zip", file=shown, rule="SUB003")


def _key_of(entry: Any) -> Key:
    return tuple((str(p["item"]), str(p["value"])) for p in entry)


def _counts(report: SummaryReport) -> dict[str, int]:
    long = _long(report)
    return {str(c): int(n) for c, n in long.group_by("CODE").len().iter_rows()}


def _arv(report: SummaryReport | None) -> dict[str, int | None]:
    if report is None:
        return {}
    agg = report.frame("aggregation.csv").filter(pl.col("CODE").str.contains(r"^MHSARV\d{3}$"))
    return {"MHS" + code[6:]: (int(n) if n and n.isdigit() else None)
            for code, n in agg.select("CODE", "NUMERATOR").iter_rows()}


# ---------------------------------------------------------------- matching local rows


def _normal(item: str, col: str) -> pl.Expr:
    if is_time_item(item):
        return clock(col).dt.strftime("%H:%M:%S")
    if is_date_item(item) or item.endswith("Timestamp"):
        return day(col).cast(pl.String)
    return pl.col(col)


def _local_matches(view: SubmissionView, table: str | None, keys: list[Key]) -> list[int | None]:
    """Per record key: local rows of the code's table whose every usable pair holds an equal value."""
    full = TABLE_NAMES.get(table or "", "")
    frame = view.frame(full)
    if frame is None or not keys:
        return [None] * len(keys)
    out: list[int | None] = [None] * len(keys)
    by_items: dict[tuple[str, ...], list[tuple[int, tuple[str, ...]]]] = {}
    for i, key in enumerate(keys):
        usable: dict[str, str] = {}
        for name, value in key:
            t, item, _ = item_identity(name, table)
            if t == table and item is not None and item in frame.columns and item not in usable:
                usable[item] = value
        if usable:
            items = tuple(sorted(usable))
            by_items.setdefault(items, []).append((i, tuple(usable[k] for k in items)))
    for items, entries in by_items.items():
        wanted = pl.DataFrame({"__i": [i for i, _ in entries],
                               **{f"__v{n}": [v[n] or None for _, v in entries] for n in range(len(items))}},
                              schema={"__i": pl.Int64, **{f"__v{n}": pl.String for n in range(len(items))}})
        wanted = wanted.with_columns(_normal(item, f"__v{n}").alias(f"__v{n}") for n, item in enumerate(items))
        on = [f"__v{n}" for n in range(len(items))]
        local = frame.select(*(_normal(item, item).alias(f"__v{n}") for n, item in enumerate(items)),
                             pl.lit(1).alias("__hit"))
        hits = wanted.join(local, on=on, how="left", nulls_equal=True).group_by("__i").agg(
            pl.col("__hit").count().alias("n"))
        for i, n in hits.iter_rows():
            out[int(i)] = int(n)
    return out


# ---------------------------------------------------------------- the command


def _code_rows(report: SummaryReport) -> tuple[pl.DataFrame, dict[str, list[Key]], dict[str, dict[Key, int]]]:
    long = _long(report)
    first = long.group_by("CODE", maintain_order=True).first()
    keys: dict[str, list[Key]] = {}
    per_key: dict[str, dict[Key, int]] = {}
    for code, line, entry in long.select("CODE", "__line", "__key").iter_rows():
        key = _key_of(entry) or (("__row", str(line)),)
        per_key.setdefault(code, {})
        per_key[code][key] = per_key[code].get(key, 0) + 1
    for code, d in per_key.items():
        keys[code] = list(d)
    return first, keys, per_key


def analyse(current: SummaryReport, previous: SummaryReport | None, *, view: SubmissionView | None,
            prediction: SdcsPrediction | None, ignored: tuple[str, ...] = (), warnings: tuple[str, ...] = ()
            ) -> SubmissionResult:
    """Compare M's report with the local submission (when given) and the previous month's report."""
    long = _long(current)
    _check_period(long, current.period, current.name)
    first, keys, per_key = _code_rows(current)
    prev_counts = _counts(previous) if previous is not None else {}
    severity_1 = _severity_1_codes()
    notes = list(warnings) + list(current.warnings)
    predicted = prediction.codes() if prediction is not None else None
    codes: list[CodeSummary] = []
    records: list[RecordKey] = []
    for code, desc, *_rest in first.select("CODE", "DESCRIPTION").iter_rows():
        fam = family(code)
        if fam == "other":
            notes.append(f"code {code} is of no known family (MHSARV, MHSDAG, MHSnnnnn, MHSREJ)")
        table = "MHS" + code[3:6] if fam == "MHSnnnnn" else None
        code_keys = keys[code]
        matched = _local_matches(view, table, code_keys) if view is not None else [None] * len(code_keys)
        for key, n in zip(code_keys, matched, strict=True):
            records.append(RecordKey(code, table, () if key[0][0] == "__row" else key, per_key[code][key], n))
        codes.append(CodeSummary(
            code=code, family=fam, level=level_of(desc or ""),
            severity_1="severity 1" in (desc or "").lower() or code in severity_1, table=table,
            description=desc or "", items=tuple(i for i, _ in code_keys[0] if i != "__row"),
            rows=sum(per_key[code].values()), distinct_records=len(code_keys),
            matched_local=None if view is None else sum(1 for n in matched if n),
            predicted=None if predicted is None else code in predicted,
            rows_previous=prev_counts.get(code, 0) if previous is not None else None,
        ))
    prev_desc = dict(_long(previous).group_by("CODE").agg(pl.col("DESCRIPTION").first()).iter_rows()) \
        if previous is not None else {}
    for code, n in sorted(prev_counts.items()):
        if code not in per_key:
            fam = family(code)
            prev_first = {"DESCRIPTION": prev_desc.get(code)}
            codes.append(CodeSummary(code, fam, level_of(str(prev_first.get("DESCRIPTION") or "")),
                                     code in severity_1, "MHS" + code[3:6] if fam == "MHSnnnnn" else None,
                                     str(prev_first.get("DESCRIPTION") or ""), (), 0, 0,
                                     None if view is None else 0,
                                     None if predicted is None else code in predicted, n))
    rank = {lv: i for i, lv in enumerate(LEVELS)}

    def order(c: CodeSummary) -> tuple[int, int, str]:
        lv = "severity_1" if c.level == "warning" and c.severity_1 else (c.level or "warning")
        return rank.get(lv, len(LEVELS)), -c.rows, c.code

    codes.sort(key=order)
    records.sort(key=lambda r: (r.code, r.key))
    arv, arv_prev = _arv(current), _arv(previous)
    loaded = {t.table: t.loaded for t in prediction.tables} if prediction is not None else {}
    tables = []
    for table in sorted(arv):
        full = TABLE_NAMES.get(table)
        has_local = view is not None and full is not None and full in view.tables
        tables.append(TableCount(table, arv[table], view.rows(full) if has_local and view and full else None,
                                 loaded.get(table) if has_local else None,
                                 arv_prev.get(table) if previous is not None else None))
    diag = current.frame("diagnostics.csv").filter(pl.col("CODE").str.contains(r"^MHSDAG\d{3}$"))
    diagnostics = tuple(
        {"code": c, "description": d, "numerator": int(n) if n and n.isdigit() else None,
         "denominator": int(m) if m and m.isdigit() else None}
        for c, d, n, m in diag.select("CODE", "DESCRIPTION", "NUMERATOR", "DENOMINATOR").iter_rows())
    return SubmissionResult(current.period, previous.period if previous else None, current, tuple(tables),
                            tuple(codes), diagnostics, tuple(records), ignored, tuple(notes), view is not None)


def read_submission(reports: Path, *, month: Month | None, epr: Path | None, mapping: str | None,
                    settings: ProviderSettings) -> SubmissionResult:
    """The whole command: choose and read the zips, read the local extract of M, compare."""
    if epr is not None and month is None:
        raise UsageError("--epr needs --month (the month of the local extract)")
    chosen: Chosen = choose_reports(reports, month)
    current = read_report(chosen.current, month=chosen.period)
    current = SummaryReport(current.name, current.path, current.period, chosen.period_from, current.files,
                            current.frames, current.warnings)
    previous = read_report(chosen.previous, month=chosen.period.shift(-1)) if chosen.previous else None
    view = prediction = None
    if epr is not None:
        extract = load_extract(epr, mapping, keep_text=True)
        view = submission_view(extract, chosen.period, provider=settings.ods)
        prediction = predict(view)
    return analyse(current, previous, view=view, prediction=prediction, ignored=chosen.ignored,
                   warnings=chosen.warnings)
