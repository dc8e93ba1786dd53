"""Read NHS England's published MHSMS file(s) and pick the rows for one provider and month.

The file layout is mhsds.md section 5: eleven text columns. Every column is read as text with
an explicit schema, then dates (``DD/MM/YYYY`` or ``YYYY-MM-DD``) and values (a number, ``*``
for suppressed, or blank) are parsed once. A folder may hold several publications (plain CSV
or zipped); rows are chosen by ``REPORTING_PERIOD_END``, never by file name.

Status rule: when one reporting month is present under more than one ``STATUS`` and no
status is asked for, the first present in :data:`STATUS_ORDER` wins (Final, then Performance,
then Provisional, then Adhoc): Performance figures are the refreshed submission that
supersedes the Provisional figures for the same month, and Final is the pre-2021 name for
refreshed data. The choice is stated in ``notes``.

Missing data: a path that does not exist, or a month none of the files carries, raises
:class:`MissingInputError` (exit 3: that month's publication is not there yet). A provider
with no rows is not an error (a new or small provider may be absent): the selection is empty
and its ``notes`` say so and suggest checking the ODS code. A status that is not one of
:data:`STATUS_ORDER` raises :class:`UsageError` (exit 2).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from recon.choices import PublishedStatus
from recon.errors import InputError, MissingInputError, MonthNotPublishedError, UsageError
from recon.months import Month
from recon.sources.text import read_csv_text

COLUMNS: tuple[str, ...] = (
    "REPORTING_PERIOD_START",
    "REPORTING_PERIOD_END",
    "STATUS",
    "BREAKDOWN",
    "PRIMARY_LEVEL",
    "PRIMARY_LEVEL_DESCRIPTION",
    "SECONDARY_LEVEL",
    "SECONDARY_LEVEL_DESCRIPTION",
    "MEASURE_ID",
    "MEASURE_NAME",
    "MEASURE_VALUE",
)
STATUS_ORDER: tuple[str, ...] = tuple(PublishedStatus)
SUPPRESSED = "*"

#: The typed frame every selection holds (one row per published figure).
ROW_SCHEMA = pl.Schema(
    {
        "period_start": pl.Date(),
        "period_end": pl.Date(),
        "status": pl.String(),
        "breakdown": pl.String(),
        "level": pl.String(),
        "level_description": pl.String(),
        "secondary_level": pl.String(),
        "secondary_level_description": pl.String(),
        "measure_id": pl.String(),
        "measure_name": pl.String(),
        "value": pl.Float64(),
        "value_text": pl.String(),  # as published: "*", "15", "41.3" or null (blank)
        "suppressed": pl.Boolean(),
        "file": pl.String(),
        "line": pl.Int64(),
    }
)


@dataclass(frozen=True)
class PublishedFile:
    """One CSV that was read (a zip member is named ``archive.zip:member``)."""

    name: str
    path: Path
    size: int
    rows: int


@dataclass(frozen=True)
class PublishedSelection:
    """The published rows chosen for a provider/month/status, and how they were chosen."""

    rows: pl.DataFrame  # ROW_SCHEMA
    files: tuple[PublishedFile, ...]
    provider: str | None = None
    month: Month | None = None
    status: str | None = None  # chosen status when one month was asked for
    notes: tuple[str, ...] = ()
    periods: tuple[str, ...] = field(default=())  # every YYYY-MM the files carry

    @property
    def height(self) -> int:
        return self.rows.height

    def to_json_dict(self) -> dict[str, Any]:
        """contract.md: ``{"rows": [{period_start, period_end, status, breakdown, level,
        measure_id, value, suppressed}]}``; value is a number or null, suppressed is true for '*'."""
        out = self.rows.select(
            pl.col("period_start").dt.to_string("%Y-%m-%d"),
            pl.col("period_end").dt.to_string("%Y-%m-%d"),
            "status",
            "breakdown",
            "level",
            "measure_id",
            "value",
            "suppressed",
        )
        rows = out.to_dicts()
        for r in rows:
            r["value"] = _number(r["value"])
        return {"rows": rows}


def _number(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


# --------------------------------------------------------------------------------------------
# Reading


def _csv_sources(path: Path) -> list[tuple[str, Path, bytes | None, int]]:
    """Every CSV under ``path``: (shown name, path on disk, bytes when a zip member, size)."""
    if not path.exists():
        raise MissingInputError(f"{path}: no such published file or folder")
    files: list[Path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".zip"))
        if not files:
            raise MissingInputError(f"{path}: the folder holds no published CSV or zip file")
    else:
        files = [path]
    out: list[tuple[str, Path, bytes | None, int]] = []
    for f in files:
        if zipfile.is_zipfile(f):
            try:
                with zipfile.ZipFile(f) as zf:
                    members = [
                        n for n in zf.namelist()
                        if n.lower().endswith(".csv") and not n.startswith("__MACOSX/")
                    ]
                    if not members:
                        raise InputError("the zip archive holds no CSV file", file=str(f), rule="PUB001")
                    for m in members:
                        data = zf.read(m)
                        out.append((f"{f.name}:{m}", f, data, len(data)))
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InputError(f"the zip archive cannot be read ({exc})", file=str(f), rule="PUB001") from None
        elif f.suffix.lower() == ".zip":
            raise InputError("is named .zip but is not a zip archive", file=str(f), rule="PUB001")
        else:
            out.append((str(f), f, None, f.stat().st_size))
    return out


def _parse_date(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.coalesce(
        c.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
        c.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    )


def _read_one(name: str, path: Path, data: bytes | None) -> pl.DataFrame:
    raw = read_csv_text(name, path=None if data is not None else path, data=data).frame
    header = [c.strip().upper() for c in raw.columns]
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        what = []
        if missing:
            what.append(f"missing {', '.join(missing)}")
        if extra:
            what.append(f"unexpected {', '.join(extra[:5])}")
        if not what:
            what.append("columns out of order")
        raise InputError(
            f"is not a published MHSMS file: expected the 11 columns {', '.join(COLUMNS)}; {'; '.join(what)}",
            file=name, rule="PUB002",
        )
    raw = raw.rename(dict(zip(raw.columns, COLUMNS, strict=True)))
    value = pl.col("MEASURE_VALUE")
    typed = raw.with_row_index("line", offset=2).select(
        _parse_date("REPORTING_PERIOD_START").alias("period_start"),
        _parse_date("REPORTING_PERIOD_END").alias("period_end"),
        pl.col("STATUS").alias("status"),
        pl.col("BREAKDOWN").alias("breakdown"),
        pl.col("PRIMARY_LEVEL").alias("level"),
        pl.col("PRIMARY_LEVEL_DESCRIPTION").alias("level_description"),
        pl.col("SECONDARY_LEVEL").alias("secondary_level"),
        pl.col("SECONDARY_LEVEL_DESCRIPTION").alias("secondary_level_description"),
        pl.col("MEASURE_ID").alias("measure_id"),
        pl.col("MEASURE_NAME").alias("measure_name"),
        pl.when(value == SUPPRESSED).then(None).otherwise(value.str.replace_all(",", "")
                                                           .cast(pl.Float64, strict=False)).alias("value"),
        value.alias("value_text"),
        (value == SUPPRESSED).fill_null(False).alias("suppressed"),
        pl.lit(name).alias("file"),
        pl.col("line").cast(pl.Int64),
        # helpers for error reporting
        pl.col("REPORTING_PERIOD_START").alias("_start_text"),
        pl.col("REPORTING_PERIOD_END").alias("_end_text"),
    )
    _check(typed, name)
    return typed.select(ROW_SCHEMA.names())


def _check(typed: pl.DataFrame, name: str) -> None:
    """Raise on the first malformed row, naming the file, line and column."""
    checks = (
        ("REPORTING_PERIOD_END", pl.col("period_end").is_null(), "_end_text",
         "is not a date (DD/MM/YYYY or YYYY-MM-DD)"),
        ("REPORTING_PERIOD_START", pl.col("period_start").is_null(), "_start_text",
         "is not a date (DD/MM/YYYY or YYYY-MM-DD)"),
        ("MEASURE_ID", pl.col("measure_id").is_null(), "measure_id", "is blank"),
        ("STATUS", pl.col("status").is_null(), "status", "is blank"),
        ("BREAKDOWN", pl.col("breakdown").is_null(), "breakdown", "is blank"),
        ("MEASURE_VALUE", pl.col("value_text").is_not_null() & ~pl.col("suppressed") & pl.col("value").is_null(),
         "value_text", "is neither a number, '*' nor blank"),
        ("REPORTING_PERIOD_END", pl.col("period_end") < pl.col("period_start"), "_end_text",
         "is before REPORTING_PERIOD_START"),
    )
    for column, bad, shown, problem in checks:
        hit = typed.filter(bad.fill_null(False)).head(1)
        if hit.height:
            n = typed.filter(bad.fill_null(False)).height
            text = hit.item(0, shown)
            more = f" ({n} rows like this)" if n > 1 else ""
            raise InputError(
                f"line {hit.item(0, 'line')}: {text!r} {problem}{more}", file=name, column=column, rule="PUB003"
            )


def read_published(path: Path) -> tuple[pl.DataFrame, tuple[PublishedFile, ...]]:
    """Every row of every published CSV under ``path`` (a CSV, a zip, or a folder of them).

    Identical rows repeated across files are kept once; the same figure given two different
    values by two files raises :class:`InputError` naming both files.
    """
    frames: list[pl.DataFrame] = []
    files: list[PublishedFile] = []
    for name, disk, data, size in _csv_sources(Path(path)):
        frame = _read_one(name, disk, data)
        frames.append(frame)
        files.append(PublishedFile(name, disk, size, frame.height))
    rows = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=ROW_SCHEMA)
    if len(frames) > 1:
        rows = _dedupe(rows)
    return rows, tuple(files)


_FIGURE = ["period_start", "period_end", "status", "breakdown", "level", "secondary_level", "measure_id"]


def _dedupe(rows: pl.DataFrame) -> pl.DataFrame:
    rows = rows.unique(subset=[*_FIGURE, "value_text"], keep="first", maintain_order=True)
    clash = rows.filter(pl.len().over(_FIGURE) > 1)
    if clash.height:
        first = clash.sort([*_FIGURE, "file"]).head(2)
        r = first.row(0, named=True)
        raise InputError(
            f"two files give different values for {r['measure_id']} {r['breakdown']} {r['level']} "
            f"period ending {r['period_end']} ({r['status']}): {first.item(0, 'file')} has "
            f"{first.item(0, 'value_text')!r}, {first.item(1, 'file')} has {first.item(1, 'value_text')!r}; "
            "keep one version of the publication",
            rule="PUB004",
        )
    return rows


# --------------------------------------------------------------------------------------------
# Selecting


def normalise_status(status: str | None) -> str | None:
    """The status asked for in its published spelling (any case accepted); UsageError when unknown."""
    if status is None:
        return None
    chosen = PublishedStatus.parse(status)
    if chosen is None:
        raise UsageError(f"the published status must be one of {', '.join(STATUS_ORDER)}, not {status!r}")
    return chosen.value


def _month_text(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def choose_status(statuses: list[str], wanted: str | None) -> str | None:
    """The status to use for one month: the one asked for, else the first of STATUS_ORDER present."""
    if wanted is not None:
        return wanted if wanted in statuses else None
    ranked = [s for s in STATUS_ORDER if s in statuses]
    if ranked:
        return ranked[0]
    return sorted(statuses)[0] if statuses else None


def select_published(
    path: Path, *, provider: str | None = None, month: Month | None = None, status: str | None = None
) -> PublishedSelection:
    """Rows of the published file(s) for a provider (BREAKDOWN=Provider, PRIMARY_LEVEL=ODS), a
    month (REPORTING_PERIOD_END = the month's last day) and a status (see the module docstring)."""
    wanted = normalise_status(status)
    rows, files = read_published(Path(path))
    # Status names are matched case-insensitively; keep the canonical spelling.
    canon = {s.lower(): s for s in STATUS_ORDER}
    rows = rows.with_columns(
        pl.col("status").str.to_lowercase().replace_strict(canon, default=pl.col("status")).alias("status")
    )
    periods = tuple(sorted({_month_text(d) for d in rows.get_column("period_end").unique().to_list()}))
    notes: list[str] = []
    if month is not None:
        rows = rows.filter(pl.col("period_end") == month.end)
        if rows.height == 0:
            raise MonthNotPublishedError(
                f"{path}: no published rows for {month} (REPORTING_PERIOD_END {month.end:%d/%m/%Y}); "
                f"the files carry {', '.join(periods) or 'no months'}"
            )
    chosen: str | None = None
    by_month = rows.group_by("period_end").agg(pl.col("status").unique().sort()).sort("period_end")
    keep: list[tuple[dt.date, str]] = []
    for end, statuses in by_month.iter_rows():
        pick = choose_status(list(statuses), wanted)
        if pick is None:
            if month is not None:
                raise MissingInputError(
                    f"{path}: no {wanted} rows for {month}; the files carry {', '.join(statuses)} for that month"
                )
            continue
        if len(statuses) > 1:
            rule = "asked for with --status" if wanted else "order " + " > ".join(STATUS_ORDER)
            notes.append(
                f"{_month_text(end)} is published as {', '.join(statuses)}: using {pick} ({rule})"
            )
        keep.append((end, pick))
        chosen = pick
    if wanted is not None and not keep:
        raise MissingInputError(f"{path}: no rows with STATUS {wanted}")
    pick_frame = pl.DataFrame(keep, schema={"period_end": pl.Date, "status": pl.String}, orient="row")
    rows = rows.join(pick_frame, on=["period_end", "status"], how="semi", maintain_order="left")
    if provider is not None:
        ods = provider.strip().upper()
        rows = rows.filter(
            (pl.col("breakdown").str.to_lowercase() == "provider") & (pl.col("level").str.to_uppercase() == ods)
        )
        if rows.height == 0:
            where = f" for {month}" if month else ""
            notes.append(
                f"provider {ods} has no Provider rows{where} in {path}; check the ODS code "
                "(PRIMARY_LEVEL of the BREAKDOWN=Provider rows)"
            )
    return PublishedSelection(
        rows=rows,
        files=files,
        provider=provider.strip().upper() if provider else None,
        month=month,
        status=chosen if month is not None else wanted,
        notes=tuple(notes),
        periods=periods,
    )


def published_from_text(text: str, name: str = "published.csv") -> pl.DataFrame:
    """Parse published CSV text (tests and tools); same checks as files on disk."""
    return _read_one(name, Path(name), text.encode("utf-8"))


__all__ = [
    "COLUMNS",
    "ROW_SCHEMA",
    "STATUS_ORDER",
    "PublishedFile",
    "PublishedSelection",
    "choose_status",
    "normalise_status",
    "published_from_text",
    "read_published",
    "select_published",
]
