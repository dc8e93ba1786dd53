"""Seeded generator of small MHSDS extracts dense in the edges of measures.md (issue 11).

Each extract is a few people around one reporting month M: 18th birthdays inside M and at its
end, activity dated before its referral's month or after its discharge month, second contacts
across a financial-year boundary, duplicated indirect rows, team rows of MHS101 and
MHS102OtherServiceType (excluded, rejected before or after M.end), residence outside England,
scores at float32 thresholds, odd score texts (``1e1``, `` 7 ``, ``1_0``, ``inf``) and two SNOMED
codes of one item. Every id of extract ``n`` starts ``X<n>:`` and every team is ``X<n>``, so many
extracts stack into one file and each one's figures stay apart (the oracle groups by the id
prefix, recon's Team breakdown by the team).

Rows are plain text, as a CSV holds them: ``Rows`` maps a table id to a list of dicts.
"""

from __future__ import annotations

import datetime as dt
import random

from recon.months import Month

Rows = dict[str, list[dict[str, str | None]]]

CGAS, ORS = "860591000000104", "716613004"
GBO = ("1034351000000101", "1034361000000103")
RCADS_SELF = ("718655001", "958231000000102")  # one item (Depression), two codes
RCADS_PARENT = ("718665007", "958301000000102")
HONOSCA_SELF_1, SDQ_PROSOCIAL, CHIESQ = "989621000000101", "718147007", "1035681000000101"
SCORES: dict[str, tuple[str, ...]] = {
    CGAS: ("40", "51", "50", "61", "1e2", " 45 ", "0", "39", "50.0"),
    ORS: ("10.2", "16.8", "10.1", "20", "26.6", "40", "41"),
    GBO[0]: ("1.2", "4.2", "1.3", "4.3", "1e1", " 7 ", "1_0", "inf", "nan", "10.0000001", "3", "6", "11", "-1"),
    GBO[1]: ("1", "4", "2.5", "5.5", "0", "10"),
    RCADS_SELF[0]: ("5", "10", "20", "25", "30", "31"),
    RCADS_SELF[1]: ("5", "10", "20", "28"),
    RCADS_PARENT[0]: ("3", "10", "25", "5"),
    RCADS_PARENT[1]: ("8", "20"),
    HONOSCA_SELF_1: ("0", "1", "2", "4", "5"),
    SDQ_PROSOCIAL: ("2", "6", "9"),
    CHIESQ: ("1", "3"),
    "12345": ("5",),
}
CODES = tuple(SCORES)
#: (code, first, last) at a threshold in float32: ORS 10.2 -> 16.8 is 6.5999994 < 6.6 (no
#: change); GBO 1.2 -> 4.2 is 2.9999998 < 3, 1.3 -> 4.3 is 3.0000002 >= 3; RCADS T-scores.
EDGE_PAIRS = (
    (ORS, "10.2", "16.8"), (ORS, "16.8", "10.2"), (ORS, "10.1", "16.8"), (GBO[0], "1.2", "4.2"),
    (GBO[0], "1.3", "4.3"), (GBO[1], "4.2", "1.2"), (CGAS, "40", "51"), (CGAS, "50", "39"),
    (RCADS_SELF[0], "20", "10"), (RCADS_PARENT[1], "25", "5"), (HONOSCA_SELF_1, "4", "1"),
)
TEAM_TYPES = (None, None, None, "", "C01", "C01", "E01", "A14", "B02", "C05")
LA = (None, None, None, None, "", "E06000001", "E08000025", "E09000002", "W06000015", "S12000033")


def _iso(d: dt.date) -> str:
    return d.isoformat()


def _day(rng: random.Random, start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(days, 0)))


