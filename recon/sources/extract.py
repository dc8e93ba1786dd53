"""Load a record-level extract (folder or zip; CSV, xlsx or Parquet) into canonical MHSDS tables."""

from __future__ import annotations

import fnmatch
import hashlib
import zipfile
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import polars as pl

from recon.errors import InputError, MissingInputError
from recon.findings import Finding
from recon.months import Month
from recon.schemas import rule_severity
from recon.sources.convert import to_canonical
from recon.sources.limits import check_file_size, check_zip_member
from recon.sources.mapping import Mapping, TableMapping, load_mapping
from recon.sources.text import RawTable, excel_sheets_with, read_csv_text, read_excel_text, read_parquet_text
from recon.tables import TABLES, Table

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class SourceFile:
    """One input file (or zip member) and how it was read; hashes are computed on demand."""

    table: str
    name: str  # as shown to users: relative path, or "archive.zip:member"
    path: Path  # the file on disk (the zip itself for members)
    member: str | None
    size: int
    rows: int
    encoding: str
    sheet: str | None = None

    @property
    def sha256(self) -> str:
        """The hash of what was read: the member's own bytes for a zip member, so a reader can
        check each table file, not only the archive."""
        return file_sha256(self.path) if self.member is None else member_sha256(self.path, self.member)


@lru_cache(maxsize=256)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=256)
def _member_sha256_cached(path: str, member: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def member_sha256(path: Path, member: str) -> str:
    """SHA-256 of one member of the zip at ``path`` (its uncompressed bytes)."""
    st = path.stat()
    return _member_sha256_cached(str(path.resolve()), member, st.st_mtime_ns, st.st_size)


def file_sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Extract:
    """Canonical MHSDS tables for one source, with where each came from and load-time findings."""

    origin: Path
    layout: str  # "mhsds" or the mapping name
    tables: AbcMapping[str, pl.DataFrame]
    files: tuple[SourceFile, ...]
    findings: tuple[Finding, ...] = ()
    # every column as read, as text, by table (``keep_text``): the national rules judge columns
    # recon's canonical tables drop, and reading the files twice costs a second parse
    text: AbcMapping[str, pl.DataFrame] = field(default_factory=lambda: MappingProxyType({}))

    def frame(self, table_id: str) -> pl.DataFrame:
        return self.tables[table_id]

    def lazy(self, table_id: str) -> pl.LazyFrame:
        return self.tables[table_id].lazy()

    @property
    def provider(self) -> str | None:
        """The provider's ODS code: the most frequent OrgIDProv on referrals, else people."""
        for tid in ("MHS101Referral", "MHS001MPI"):
            col = self.tables[tid].get_column("OrgIDProv").drop_nulls()
            if col.len():
                return str(col.mode().sort().item(0))
        return None

    def rows(self, table_id: str) -> int:
        return self.tables[table_id].height

    def month_gap(self, month: Month) -> str | None:
        """A plain sentence when no care contact or indirect activity is dated in ``month``
        (the usual cause: the wrong month asked for, or another month's extract), else None."""
        dates = pl.concat([
            self.tables["MHS201CareContact"].select(pl.col("CareContDate").alias("d")),
            self.tables["MHS204IndirectActivity"].select(pl.col("IndirectActDate").alias("d")),
        ]).get_column("d").drop_nulls()
        if dates.is_between(month.start, month.end).any():
            return None
        span = (f"its activity runs {str(dates.min())[:7]} to {str(dates.max())[:7]}" if dates.len()
                else "it holds no activity")
        return f"no care contact or indirect activity is dated in {month} ({span}): is this the right month?"


class _Source:
    """Uniform access to the files of a folder or a zip archive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if path.is_file():
            if not zipfile.is_zipfile(path):
                if path.suffix.lower() == ".zip":
                    raise InputError("is not a readable zip archive (damaged, or only partly copied?)",
                                     file=str(path), rule="SRC001")
                raise InputError("is neither a folder nor a zip archive", file=str(path), rule="SRC001")
            try:
                self.zip = zipfile.ZipFile(path)
                self.names = [
                    n for n in self.zip.namelist()
                    if not n.endswith("/") and not any(j in n for j in _JUNK)
                ]
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(f"the zip archive cannot be read ({exc})", file=str(path), rule="SRC001") from None
        else:
            self.names = sorted(
                str(p.relative_to(path).as_posix()) for p in path.rglob("*") if p.is_file()
            )

    def display(self, name: str) -> str:
        return f"{self.path.name}:{name}" if self.zip else str(self.path / name)

    def size(self, name: str) -> int:
        return self.zip.getinfo(name).file_size if self.zip else (self.path / name).stat().st_size

    def read(self, name: str, table: Table, sheet: str | None = None) -> RawTable:
        fmt = FORMATS.get(PurePosixPath(name).suffix.lower())
        shown = self.display(name)
        if self.zip:
            check_zip_member(shown, self.zip.getinfo(name))
            try:
                data = self.zip.read(name)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InputError(f"the zip member cannot be read ({exc})", file=shown, rule="SRC001") from None
            if fmt == "csv":
                return read_csv_text(shown, data=data)
            if fmt == "xlsx":
                return _excel(shown, data, sheet, table)
            return read_parquet_text(shown, data)
        disk = self.path / name
        check_file_size(shown, disk.stat().st_size)
        if fmt == "csv":
            return read_csv_text(shown, path=disk)
        if fmt == "xlsx":
            return _excel(shown, disk, sheet, table)
        return read_parquet_text(shown, disk)


def _excel(shown: str, src: Path | bytes, sheet: str | None, table: Table) -> RawTable:
    raw = read_excel_text(shown, src, sheet, table.id)
    required = {c.name for c in table.columns if c.required}
    present = set(raw.frame.columns) | {a for a in raw.frame.columns if a in table.alias_map}
    if sheet is None and not required & present:
        elsewhere = [s for s in excel_sheets_with(shown, src, required) if s != raw.sheet]
        if elsewhere:
            raise InputError(
                f"sheet {raw.sheet!r} holds no {table.id} columns; the records are on sheet {elsewhere[0]!r}: "
                f"name that sheet {table.id}, make it the first sheet, or set sheet = {elsewhere[0]!r} in a mapping",
                file=shown, rule="SRC007",
            )
    return raw


def _match_table_file(name: str) -> str | None:
    stem = PurePosixPath(name).stem.lower()
    for tid in TABLES:
        t = tid.lower()
        if stem == t or (stem.startswith(t) and stem[len(t)] in "_- ."):
            return tid
    return None


def load_extract(path: str | Path, mapping: str | Path | Mapping | None = None, *, keep_text: bool = False) -> Extract:
    """Read every MHSDS table of an extract (folder or zip), by MHSDS file names or by a mapping.

    ``keep_text`` keeps each MHSDS-layout file's columns as read (``Extract.text``) for the
    data quality view, which would otherwise read every file again.

    Raises :class:`InputError` (exit 2) for anything malformed and
    :class:`MissingInputError` (exit 3) when the path does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"{path}: no such file or folder")
    source = _Source(path)
    if mapping is not None:
        m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        return _load_mapped(source, m)
    return _load_mhsds(source, keep_text)


