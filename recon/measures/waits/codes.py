"""Code normalisation for the waits family (waits.md section 1): codes compare as trimmed text.

``ConsMechanismMH`` and ``PrimReasonReferralMH`` have two characters (``1`` reads ``01``),
``AttendStatus`` and ``ClinRespPriorityType`` one, team types three; ``LADistrictAuth`` is
tested on its first character, case-sensitive.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trimmed text, empty text as null ("blank = empty or absent")."""
    t = expr.cast(pl.String).str.strip_chars()
    return pl.when(t == "").then(None).otherwise(t)


def code2(expr: pl.Expr) -> pl.Expr:
    """A two-character code: ``1`` reads ``01``."""
    return blank_to_null(expr).str.zfill(2)


def code1(expr: pl.Expr) -> pl.Expr:
    """A one-character code: ``05`` reads ``5``."""
    t = blank_to_null(expr)
    return pl.when((t.str.len_chars() > 1) & t.str.starts_with("0")).then(t.str.strip_chars_start("0")).otherwise(t)


def team_type(expr: pl.Expr) -> pl.Expr:
    """A team type (three characters, e.g. ``A05``)."""
    return blank_to_null(expr)


def resident_in_england(la: pl.Expr) -> pl.Expr:
    """``LADistrictAuth`` blank or starting with ``E`` (case-sensitive), as NHS England's ``LIKE 'E%'``."""
    t = blank_to_null(la)
    return t.is_null() | t.str.starts_with("E")


def spark_bigint_text(expr: pl.Expr) -> pl.Expr:
    """``CodedAssToolType`` as Spark casts text to BIGINT, written back as canonical digits.

    Surrounding spaces dropped, an optional sign, digits, optionally ``.`` and digits (fraction
    dropped); anything else (an exponent included) reads as nothing. Negative values cannot
    equal a SNOMED code and read as nothing here too.
    """
    t = expr.cast(pl.String).str.strip_chars()
    digits = t.str.extract(r"^\+?0*(\d+)(?:\.\d*)?$", 1)
    return pl.when(digits.str.len_chars() <= 19).then(digits).otherwise(None)


def concept(expr: pl.Expr) -> pl.Expr:
    """The SNOMED CT concept of a procedure: the text before the first ``:``; blank ignored."""
    t = expr.cast(pl.String).str.split(":").list.first()
    return pl.when(t == "").then(None).otherwise(t)


def by_value(frame: pl.DataFrame | pl.LazyFrame, column: str, normalise: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """``normalise(pl.col(column))``, computed once per distinct value of ``frame``'s column and
    looked up per row: code columns hold a handful of values over millions of rows, and the
    normalisations are regular expressions. ``frame``'s distinct values are read now."""
    values = frame.lazy().select(pl.col(column).cast(pl.String).drop_nulls().unique()).collect().to_series()
    mapped = pl.DataFrame({"v": values}).select(normalise(pl.col("v"))).to_series()
    return pl.col(column).cast(pl.String).replace_strict(values, mapped, default=None, return_dtype=mapped.dtype)
