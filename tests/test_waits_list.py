"""The waiting list (recon/waits_list.py) on hand-made tables whose answers were worked out by hand.

Month 2024-09 (M.end 2024-09-30). Bands: days_waiting > 28, > 126, > 364."""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.months import Month
from recon.waits_list import WAITING_SCHEMA, summary_counts, waiting_list

SEP = Month(2024, 9)
D = dt.date


def tables(refs: list[dict], contacts: list[dict] | None = None, indirect: list[dict] | None = None,
           other: list[dict] | None = None, spells: list[str] | None = None) -> dict[str, pl.DataFrame]:
    people = pl.DataFrame({"LocalPatientId": ["P1", "P2", "P3"], "NHSNumber": ["9434765919", None, None],
                           "PersonBirthDate": [D(2012, 3, 1), D(2000, 1, 1), D(2006, 10, 1)]})
    base = {"ServDischDate": None, "ReferRejectionDate": None, "ClinRespPriorityType": "3",
            "UniqCareProfTeamLocalID": "T1", "ServTeamType": "A06"}
    ref = pl.DataFrame([{**base, **r} for r in refs], schema_overrides={
        "ServDischDate": pl.Date, "ReferRejectionDate": pl.Date, "ReferralRequestReceivedDate": pl.Date})
    out = {"MHS001MPI": people, "MHS101Referral": ref}
    if contacts:
        out["MHS201CareContact"] = pl.DataFrame([{"AttendStatus": "5", "ConsMechanismMH": "01", **c} for c in contacts])
    if indirect:
        out["MHS204IndirectActivity"] = pl.DataFrame(indirect)
    if other:
        out["MHS102OtherServiceType"] = pl.DataFrame(other)
    if spells:
        out["MHS501HospProvSpell"] = pl.DataFrame({"HospProvSpellID": ["H1"] * len(spells), "ServiceRequestId": spells})
    return out


def ref(rid: str, person: str, received: dt.date, **kw: object) -> dict:
    return {"ServiceRequestId": rid, "LocalPatientId": person, "ReferralRequestReceivedDate": received, **kw}


def test_child_never_seen_is_waiting_with_bands_and_unseen_flag():
    w = waiting_list(tables([ref("R1", "P1", D(2023, 9, 30)), ref("R2", "P1", D(2024, 9, 2)),
                             ref("R3", "P1", D(2024, 9, 1))]), SEP)
    assert w.schema == WAITING_SCHEMA
    rows = {r["ServiceRequestId"]: r for r in w.iter_rows(named=True)}
    assert [r for r in w["ServiceRequestId"]] == ["R1", "R3", "R2"]  # longest first
    assert (rows["R1"]["days_waiting"], rows["R1"]["over_52_weeks"]) == (366, True)
    assert (rows["R3"]["days_waiting"], rows["R3"]["over_4_weeks"], rows["R3"]["unseen"]) == (29, True, True)
    assert (rows["R2"]["days_waiting"], rows["R2"]["over_4_weeks"], rows["R2"]["unseen"]) == (28, False, False)
    assert rows["R1"]["cohort"] == "CYP" and rows["R1"]["waiting_for"] == "first contact"
    assert summary_counts(w) == {"waiting": 3, "over_4_weeks": 2, "over_18_weeks": 1, "over_52_weeks": 1,
                                 "unseen": 2}


