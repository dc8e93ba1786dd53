"""Seeded generator of small extracts dense in the edge cases of waits.md section 14.

Each extract is one to three people with a few referrals, team rows, contacts, indirect activity,
assessments, coded procedures and care plans whose dates cluster on the boundaries the rules
turn on: M.end and the five days before it, Q.start, the received month, April 2024, October
2021, 2016, 18th birthdays, gaps of 5 and 6 days between referrals, discharges before receipt.
Extracts of one batch share a month, provider and SNOMED release; their identifiers carry the
extract's prefix so many extracts run as one.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import polars as pl

from recon.months import Month
from recon.snomed import CONCEPT_SCHEMA, REFSET_SCHEMA, SnomedRelease
from recon.tables import TABLES

REFSETS = ("1853441000000109", "1853461000000105", "1853481000000101", "1853451000000107")
CONCEPTS = ("100001", "100002", "100003", "100004", "1085671000000109", "2386021000000108", "11429006", "100009")
TEAM_TYPES = (None, "A05", "A06", "A06", "A12", "C03", "C10", "C10", "A18", "A02", "A03", "A25", "C05", "A14", "F01", "E02",
              "A08")
TOOLS = ("860591000000104", "860591000000104", " 0860591000000104.0 ", "987191000000101", "1035681000000101", "abc",
         "86059100000010e4", "860591000000104e0", "123")


def _day(rng: random.Random, month: Month, around: dt.date | None = None) -> dt.date:
    """A date on or near a boundary the rules turn on."""
    m_end, q_start = month.end, month.shift(-2).start
    anchors = [m_end, m_end - dt.timedelta(days=5), m_end - dt.timedelta(days=6), m_end - dt.timedelta(days=10),
               month.start, q_start, q_start - dt.timedelta(days=1), dt.date(2024, 4, 1), dt.date(2024, 3, 31),
               dt.date(2021, 9, 30), dt.date(2021, 10, 1), m_end - dt.timedelta(days=364), m_end - dt.timedelta(days=365),
               m_end - dt.timedelta(days=729)]
    if around is not None and rng.random() < 0.6:
        return around + dt.timedelta(days=rng.choice((-10, -3, -1, 0, 1, 2, 5, 6, 10, 27, 28, 29, 40, 90, 200)))
    if rng.random() < 0.5:
        return rng.choice(anchors) + dt.timedelta(days=rng.choice((0, 0, 0, -1, 1, 2)))
    return m_end - dt.timedelta(days=rng.randint(0, 200) if rng.random() < 0.8 else rng.randint(0, 900))


def _maybe(rng: random.Random, p: float, value: Any) -> Any:
    return value if rng.random() < p else None


def extract(rng: random.Random, k: int, month: Month) -> dict[str, list[dict[str, Any]]]:
    """One small extract; identifiers prefixed ``x{k}_``."""
    x = f"x{k}_"
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for p in range(rng.randint(1, 3)):
        pid = f"{x}P{p}"
        first = _day(rng, month)
        age = rng.choice((4, 12, 15, 17, 17, 18, 18, 35, 60))
        birth = first.replace(year=first.year - age, day=1) + dt.timedelta(days=rng.choice((-1, 0, 0, 1, 15)))
        out["MHS001MPI"].append({"LocalPatientId": pid, "PersonBirthDate": birth,
                                 "LADistrictAuth": rng.choice((None, None, None, "E08000025", "E06000001", "", "W06000015", "e1"))})
        prev_end: dt.date | None = None
        for r in range(rng.randint(1, 3)):
            sid = f"{x}R{p}{r}"
            if prev_end is not None and rng.random() < 0.5:
                recv = prev_end + dt.timedelta(days=rng.choice((0, 4, 5, 6, 7)))
            else:
                recv = first if r == 0 else _day(rng, month, first)
            if rng.random() < 0.03:
                recv = dt.date(2015, 12, 31)
            disch = _maybe(rng, 0.5, _day(rng, month, recv))
            prev_end = disch
            out["MHS101Referral"].append({
                "ServiceRequestId": sid, "LocalPatientId": pid, "ReferralRequestReceivedDate": recv, "ServDischDate": disch,
                "ReferRejectionDate": _maybe(rng, 0.15, _day(rng, month, recv)),
                "ReferRejectReason": _maybe(rng, 0.5, "02"), "ReferClosReason": _maybe(rng, 0.5, "01"),
                "ClinRespPriorityType": rng.choice((None, "1", "2", "3", "4", " 3")),
                "PrimReasonReferralMH": rng.choice((None, None, "01", "1", "02", "12")),
                "ServTeamType": rng.choice(TEAM_TYPES), "UniqCareProfTeamLocalID": rng.choice((None, "T1", "T2")),
            })
            for t in range(rng.choice((0, 0, 1, 1, 2))):
                out["MHS102OtherServiceType"].append({
                    "ServiceRequestId": sid, "UniqOtherCareProfTeamLocalID": rng.choice(("T1", "T2", "T3")) + str(t),
                    "ServTeamTypeRefToMH": rng.choice(TEAM_TYPES),
                    "ReferClosureDate": _maybe(rng, 0.3, _day(rng, month, recv)), "ReferClosReason": _maybe(rng, 0.5, "01"),
                    "ReferRejectionDate": _maybe(rng, 0.2, _day(rng, month, recv)), "ReferRejectReason": _maybe(rng, 0.5, "02"),
                })
            if rng.random() < 0.04:
                out["MHS501HospProvSpell"].append({"HospProvSpellID": f"{sid}H", "ServiceRequestId": sid})
            for c in range(rng.choice((0, 1, 2, 2, 3, 4))):
                cid = f"{sid}C{c}"
                date = _day(rng, month, recv)
                out["MHS201CareContact"].append({
                    "CareContactId": cid, "ServiceRequestId": sid, "CareContDate": date,
                    "AttendStatus": rng.choice(("5", "6", "3", "5", "05")),
                    "ConsMechanismMH": rng.choice(("01", "1", "02", "05", "09", "11", "98", None)),
                })
                if rng.random() < 0.45:
                    out["MHS202CareActivity"].append({"CareActId": f"{cid}A", "CareContactId": cid,
                                                      "Procedure": rng.choice(CONCEPTS) + rng.choice(("", ":123", ""))})
                if rng.random() < 0.25:
                    via = rng.random() < 0.3 and bool(out["MHS202CareActivity"])
                    act = out["MHS202CareActivity"][-1]["CareActId"] if via else None
                    out["MHS607CodedScoreAssessmentAct"].append({
                        "CareContactId": None if via else cid, "CareActId": act,
                        "CodedAssToolType": rng.choice(TOOLS), "PersScore": "1"})
            for i in range(rng.choice((0, 0, 1, 2))):
                out["MHS204IndirectActivity"].append({
                    "ServiceRequestId": sid, "IndirectActDate": _day(rng, month, recv),
                    "IndirectActTime": dt.time(9, i), "IndActProcedure": _maybe(rng, 0.4, rng.choice(CONCEPTS))})
            if rng.random() < 0.6:
                stamp = dt.datetime.combine(_day(rng, month, recv), dt.time(10, 0))
                out["MHS606CodedScoreAssessmentRefer"].append({
                    "ServiceRequestId": sid, "CodedAssToolType": rng.choice(TOOLS), "AssToolCompTimestamp": stamp,
                    "PersScore": rng.choice(("5", "abc"))})
        if rng.random() < 0.8:
            created = _maybe(rng, 0.8, _day(rng, month, first))
            updated = _maybe(rng, 0.8, (created or first) + dt.timedelta(days=rng.choice((-20, 0, 3, 20, 60))))
            plan = f"{pid}CP"
            out["MHS008CarePlanType"].append({"CarePlanID": plan, "LocalPatientId": pid, "CarePlanCreatDate": created,
                                              "CarePlanLastUpdateDate": updated})
            for _ in range(rng.choice((0, 1, 1, 2))):
                agreed = None if rng.random() < 0.2 else _day(rng, month, updated or first)
                out["MHS009CarePlanAgreement"].append({"CarePlanID": plan, "CarePlanAgreedDate": agreed})
    return out


def release(rng: random.Random) -> SnomedRelease:
    """A made-up refset release (not real SNOMED CT content) with dated rows, gaps and ties."""
    refset: list[tuple[str, str, dt.date, int]] = []
    concepts: list[tuple[str, dt.date, int]] = []
    for c in CONCEPTS:
        if rng.random() < 0.1:
            continue  # no concept row: never a member in R2+
        concepts.append((c, dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 1800)), 1))
        for _ in range(rng.randint(1, 3)):
            refset.append((rng.choice(REFSETS), c, dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 1900)),
                           rng.choice((1, 1, 0))))
    ref = pl.DataFrame(refset, schema=REFSET_SCHEMA, orient="row")
    con = pl.DataFrame(concepts, schema=CONCEPT_SCHEMA, orient="row")
    return SnomedRelease(ref, con, "generated")


def batch(seed: int, month: Month, size: int) -> dict[str, pl.DataFrame]:
    """``size`` extracts for ``month`` pooled into one set of canonical tables."""
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for k in range(size):
        for t, r in extract(rng, k, month).items():
            rows[t].extend(r)
    out: dict[str, pl.DataFrame] = {}
    for tid, table in TABLES.items():
        data = {c.name: [r.get(c.name) for r in rows[tid]] for c in table.columns}
        out[tid] = pl.DataFrame(data, schema=table.schema)
    return out
