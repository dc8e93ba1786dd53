"""Data quality per data item, in the national VODIM dimensions (Valid, Other, Default, Invalid, Missing).

Each value of an item falls in exactly one class, decided in this order:

- **missing**: blank;
- **default**: a "not known / not stated" code (rules/validation.toml ``[quality]``);
- **other**: a valid code that means "other" (for example ConsMechanismMH 98);
- **valid**: a code of the national list, a plausible date (on or after
  rules/codes.toml ``plausible_from`` and not after the reporting month end, or today when no
  month is given), an NHS number passing modulus 11, a numeric score inside its tool's range
  (numeric with an unknown tool counts as other), a duration that is not negative, or, for
  items without a code list (identifiers, free codes, times), any present value;
- **invalid**: everything else.

``score`` = 100 x (valid + other) / total, one decimal (null when the table is empty): the
share of records whose value can be used, which is how the national data quality maturity
index (DQMI) scores an item. ``basis`` says which test decided validity.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.codes import Codes, assessment_tools, load_codes
from recon.months import Month
from recon.schemas import NHS_NUMBER_FORMAT, NUMERIC_SCORE, QualityItem, load_rules, nhs_number_check_ok
from recon.sources import Extract
from recon.tables import TABLES, Column, Kind, Table

COLUMNS = ("table", "column", "basis", "valid", "other", "default", "invalid", "missing", "total", "score")
_SCORED = ("MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct")
_NONE = pl.lit(False)


def _classes(table: Table, c: Column, item: QualityItem | None, codes: Codes,
             upper: dt.date) -> tuple[str, pl.Expr, pl.Expr, pl.Expr]:
    """(basis, default, other, valid) boolean expressions for the non-blank values of one item."""
    col = pl.col(c.name)
    if item is not None:
        default = col.is_in(list(item.default)) if item.default else _NONE
        if item.default_prefix:
            default = default | col.str.starts_with(item.default_prefix)
        other = col.is_in(list(item.other)) if item.other else _NONE
        valid_list = item.valid
        if item.codes == "attendance":
            valid_list = codes.attendance_valid
        elif item.codes == "mechanism":
            valid_list = codes.mechanism_valid
        if valid_list is not None:
            return "code list", default, other, col.is_in(list(valid_list))
        if item.pattern:
            return "format", default, other, col.str.contains(item.pattern)
    if c.kind in (Kind.DATE, Kind.DATETIME):
        day = col if c.kind is Kind.DATE else col.dt.date()
        return "plausible date", _NONE, _NONE, day.is_between(codes.plausible_from, upper)
    if c.name == "NHSNumber":
        return "modulus 11", _NONE, _NONE, col.str.contains(NHS_NUMBER_FORMAT) & nhs_number_check_ok(col)
    if c.kind is Kind.INT:
        return "not negative", _NONE, _NONE, col >= 0
    if table.id in _SCORED and c.name == "PersScore":
        numeric = col.str.contains(NUMERIC_SCORE)
        score = col.cast(pl.Float64, strict=False)
        known = pl.col("__min").is_not_null()
        in_range = score.is_between(pl.col("__min"), pl.col("__max"))
        return "numeric in tool range", _NONE, numeric & ~known, numeric & known & in_range
    if table.id in _SCORED and c.name == "CodedAssToolType":
        return "code list", _NONE, _NONE, pl.col("__min").is_not_null()
    return "present", _NONE, _NONE, pl.lit(True)


def data_quality(extract: Extract, *, month: Month | None = None) -> pl.DataFrame:
    """One row per (table, column) of every table the extract holds; one pass per table."""
    codes = load_codes()
    rules = load_rules()
    upper = month.end if month is not None else dt.date.today()
    tools = assessment_tools().select(
        pl.col("snomed_code").alias("CodedAssToolType"),
        pl.col("min_score").alias("__min"), pl.col("max_score").alias("__max"),
    ).unique("CodedAssToolType", keep="first")
    read = {f.table for f in extract.files}
    parts: list[pl.DataFrame] = []
    for tid, table in TABLES.items():
        lf = extract.lazy(tid)
        if tid not in read and extract.rows(tid) == 0:
            continue
        if tid in _SCORED:
            lf = lf.join(tools.lazy(), on="CodedAssToolType", how="left")
        aggs: list[pl.Expr] = []
        bases: dict[str, str] = {}
        for c in table.columns:
            basis, default, other, valid = _classes(table, c, rules.quality_item(tid, c.name), codes, upper)
            bases[c.name] = basis
            present = pl.col(c.name).is_not_null()
            is_default = present & default
            is_other = present & ~is_default & other
            is_valid = present & ~is_default & ~is_other & valid
            aggs += [
                is_valid.sum().alias(f"{c.name}\x1fvalid"),
                is_other.sum().alias(f"{c.name}\x1fother"),
                is_default.sum().alias(f"{c.name}\x1fdefault"),
                (~present).sum().alias(f"{c.name}\x1fmissing"),
            ]
        counts = lf.select(pl.len().alias("__total"), *aggs).collect().row(0, named=True)
        total = int(counts["__total"])
        rows = []
        for c in table.columns:
            v, o, d, m = (int(counts[f"{c.name}\x1f{k}"] or 0) for k in ("valid", "other", "default", "missing"))
            rows.append({
                "table": tid, "column": c.name, "basis": bases[c.name], "valid": v, "other": o, "default": d,
                "invalid": total - v - o - d - m, "missing": m, "total": total,
                "score": round(100 * (v + o) / total, 1) if total else None,
            })
        parts.append(pl.DataFrame(rows, schema=_SCHEMA))
    return pl.concat(parts) if parts else pl.DataFrame(schema=_SCHEMA)


_SCHEMA = {
    "table": pl.String, "column": pl.String, "basis": pl.String, "valid": pl.Int64, "other": pl.Int64,
    "default": pl.Int64, "invalid": pl.Int64, "missing": pl.Int64, "total": pl.Int64, "score": pl.Float64,
}