def _load_mhsds(source: _Source, keep_text: bool = False) -> Extract:
    found: dict[str, str] = {}
    unexpected: list[str] = []
    for name in source.names:
        tid = _match_table_file(name)
        fmt = FORMATS.get(PurePosixPath(name).suffix.lower())
        if tid is None or fmt is None:
            unexpected.append(name)
            continue
        if tid in found:
            raise InputError(
                f"table {tid} is given twice ({found[tid]} and {name}); keep one",
                file=source.display(name), rule="SRC009",
            )
        found[tid] = name
    if source.zip and unexpected:
        raise InputError(
            f"the archive holds {'members that are' if len(unexpected) > 1 else 'a member that is'} not an MHSDS table: "
            f"{', '.join(unexpected[:5])} (expected files named by table id, e.g. MHS101Referral.csv)",
            file=str(source.path), rule="SRC009",
        )
    missing = [t.id for t in TABLES.values() if t.required and t.id not in found]
    if missing:
        hint = " (is this a local EPR export? give --mapping NAME)" if not found else ""
        raise InputError(
            f"no file for the required table{'s' if len(missing) > 1 else ''} {', '.join(missing)}{hint}",
            file=str(source.path), rule="SRC009",
        )
    tables: dict[str, pl.DataFrame] = {}
    text: dict[str, pl.DataFrame] = {}
    files: list[SourceFile] = []
    findings: list[Finding] = []
    for table in TABLES.values():
        member = found.get(table.id)
        if member is None:
            tables[table.id] = table.empty()
            continue
        raw = source.read(member, table)
        shown = source.display(member)
        _check_rows(raw, table, shown)
        frame, fs = to_canonical(_activity_only(raw.frame, table), table, file=shown)
        tables[table.id] = frame
        if keep_text:
            text[table.id] = raw.frame
        findings += fs
        findings += _encoding_finding(raw, table, shown)
        files.append(_source_file(source, member, table, frame, raw))
    return Extract(source.path, "mhsds", MappingProxyType(link_activity_scores(tables)), tuple(files),
                   tuple(findings), MappingProxyType(text))


