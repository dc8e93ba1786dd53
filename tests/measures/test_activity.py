"""One-month activity measures on hand-made extracts (M = 2024-09: 2024-09-01..2024-09-30)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.measures import activity
from recon.measures.catalog import catalog
from recon.measures.common import UNKNOWN_TEAM
from recon.months import Month
from tests.measures.builders import breakdown_values, contact, person, provider_values, referral, tables

SEP = Month(2024, 9)
CODES = load_codes()


def run(settings: ProviderSettings | None = None, **frames):
    values, details = activity.compute(tables(**frames), SEP, settings or ProviderSettings(), CODES)
    assert details == {}
    return values


def pv(**frames) -> dict:
    return provider_values(run(**frames))


# ---------------------------------------------------------------------------------------------
# MHS32 / MHS32a


def test_mhs32_referrals_received_in_month_boundaries():
    # Received 08-31 (no), 09-01 (yes), 09-30 (yes), 10-01 (no) -> MHS32 = 2.
    frames = dict(
        people=[person("P", "2010-01-01")],
        referrals=[
            referral("R1", "P", "2024-08-31"),
            referral("R2", "P", "2024-09-01"),
            referral("R3", "P", "2024-09-30"),
            referral("R4", "P", "2024-10-01"),
        ],
    )
    assert pv(**frames)["MHS32"] == 2


def test_mhs32a_age_18_included_19_excluded():
    # Referred 2024-09-10. A born 2006-09-10: 18 on the day -> in. B born 2005-09-11: 18 (19 next
    # day) -> in. C born 2005-09-10: 19 -> out. D born 1970: adult -> out. E no birth date -> out.
    # MHS32 counts all five; MHS32a = 2.
    frames = dict(
        people=[
            person("A", "2006-09-10"), person("B", "2005-09-11"), person("C", "2005-09-10"),
            person("D", "1970-01-01"), {"LocalPatientId": "E"},
        ],
        referrals=[referral(f"R{p}", p, "2024-09-10") for p in "ABCDE"],
    )
    values = run(**frames)
    assert provider_values(values)["MHS32"] == 5
    assert provider_values(values)["MHS32a"] == 2
    assert breakdown_values(values, "MHS32a", "Age band") == {"18": 2}


def test_mhs32_duplicate_referral_rows_count_once_and_break_down_by_team():
    frames = dict(
        people=[person("P", "2012-01-01")],
        referrals=[
            referral("R1", "P", "2024-09-02", UniqCareProfTeamLocalID="T1"),
            referral("R1", "P", "2024-09-02", UniqCareProfTeamLocalID="T1"),
            referral("R2", "P", "2024-09-03"),
        ],
    )
    values = run(**frames)
    assert provider_values(values)["MHS32"] == 2
    assert breakdown_values(values, "MHS32", "Team") == {"T1": 1, UNKNOWN_TEAM: 1}
    # age at referral 12 -> "11 to 14"
    assert breakdown_values(values, "MHS32a", "Age band") == {"11 to 14": 2}


# ---------------------------------------------------------------------------------------------
# MHS29 / MHS30 / MHS58


def test_contacts_by_attendance():
    # In September: 5, 6 (attended), 2, 3, 4, 7 (missed), null and "9" (neither), plus a contact
    # on 2024-08-31 and one on 2024-10-01 outside M.   MHS29 = 8, MHS30 = 2, MHS58 = 4.
    statuses = ["5", "6", "2", "3", "4", "7", None, "9"]
    contacts = [contact(f"C{i}", "R", "2024-09-15", attend=s) for i, s in enumerate(statuses)]
    contacts += [contact("Cb", "R", "2024-08-31"), contact("Ca", "R", "2024-10-01")]
    frames = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-01-01")], contacts=contacts)
    v = pv(**frames)
    assert (v["MHS29"], v["MHS30"], v["MHS58"]) == (8, 2, 4)


def test_contacts_on_month_boundaries_and_any_mechanism():
    # 09-01 and 09-30 count; mechanism does not matter for MHS29/30 (email 05 attended counts).
    contacts = [contact("C1", "R", "2024-09-01", mech="05"), contact("C2", "R", "2024-09-30", mech="98")]
    frames = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-01-01")], contacts=contacts)
    v = pv(**frames)
    assert (v["MHS29"], v["MHS30"], v["MHS58"]) == (2, 2, 0)


def test_duplicate_contact_id_counts_once_with_its_first_status():
    # C1 twice: first row attended (5), second row DNA (3) -> one contact, attended.
    contacts = [contact("C1", "R", "2024-09-05", attend="5"), contact("C1", "R", "2024-09-05", attend="3")]
    frames = dict(referrals=[referral("R", "P", "2024-01-01")], contacts=contacts)
    v = pv(**frames)
    assert (v["MHS29"], v["MHS30"], v["MHS58"]) == (1, 1, 0)


def test_contact_team_falls_back_to_referral_team():
    # C1 has its own team T9; C2 none -> referral team T1; C3's referral is unknown -> UNKNOWN.
    frames = dict(
        referrals=[referral("R", "P", "2024-01-01", UniqCareProfTeamLocalID="T1")],
        contacts=[
            contact("C1", "R", "2024-09-05", UniqCareProfTeamLocalID="T9"),
            contact("C2", "R", "2024-09-06"),
            contact("C3", "R-unknown", "2024-09-07", attend="3"),
        ],
    )
    values = run(**frames)
    assert provider_values(values)["MHS29"] == 3
    assert breakdown_values(values, "MHS29", "Team") == {"T9": 1, "T1": 1, UNKNOWN_TEAM: 1}
    assert breakdown_values(values, "MHS30", "Team") == {"T9": 1, "T1": 1}
    assert breakdown_values(values, "MHS58", "Team") == {UNKNOWN_TEAM: 1}


# ---------------------------------------------------------------------------------------------
# MHS57a


def test_mhs57a_discharges_in_month():
    # A: discharged 09-30 (M.end) -> counts. B: discharged 08-31 -> no. C: 10-01 -> no.
    # D: two referrals discharged in M -> one person. E: 19 at referral -> no. F: 18 -> counts.
    # MHS57a = 3 (A, D, F).
    frames = dict(
        people=[
            person("A", "2012-01-01"), person("B", "2012-01-01"), person("C", "2012-01-01"),
            person("D", "2012-01-01"), person("E", "2005-01-01"), person("F", "2006-01-01"),
        ],
        referrals=[
            referral("RA", "A", "2024-01-01", "2024-09-30"),
            referral("RB", "B", "2024-01-01", "2024-08-31"),
            referral("RC", "C", "2024-01-01", "2024-10-01"),
            referral("RD1", "D", "2024-01-01", "2024-09-01"),
            referral("RD2", "D", "2024-02-01", "2024-09-15"),
            referral("RE", "E", "2024-01-01", "2024-09-15"),  # 19 at referral
            referral("RF", "F", "2024-01-01", "2024-09-15"),  # 18 at referral
        ],
    )
    values = run(**frames)
    assert provider_values(values)["MHS57a"] == 3
    assert breakdown_values(values, "MHS57a", "Age band") == {"11 to 14": 2, "18": 1}


# ---------------------------------------------------------------------------------------------
# MHS01 / MHS23


def test_open_at_month_end():
    # R1 open (no discharge). R2 discharged on M.end -> NOT open at M.end (open needs discharge > d).
    # R3 discharged 10-01 -> open. R4 received on M.end -> open. R5 received 10-01 -> not open.
    # P1 holds R1 and R3 -> one person. MHS23 = 3 (R1, R3, R4); MHS01 = 2 (P1, P3).
    frames = dict(
        referrals=[
            referral("R1", "P1", "2024-01-01"),
            referral("R2", "P2", "2024-01-01", "2024-09-30"),
            referral("R3", "P1", "2024-01-01", "2024-10-01"),
            referral("R4", "P3", "2024-09-30"),
            referral("R5", "P4", "2024-10-01"),
        ],
    )
    v = pv(**frames)
    assert (v["MHS23"], v["MHS01"]) == (3, 2)
    assert v["MHS57a"] == 0  # P2 has no birth date in the MPI: age unknown


def test_discharged_on_month_end_counts_in_mhs57a_not_in_mhs01():
    frames = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-01-01", "2024-09-30")])
    v = pv(**frames)
    assert (v["MHS57a"], v["MHS01"], v["MHS23"]) == (1, 0, 0)


def test_person_key_nhs_for_people_measures():
    # Two local ids with the same valid NHS number, each with an open referral: MHS01 2 -> 1.
    frames = dict(
        people=[person("L1", "2012-01-01", NHSNumber="9434765919"), person("L2", "2012-01-01", NHSNumber="9434765919")],
        referrals=[referral("R1", "L1", "2024-01-01"), referral("R2", "L2", "2024-01-01")],
    )
    assert pv(**frames)["MHS01"] == 2
    assert provider_values(run(ProviderSettings(person_key="nhs"), **frames))["MHS01"] == 1


# ---------------------------------------------------------------------------------------------
# MHS61a


def mhs61a_case(received: str, birth: str = "2012-01-01", disch: str | None = None, contacts=None) -> dict:
    return dict(
        people=[person("P", birth)],
        referrals=[referral("R", "P", received, disch)],
        contacts=contacts if contacts is not None else [contact("C1", "R", "2024-09-10")],
    )


def test_mhs61a_first_attended_contact_in_month():
    assert pv(**mhs61a_case("2024-08-01"))["MHS61a"] == 1


def test_mhs61a_first_attended_contact_before_month_excluded():
    # An attended contact on 2024-08-31 was the first: the September one is not the first.
    case = mhs61a_case("2024-08-01", contacts=[contact("C0", "R", "2024-08-31"), contact("C1", "R", "2024-09-10")])
    assert pv(**case)["MHS61a"] == 0


def test_mhs61a_missed_contacts_before_month_do_not_count_as_first_and_any_mechanism_counts():
    # A DNA (3) in August is not attended; the first attended is by email (05) in September -> 1.
    case = mhs61a_case(
        "2024-08-01",
        contacts=[contact("C0", "R", "2024-08-20", attend="3"), contact("C1", "R", "2024-09-10", mech="05")],
    )
    assert pv(**case)["MHS61a"] == 1


@pytest.mark.parametrize(("received", "expected"), [("2016-01-01", 1), ("2015-12-31", 0)])
def test_mhs61a_received_from_2016(received, expected):
    assert pv(**mhs61a_case(received))["MHS61a"] == expected


@pytest.mark.parametrize(("birth", "expected"), [("2006-01-01", 1), ("2005-01-01", 0)])
def test_mhs61a_age_18_included_19_excluded(birth, expected):
    # referred 2024-08-01: born 2006-01-01 -> 18; born 2005-01-01 -> 19
    assert pv(**mhs61a_case("2024-08-01", birth=birth))["MHS61a"] == expected


@pytest.mark.parametrize(("disch", "expected"), [("2024-09-01", 1), ("2024-08-31", 0)])
def test_mhs61a_referral_open_during_month(disch, expected):
    # discharged on M.start is still open during M; discharged the day before is not
    assert pv(**mhs61a_case("2024-08-01", disch=disch))["MHS61a"] == expected


def test_empty_extract_gives_zeros():
    assert pv() == dict.fromkeys((m.id for m in catalog().family("activity")), 0)


# ---------------------------------------------------------------------------------------------
# The plans against a plain-Python reading of measures.md on random small extracts


def py_age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def reference(people, referrals, contacts) -> dict:
    """The activity measures for SEP row by row. A repeated key counts once, first row in
    file order (a repeated contact id: its first row dated in M)."""
    start, end = SEP.start, SEP.end
    d = dt.date.fromisoformat
    birth: dict = {}
    for p in people:
        birth.setdefault(p["LocalPatientId"], d(p["PersonBirthDate"]))
    refs: dict = {}
    for r in referrals:
        refs.setdefault(r["ServiceRequestId"], r)

    def age(r):
        b = birth.get(r["LocalPatientId"])
        return None if b is None else py_age(b, d(r["ReferralRequestReceivedDate"]))

    def aged_0_18(r):
        a = age(r)
        return a is not None and 0 <= a <= 18

    def disch(r):
        return d(r["ServDischDate"]) if r["ServDischDate"] else None

    month_contacts: dict = {}
    for c in contacts:
        if start <= d(c["CareContDate"]) <= end:
            month_contacts.setdefault(c["CareContactId"], c)
    open_end = [r for r in refs.values() if d(r["ReferralRequestReceivedDate"]) <= end and (disch(r) is None or disch(r) > end)]
    attended_in_m = {c["ServiceRequestId"] for c in month_contacts.values() if c["AttendStatus"] in ("5", "6")}
    attended_before = {c["ServiceRequestId"] for c in contacts if c["AttendStatus"] in ("5", "6") and d(c["CareContDate"]) < start}
    new = [r for r in refs.values() if start <= d(r["ReferralRequestReceivedDate"]) <= end]
    return {
        "MHS32": len(new),
        "MHS32a": sum(1 for r in new if aged_0_18(r)),
        "MHS29": len(month_contacts),
        "MHS30": sum(1 for c in month_contacts.values() if c["AttendStatus"] in ("5", "6")),
        "MHS58": sum(1 for c in month_contacts.values() if c["AttendStatus"] in ("2", "3", "4", "7")),
        "MHS57a": len({r["LocalPatientId"] for r in refs.values() if disch(r) and start <= disch(r) <= end and aged_0_18(r)}),
        "MHS01": len({r["LocalPatientId"] for r in open_end}),
        "MHS23": len(open_end),
        "MHS61a": sum(
            1 for sid, r in refs.items()
            if aged_0_18(r) and d(r["ReferralRequestReceivedDate"]) >= dt.date(2016, 1, 1)
            and d(r["ReferralRequestReceivedDate"]) <= end and (disch(r) is None or disch(r) >= start)
            and sid in attended_in_m and sid not in attended_before
        ),
    }


DAY = st.dates(dt.date(2024, 7, 20), dt.date(2024, 10, 10))


@st.composite
def activity_case(draw):
    people = [
        person(f"P{i}", draw(st.dates(dt.date(2004, 1, 1), dt.date(2012, 12, 31))).isoformat())
        for i in range(draw(st.integers(0, 4)))
    ]
    referrals = []
    for _ in range(draw(st.integers(0, 6))):
        received = draw(st.dates(dt.date(2015, 12, 1), dt.date(2024, 10, 5)))
        out = draw(st.none() | st.dates(received, dt.date(2024, 11, 30)))
        referrals.append(
            referral(f"R{draw(st.integers(0, 5))}", f"P{draw(st.integers(0, 4))}", received.isoformat(),
                     out.isoformat() if out else None)
        )
    contacts = [
        contact(f"C{draw(st.integers(0, 10))}", f"R{draw(st.integers(0, 5))}", draw(DAY).isoformat(),
                attend=draw(st.sampled_from(["2", "3", "4", "5", "6", "7"])))
        for _ in range(draw(st.integers(0, 12)))
    ]
    return people, referrals, contacts


@settings(max_examples=80, deadline=None)
@given(case=activity_case())
def test_activity_matches_a_plain_reading_of_the_spec(case):
    people, referrals, contacts = case
    assert pv(people=people, referrals=referrals, contacts=contacts) == reference(people, referrals, contacts)
