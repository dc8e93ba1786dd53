"""M's submission as SDCS would receive it: text columns named by v6 items (quality.md 1.4).

recon's canonical tables keep only the columns its measures need; the national rules judge
many more (NHSNumberStatus, OrgIDLocalPatientID, ...). An extract in MHSDS layout is therefore
read again as text, every column kept; an extract read through a mapping has only its mapped
columns, and is first cut to M's submission (it may hold many months).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import polars as pl

from recon.errors import InputError
from recon.months import Month
from recon.quality.national import JUDGED, NationalRules, load_national_rules
from recon.quality.values import day
from recon.sources import Extract, SourceFile
from recon.sources.text import RawTable, read_csv_text, read_excel_text, read_parquet_text
from recon.tables import TABLES

ROW = "__row"
# Tables SDCS uses when present but recon does not otherwise read (quality.md, Conventions).
EXTRA_TABLES = ("MHS000Header", "MHS002GP", "MHS901StaffDetails")
_FORMATS = {".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq"}


@dataclass(frozen=True)
class Header:
    """The MHS000 values the rules compare with."""

    provider: str | None
    create_date: dt.date | None  # DateTimeDatSetCreate from MHS000Header, None when not supplied
    run_date: dt.date

    @property
    def create_or_run(self) -> dt.date:
        return self.create_date or self.run_date


@dataclass(frozen=True)
class SubmissionView:
    """One frame per table with a file: text columns by v6 item name, ``__row`` 1-based as read."""

    month: Month
    tables: Mapping[str, pl.DataFrame]
    header: Header
    cut: bool

    def frame(self, table: str) -> pl.DataFrame | None:
        return self.tables.get(table)

    def has(self, table: str, item: str) -> bool:
        f = self.tables.get(table)
        return f is not None and item in f.columns

    def rows(self, table: str) -> int:
        f = self.tables.get(table)
        return 0 if f is None else f.height


def _rename_map(columns: list[str], table: str, rules: NationalRules) -> dict[str, str]:
    """Source column -> v6 item: case-insensitive, the ``Uniq`` prefix, and the aliases."""
    items = rules.items(table)
    lookup: dict[str, str] = {}
    for item in items:
        lookup[item.lower()] = item
        lookup["uniq" + item.lower()] = item
    for alias, item in rules.config.aliases.items():
        lookup.setdefault(alias.lower(), item)
    recon_table = TABLES.get(table)
    if recon_table is not None:
        for alias, name in recon_table.alias_map.items():
            target = lookup.get(name.lower())
            if target is not None:
                lookup.setdefault(alias.lower(), target)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for c in columns:
        target = lookup.get(c.lower(), c)
        if target in taken:
            continue
        taken.add(target)
        out[c] = target
    return out


def _text(expr: pl.Expr) -> pl.Expr:
    """A value as the rules read it: trimmed text, blank as missing."""
    t = expr.cast(pl.String).str.strip_chars()
    return pl.when(t == "").then(None).otherwise(t)


def _renamed(frame: pl.DataFrame, table: str, rules: NationalRules) -> pl.DataFrame:
    """Columns named by v6 item (values as read) and ``__row``, the 1-based row as read."""
    renames = _rename_map(list(frame.columns), table, rules)
    return frame.select(pl.col(src).alias(dst) for src, dst in renames.items()).with_row_index(
        ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _values(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column but ``__row`` read as the rules read it (:func:`_text`)."""
    return frame.with_columns(_text(pl.col(c)).alias(c) for c in frame.columns if c != ROW)


def _normalise(frame: pl.DataFrame, table: str, rules: NationalRules) -> pl.DataFrame:
    return _values(_renamed(frame, table, rules))


