"""Hand-made canonical frames for measure tests.

``tables(MHS101Referral=[{...}, ...], ...)`` returns every canonical table as a LazyFrame in
canonical types: absent tables are typed empties, absent columns are typed nulls. Rows may be
given as a list of dicts (values in canonical Python types or ISO strings for dates/times) or as
a polars DataFrame. Table ids may also be given by short alias (``referrals``, ``contacts``, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from recon.tables import TABLES, Kind

ALIASES = {
    "people": "MHS001MPI",
    "mpi": "MHS001MPI",
    "referrals": "MHS101Referral",
    "contacts": "MHS201CareContact",
    "indirect": "MHS204IndirectActivity",
    "assess_referral": "MHS606CodedScoreAssessmentRefer",
    "assess_activity": "MHS607CodedScoreAssessmentAct",
    "spells": "MHS501HospProvSpell",
    "teams": "MHS902ServiceTeamDetails",
}


def _value(kind: Kind, v: Any) -> Any:
    if v is None or not isinstance(v, str):
        return v
    if kind is Kind.DATE:
        return dt.date.fromisoformat(v)
    if kind is Kind.TIME:
        return dt.time.fromisoformat(v)
    if kind is Kind.DATETIME:
        return dt.datetime.fromisoformat(v)
    if kind is Kind.INT:
        return int(v)
    return v


def frame(table_id: str, rows: Iterable[Mapping[str, Any]] | pl.DataFrame | None = None) -> pl.DataFrame:
    """One canonical table from rows; unknown column names raise KeyError (typos fail loudly)."""
    table_id = ALIASES.get(table_id, table_id)
    t = TABLES[table_id]
    if rows is None:
        return t.empty()
    if isinstance(rows, pl.DataFrame):
        given = rows
    else:
        rows = list(rows)
        for r in rows:
            for name in r:
                t.column(name)  # KeyError on typo
        given = pl.DataFrame(
            {c.name: [_value(c.kind, r.get(c.name)) for r in rows] for c in t.columns},
            schema=t.schema,
        )
    return given.select(
        [
            given.get_column(c.name).cast(c.kind.dtype).alias(c.name)
            if c.name in given.columns
            else pl.lit(None, dtype=c.kind.dtype).alias(c.name)
            for c in t.columns
        ]
        if given.height
        else [pl.Series(c.name, [], dtype=c.kind.dtype) for c in t.columns]
    )


def frames(**given: Iterable[Mapping[str, Any]] | pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Every canonical table as an eager DataFrame (absent ones empty)."""
    named = {ALIASES.get(k, k): v for k, v in given.items()}
    unknown = set(named) - set(TABLES)
    if unknown:
        raise KeyError(f"unknown table(s): {sorted(unknown)}")
    return {tid: frame(tid, named.get(tid)) for tid in TABLES}


def tables(**given: Iterable[Mapping[str, Any]] | pl.DataFrame) -> dict[str, pl.LazyFrame]:
    """Every canonical table as a LazyFrame (absent ones typed empties)."""
    return {tid: df.lazy() for tid, df in frames(**given).items()}


def person(pid: str, birth: str, **extra: Any) -> dict[str, Any]:
    return {"LocalPatientId": pid, "PersonBirthDate": birth, **extra}


def referral(sid: str, pid: str, received: str, disch: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "ServiceRequestId": sid,
        "LocalPatientId": pid,
        "ReferralRequestReceivedDate": received,
        "ServDischDate": disch,
        **extra,
    }


def contact(
    cid: str, sid: str, date: str, attend: str = "5", mech: str = "01", time: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "CareContactId": cid,
        "ServiceRequestId": sid,
        "CareContDate": date,
        "CareContTime": time,
        "AttendStatus": attend,
        "ConsMechanismMH": mech,
        **extra,
    }


def indirect(sid: str, date: str, time: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"ServiceRequestId": sid, "IndirectActDate": date, "IndirectActTime": time, **extra}


def provider_values(values: Iterable[Any]) -> dict[str, Any]:
    """{id: value} of the provider-level MeasureValues."""
    return {v.id: v.value for v in values if v.breakdown is None}


def breakdown_values(values: Iterable[Any], measure_id: str, breakdown: str) -> dict[str, Any]:
    """{level: value} of one measure's breakdown."""
    return {v.level: v.value for v in values if v.id == measure_id and v.breakdown == breakdown}
