"""Reading SDCS Cloud Summary Reports zips (quality.md 2.1-2.3), defensively.

A zip holds ``aggregation.csv``, ``data_quality.csv``, ``diagnostics.csv`` and
``validations.csv``, each with the same 25 columns. The zips are patient-identifiable
(DATA_VALUEn holds NHS numbers, postcodes, birth dates): nothing read here is ever echoed in a
message. Member sizes and compression ratios are checked before anything is decompressed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import polars as pl

from recon.errors import InputError, MissingInputError
from recon.months import Month

FILES = ("aggregation.csv", "data_quality.csv", "diagnostics.csv", "validations.csv")
REQUIRED = ("validations.csv", "data_quality.csv")
COLUMNS = ("REPORT_TYPE", "DESCRIPTION", "CODE", "NUMERATOR", "DENOMINATOR",
           *(f"DATA_{kind}{n}" for n in range(1, 11) for kind in ("ITEM", "VALUE")))
PERIOD = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)")
MAX_MEMBERS = 64
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200


@dataclass(frozen=True)
class SummaryReport:
    """One zip's four files as text frames (missing optional files are empty frames)."""

    name: str
    path: Path
    period: Month
    period_from: str  # option | file_name
    files: tuple[str, ...]
    frames: Mapping[str, pl.DataFrame]
    warnings: tuple[str, ...]

    def frame(self, file: str) -> pl.DataFrame:
        return self.frames.get(file, _empty())


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String))


def period_of_name(name: str) -> Month | None:
    m = PERIOD.search(PurePosixPath(name).stem)
    return Month(int(m.group(1)), int(m.group(2))) if m else None


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _parse(shown: str, data: bytes) -> pl.DataFrame:
    text = _decode(data)
    first = text.split("\n", 1)[0].rstrip("\r")
    header = tuple(h.strip().strip('"') for h in first.split(","))
    if header != COLUMNS:
        raise InputError(
            f"the header is not the 25 SDCS columns (REPORT_TYPE, DESCRIPTION, CODE, NUMERATOR, DENOMINATOR, "
            f"DATA_ITEM1, DATA_VALUE1, ..., DATA_ITEM10, DATA_VALUE10); found {len(header)} columns",
            file=shown, rule="SUB002")
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, raise_if_empty=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError:
        raise InputError("cannot be read as CSV (a line has more fields than the header, or a quote is never "
                         "closed)", file=shown, rule="SUB002") from None
    return frame.rename({c: c.strip() for c in frame.columns}).with_columns(
        pl.col(c).str.strip_chars() for c in COLUMNS)


def _checked_members(zf: zipfile.ZipFile, shown: str) -> list[zipfile.ZipInfo]:
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"holds {len(infos)} members; a Summary Reports zip holds 4", file=shown, rule="SUB001")
    total = 0
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > MAX_MEMBER_BYTES or ratio > MAX_RATIO:
            raise InputError("a member is too large or too highly compressed to be a Summary Report "
                             f"({i.file_size} bytes, ratio {ratio:.0f}); not read", file=shown, rule="SUB001")
        total += i.file_size
    if total > MAX_TOTAL_BYTES:
        raise InputError(f"its members add up to {total} bytes; not read", file=shown, rule="SUB001")
    return infos


def read_report(path: Path, *, month: Month | None = None) -> SummaryReport:
    """Read one Summary Reports zip; the period is ``month`` when given, else the file name's."""
    shown = path.name
    period = month or period_of_name(path.name)
    if period is None:
        raise InputError("period unknown: give --month (the file name holds no YYYYMM)", file=shown, rule="SUB003")
    warnings: list[str] = []
    found: dict[str, zipfile.ZipInfo] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in _checked_members(zf, shown):
                base = PurePosixPath(info.filename).name.lower()
                if base.endswith(".zip"):
                    warnings.append(f"{shown}: a zip inside the zip ({PurePosixPath(info.filename).name}) is ignored")
                    continue
                if base not in FILES:
                    continue
                if base in found:
                    raise InputError(f"holds {base} twice; keep one", file=shown, rule="SUB001")
                found[base] = info
            missing = [f for f in REQUIRED if f not in found]
            if missing:
                raise InputError(f"holds no {' or '.join(missing)}: not an SDCS Summary Reports zip",
                                 file=shown, rule="SUB001")
            frames = {base: _parse(f"{shown}:{info.filename}", zf.read(info)) for base, info in found.items()}
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile):
        raise InputError("is not a readable zip archive (damaged, or only partly copied?)", file=shown,
                         rule="SUB001") from None
    return SummaryReport(shown, path, period, "option" if month else "file_name", tuple(sorted(found)),
                         MappingProxyType(frames), tuple(warnings))


def _newest_entry(path: Path) -> dt.datetime:
    try:
        with zipfile.ZipFile(path) as zf:
            stamps = [dt.datetime(*i.date_time) for i in zf.infolist() if i.filename.lower().endswith(".csv")]
    except (zipfile.BadZipFile, OSError):
        return dt.datetime.min
    return max(stamps, default=dt.datetime.min)


@dataclass(frozen=True)
class Chosen:
    current: Path
    previous: Path | None
    period: Month
    period_from: str
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]


def _pick(paths: list[Path]) -> tuple[Path, list[Path]]:
    """Of several zips for one period: the newest CSV entry wins, ties to the later name in byte order."""
    ranked = sorted(paths, key=lambda p: (_newest_entry(p), p.name.encode()))
    return ranked[-1], ranked[:-1]


def choose_reports(reports: Path, month: Month | None) -> Chosen:
    """The report of the month asked (or the latest) and the previous calendar month's, if any."""
    if not reports.exists():
        raise MissingInputError(f"{reports}: no such file or folder")
    if reports.is_file():
        period = month or period_of_name(reports.name)
        if period is None:
            raise InputError("period unknown: give --month (the file name holds no YYYYMM)", file=reports.name,
                             rule="SUB003")
        return Chosen(reports, None, period, "option" if month else "file_name", (), ())
    zips = sorted(p for p in reports.iterdir() if p.is_file() and p.suffix.lower() == ".zip")
    by_period: dict[Month, list[Path]] = {}
    warnings = []
    for p in zips:
        got = period_of_name(p.name)
        if got is None:
            warnings.append(f"{p.name}: no period in the name; ignored")
            continue
        by_period.setdefault(got, []).append(p)
    if not by_period:
        raise MissingInputError(f"{reports}: no Summary Reports zip named with a period (YYYYMM)")
    period = month or max(by_period)
    if period not in by_period:
        raise MissingInputError(f"{reports}: no Summary Reports zip for {period}")
    current, ignored = _pick(by_period[period])
    prev_paths = by_period.get(period.shift(-1))
    previous, ignored_prev = _pick(prev_paths) if prev_paths else (None, [])
    return Chosen(current, previous, period, "option" if month else "file_name",
                  tuple(p.name for p in [*ignored, *ignored_prev]), tuple(warnings))