def _read_raw(f: SourceFile) -> RawTable:
    suffix = PurePosixPath(f.member or f.path.name).suffix.lower()
    data: bytes | None = None
    if f.member is not None:
        try:
            with zipfile.ZipFile(f.path) as zf:
                data = zf.read(f.member)
        except (zipfile.BadZipFile, OSError, KeyError) as exc:
            raise InputError(f"the zip member cannot be read ({exc})", file=f.name, rule="SRC001") from None
    if suffix in (".csv", ".txt"):
        return read_csv_text(f.name, data=data) if data is not None else read_csv_text(f.name, path=f.path)
    if suffix in (".xlsx", ".xlsm"):
        return read_excel_text(f.name, data if data is not None else f.path, f.sheet, f.table)
    return read_parquet_text(f.name, data if data is not None else f.path)


def _extra_files(origin: Path) -> dict[str, Path]:
    """MHS000Header, MHS002GP and MHS901StaffDetails files beside a folder extract."""
    if not origin.is_dir():
        return {}
    found: dict[str, Path] = {}
    for p in sorted(origin.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in _FORMATS:
            continue
        stem = p.stem.lower()
        for tid in EXTRA_TABLES:
            if stem == tid.lower() or (stem.startswith(tid.lower()) and stem[len(tid)] in "_- ."):
                found.setdefault(tid, p)
    return found


def _header(extra: Mapping[str, pl.DataFrame], provider: str | None, today: dt.date) -> Header:
    head = extra.get("MHS000Header")
    create: dt.date | None = None
    if head is not None and head.height:
        if "DateTimeDatSetCreate" in head.columns:
            create = head.select(day("DateTimeDatSetCreate")).item(0, 0)
        if provider is None and "OrgIDProvider" in head.columns:
            provider = head.get_column("OrgIDProvider").item(0)
    return Header(provider=provider, create_date=create, run_date=today)


def submission_view(
    extract: Extract, month: Month, *, provider: str | None, today: dt.date | None = None,
    rules: NationalRules | None = None,
) -> SubmissionView:
    """The view of M's submission the national rules and VODIM judge.

    ``provider`` is the configured ODS code (MHS00153); MHS000Header's OrgIDProvider is used
    when none is configured.
    """
    rules = rules or load_national_rules()
    today = today or dt.date.today()
    tables: dict[str, pl.DataFrame] = {}
    if extract.layout == "mhsds":
        # the files as read (the loader's text when it kept it), cut to M before the values are
        # trimmed: a many-month extract's earlier rows are never copied
        for f in extract.files:
            text = extract.text.get(f.table)
            tables[f.table] = _renamed(_read_raw(f).frame if text is None else text, f.table, rules)
        extra = {
            tid: _normalise(read_csv_text(str(p), path=p).frame if p.suffix.lower() in (".csv", ".txt")
                            else read_excel_text(str(p), p, None, tid).frame if p.suffix.lower() in (".xlsx", ".xlsm")
                            else read_parquet_text(str(p), p).frame, tid, rules)
            for tid, p in _extra_files(extract.origin).items()
        }
        tables.update({k: v for k, v in extra.items() if k != "MHS000Header"})
        many = _many_months(tables, month)
        cut = cut_to_month(tables, month) if many else tables
        return SubmissionView(month, MappingProxyType({tid: _values(f) for tid, f in cut.items()}),
                              _header(extra, provider, today), cut=many)
    for tid in sorted({f.table for f in extract.files}):
        frame = extract.frame(tid)
        # recon's canonical frames hold every column, unmapped ones all null: those count as absent
        # (not evaluated), not as blank on every row.
        filled = [c for c in frame.columns if frame.get_column(c).null_count() < frame.height]
        tables[tid] = _normalise(frame.select(filled) if frame.height else frame, tid, rules)
    return SubmissionView(month, MappingProxyType(cut_to_month(tables, month)), _header({}, provider, today),
                          cut=True)


def _many_months(tables: Mapping[str, pl.DataFrame], month: Month) -> bool:
    """True for a local extract of many months rather than one month's submission: some care
    contact or indirect activity is dated outside M.

    recon's measures need 12 months of records, so an MHSDS-layout extract often holds them;
    judged whole, every earlier contact would be predicted rejected (MHS20167). Such an extract
    is cut to M's submission as a mapped one is (quality.md 1.4); one month's extract is judged whole.
    """
    for table, item in (("MHS201CareContact", "CareContDate"), ("MHS204IndirectActivity", "IndirectActDate")):
        frame = tables.get(table)
        if frame is None or item not in frame.columns:
            continue
        dated = _day_by_value(frame, item).drop_nulls()
        if int((~dated.is_between(month.start, month.end)).sum()):
            return True
    return False


# The dates the cut reads, by table: parsed once per distinct value (a date column has a few
# thousand values over millions of rows) into a ``__day_`` column the cut's conditions read.
CUT_DATES = {
    "MHS101Referral": ("ReferralRequestReceivedDate", "ServDischDate", "ReferRejectionDate"),
    "MHS102OtherServiceType": ("ReferClosureDate", "ReferRejectionDate"),
    "MHS201CareContact": ("CareContDate",),
    "MHS204IndirectActivity": ("IndirectActDate",),
    "MHS606CodedScoreAssessmentRefer": ("AssToolCompTimestamp",),
    "MHS501HospProvSpell": ("StartDateHospProvSpell", "DischDateHospProvSpell"),
    "MHS008CarePlanType": ("CarePlanCreatDate",),
}
_DAY = "__day_"


def _day_by_value(frame: pl.DataFrame, item: str) -> pl.Series:
    """``day(item)`` of every row, computed on the column's distinct values and looked up."""
    values = frame.get_column(item).drop_nulls().unique()
    parsed = pl.DataFrame({item: values}).select(_text(pl.col(item)).alias(item)).select(day(item)).to_series()
    return frame.get_column(item).replace_strict(values, parsed, default=None, return_dtype=pl.Date)


def _with_days(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    items = [i for i in CUT_DATES.get(table, ()) if i in frame.columns]
    return frame.with_columns(_day_by_value(frame, i).alias(_DAY + i) for i in items) if items else frame


def _day(item: str) -> pl.Expr:
    return pl.col(_DAY + item)


def _in_month(item: str, month: Month) -> pl.Expr:
    return _day(item).is_between(month.start, month.end)


def _open_at(item: str, month: Month) -> pl.Expr:
    return _day(item).is_null() | (_day(item) >= month.start)


def _v(item: str) -> pl.Expr:
    """An item as the rules read it: the cut runs on values as read or already trimmed."""
    return _text(pl.col(item))


def _ids(frame: pl.DataFrame | None, item: str) -> pl.Series:
    if frame is None or item not in frame.columns:
        return pl.Series(item, [], dtype=pl.String)
    return frame.select(_v(item)).to_series().drop_nulls().unique()


def _keep(frame: pl.DataFrame, cond: pl.Expr, *needed: str) -> pl.DataFrame:
    if any(n not in frame.columns for n in needed):
        return frame
    return frame.filter(cond)


def cut_to_month(tables: Mapping[str, pl.DataFrame], month: Month) -> dict[str, pl.DataFrame]:
    """recon's definition of M's submission for a many-month local extract (quality.md 1.4)."""
    out = {tid: _with_days(tid, f) for tid, f in tables.items()}
    ref = out.get("MHS101Referral")
    if ref is not None:
        ref = _keep(ref, (_day("ReferralRequestReceivedDate") <= month.end) & _open_at("ServDischDate", month)
                    & _open_at("ReferRejectionDate", month),
                    "ReferralRequestReceivedDate", "ServDischDate", "ReferRejectionDate")
        out["MHS101Referral"] = ref
    refs = _ids(ref, "ServiceRequestID")
    if (f := out.get("MHS102OtherServiceType")) is not None:
        f = f.filter(_v("ServiceRequestID").is_in(refs.implode())) if "ServiceRequestID" in f.columns else f
        out["MHS102OtherServiceType"] = _keep(f, _open_at("ReferClosureDate", month)
                                              & _open_at("ReferRejectionDate", month),
                                              "ReferClosureDate", "ReferRejectionDate")
    if (f := out.get("MHS201CareContact")) is not None:
        out["MHS201CareContact"] = _keep(f, _in_month("CareContDate", month), "CareContDate")
    contacts = _ids(out.get("MHS201CareContact"), "CareContactID")
    if (f := out.get("MHS202CareActivity")) is not None and "CareContactID" in f.columns:
        out["MHS202CareActivity"] = f.filter(_v("CareContactID").is_in(contacts.implode()))
    acts = _ids(out.get("MHS202CareActivity"), "CareActID")
    if (f := out.get("MHS607CodedScoreAssessmentAct")) is not None:
        by_act = _v("CareActID").is_in(acts.implode()) if "CareActID" in f.columns else pl.lit(False)
        no_act = _v("CareActID").is_null() if "CareActID" in f.columns else pl.lit(True)
        by_contact = (no_act & _v("CareContactID").is_in(contacts.implode())
                      if "CareContactID" in f.columns else pl.lit(False))
        out["MHS607CodedScoreAssessmentAct"] = f.filter(by_act | by_contact)
    if (f := out.get("MHS204IndirectActivity")) is not None:
        out["MHS204IndirectActivity"] = _keep(f, _in_month("IndirectActDate", month), "IndirectActDate")
    if (f := out.get("MHS606CodedScoreAssessmentRefer")) is not None:
        out["MHS606CodedScoreAssessmentRefer"] = _keep(f, _in_month("AssToolCompTimestamp", month),
                                                       "AssToolCompTimestamp")
    if (f := out.get("MHS501HospProvSpell")) is not None:
        if "StartDateHospProvSpell" not in f.columns and "ServiceRequestID" in f.columns:
            f = f.filter(_v("ServiceRequestID").is_in(refs.implode()))  # no dates: spells of kept referrals
        out["MHS501HospProvSpell"] = _keep(
            f, (_day("StartDateHospProvSpell") <= month.end) & _open_at("DischDateHospProvSpell", month),
            "StartDateHospProvSpell", "DischDateHospProvSpell")
    people = _ids(ref, "LocalPatientID")
    if (f := out.get("MHS001MPI")) is not None and "LocalPatientID" in f.columns:
        out["MHS001MPI"] = f.filter(_v("LocalPatientID").is_in(people.implode()))
    if (f := out.get("MHS008CarePlanType")) is not None and "LocalPatientID" in f.columns:
        f = f.filter(_v("LocalPatientID").is_in(people.implode()))
        out["MHS008CarePlanType"] = _keep(f, _day("CarePlanCreatDate") <= month.end, "CarePlanCreatDate")
    plans = _ids(out.get("MHS008CarePlanType"), "CarePlanID")
    if (f := out.get("MHS009CarePlanAgreement")) is not None and "CarePlanID" in f.columns:
        out["MHS009CarePlanAgreement"] = f.filter(_v("CarePlanID").is_in(plans.implode()))
    return {k: v.select(pl.exclude(f"^{_DAY}.*$")) for k, v in out.items() if k in JUDGED or k in EXTRA_TABLES}


def view_of_frames(
    tables: Mapping[str, pl.DataFrame], month: Month, *, provider: str | None = None,
    create_date: dt.date | None = None, today: dt.date | None = None, cut: bool = False,
    rules: NationalRules | None = None,
) -> SubmissionView:
    """A view of frames already in memory (text or typed columns), named by table id."""
    rules = rules or load_national_rules()
    named = {tid: _normalise(f, tid, rules) for tid, f in tables.items()}
    header = Header(provider, create_date, today or dt.date.today())
    return SubmissionView(month, MappingProxyType(cut_to_month(named, month) if cut else named), header, cut=cut)