def extract(n: int, month: Month, seed: int) -> Rows:
    """One small extract for reporting month ``month``; ``seed`` fixes it."""
    rng = random.Random(seed)
    x = f"X{n}"
    rows: Rows = {t: [] for t in ("MHS001MPI", "MHS101Referral", "MHS102OtherServiceType", "MHS201CareContact",
                                  "MHS204IndirectActivity", "MHS501HospProvSpell",
                                  "MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct")}
    contacts_n = 0
    for p in range(rng.randint(2, 4)):
        pid = f"{x}:P{p}"
        kind = rng.random()
        if kind < 0.35:  # an 18th birthday within 40 days of M's end
            eighteenth = month.end + dt.timedelta(days=rng.randint(-40, 40))
            birth = eighteenth.replace(year=eighteenth.year - 18) if not (
                eighteenth.month == 2 and eighteenth.day == 29) else dt.date(eighteenth.year - 18, 3, 1)
        elif kind < 0.45:  # 18 or 19 at referral time
            birth = _day(rng, month.start.replace(year=month.start.year - 20), 700)
        else:
            birth = _day(rng, month.start.replace(year=month.start.year - 17), 365 * 14)
        rows["MHS001MPI"].append({"LocalPatientId": pid, "PersonBirthDate": _iso(birth),
                                  "Gender": rng.choice(("1", "2", "2", "9")), "LADistrictAuth": rng.choice(LA)})
        for r in range(rng.randint(1, 2)):
            sid = f"{x}:R{p}{r}"
            received = _day(rng, month.shift(-rng.choice((0, 0, 1, 2, 5, 11, 13))).start, 30)
            if rng.random() < 0.05:
                received = _day(rng, month.end + dt.timedelta(days=1), 20)  # after M
            u = rng.random()
            if u < 0.3:
                disch = None
            elif u < 0.85:
                disch = _day(rng, month.start, (month.end - month.start).days)
            else:
                disch = _day(rng, received, 200)
            if disch is not None and disch < received:
                disch = received
            rejection = None
            v = rng.random()
            if v < 0.1:
                rejection = _day(rng, received, max((month.end - received).days, 0))
            elif v < 0.15:
                rejection = month.end + dt.timedelta(days=rng.randint(1, 10))
            rows["MHS101Referral"].append({
                "ServiceRequestId": sid, "LocalPatientId": pid, "ReferralRequestReceivedDate": _iso(received),
                "ServDischDate": _iso(disch) if disch else None,
                "ReferRejectionDate": _iso(rejection) if rejection else None,
                "UniqCareProfTeamLocalID": x, "ServTeamType": rng.choice(TEAM_TYPES),
            })
            for o in range(rng.choice((0, 0, 0, 1, 2))):
                rej = month.end + dt.timedelta(days=rng.randint(-20, 10)) if rng.random() < 0.3 else None
                rows["MHS102OtherServiceType"].append({
                    "ServiceRequestId": sid, "UniqOtherCareProfTeamLocalID": f"{x}:T{o}",
                    "ServTeamTypeRefToMH": rng.choice(TEAM_TYPES), "ReferRejectionDate": _iso(rej) if rej else None,
                })
            if rng.random() < 0.05:
                rows["MHS501HospProvSpell"].append({"HospProvSpellID": f"{x}:H{p}{r}", "ServiceRequestId": sid})
            # activity from a little before the referral's month to a little after M
            last = min(disch or month.end, month.end) + dt.timedelta(days=rng.choice((0, 0, 10)))
            first = received.replace(day=1) - dt.timedelta(days=rng.choice((0, 0, 0, 15)))
            span = max((last - first).days, 0)
            cids = []
            if disch is not None and rng.random() < 0.6:  # a likely cohort referral: two early contacts
                for _ in range(2):
                    contacts_n += 1
                    cids.append(f"{x}:C{contacts_n}")
                    rows["MHS201CareContact"].append({
                        "CareContactId": cids[-1], "ServiceRequestId": sid,
                        "CareContDate": _iso(_day(rng, received, max((disch - received).days // 3, 0))),
                        "CareContTime": None, "AttendStatus": "5", "ConsMechanismMH": rng.choice(("01", "09")),
                        "UniqCareProfTeamLocalID": x,
                    })
                if rng.random() < 0.6:  # a pair at a float32 threshold, after both contacts
                    code, first_score, last_score = rng.choice(EDGE_PAIRS)
                    for when, score in ((disch - dt.timedelta(days=rng.randint(0, 3)), last_score),
                                        (received + dt.timedelta(days=(disch - received).days // 2), first_score)):
                        rows["MHS606CodedScoreAssessmentRefer"].append({
                            "ServiceRequestId": sid, "CodedAssToolType": code,
                            "AssToolCompTimestamp": f"{_iso(when)}T11:00:00", "PersScore": score})
            for _ in range(rng.choice((0, 1, 2, 2, 3, 4, 5))):
                contacts_n += 1
                cid = f"{x}:C{contacts_n}"
                cids.append(cid)
                rows["MHS201CareContact"].append({
                    "CareContactId": cid, "ServiceRequestId": sid, "CareContDate": _iso(_day(rng, first, span)),
                    "CareContTime": rng.choice((None, "09:00:00", "14:30:00")),
                    "AttendStatus": rng.choice(("5", "5", "6", "3", "2", "7", "4")),
                    "ConsMechanismMH": rng.choice(("01", "01", "02", "04", "11", "05", "09", "10", "13", "98")),
                    "UniqCareProfTeamLocalID": rng.choice((None, x)),
                })
            for _ in range(rng.choice((0, 0, 1, 2, 3))):
                row = {"ServiceRequestId": sid, "IndirectActDate": _iso(_day(rng, first, span)),
                       "IndirectActTime": rng.choice((None, "10:00:00"))}
                rows["MHS204IndirectActivity"].append(row)
                if rng.random() < 0.3:  # a duplicated indirect row
                    rows["MHS204IndirectActivity"].append(dict(row))
            # assessments, mostly for referrals discharged in M
            if disch is not None and rng.random() < 0.9:
                chosen = rng.sample(CODES, k=rng.choice((1, 1, 2, 3)))  # few items: pairs are likely
                for _ in range(rng.choice((1, 2, 3, 4, 6, 8))):
                    code = rng.choice(chosen)
                    when = _day(rng, received - dt.timedelta(days=10), max((disch - received).days + 15, 0))
                    rows["MHS606CodedScoreAssessmentRefer"].append({
                        "ServiceRequestId": sid, "CodedAssToolType": code,
                        "AssToolCompTimestamp": f"{_iso(when)}T{rng.choice(('09', '12', '16'))}:00:00",
                        "PersScore": rng.choice(SCORES[code]),
                    })
                for cid in rng.sample(cids, k=min(len(cids), rng.choice((0, 1, 2)))):
                    code = rng.choice(CODES)
                    rows["MHS607CodedScoreAssessmentAct"].append(
                        {"CareContactId": cid, "CodedAssToolType": code, "PersScore": rng.choice(SCORES[code])})
    return rows


def stack(extracts: list[Rows]) -> Rows:
    """Many extracts as one (their ids are already apart)."""
    out: Rows = {}
    for e in extracts:
        for tid, rs in e.items():
            out.setdefault(tid, []).extend(rs)
    return out
