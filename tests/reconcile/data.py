"""A tiny, valid provider extract (RXX, September 2024) as CSV text, and ways to change it."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from recon.tables import TABLES


def nhs(first9: str) -> str:
    """A valid NHS number from nine digits (modulus 11)."""
    total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    assert check != 10
    return first9 + str(check)


PEOPLE = [
    {"LocalPatientId": "P1", "NHSNumber": nhs("943476591"), "PersonBirthDate": "2012-03-01", "Gender": "1",
     "EthnicCategory": "A", "Postcode": "LS1 1AA", "OrgIDProv": "RXX"},
    {"LocalPatientId": "P2", "NHSNumber": nhs("401023213"), "PersonBirthDate": "2010-06-15", "Gender": "2",
     "EthnicCategory": "B", "Postcode": "LS2 2BB", "OrgIDProv": "RXX"},
    {"LocalPatientId": "P3", "NHSNumber": nhs("485777345"), "PersonBirthDate": "2009-01-20", "Gender": "2",
     "EthnicCategory": "A", "Postcode": "LS3 3CC", "OrgIDProv": "RXX"},
]
REFERRALS = [
    {"ServiceRequestId": "R1", "LocalPatientId": "P1", "OrgIDProv": "RXX", "ReferralRequestReceivedDate": "2024-06-01",
     "SourceOfReferralMH": "A1", "PrimReasonReferralMH": "10", "ClinRespPriorityType": "3",
     "UniqCareProfTeamLocalID": "T1", "ServTeamType": "C01"},
    {"ServiceRequestId": "R2", "LocalPatientId": "P2", "OrgIDProv": "RXX", "ReferralRequestReceivedDate": "2024-09-03",
     "SourceOfReferralMH": "A1", "PrimReasonReferralMH": "10", "ClinRespPriorityType": "3",
     "UniqCareProfTeamLocalID": "T2", "ServTeamType": "C01"},
    {"ServiceRequestId": "R3", "LocalPatientId": "P3", "OrgIDProv": "RXX", "ReferralRequestReceivedDate": "2024-08-01",
     "SourceOfReferralMH": "A1", "PrimReasonReferralMH": "10", "ClinRespPriorityType": "3",
     "UniqCareProfTeamLocalID": "T2", "ServTeamType": "C01"},
]


def _contact(cid: str, rid: str, day: str, attend: str = "5", mech: str = "01", team: str = "T1") -> dict[str, str]:
    return {"CareContactId": cid, "ServiceRequestId": rid, "CareContDate": day, "CareContTime": "10:00:00",
            "AttendStatus": attend, "ConsMechanismMH": mech, "ClinContDurOfCareCont": "30",
            "UniqCareProfTeamLocalID": team}


CONTACTS = [
    _contact("C1", "R1", "2024-07-01"),
    _contact("C2", "R1", "2024-09-10"),
    _contact("C3", "R2", "2024-09-05", mech="02", team="T2"),
    _contact("C4", "R2", "2024-09-20", attend="3", team="T2"),
    _contact("C5", "R3", "2024-09-12", team="T2"),
]
INDIRECT: list[dict[str, str]] = [
    {"ServiceRequestId": "R3", "IndirectActDate": "2024-09-13", "IndirectActTime": "09:00:00",
     "DurationIndirectAct": "15"},
]


def base() -> dict[str, list[dict[str, str]]]:
    return {
        "MHS001MPI": [dict(r) for r in PEOPLE],
        "MHS101Referral": [dict(r) for r in REFERRALS],
        "MHS201CareContact": [dict(r) for r in CONTACTS],
        "MHS204IndirectActivity": [dict(r) for r in INDIRECT],
    }


def text_frame(tid: str, rows: list[dict[str, str]]) -> pl.DataFrame:
    names = [c for c in TABLES[tid].names if any(c in r for r in rows)] or list(TABLES[tid].names)
    return pl.DataFrame([{c: r.get(c) for c in names} for r in rows], schema=dict.fromkeys(names, pl.String))


def write_extract(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for tid, rows in tables.items():
        text_frame(tid, rows).write_csv(folder / f"{tid}.csv")
    return folder
