"""Bytes to an all-text DataFrame: encodings, BOMs, empty, header-only and truncated files.

Every column is read as text (``infer_schema=False``) so codes like "01" survive; typing
happens afterwards in :mod:`recon.sources.convert`, once, with an explicit schema.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.errors import InputError
from recon.sources.limits import check_cells, check_csv, check_workbook

_CHUNK = 1 << 24
BOM = b"\xef\xbb\xbf"


def found_columns(columns: Sequence[str], known: Iterable[str]) -> str:
    """The columns a file offers, for an error message, without echoing data.

    A file whose first line is a data row (no header) would otherwise put an NHS number or a
    birth date into the message: the names are listed only when at least one is a known
    column name, i.e. the first line really is a header.
    """
    known = set(known)
    if not any(c in known for c in columns):
        return (f"none of its {len(columns)} columns has a name recon knows: "
                "does the file lack its header row?")
    shown = ", ".join(c if len(c) <= 60 else c[:60] + "..." for c in columns[:12])
    return f"found: {shown}" + (f" ... ({len(columns)} columns)" if len(columns) > 12 else "")


@dataclass(frozen=True)
class RawTable:
    """A table as read from one file: text columns, plus how it was read."""

    frame: pl.DataFrame
    encoding: str
    sheet: str | None = None


_FIELD_EDGES = (ord(","), ord("\n"), ord("\r"), ord('"'))


def _needs_trim(window: bytes, *, at_start: bool = False) -> bool:
    """Does any field start or end with a blank, or is any quoted field empty?

    Clean extracts have no tab, no quote and few spaces, so one-byte (memchr) tests settle
    almost every chunk; only a chunk holding spaces gets the vectorised neighbour check. A
    space on a chunk's edge is judged by the caller's small window across the boundary.
    """
    if b"\t" in window or (b'"' in window and b'""' in window):
        return True
    if b" " not in window:
        return False
    import numpy as np  # only for chunks holding spaces: not on every run's start-up

    a = np.frombuffer(window, dtype=np.uint8)
    spaces = np.flatnonzero(a == 32)
    inner = spaces[(spaces > 0) & (spaces < a.size - 1)]
    edge = bool(np.isin(a[inner - 1], _FIELD_EDGES).any() or np.isin(a[inner + 1], _FIELD_EDGES).any())
    return edge or bool(at_start and spaces[0] == 0)


def _scan(path: Path | None, data: bytes | None) -> tuple[bool, bool]:
    """One pass over the bytes: is it all UTF-8, and does any field need trimming?

    Pure-ASCII chunks (the usual case) are checked at memory speed, so a clean 300 MB file
    costs a fraction of a second and skips the per-value trim entirely.
    """
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    padded = False
    utf8 = True
    if data is not None:
        chunks: list[bytes] | None = [data]
    else:
        chunks = None
    prev = b"\n"
    fh = None if path is None else path.open("rb")
    try:
        while True:
            if chunks is not None:
                if not chunks:
                    break
                chunk = chunks.pop()
            else:
                assert fh is not None
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
            if not padded:
                first = fh is None or fh.tell() == len(chunk)
                padded = _needs_trim(chunk, at_start=first) or (
                    not first and _needs_trim(prev[-2:] + chunk[:2]))
            prev = chunk
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if not utf8 and padded:
                break
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
        if prev.endswith(b" "):
            padded = True
    finally:
        if fh is not None:
            fh.close()
    return utf8, padded


def _is_utf8(path: Path | None, data: bytes | None) -> bool:
    return _scan(path, data)[0]


def _tail(path: Path | None, data: bytes | None, n: int = 65536) -> bytes:
    if data is not None:
        return data[-n:]
    assert path is not None
    with path.open("rb") as fh:
        fh.seek(0, io.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - n))
        return fh.read()


def _head(path: Path | None, data: bytes | None, n: int = 65536) -> bytes:
    if data is not None:
        return data[:n]
    assert path is not None
    with path.open("rb") as fh:
        return fh.read(n)


def read_csv_text(name: str, *, path: Path | None = None, data: bytes | None = None) -> RawTable:
    """Read a CSV file (by path, or bytes from a zip) into text columns.

    UTF-8 with or without BOM is read straight from disk; UTF-16 (with its BOM) is decoded;
    anything else is decoded as Windows-1252. Raises :class:`InputError` for empty, header-only-with-no-header,
    truncated or unparseable files.
    """
    head = _head(path, data)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 ("Unicode text" from Excel): decode once to UTF-8 and read that.
        raw16 = data if data is not None else path.read_bytes()  # type: ignore[union-attr]
        try:
            utf8_data = raw16.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError("starts like UTF-16 text but cannot be decoded as UTF-16", file=name,
                             rule="SRC005") from None
        table = read_csv_text(name, data=utf8_data)
        return RawTable(table.frame, "utf-16", table.sheet)
    if not head.strip(b"\r\n\t " + BOM):
        raise InputError("the file is empty", file=name, rule="SRC002")
    if b"\x00" in head:
        raise InputError("holds binary data (NUL bytes), not CSV text: is it really a CSV file?",
                         file=name, rule="SRC005")
    utf8, padded = _scan(path, data)
    encoding = "utf-8" if utf8 else "windows-1252"
    text_head = head.decode(encoding, errors="replace")
    if text_head.startswith("\ufeff"):
        text_head = text_head[1:]
    header_line = text_head.splitlines()[0] if text_head.splitlines() else ""
    header = next(csv.reader([header_line]), [])
    if not any(h.strip() for h in header):
        raise InputError("the first line holds no column names", file=name, rule="SRC003")
    if len(header) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|' characters")):
            if sep in header[0]:
                raise InputError(
                    f"the columns are separated by {label}, not commas; save the file as CSV (comma delimited)",
                    file=name, rule="SRC005",
                )
    if "\n" not in text_head and "\r" not in text_head and len(head) >= 65536:
        raise InputError("the first line is longer than 65,536 bytes: not an MHSDS header (a binary file, "
                         "or a file with no line breaks?)", file=name, rule="SRC005")
    size = len(data) if data is not None else path.stat().st_size  # type: ignore[union-attr]
    check_csv(name, size, head, len(header))
    names = [h.strip() for h in header]
    doubled = sorted({h for h in names if h and names.count(h) > 1})
    if doubled:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]*", doubled[0]):
            # Repeated values, not names: a data row where the header should be. Echo nothing.
            raise InputError("the first line repeats a value and names no column: does the file lack its "
                             "header row?", file=name, rule="SRC005")
        raise InputError(f"the header names column {doubled[0]} more than once; keep one",
                         file=name, column=doubled[0], rule="SRC005")

    tail = _tail(path, data)
    if not tail.endswith((b"\n", b"\r")):
        last_line = tail.decode(encoding, errors="replace").splitlines()[-1]
        fields = next(csv.reader([last_line]), [])
        if last_line.count('"') % 2 == 1:
            raise InputError(
                "the last line ends inside a quoted value: the file looks truncated; export it again",
                file=name, rule="SRC004",
            )
        if len(fields) < len(header):
            raise InputError(
                f"the last line is cut short ({len(fields)} of {len(header)} fields): "
                "the file looks truncated; export it again",
                file=name,
                rule="SRC004",
            )

    source: Path | io.BytesIO
    if utf8 and path is not None:
        source = path
    elif utf8:
        assert data is not None
        source = io.BytesIO(data)
    else:
        raw = data if data is not None else path.read_bytes()  # type: ignore[union-attr]
        source = io.BytesIO(raw.decode("cp1252", errors="replace").encode("utf-8"))
    try:
        frame = pl.read_csv(source, infer_schema=False, encoding="utf8", raise_if_empty=False, glob=False)
    except pl.exceptions.ComputeError as exc:
        first = str(exc).splitlines()[0]
        if "more fields" in first:
            first = "a line has more fields than the header"
        elif "could not parse" in first:
            first = "a quoted value is never closed"
        raise InputError(f"cannot be read as CSV: {first}", file=name, rule="SRC005") from None
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    return RawTable(_tidy(frame, values=padded or not utf8), encoding)


def read_excel_text(name: str, path: Path | bytes, sheet: str | None, table_id: str | None) -> RawTable:
    """Read one sheet of an .xlsx workbook with the calamine engine as text columns.

    The sheet is the one named (mapping), else one named after the table, else the first.
    """
    import fastexcel

    check_workbook(name, path)
    try:
        reader = fastexcel.read_excel(path)
        sheets = list(reader.sheet_names)
    except Exception as exc:  # fastexcel raises its own types for corrupt files
        raise InputError(f"cannot be opened as an Excel workbook ({type(exc).__name__})", file=name,
                         rule="SRC006") from None
    if sheet is not None:
        if sheet not in sheets:
            raise InputError(f"has no sheet {sheet!r} (sheets: {', '.join(sheets)})", file=name, rule="SRC007")
        chosen = sheet
    elif table_id is not None and table_id in sheets:
        chosen = table_id
    else:
        chosen = sheets[0]
    frame = _read_sheet(name, path, chosen)
    return RawTable(_tidy(frame), "xlsx", sheet=chosen)


def excel_sheets_with(name: str, path: Path | bytes, columns: set[str]) -> list[str]:
    """Names of sheets whose header holds all ``columns`` (to say where the data really is)."""
    import fastexcel

    found = []
    for s in fastexcel.read_excel(path).sheet_names:
        try:
            cols = {c.strip() for c in _read_sheet(name, path, s).columns}
        except InputError:
            continue
        if columns <= cols:
            found.append(s)
    return found


def _read_sheet(name: str, path: Path | bytes, sheet: str) -> pl.DataFrame:
    try:
        return pl.read_excel(path, engine="calamine", sheet_name=sheet, infer_schema_length=0)
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "empty" in msg.lower() or "no rows" in msg.lower():
            return pl.DataFrame()
        raise InputError(f"sheet {sheet!r} cannot be read: {msg}", file=name, rule="SRC006") from None


def read_parquet_text(name: str, path: Path | bytes) -> RawTable:
    try:
        scan = pl.scan_parquet(io.BytesIO(path) if isinstance(path, bytes) else path, glob=False)
        meta = scan.collect_schema()
        rows = scan.select(pl.len()).collect().item()
    except Exception as exc:
        raise InputError(f"cannot be read as Parquet ({type(exc).__name__})", file=name, rule="SRC008") from None
    check_cells(name, int(rows), len(meta), "SRC008")
    for column, dtype in meta.items():
        if not _plain(dtype):
            raise InputError(f"holds {dtype.__class__.__name__} values; recon reads text, numbers, dates, times and "
                             "true/false (export the column as text)", file=name, column=column[:80], rule="SRC008")
    try:
        frame = pl.read_parquet(io.BytesIO(path) if isinstance(path, bytes) else path, glob=False)
    except Exception as exc:
        raise InputError(f"cannot be read as Parquet ({type(exc).__name__})", file=name, rule="SRC008") from None
    return RawTable(frame, "parquet")


def _plain(dtype: pl.DataType) -> bool:
    """A Parquet column recon can turn into an MHSDS item: not a list, struct, duration or binary."""
    return bool(dtype == pl.String or dtype.is_numeric() or dtype in (pl.Boolean, pl.Date, pl.Time, pl.Null)
                or isinstance(dtype, pl.Datetime | pl.Categorical | pl.Enum))


def _tidy(frame: pl.DataFrame, *, values: bool = True) -> pl.DataFrame:
    """Trim names and text values; blank text becomes null (values only when the bytes showed padding)."""
    frame = frame.rename({c: str(c).strip() for c in frame.columns})
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    if not text_cols or not values:
        return frame
    return frame.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in text_cols
    )
