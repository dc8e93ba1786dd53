"""A second implementation of every national measure of measures.md: DuckDB SQL written from
the spec (../shared/spec/measures.md, mhsds.md), independent of recon's polars code.

The extract is read as text (a folder of MHSDS-layout CSV files, or in-memory text tables),
one SQL file per measure family (``sql/<family>.sql``) turns it into counts per group, and the
percentages are worked out here from those counts. Only the two reference CSVs (facts, not
method) are shared with recon.

    figures = run_folder(Path("sample_data/mhsds"), Month(2024, 9))
    figures[""]["MHS112a"] -> Figure(value=22.9, numerator=27, denominator=118)

Groups: generated extracts are stacked into one with ids prefixed ``X<n>:``; every figure is
reported per prefix (``""`` for an ordinary extract).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
SQL = Path(__file__).resolve().parent / "sql"
REFERENCE = ROOT / "recon" / "rules" / "reference"

#: The family files, in order; a family is one SQL file returning (g, id, v) rows of counts.
FAMILIES = ("access", "activity", "outcomes")

#: Columns read per table (every one as text); absent ones are NULL. mhsds.md section 2.
COLUMNS: dict[str, tuple[str, ...]] = {
    "MHS001MPI": ("LocalPatientId", "PersonBirthDate", "Gender", "LADistrictAuth"),
    "MHS101Referral": ("ServiceRequestId", "LocalPatientId", "ReferralRequestReceivedDate", "ServDischDate",
                       "ReferRejectionDate", "UniqCareProfTeamLocalID", "ServTeamType"),
    "MHS102OtherServiceType": ("ServiceRequestId", "UniqOtherCareProfTeamLocalID", "ServTeamTypeRefToMH",
                               "ReferRejectionDate"),
    "MHS201CareContact": ("CareContactId", "ServiceRequestId", "CareContDate", "AttendStatus", "ConsMechanismMH"),
    "MHS204IndirectActivity": ("ServiceRequestId", "IndirectActDate", "IndirectActTime"),
    "MHS606CodedScoreAssessmentRefer": ("ServiceRequestId", "CodedAssToolType", "AssToolCompTimestamp", "PersScore"),
    "MHS607CodedScoreAssessmentAct": ("CareContactId", "CodedAssToolType", "PersScore"),
    "MHS501HospProvSpell": ("ServiceRequestId",),
}
#: Older item names a file may use (mhsds.md section 1), per table.
ALIASES: dict[str, dict[str, str]] = {
    "MHS101Referral": {"ServTeamTypeRefToMH": "ServTeamType", "ServTeamTypeMH": "ServTeamType"},
    "MHS201CareContact": {"AttendOrDNACode": "AttendStatus", "ConsMediumUsed": "ConsMechanismMH"},
    "MHS606CodedScoreAssessmentRefer": {"AssToolCompDate": "AssToolCompTimestamp"},
}

#: Percentages: id -> (numerator id, denominator id), measures.md "Outcomes".
PERCENTAGES: dict[str, tuple[str, str]] = {"MHS111a": ("MHS111", "MHS110"), "MHS112a": ("MHS112", "MHS110")}
for _c, _p, _rater_paired in (("b", "c", "MHS112b"), ("d", "e", "MHS112d"), ("f", "g", "MHS112f")):
    PERCENTAGES[f"MHS111{_p}"] = (f"MHS111{_c}", "MHS110")
    PERCENTAGES[f"MHS112{_p}"] = (f"MHS112{_c}", "MHS110")
for _family, _paired in (("MHS113", "MHS112b"), ("MHS114", "MHS112d"), ("MHS115", "MHS112f")):
    for _c, _p in (("a", "b"), ("c", "d"), ("e", "f")):
        PERCENTAGES[f"{_family}{_p}"] = (f"{_family}{_c}", _paired)
COUNTS = (
    "MHS95", "MHS69", "MHS32", "MHS32a", "MHS29", "MHS30", "MHS58", "MHS57a", "MHS01", "MHS23", "MHS61a",
    "MHS110", "MHS111", "MHS111b", "MHS111d", "MHS111f", "MHS112", "MHS112b", "MHS112d", "MHS112f",
    *(f"{f}{c}" for f in ("MHS113", "MHS114", "MHS115") for c in "ace"),
)
#: Every national measure the oracle computes.
IDS = (*COUNTS, *PERCENTAGES)


@dataclass(frozen=True)
class Figure:
    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None


def percent(numerator: int, denominator: int) -> float | None:
    """(n / d) * 100 in double precision, rounded half up to one decimal on the double's
    shortest decimal form (Spark ROUND), None for d = 0. measures.md "Outcomes"."""
    if denominator == 0:
        return None
    return float(Decimal(repr(numerator / denominator * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _params(con: duckdb.DuckDBPyConnection, year: int, month: int, digital: bool) -> None:
    m_start = dt.date(year, month, 1)
    m_end = dt.date(year, month, calendar.monthrange(year, month)[1])
    w_year, w_month = (year, month - 11) if month > 11 else (year - 1, month + 1)
    fy_year = year if month >= 4 else year - 1
    con.execute(
        "CREATE OR REPLACE TABLE params AS SELECT ?::DATE AS m_start, ?::DATE AS m_end, ?::DATE AS w_start, "
        "?::DATE AS fy_start, ?::BOOLEAN AS digital",
        [m_start, m_end, dt.date(w_year, w_month, 1), dt.date(fy_year, 4, 1), digital],
    )


def _raw_view(con: duckdb.DuckDBPyConnection, tid: str, source: str | None, present: list[str]) -> None:
    names = {c.strip().lstrip("\ufeff"): c for c in present}
    for old, new in ALIASES.get(tid, {}).items():
        if old in names and new not in names:
            names[new] = names[old]
    cols = []
    for c in COLUMNS[tid]:
        if c in names and source is not None:
            cols.append(f'CAST("{names[c]}" AS VARCHAR) AS {c}')
        else:
            cols.append(f"CAST(NULL AS VARCHAR) AS {c}")
    if source is None:
        con.execute(f"CREATE OR REPLACE VIEW raw_{tid} AS SELECT {', '.join(cols)}, 0::BIGINT AS _row WHERE FALSE")
    else:
        con.execute(f"CREATE OR REPLACE TABLE raw_{tid} AS SELECT {', '.join(cols)}, "
                    f"row_number() OVER () AS _row FROM {source}")


def _reference(con: duckdb.DuckDBPyConnection) -> None:
    for name, file in (("tools", "assessment_tools.csv"), ("norms", "rcads_norms.csv")):
        path = str(REFERENCE / file).replace("'", "''")
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv('{path}', all_varchar = true, header = true)")


def _figures(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Figure]]:
    con.execute((SQL / "base.sql").read_text(encoding="utf-8"))
    counts: dict[str, dict[str, int]] = {}
    groups = {g for (g,) in con.execute("SELECT DISTINCT g FROM ref").fetchall()}
    for family in FAMILIES:
        for g, mid, v in con.execute((SQL / f"{family}.sql").read_text(encoding="utf-8")).fetchall():
            counts.setdefault(g, {})[mid] = int(v)
            groups.add(g)
    out: dict[str, dict[str, Figure]] = {}
    for g in groups or {""}:
        c = counts.get(g, {})
        figs = {mid: Figure(c.get(mid, 0)) for mid in COUNTS}
        for mid, (num, den) in PERCENTAGES.items():
            n, d = c.get(num, 0), c.get(den, 0)
            figs[mid] = Figure(percent(n, d), n, d)
        out[g] = figs
    return out


def run_frames(tables: Mapping[str, pl.DataFrame], year: int, month: int, *, digital: bool = False
               ) -> dict[str, dict[str, Figure]]:
    """Figures per group for in-memory text tables (table id -> polars frame of text columns)."""
    con = duckdb.connect()
    try:
        _params(con, year, month, digital)
        _reference(con)
        for tid in COLUMNS:
            df = tables.get(tid)
            if df is None or df.height == 0:
                _raw_view(con, tid, None, list(df.columns) if df is not None else [])
                continue
            con.register(f"in_{tid}", df.to_arrow())
            _raw_view(con, tid, f"in_{tid}", list(df.columns))
        return _figures(con)
    finally:
        con.close()


def read_text_table(path: Path) -> pl.DataFrame:
    """A CSV as text columns: UTF-8 (with or without BOM) or Windows-1252 (contract.md)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def run_folder(folder: Path, year: int, month: int, *, digital: bool = False) -> dict[str, dict[str, Figure]]:
    """Figures for an extract folder of ``<table id>.csv`` files, every column read as text."""
    tables = {tid: read_text_table(folder / f"{tid}.csv") for tid in COLUMNS if (folder / f"{tid}.csv").exists()}
    return run_frames(tables, year, month, digital=digital)