def _load_mapped(source: _Source, m: Mapping) -> Extract:
    tables: dict[str, pl.DataFrame] = {}
    files: list[SourceFile] = []
    findings: list[Finding] = []
    cache: dict[tuple[str, str | None], RawTable] = {}
    for table in TABLES.values():
        tm: TableMapping | None = m.tables.get(table.id)
        if tm is None:
            tables[table.id] = table.empty()
            continue
        matches = [n for n in source.names if fnmatch.fnmatch(n.lower(), tm.file.lower())]
        if not matches:
            if table.required:
                raise InputError(
                    f"no file matching {tm.file!r} for {table.id} (mapping {m.name!r})",
                    file=str(source.path), rule="MAP003",
                )
            tables[table.id] = table.empty()
            continue
        if len(matches) > 1:
            raise InputError(f"{len(matches)} files match {tm.file!r} for {table.id}: {', '.join(matches[:4])}",
                             file=str(source.path), rule="MAP003")
        name = matches[0]
        shown = source.display(name)
        if (name, tm.sheet) not in cache:
            cache[(name, tm.sheet)] = source.read(name, table, tm.sheet)
        raw = cache[(name, tm.sheet)]
        _check_rows(raw, table, shown)
        mapped, fs1 = m.apply(raw.frame, tm, shown)
        frame, fs2 = to_canonical(_activity_only(mapped, table), table, file=shown,
                                  date_formats=dict(tm.date_formats))
        tables[table.id] = frame
        findings += fs1 + fs2 + _encoding_finding(raw, table, shown)
        files.append(_source_file(source, name, table, frame, raw))
    return Extract(source.path, m.name, MappingProxyType(link_activity_scores(tables)), tuple(files),
                   tuple(findings))


A607, A202 = "MHS607CodedScoreAssessmentAct", "MHS202CareActivity"


def _activity_only(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """A v6 MHS607 may name its care activity (CareActId) and not its contact: the contact is then
    resolved through MHS202 after loading (:func:`link_activity_scores`), so the column is added
    blank here instead of stopping the run for a missing required column."""
    if table.id == A607 and "CareActId" in frame.columns and "CareContactId" not in frame.columns:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("CareContactId"))
    return frame


def link_activity_scores(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Fill a blank MHS607 CareContactId from the MHS202 row of its CareActId (mhsds.md section 2).

    A score given by contact keeps its contact; one given by activity only gets the activity's
    contact; one whose activity is not in MHS202 stays blank (validation names it: VAL001 and
    VAL032). A contact that disagrees with its activity's is kept as given (VAL033).
    """
    scores, acts = tables.get(A607), tables.get(A202)
    if scores is None or acts is None or scores.height == 0 or acts.height == 0:
        return tables
    if not scores.get_column("CareContactId").is_null().any():
        return tables
    by_act = acts.filter(pl.col("CareActId").is_not_null()).unique("CareActId", keep="first").select(
        "CareActId", pl.col("CareContactId").alias("__via"))
    linked = scores.join(by_act, on="CareActId", how="left", maintain_order="left").with_columns(
        pl.coalesce("CareContactId", "__via").alias("CareContactId")).select(scores.columns)
    return {**tables, A607: linked}


def _check_rows(raw: RawTable, table: Table, shown: str) -> None:
    if raw.frame.width == 0:
        raise InputError("holds no columns (empty sheet or file)", file=shown, rule="SRC002")
    if raw.frame.height == 0 and table.required:
        raise InputError(f"has a header but no records; {table.id} cannot be empty", file=shown, rule="SRC003")


def _encoding_finding(raw: RawTable, table: Table, shown: str) -> list[Finding]:
    if raw.encoding == "windows-1252":
        return [Finding("SRC021", rule_severity("SRC021"), table.id, None, None,
                        f"{shown} is not UTF-8; read as Windows-1252")]
    return []


def _source_file(source: _Source, name: str, table: Table, frame: pl.DataFrame, raw: RawTable) -> SourceFile:
    return SourceFile(
        table=table.id,
        name=source.display(name),
        path=source.path if source.zip else source.path / name,
        member=name if source.zip else None,
        size=source.size(name),
        rows=frame.height,
        encoding=raw.encoding,
        sheet=raw.sheet,
    )
