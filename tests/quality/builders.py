"""A clean one-month submission (September 2024) on which no national rule fires, and ways to spoil it."""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.months import Month
from recon.quality.codelists import load_vodim_rules
from recon.quality.national import JUDGED, NationalRule, load_national_rules
from recon.quality.values import is_date_item, is_time_item
from recon.quality.view import SubmissionView, view_of_frames

MONTH = Month(2024, 9)
CREATE = dt.date(2024, 10, 5)
DAY = "2024-09-15"
CGAS = "860591000000104"  # Children's Global Assessment Scale, 1-100
SPECIAL = {
    "NHSNumber": "9434765919", "NHSNumberStatus": "01", "OrgIDLocalPatientID": "RXX",
    "PersonBirthDate": "2010-05-01", "Postcode": "LS1 4AP", "LocalPatientID": "P1", "ServiceRequestID": "S1",
    "CareContactID": "C1", "CareActID": "A1", "CarePlanID": "CP1", "HospProvSpellID": "H1",
    "CareProfTeamLocalID": "T1", "OtherCareProfTeamLocalID": "T2", "CodedAssToolType": CGAS, "PersScore": "50",
    "ClinContDurOfCareCont": "30", "ClinContactDurOfCareAct": "30", "DurationIndirectAct": "30",
}


def base_value(table: str, item: str) -> str:
    if item in SPECIAL:
        return SPECIAL[item]
    measure = load_national_rules().config.code_list_items.get(f"{table}.{item}")
    if measure is not None:
        m = load_vodim_rules().by_id[measure]
        return m.valid[0] if m.valid else "A"
    if item.endswith("Timestamp"):
        return f"{DAY} 10:00:00"
    if is_time_item(item):
        return "10:00:00"
    if is_date_item(item):
        return DAY
    return "X1"


def base_row(table: str) -> dict[str, str | None]:
    return {item: base_value(table, item) for item in sorted(load_national_rules().items(table))}


def frames(rows: dict[str, list[dict[str, str | None]]] | None = None) -> dict[str, pl.DataFrame]:
    """Every judged table with its clean row, or the rows given (text columns)."""
    out = {}
    for table in JUDGED:
        got = rows.get(table) if rows is not None and table in rows else [base_row(table)]
        cols = sorted(base_row(table))
        out[table] = pl.DataFrame([{c: r.get(c) for c in cols} for r in got], schema=dict.fromkeys(cols, pl.String))
    return out


def view(tables: dict[str, pl.DataFrame], *, provider: str | None = "RXX") -> SubmissionView:
    return view_of_frames(tables, MONTH, provider=provider, create_date=CREATE)


def rule(code: str) -> NationalRule:
    return load_national_rules().by_code[code]
