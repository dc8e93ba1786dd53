"""Bounded memory: sizes are checked before anything is expanded, and a file over a limit is refused.

A 5 KB workbook can claim a cell at XFD1048576 (calamine then allocates the whole 17-billion-cell
grid) and a 3 MB zip can inflate to gigabytes. Each reader asks here first, from what it can learn
cheaply (zip headers, the workbook's XML streamed in chunks, a CSV's first 64 KB, Parquet
metadata), and raises :class:`InputError` (exit 2) naming the file and the limit. The limits live
in the configuration file's ``[limits]`` section.
"""

from __future__ import annotations

import re
import zipfile
from contextvars import ContextVar
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO

from recon.errors import ConfigError, InputError


@dataclass(frozen=True)
class Limits:
    """What one input may expand to. Defaults fit a 400,000-person provider with room to spare."""

    max_file_bytes: int = 8 << 30  # a file, or a zip member once uncompressed
    max_zip_ratio: int = 200  # uncompressed / compressed size of a zip member over 1 MB
    max_cells: int = 250_000_000  # rows x columns of one table (CSV estimated, xlsx, Parquet)
    max_columns: int = 2_000
    max_shared_strings: int = 20_000_000  # distinct strings of one workbook
    max_findings_per_rule: int = 10_000  # per rule and column; the rest are counted, not listed

    @classmethod
    def from_table(cls, doc: dict[str, object], where: str) -> Limits:
        known = {f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for key, value in doc.items():
            if key not in known:
                raise ConfigError(f"{where}: limits.{key}: unknown limit", hint="allowed: " + ", ".join(sorted(known)))
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{where}: limits.{key} must be a positive whole number")
            values[key] = value
        return cls(**values)


_CURRENT: ContextVar[Limits | None] = ContextVar("recon_limits", default=None)


def limits() -> Limits:
    return _CURRENT.get() or Limits()


def set_limits(value: Limits) -> None:
    """The configuration's limits for the rest of this run (the CLI runs one command per process)."""
    _CURRENT.set(value)


def _over(shown: str, what: str, limit_name: str, limit: int, rule: str) -> InputError:
    del rule  # every limit is one rule, whatever the reader
    return InputError(f"{what}, over the limit {limit_name} = {limit:,}; refused before reading it",
                      file=shown, rule="SRC013", hint=f"raise limits.{limit_name} in the configuration if this is genuine")


def check_file_size(shown: str, size: int, rule: str = "SRC001") -> None:
    lim = limits()
    if size > lim.max_file_bytes:
        raise _over(shown, f"is {size:,} bytes", "max_file_bytes", lim.max_file_bytes, rule)


def check_zip_member(shown: str, info: zipfile.ZipInfo, rule: str = "SRC001") -> None:
    """Before a member is inflated: its declared size and compression ratio (zipfile never
    returns more than the declared size, so the declared size bounds the read)."""
    lim = limits()
    check_file_size(shown, info.file_size, rule)
    if info.file_size > (1 << 20) and info.file_size > lim.max_zip_ratio * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        raise _over(shown, f"inflates {ratio:,} times ({info.compress_size:,} to {info.file_size:,} bytes)",
                    "max_zip_ratio", lim.max_zip_ratio, rule)


def check_cells(shown: str, rows: int, columns: int, rule: str) -> None:
    lim = limits()
    if columns > lim.max_columns:
        raise _over(shown, f"has {columns:,} columns", "max_columns", lim.max_columns, rule)
    if rows * columns > lim.max_cells:
        raise _over(shown, f"spans {rows:,} rows x {columns:,} columns", "max_cells", lim.max_cells, rule)


def check_csv(shown: str, size: int, head: bytes, columns: int) -> None:
    """Estimate a CSV's cells from its first 64 KB: a file of empty fields (commas) is cheap on
    disk and dear in memory."""
    check_file_size(shown, size, "SRC005")
    lines = head.count(b"\n")
    per_line = len(head) / lines if lines else max(len(head), 1)
    check_cells(shown, int(size / max(per_line, 1)), columns, "SRC005")


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]*\d*:?([A-Z]+)(\d+)"')
_ROW = re.compile(rb'<(?:\w+:)?row [^>]*?r="(\d+)"')
_COL3 = re.compile(rb' r="([A-Z]{3})\d+"')
_COL2 = re.compile(rb' r="([A-Z]{2})\d+"')
_COL1 = re.compile(rb' r="([A-Z])\d+"')
_COUNT = re.compile(rb'uniqueCount="(\d+)"')
_CHUNK = 1 << 20


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def check_workbook(shown: str, src: Path | bytes) -> None:
    """Every part of an .xlsx checked before calamine sees it: member sizes and ratios, the
    shared-string count and each sheet's extent (the larger of its stated dimension and the
    furthest cell it really holds)."""
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(src) if isinstance(src, bytes) else src)
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the Excel reader says so in its own words
    lim = limits()
    with zf:
        for info in zf.infolist():
            check_zip_member(f"{shown}:{info.filename}", info, "SRC006")
        for info in zf.infolist():
            name = info.filename.lower()
            if name.endswith("sharedstrings.xml"):
                with zf.open(info) as fh:
                    m = _COUNT.search(fh.read(4096))
                if m and int(m.group(1)) > lim.max_shared_strings:
                    raise _over(shown, f"holds {int(m.group(1)):,} distinct strings", "max_shared_strings",
                                lim.max_shared_strings, "SRC006")
            elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with zf.open(info) as fh:
                    rows, cols = _sheet_extent(fh)
                check_cells(shown, rows, cols, "SRC006")


def _sheet_extent(fh: IO[bytes]) -> tuple[int, int]:
    """Furthest row and column a sheet's XML names, read in 1 MB chunks (C-speed regex searches;
    the per-match work only happens for the rare columns beyond Z)."""
    rows = cols = 0
    tail = b""
    first = True
    while chunk := fh.read(_CHUNK):
        data = tail + chunk
        if first:
            m = _DIMENSION.search(data)
            if m:
                cols, rows = column_number(m.group(1).decode()), int(m.group(2))
            first = False
        rows = max(rows, max(map(int, _ROW.findall(data)), default=0))
        for pattern in (_COL3, _COL2, _COL1):
            if pattern.search(data):
                cols = max(cols, max(column_number(c.decode()) for c in set(pattern.findall(data))))
                break
        tail = data[-256:]
    return rows, cols