def test_seen_children_and_closed_referrals_are_not_waiting():
    refs = [ref("R1", "P1", D(2024, 6, 1)), ref("R2", "P1", D(2024, 6, 1)), ref("R3", "P1", D(2024, 6, 1)),
            ref("R4", "P1", D(2024, 6, 1), ServDischDate=D(2024, 9, 30)),
            ref("R5", "P1", D(2024, 6, 1), ReferRejectionDate=D(2024, 6, 5)),
            ref("R6", "P1", D(2024, 6, 1), ServDischDate=D(2024, 10, 2)),  # discharged after M: still waiting
            ref("R7", "P1", D(2024, 10, 1)),  # received after M
            ref("R8", "P1", D(2024, 6, 1)), ref("R9", "P1", D(2024, 6, 1), ServTeamType="A02")]
    contacts = [{"CareContactId": "C1", "ServiceRequestId": "R1", "CareContDate": D(2024, 7, 1)},
                {"CareContactId": "C2", "ServiceRequestId": "R2", "CareContDate": D(2024, 7, 1), "AttendStatus": "3"},
                {"CareContactId": "C3", "ServiceRequestId": "R3", "CareContDate": D(2024, 7, 1),
                 "ConsMechanismMH": "09"}]
    indirect = [{"ServiceRequestId": "R8", "IndirectActDate": D(2024, 8, 1)}]
    w = waiting_list(tables(refs, contacts, indirect, spells=None), SEP)
    # R1 seen; R2 did not attend and R3 only texted: still waiting; R8 had indirect activity; R9 crisis
    assert sorted(w["ServiceRequestId"]) == ["R2", "R3", "R6"]
    r3 = w.filter(pl.col("ServiceRequestId") == "R3").row(0, named=True)
    assert r3["last_contact"] == D(2024, 7, 1) and r3["days_since_contact"] == 91 and r3["unseen"]


def test_adults_need_a_community_team_and_wait_for_a_second_contact():
    refs = [ref("R1", "P2", D(2024, 8, 1)), ref("R2", "P2", D(2024, 8, 1), ServTeamType="A18"),
            ref("R3", "P2", D(2024, 8, 1), ServTeamType="A18"), ref("R4", "P2", D(2024, 8, 1))]
    contacts = [{"CareContactId": "C1", "ServiceRequestId": "R1", "CareContDate": D(2024, 9, 20)},
                {"CareContactId": "C2", "ServiceRequestId": "R4", "CareContDate": D(2024, 9, 1)},
                {"CareContactId": "C3", "ServiceRequestId": "R4", "CareContDate": D(2024, 9, 2)}]
    other = [{"ServiceRequestId": "R3", "UniqOtherCareProfTeamLocalID": "T9", "ServTeamTypeRefToMH": "A06"}]
    w = waiting_list(tables(refs, contacts, other=other), SEP, no_contact_days=10)
    got = {r["ServiceRequestId"]: (r["cohort"], r["waiting_for"], r["unseen"]) for r in w.iter_rows(named=True)}
    # R1 seen once: waiting for a second contact, seen 10 days ago (not > 10); R2 A18 only: not CMH;
    # R3 via its MHS102 A06 row; R4 seen twice
    assert got == {"R1": ("CMH", "second contact", False), "R3": ("CMH", "first contact", True)}


def test_age_at_receipt_decides_the_cohort_and_inpatients_are_off_the_list():
    # P3 born 2006-10-01: 17 on 2024-09-30, so CYP; R2 has a hospital spell
    w = waiting_list(tables([ref("R1", "P3", D(2024, 9, 30)), ref("R2", "P3", D(2024, 9, 1))], spells=["R2"]), SEP)
    assert w.select("ServiceRequestId", "cohort", "days_waiting").rows() == [("R1", "CYP", 0)]


def test_family_clock_stops_add_children_seen_but_without_a_clock_stop():
    refs = [ref("R1", "P1", D(2024, 6, 1)), ref("R2", "P1", D(2024, 6, 1))]
    contacts = [{"CareContactId": "C1", "ServiceRequestId": "R1", "CareContDate": D(2024, 7, 1)},
                {"CareContactId": "C2", "ServiceRequestId": "R2", "CareContDate": D(2024, 7, 1)}]
    family = pl.DataFrame({"ServiceRequestId": ["R1", "R2"], "NoClockStop": [True, False]})
    w = waiting_list(tables(refs, contacts), SEP, family=family)
    assert w.select("ServiceRequestId", "waiting_for").rows() == [("R1", "clock stop")]
