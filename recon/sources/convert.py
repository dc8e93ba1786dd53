"""Text columns to the canonical MHSDS types, once, with an explicit schema.

Dates arrive as ``YYYY-MM-DD``, ``DD/MM/YYYY``, Excel serials or datetimes; a value that
cannot be read stops the run (exit 2) with the file, column, rule and first record key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from recon.errors import InputError
from recon.findings import Finding
from recon.schemas import rule_severity
from recon.sources.text import found_columns
from recon.tables import TABLES, Column, Kind, Table, key_expr

# Every MHSDS item and old alias: a first line naming none of them is not a header.
KNOWN_COLUMNS = frozenset(
    name for t in TABLES.values() for c in t.columns for name in (c.name, *c.aliases)
)
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_NUMERIC = r"^\d+(\.\d+)?$"


def date_expr(col: str, formats: Sequence[str] = ()) -> pl.Expr:
    """Text to Date, trying the given formats, then the defaults, then Excel serial numbers."""
    raw = pl.col(col)
    day_part = raw.str.replace(r"[T ]\d{1,2}:\d{2}.*$", "")
    tries = [day_part.str.to_date(f, strict=False) for f in (*formats, *DEFAULT_DATE_FORMATS)]
    tries += [raw.str.to_date(f, strict=False) for f in formats if " " in f]
    serial = raw.str.extract(r"^(\d{1,7})(?:\.0+)?$").cast(pl.Int64, strict=False)
    tries.append(
        pl.when(serial.is_between(61, 2_958_465))
        .then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial))
        .otherwise(None)
        .cast(pl.Date)
    )
    return pl.coalesce(tries)


def time_expr(col: str) -> pl.Expr:
    """Text to Time: ``HH:MM``, ``HH:MM:SS[.f]`` (alone or after a date) or an Excel day fraction."""
    raw = pl.col(col)
    hms = raw.str.extract(r"(\d{1,2}:\d{2}:\d{2})")
    hm = raw.str.extract(r"(\d{1,2}:\d{2})")
    frac = raw.str.extract(r"^(0?\.\d+|0|1)$").cast(pl.Float64, strict=False)
    from_frac = pl.when(frac.is_not_null() & (frac < 1)).then(_seconds_to_time(frac * 86400))
    return pl.coalesce(
        hms.str.to_time("%H:%M:%S", strict=False),
        hm.str.to_time("%H:%M", strict=False),
        from_frac,
    )


def _seconds_to_time(seconds: pl.Expr) -> pl.Expr:
    return (seconds.round(0).cast(pl.Int64) * 1_000_000_000).cast(pl.Time)


def datetime_expr(col: str, formats: Sequence[str] = ()) -> pl.Expr:
    day = date_expr(col, formats)
    serial_frac = pl.col(col).str.extract(r"^\d+(\.\d+)$").cast(pl.Float64, strict=False)
    clock = pl.coalesce(
        time_expr(col),
        pl.when(serial_frac.is_not_null()).then(_seconds_to_time((serial_frac % 1) * 86400)),
        pl.lit(dt.time(0)),
    )
    return day.dt.combine(clock).cast(pl.Datetime("us"))


def _typed(column: Column, source: pl.DataType, formats: Sequence[str]) -> pl.Expr:
    name, kind = column.name, column.kind
    col = pl.col(name)
    if source == kind.dtype:
        return col
    if kind in (Kind.TEXT, Kind.CODE):
        if source.is_integer() and column.width:
            return col.cast(pl.String).str.zfill(column.width)
        if source.is_float():
            # A code or id read as a float (Parquet from a spreadsheet): 5.0 -> "5".
            as_int = col.cast(pl.Int64, strict=False).cast(pl.String)
            return as_int.str.zfill(column.width) if column.width else as_int
        return col.cast(pl.String)
    if kind is Kind.DATE and isinstance(source, pl.Datetime):
        return col.dt.date()
    if kind is Kind.DATETIME and (source == pl.Date or isinstance(source, pl.Datetime)):
        return col.cast(pl.Datetime("us"))
    if kind is Kind.INT and source.is_numeric():
        return col.cast(pl.Int64, strict=False)
    return _text_to(kind, name, formats)


def _text_to(kind: Kind, name: str, formats: Sequence[str]) -> pl.Expr:
    if kind is Kind.DATE:
        return date_expr(name, formats)
    if kind is Kind.TIME:
        return time_expr(name)
    if kind is Kind.DATETIME:
        return datetime_expr(name, formats)
    if kind is Kind.INT:
        return pl.col(name).cast(pl.Float64, strict=False).round(0).cast(pl.Int64, strict=False)
    return pl.col(name)


def to_canonical(
    raw: pl.DataFrame,
    table: Table,
    *,
    file: str,
    date_formats: dict[str, Sequence[str]] | None = None,
) -> tuple[pl.DataFrame, list[Finding]]:
    """Rename old aliases, check required columns, type every column; findings for soft problems."""
    date_formats = date_formats or {}
    aliases = table.alias_map
    _refuse_ambiguous(raw.columns, table, file)
    renames = {c: aliases[c] for c in raw.columns if c in aliases and aliases[c] not in raw.columns}
    frame = raw.rename(renames)
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    if missing:
        raise InputError(
            f"required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing "
            f"({found_columns(raw.columns, KNOWN_COLUMNS)})",
            file=file,
            column=missing[0],
            rule="SRC010",
        )
    # Source columns cast to string first where needed so every parse is vectorised.
    frame = frame.with_columns(
        pl.col(c.name).cast(pl.String)
        for c in table.columns
        if c.name in frame.columns
        and c.kind in (Kind.DATE, Kind.TIME, Kind.DATETIME, Kind.INT)
        and not _native_ok(c.kind, frame.schema[c.name])
    )
    typed = _parse(frame, table, date_formats)

    findings: list[Finding] = []
    checks = [
        c for c in table.columns
        if c.kind in (Kind.DATE, Kind.TIME, Kind.DATETIME, Kind.INT)
        and c.name in frame.columns and frame.schema[c.name] == pl.String
    ]
    if checks:
        # Cheap count first: keys are only built for the rows that failed, if any.
        failing = frame.select(
            (pl.col(c.name).is_not_null() & typed.get_column(c.name).is_null()).alias(c.name) for c in checks
        )
        checks = [c for c in checks if failing.get_column(c.name).any()]
    if checks:
        any_failed = pl.any_horizontal(failing.get_column(c.name) for c in checks)
        keyed = frame.filter(any_failed).select(key_expr(table).alias("__key"), *[pl.col(c.name) for c in checks])
        typed_failed = typed.filter(any_failed)
        failed = pl.concat(
            [
                keyed.select(
                    pl.lit(c.name).alias("__column"),
                    "__key",
                    pl.col(c.name).alias("__raw"),
                    typed_failed.get_column(c.name).is_null().alias("__null"),
                ).filter(pl.col("__raw").is_not_null() & pl.col("__null"))
                for c in checks
            ]
        )
        for name, group in failed.group_by("__column", maintain_order=True):
            column = table.column(str(name[0]))
            first = group.row(0, named=True)
            n = group.height
            shown = "" if column.identifying else f" {first['__raw']!r}"
            what = {"int": "a whole number", "time": "a time"}.get(column.kind.value, "a date")
            if column.kind is Kind.INT:
                findings.append(Finding(
                    "SRC020", rule_severity("SRC020"), table.id, first["__key"], column.name,
                    f"{n} value{'s' if n > 1 else ''} not {what}; read as blank", None if column.identifying else first["__raw"],
                ))
                continue
            raise InputError(
                f"cannot read{shown} as {what} ({n} record{'s' if n > 1 else ''} affected; "
                "accepted: YYYY-MM-DD, DD/MM/YYYY, Excel serial numbers, date-times)",
                file=file,
                column=column.name,
                rule="SRC011",
                key=f"{'|'.join(table.key)}={first['__key']}",
            )
    return typed, findings


def _refuse_ambiguous(columns: Sequence[str], table: Table, file: str) -> None:
    """Two columns for one item (case only, or an item beside its old name): which holds the data?"""
    seen: dict[str, str] = {}
    for c in columns:
        other = seen.setdefault(c.casefold(), c)
        if other != c:
            raise InputError(f"columns {other!r} and {c!r} differ only in case; keep one",
                             file=file, column=c[:80], rule="SRC012")
    present = set(columns)
    for alias, item in table.alias_map.items():
        if alias in present and item in present:
            raise InputError(f"both {item} and its old name {alias} are present; keep one",
                             file=file, column=item, rule="SRC012")


def _fast(column: Column, formats: Sequence[str]) -> pl.Expr | None:
    """The one format a well-behaved extract uses; tried first, at full speed."""
    col = pl.col(column.name)
    if column.kind is Kind.DATE:
        return col.str.to_date(formats[0] if formats else "%Y-%m-%d", strict=False)
    if column.kind is Kind.TIME:
        return col.str.to_time("%H:%M:%S", strict=False)
    if column.kind is Kind.DATETIME:
        return col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    return None


def _parse(frame: pl.DataFrame, table: Table, date_formats: dict[str, Sequence[str]]) -> pl.DataFrame:
    """Type every column. Text dates and times take the fast single-format path; only columns
    where some values did not parse are parsed again with every accepted form."""
    fast_cols: list[str] = []
    exprs = []
    for c in table.columns:
        if c.name not in frame.columns:
            exprs.append(pl.lit(None, dtype=c.kind.dtype).alias(c.name))
            continue
        fast = _fast(c, date_formats.get(c.name, ())) if frame.schema[c.name] == pl.String else None
        if fast is not None:
            fast_cols.append(c.name)
            exprs.append(fast.alias(c.name))
        else:
            exprs.append(_typed(c, frame.schema[c.name], date_formats.get(c.name, ())).alias(c.name))
    typed = frame.select(exprs)
    if not fast_cols:
        return typed
    unparsed = frame.select(
        (pl.col(n).is_not_null() & typed.get_column(n).is_null()).sum().alias(n) for n in fast_cols
    ).row(0, named=True)
    redo = [n for n in fast_cols if unparsed[n]]
    if redo:
        slow = frame.select(
            _typed(table.column(n), pl.String(), date_formats.get(n, ())).alias(n) for n in redo
        )
        typed = typed.with_columns(pl.coalesce(typed.get_column(n), slow.get_column(n)).alias(n) for n in redo)
    return typed


def _native_ok(kind: Kind, source: pl.DataType) -> bool:
    if kind is Kind.DATE:
        return source == pl.Date or isinstance(source, pl.Datetime)
    if kind is Kind.DATETIME:
        return source == pl.Date or isinstance(source, pl.Datetime)
    if kind is Kind.TIME:
        return source == pl.Time
    if kind is Kind.INT:
        return source.is_numeric()
    return True
