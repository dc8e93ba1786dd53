"""MHS95 and MHS69 on hand-made extracts; every expected figure is worked out in a comment.

Reporting month M = 2024-09 unless stated: M.start 2024-09-01, M.end 2024-09-30; the MHS95
12-month window starts 2023-10-01; the financial year is 2024-04-01..2025-03-31.
"""

from __future__ import annotations

import polars as pl
import pytest

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.measures import access
from recon.measures.common import UNKNOWN_TEAM
from recon.months import Month
from recon.nhs_number import valid_expr as valid_nhs_number
from tests.measures.builders import (
    breakdown_values,
    contact,
    indirect,
    person,
    provider_values,
    referral,
    tables,
)

SEP = Month(2024, 9)
CODES = load_codes()


def run(month: Month = SEP, settings: ProviderSettings | None = None, **frames):
    values, details = access.compute(tables(**frames), month, settings or ProviderSettings(), CODES)
    return values, details


def mhs95(**frames) -> int:
    return provider_values(run(**frames)[0])["MHS95"]


def mhs69(month: Month = SEP, **frames) -> int:
    return provider_values(run(month, **frames)[0])["MHS69"]


# ---------------------------------------------------------------------------------------------
# MHS95: ages


def test_mhs95_age_at_referral_17_counts_18_does_not():
    # P17 born 2006-06-01, referred 2024-05-31: 17 at referral; contact 2024-05-31 also 17 -> counts.
    # P18 born 2006-06-01, referred 2024-06-01 (18th birthday): 18 at referral -> excluded.
    frames = dict(
        people=[person("P17", "2006-06-01"), person("P18", "2006-06-01")],
        referrals=[referral("R17", "P17", "2024-05-31"), referral("R18", "P18", "2024-06-01")],
        contacts=[contact("C17", "R17", "2024-05-31"), contact("C18", "R18", "2024-06-01")],
    )
    values, details = run(**frames)
    assert provider_values(values)["MHS95"] == 1
    assert details["mhs95_people"].get_column("LocalPatientId").to_list() == ["P17"]


def test_mhs95_age_at_activity_must_be_under_18_birthday_on_the_day_is_18():
    # Born 2006-09-10; referred at 16 (2023-01-01).
    # A: only contact 2024-09-09 (day before 18th birthday): 17 at activity -> counts.
    # B: only contact 2024-09-10 (18th birthday itself): 18 at activity -> excluded.
    # C: only contact 2024-09-20: 18 -> excluded.   MHS95 = 1 (A only).
    frames = dict(
        people=[person("A", "2006-09-10"), person("B", "2006-09-10"), person("C", "2006-09-10")],
        referrals=[referral("RA", "A", "2023-01-01"), referral("RB", "B", "2023-01-01"), referral("RC", "C", "2023-01-01")],
        contacts=[contact("CA", "RA", "2024-09-09"), contact("CB", "RB", "2024-09-10"), contact("CC", "RC", "2024-09-20")],
    )
    values, details = run(**frames)
    assert provider_values(values)["MHS95"] == 1
    assert details["mhs95_people"].get_column("LocalPatientId").to_list() == ["A"]


def test_mhs95_person_aged_18_at_later_activity_still_counted_by_earlier_one():
    # Born 2006-09-10: contact 2024-01-05 (aged 17) counts even though 2024-09-15 (aged 18) does not.
    frames = dict(
        people=[person("A", "2006-09-10")],
        referrals=[referral("RA", "A", "2023-01-01")],
        contacts=[contact("C1", "RA", "2024-01-05"), contact("C2", "RA", "2024-09-15")],
    )
    values, details = run(**frames)
    assert provider_values(values)["MHS95"] == 1
    assert details["mhs95_people"].get_column("FirstActivityDate").cast(pl.String).to_list() == ["2024-01-05"]


def test_mhs95_unknown_birth_date_or_referral_is_not_counted():
    # P1 has no birth date (age unknown); C2's referral is not in the extract -> 0.
    frames = dict(
        people=[{"LocalPatientId": "P1"}],
        referrals=[referral("R1", "P1", "2024-01-01")],
        contacts=[contact("C1", "R1", "2024-09-01"), contact("C2", "R-missing", "2024-09-01")],
    )
    assert mhs95(**frames) == 0


# ---------------------------------------------------------------------------------------------
# MHS95: window


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2023-10-01", 1),  # first day of the window (first day of the month 11 months before M)
        ("2023-09-30", 0),  # the day before it
        ("2024-09-30", 1),  # M.end
        ("2024-10-01", 0),  # after M
    ],
)
def test_mhs95_twelve_month_window(date, expected):
    frames = dict(
        people=[person("P", "2012-01-01")],
        referrals=[referral("R", "P", "2023-01-01")],
        contacts=[contact("C", "R", date)],
    )
    assert mhs95(**frames) == expected


# ---------------------------------------------------------------------------------------------
# Qualifying activity


@pytest.mark.parametrize(
    ("attend", "mech", "expected"),
    [
        ("5", "01", 1), ("6", "01", 1),  # attended
        ("2", "01", 0), ("3", "01", 0), ("4", "01", 0), ("7", "01", 0),  # missed
        ("5", "02", 1), ("5", "04", 1), ("5", "11", 1),  # telephone, talk type, video
        ("5", "05", 0), ("5", "09", 0), ("5", "12", 0), ("5", "98", 0),  # email, text, board, other
    ],
)
def test_mhs95_qualifying_contact(attend, mech, expected):
    frames = dict(
        people=[person("P", "2012-01-01")],
        referrals=[referral("R", "P", "2023-01-01")],
        contacts=[contact("C", "R", "2024-09-05", attend=attend, mech=mech)],
    )
    assert mhs95(**frames) == expected


@pytest.mark.parametrize(
    ("attend", "mech", "expected"),
    [
        ("3", "05", 1), ("2", "09", 1), ("7", "10", 1), ("4", "13", 1),  # digital: any attendance
        ("3", "01", 0),  # a missed face-to-face contact still does not qualify
        ("5", "12", 0),  # message board is not a digital qualifying mechanism
    ],
)
def test_mhs95_digital_provider(attend, mech, expected):
    frames = dict(
        people=[person("P", "2012-01-01")],
        referrals=[referral("R", "P", "2023-01-01")],
        contacts=[contact("C", "R", "2024-09-05", attend=attend, mech=mech)],
    )
    values, _ = run(settings=ProviderSettings(digital=True), **frames)
    assert provider_values(values)["MHS95"] == expected


def test_mhs95_indirect_activity_qualifies():
    # No care contact at all; one indirect activity in the window -> 1.
    frames = dict(
        people=[person("P", "2012-01-01")],
        referrals=[referral("R", "P", "2023-01-01")],
        indirect=[indirect("R", "2024-02-01", "09:00")],
    )
    assert mhs95(**frames) == 1


# ---------------------------------------------------------------------------------------------
# MHS95: people, teams, age bands


def test_mhs95_counts_people_not_referrals_and_breaks_down_by_team_and_band():
    # P1 (born 2012-03-01): R1 (team T1) contact 2024-02-01 with contact team T9; R2 (team T2)
    #   contact 2024-03-01 with no contact team -> falls back to T2. Age at referral 11 -> "11 to 14".
    # P2 (born 2008-01-01): R3 no team, indirect 2024-09-01 -> UNKNOWN. Age at referral 16 -> "16".
    # MHS95 = 2 people; Team: T9 1, T2 1, UNKNOWN 1; Age band: "11 to 14" 1, "16" 1.
    frames = dict(
        people=[person("P1", "2012-03-01"), person("P2", "2008-01-01")],
        referrals=[
            referral("R1", "P1", "2023-06-01", UniqCareProfTeamLocalID="T1"),
            referral("R2", "P1", "2023-06-01", UniqCareProfTeamLocalID="T2"),
            referral("R3", "P2", "2024-06-01"),
        ],
        contacts=[
            contact("C1", "R1", "2024-02-01", UniqCareProfTeamLocalID="T9"),
            contact("C2", "R2", "2024-03-01"),
        ],
        indirect=[indirect("R3", "2024-09-01")],
    )
    values, details = run(**frames)
    assert provider_values(values)["MHS95"] == 2
    assert breakdown_values(values, "MHS95", "Team") == {"T9": 1, "T2": 1, UNKNOWN_TEAM: 1}
    assert breakdown_values(values, "MHS95", "Age band") == {"11 to 14": 1, "16": 1}
    people = details["mhs95_people"]
    assert people.columns == ["LocalPatientId", "ServiceRequestId", "Team", "FirstActivityDate", "AgeBand"]
    assert people.rows() == [
        ("P1", "R1", "T9", pl.Series(["2024-02-01"]).str.to_date().item(), "11 to 14"),
        ("P2", "R3", UNKNOWN_TEAM, pl.Series(["2024-09-01"]).str.to_date().item(), "16"),
    ]


def test_mhs95_first_activity_ordered_by_date_then_time_then_id():
    # Same day: C2 at 09:00 comes before C1 at 10:00 (time beats id), so the detail names R2/T2.
    frames = dict(
        people=[person("P", "2012-01-01")],
        referrals=[referral("R1", "P", "2023-01-01"), referral("R2", "P", "2023-01-01")],
        contacts=[
            contact("C1", "R1", "2024-09-05", time="10:00", UniqCareProfTeamLocalID="T1"),
            contact("C2", "R2", "2024-09-05", time="09:00", UniqCareProfTeamLocalID="T2"),
        ],
    )
    _, details = run(**frames)
    assert details["mhs95_people"].select("ServiceRequestId", "Team").rows() == [("R2", "T2")]


def test_person_key_nhs_joins_local_ids_with_one_valid_nhs_number():
    # L1 and L2 share the valid NHS number 9434765919 -> one person.
    # L3 has an invalid number (bad check digit) and L4 none: each counts by local id.
    # local key: 4 people; nhs key: 3.
    frames = dict(
        people=[
            person("L1", "2012-01-01", NHSNumber="9434765919"),
            person("L2", "2012-01-01", NHSNumber="943 476 5919"),
            person("L3", "2012-01-01", NHSNumber="9434765918"),
            person("L4", "2012-01-01"),
        ],
        referrals=[referral(f"R{i}", f"L{i}", "2024-01-01") for i in range(1, 5)],
        contacts=[contact(f"C{i}", f"R{i}", "2024-09-02") for i in range(1, 5)],
    )
    local, _ = run(**frames)
    nhs, details = run(settings=ProviderSettings(person_key="nhs"), **frames)
    assert provider_values(local)["MHS95"] == 4
    assert provider_values(nhs)["MHS95"] == 3
    people = details["mhs95_people"]
    assert "NHSNumber" not in people.columns and "PersonBirthDate" not in people.columns
    assert not any("943" in str(v) for row in people.rows() for v in row)  # no NHS number leaks


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),  # 299 mod 11 = 2 -> check 9
        ("9434765918", False),
        ("0000000400", False),  # weights: 4*3 = 12, 12 mod 11 = 1 -> check 10: never valid
        ("0000000000", True),  # sum 0 -> 11 -> check 0
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven digits
        ("943476591X", False),
        (None, False),
    ],
)
def test_valid_nhs_number(number, valid):
    s = pl.DataFrame({"n": [number]}, schema={"n": pl.String})
    assert s.select(valid_nhs_number(pl.col("n"))).item() is valid


# ---------------------------------------------------------------------------------------------
# MHS69


def second_contact_case(birth: str, received: str, dates: list[str]) -> dict:
    return dict(
        people=[person("P", birth)],
        referrals=[referral("R", "P", received)],
        contacts=[contact(f"C{i}", "R", d) for i, d in enumerate(dates)],
    )


def test_mhs69_second_contact_in_month():
    # First 2024-08-10, second 2024-09-03 -> counted in September, not in August.
    case = second_contact_case("2012-01-01", "2024-08-01", ["2024-08-10", "2024-09-03"])
    assert mhs69(SEP, **case) == 1
    assert mhs69(Month(2024, 8), **case) == 0


def test_mhs69_two_contacts_on_one_day_reach_second_contact_that_day():
    case = second_contact_case("2012-01-01", "2024-08-01", ["2024-09-03", "2024-09-03"])
    assert mhs69(SEP, **case) == 1


def test_mhs69_one_contact_is_not_enough_and_a_duplicated_indirect_row_is_a_second_activity():
    # MHS69 counts every MHS204 row (menh_analysis 3.CYP_2nd_contact_prep.py: no de-duplication):
    # the same indirect activity (same referral, date, time) twice is two activities, the second
    # on 2024-09-12 -> 1. One indirect row alone is one activity -> 0.
    base = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-08-01")])
    dup = [indirect("R", "2024-09-12", "10:00"), indirect("R", "2024-09-12", "10:00")]
    assert mhs69(SEP, **base, indirect=dup[:1]) == 0
    assert mhs69(SEP, **base, indirect=dup) == 1
    # MHS95 counts people: the duplicate changes nothing there (1 person either way)
    assert mhs95(**base, indirect=dup) == 1 and mhs95(**base, indirect=dup[:1]) == 1


def test_mhs69_duplicated_indirect_row_as_second_contact_in_august_not_september():
    # Contact 2024-08-05, indirect row 2024-08-20 twice: the second activity is the first copy of
    # the indirect row on 2024-08-20 -> counted in August, so September gives 0 (and a contact on
    # 2024-09-02 does not count the person again in the same financial year).
    base = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-08-01")])
    acts = dict(contacts=[contact("C1", "R", "2024-08-05"), contact("C2", "R", "2024-09-02")],
                indirect=[indirect("R", "2024-08-20"), indirect("R", "2024-08-20")])
    assert mhs69(Month(2024, 8), **base, **acts) == 1
    assert mhs69(SEP, **base, **acts) == 0


def test_mhs69_contact_before_indirect_on_one_day_and_indirect_aged_at_referral():
    # Born 2006-09-10. Referral received 2024-08-15 (aged 17 at referral). On 2024-09-10 (18th
    # birthday) a care contact (aged 18) and an indirect activity (aged 17: at referral).
    # Care contacts rank before indirect activities on a date: the first is the contact, aged 18
    # -> not counted. Without the contact, indirect rows on 2024-09-10 and 2024-09-12: the first
    # is aged at referral (17) -> counted in September.
    base = dict(people=[person("P", "2006-09-10")], referrals=[referral("R", "P", "2024-08-15")])
    assert mhs69(SEP, **base, contacts=[contact("C1", "R", "2024-09-10")],
                 indirect=[indirect("R", "2024-09-10")]) == 0
    assert mhs69(SEP, **base, indirect=[indirect("R", "2024-09-10"), indirect("R", "2024-09-12")]) == 1


def test_mhs69_route_b_in_year_when_all_time_second_is_in_the_previous_year():
    # measures.md example: contacts 2023-12-10 and 2023-12-11 (previous FY: route A's second is
    # not in FY 2024-25), then 2024-06-01 and 2024-06-07. Route B ranks this year's only: first
    # 2024-06-01 (aged 12), second 2024-06-07 -> counted in June 2024 (once in FY 2024-25). In
    # FY 2023-24 route A gives 2023-12-11 -> December 2023.
    case = second_contact_case("2012-01-01", "2023-11-01", ["2023-12-10", "2023-12-11", "2024-06-01", "2024-06-07"])
    assert mhs69(Month(2024, 6), **case) == 1
    assert mhs69(Month(2023, 12), **case) == 1
    assert sum(mhs69(Month(2024, 4).shift(i), **case) for i in range(12)) == 1
    # one contact this year only: route B has no second, route A's second is last year -> 0
    one = second_contact_case("2012-01-01", "2023-11-01", ["2023-12-10", "2023-12-11", "2024-06-01"])
    assert mhs69(Month(2024, 6), **one) == 0


def test_mhs69_route_b_first_in_year_must_be_under_18():
    # Born 2006-05-01. Contacts 2024-03-01 (17), 2024-03-05 (17), 2024-05-02 (18), 2024-05-03 (18).
    # Route A: second 2024-03-05 is in FY 2023-24, not 2024-25. Route B: first this year 2024-05-02
    # at 18 -> nothing. So May 2024 gives 0; March 2024 gives 1 (route A in FY 2023-24).
    case = second_contact_case("2006-05-01", "2024-02-01", ["2024-03-01", "2024-03-05", "2024-05-02", "2024-05-03"])
    assert mhs69(Month(2024, 5), **case) == 0
    assert mhs69(Month(2024, 3), **case) == 1


def test_mhs69_activity_before_its_referral_month_is_rejected_earlier_in_the_month_counts():
    # Referral received 2024-08-20. A contact on 2024-07-31 is in a month whose submission lacks
    # the referral: rejected, counts nowhere. Contacts 2024-08-01 (same month, before the received
    # date: in August's submission) and 2024-09-03 -> second contact in September.
    base = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-08-20")])
    assert mhs69(SEP, **base, contacts=[contact("C0", "R", "2024-07-31"), contact("C2", "R", "2024-09-03")]) == 0
    assert mhs69(SEP, **base, contacts=[contact("C1", "R", "2024-08-01"), contact("C2", "R", "2024-09-03")]) == 1
    # after the discharge month: discharged 2024-08-25, a contact on 2024-09-03 is rejected
    gone = dict(people=base["people"], referrals=[referral("R", "P", "2024-08-01", "2024-08-25")])
    assert mhs69(SEP, **gone, contacts=[contact("C1", "R", "2024-08-02"), contact("C2", "R", "2024-09-03")]) == 0


@pytest.mark.parametrize(("digital", "mech", "attend", "expected"), [
    (False, "01", "5", 1), (False, "09", "5", 0),
    (True, "09", "5", 1), (True, "09", "3", 0),  # digital: attended 05/09/10/13 only ...
    (True, "01", "5", 0),  # ... and not 01/02/04/11 (menh_analysis CYP_KOOTH list)
])
def test_mhs69_digital_provider_mechanisms(digital, mech, attend, expected):
    base = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-08-01")])
    cs = [contact("C1", "R", "2024-09-02", attend, mech), contact("C2", "R", "2024-09-03", attend, mech)]
    values, _ = run(SEP, ProviderSettings(digital=digital), **base, contacts=cs)
    assert provider_values(values)["MHS69"] == expected


def test_mhs69_duplicate_contact_id_is_one_activity():
    # a repeated care contact id on one date is a duplicate key, not a second contact (recon's choice)
    base = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-08-01")])
    assert mhs69(SEP, **base, contacts=[contact("C1", "R", "2024-09-01"), contact("C1", "R", "2024-09-01")]) == 0


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2024-08-31", 1),  # born 2006-09-01: 17 at referral
        ("2024-09-01", 0),  # 18 at referral, but the August contact predates the referral's month
    ],
)
def test_mhs69_age_at_referral_0_to_18(received, expected):
    # Contacts 2024-08-20 (aged 17: before the 18th birthday) and 2024-09-05 (second, in M).
    # Received 2024-09-01: the 2024-08-20 contact is in a month whose submission lacks the
    # referral (rejected nationally), leaving one contact -> 0.
    frames = dict(
        people=[person("P", "2006-09-01")],
        referrals=[referral("R", "P", received)],
        contacts=[contact("C1", "R", "2024-08-20"), contact("C2", "R", "2024-09-05")],
    )
    assert mhs69(SEP, **frames) == expected


def test_mhs69_age_19_at_referral_excluded():
    # Born 2005-09-01, referred 2024-09-01 (19th birthday): 19 -> excluded even with early contacts.
    frames = dict(
        people=[person("P", "2005-09-01")],
        referrals=[referral("R", "P", "2024-09-01")],
        contacts=[contact("C1", "R", "2023-08-20"), contact("C2", "R", "2024-09-05")],
    )
    assert mhs69(SEP, **frames) == 0


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2024-08-31", 1),  # day before the 18th birthday (2024-09-01): aged 17 -> counts
        ("2024-09-01", 0),  # on the 18th birthday: not "before" it -> excluded
    ],
)
def test_mhs69_first_contact_before_18th_birthday(first, expected):
    frames = second_contact_case("2006-09-01", "2024-06-01", [first, "2024-09-10"])
    assert mhs69(SEP, **frames) == expected


def fy_case() -> dict:
    """People and second-contact dates for financial year 2024-25:

    A: second contact 2024-04-15 -> April.
    B: R_B1 second 2024-03-20 (previous FY), R_B2 second 2024-06-02 -> June (earliest in FY).
    C: R_C1 second 2024-08-05, R_C2 second 2024-05-07 -> May (earliest of the two).
    D: second 2025-03-31 (last day of FY) -> March 2025.
    E: first 2024-02-01 (previous FY), second 2024-12-24 -> December.
    F: only one contact -> never.
    G: second 2025-04-01 (next FY) -> never in this FY.
    H: second 2024-09-30, 19 at referral -> never.
    Year total = 5 (A, B, C, D, E): Apr 1, May 1, Jun 1, Dec 1, Mar 1, other months 0.
    """
    born = "2012-01-01"
    pairs = {
        "A": [("R_A", ["2024-04-01", "2024-04-15"])],
        "B": [("R_B1", ["2024-03-01", "2024-03-20"]), ("R_B2", ["2024-05-30", "2024-06-02"])],
        "C": [("R_C1", ["2024-08-01", "2024-08-05"]), ("R_C2", ["2024-05-01", "2024-05-07"])],
        "D": [("R_D", ["2025-03-01", "2025-03-31"])],
        "E": [("R_E", ["2024-02-01", "2024-12-24"])],
        "F": [("R_F", ["2024-07-01"])],
        "G": [("R_G", ["2025-03-15", "2025-04-01"])],
    }
    people = [person(p, born) for p in pairs] + [person("H", "2004-01-01")]
    referrals = [referral(r, p, "2024-01-01") for p, rs in pairs.items() for r, _ in rs]
    referrals.append(referral("R_H", "H", "2024-01-01"))
    contacts = [
        contact(f"{r}-{i}", r, d) for rs in pairs.values() for r, dates in rs for i, d in enumerate(dates)
    ] + [contact("R_H-0", "R_H", "2023-12-01"), contact("R_H-1", "R_H", "2024-09-30")]
    return dict(people=people, referrals=referrals, contacts=contacts)


def test_mhs69_months_of_a_financial_year_sum_to_the_year_total():
    case = fy_case()
    by_month = {str(m): mhs69(m, **case) for m in (Month(2024, 4).shift(i) for i in range(12))}
    assert by_month == {
        "2024-04": 1, "2024-05": 1, "2024-06": 1, "2024-07": 0, "2024-08": 0, "2024-09": 0,
        "2024-10": 0, "2024-11": 0, "2024-12": 1, "2025-01": 0, "2025-02": 0, "2025-03": 1,
    }
    assert sum(by_month.values()) == 5
    # March 2024 belongs to the previous year: B counts there (second contact 2024-03-20)
    assert mhs69(Month(2024, 3), **case) == 1
    # April 2025 starts a new year: G counts there
    assert mhs69(Month(2025, 4), **case) == 1


def test_mhs69_detail_and_breakdowns():
    # C's counting referral in May is R_C2 (team T5, age at referral 12 -> "11 to 14").
    case = fy_case()
    case["referrals"] = [
        {**r, "UniqCareProfTeamLocalID": "T5"} if r["ServiceRequestId"] == "R_C2" else r for r in case["referrals"]
    ]
    values, details = run(Month(2024, 5), **case)
    assert breakdown_values(values, "MHS69", "Team") == {"T5": 1}
    assert breakdown_values(values, "MHS69", "Age band") == {"11 to 14": 1}
    d = details["mhs69_people"]
    assert d.select("LocalPatientId", "ServiceRequestId", "Team", "AgeBand").rows() == [("C", "R_C2", "T5", "11 to 14")]
    assert d.get_column("SecondContactDate").cast(pl.String).to_list() == ["2024-05-07"]


def test_mhs69_age_18_at_referral_is_its_own_age_band_level():
    # Born 2006-09-15, referred 2024-09-15 (18), first contact 2024-09-10 (17: earlier in the
    # received month, so in September's submission), second 2024-09-20.
    frames = dict(
        people=[person("P", "2006-09-15")],
        referrals=[referral("R", "P", "2024-09-15")],
        contacts=[contact("C1", "R", "2024-09-10"), contact("C2", "R", "2024-09-20")],
    )
    values, _ = run(**frames)
    assert breakdown_values(values, "MHS69", "Age band") == {"18": 1}


def test_empty_extract_gives_zero_for_both():
    values, details = run()
    assert provider_values(values) == {"MHS95": 0, "MHS69": 0}
    assert details["mhs95_people"].height == 0 and details["mhs69_people"].height == 0


# ---------------------------------------------------------------------------------------------
# The 18th-birthday date MHS95 compares activity dates with must agree with age_at


@pytest.mark.parametrize(
    ("birth", "adult_from"),
    [
        ("2006-09-10", "2024-09-10"),
        ("2004-02-29", "2022-03-01"),  # common year: completed years reach 18 on 1 March
        ("2006-02-28", "2024-02-28"),
        ("2008-03-01", "2026-03-01"),  # (a 29 February birth never has an 18th birthday in a leap year)
    ],
)
def test_birthday_matches_age_at(birth, adult_from):
    from recon.measures.access import birthday
    from recon.measures.common import age_at

    d = pl.DataFrame({"b": [birth]}).with_columns(pl.col("b").str.to_date())
    got = d.select(birthday(pl.col("b"), 18).cast(pl.String)).item()
    assert got == adult_from
    day = pl.Series([adult_from]).str.to_date()
    before = pl.DataFrame({"b": d["b"], "x": day}).select(
        age_at(pl.col("b"), pl.col("x")).alias("on"), age_at(pl.col("b"), pl.col("x") - pl.duration(days=1)).alias("before")
    )
    assert before.row(0) == (18, 17)


def test_mhs95_leap_day_birthday():
    # Born 2004-02-29: aged 17 on 2022-02-28 (counts), 18 on 2022-03-01 (does not). M = 2022-03.
    frames = dict(
        people=[person("A", "2004-02-29"), person("B", "2004-02-29")],
        referrals=[referral("RA", "A", "2021-06-01"), referral("RB", "B", "2021-06-01")],
        contacts=[contact("CA", "RA", "2022-02-28"), contact("CB", "RB", "2022-03-01")],
    )
    values, details = run(Month(2022, 3), **frames)
    assert provider_values(values)["MHS95"] == 1
    assert details["mhs95_people"].get_column("LocalPatientId").to_list() == ["A"]


# ---------------------------------------------------------------------------------------------
# MHS95: corrections of issue 11 (indirect activity aged at month end, submission, residence)


@pytest.mark.parametrize(("birth", "expected"), [
    ("2006-09-30", 0),  # 18th birthday on the last day of September: aged 18 at month end -> out
    ("2006-10-01", 1),  # 18th birthday the next day: 17 at month end -> counted
])
def test_mhs95_indirect_only_activity_aged_on_the_last_day_of_its_month(birth, expected):
    # Referral 2024-08-01 (aged 17), one indirect activity on 2024-09-05, when the person is 17
    # either way. NHS England ages it with the month's AgeRepPeriodEnd (age on 2024-09-30).
    frames = dict(people=[person("P", birth)], referrals=[referral("R", "P", "2024-08-01")],
                  indirect=[indirect("R", "2024-09-05")])
    assert mhs95(**frames) == expected
    # a care contact on the same day keeps its own date: aged 17 on 2024-09-05 -> counted
    assert mhs95(people=frames["people"], referrals=frames["referrals"],
                 contacts=[contact("C1", "R", "2024-09-05")]) == 1


def test_mhs95_activity_before_its_referral_month_never_counts_earlier_in_the_month_does():
    base = dict(people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-05-20")])
    assert mhs95(**base, contacts=[contact("C1", "R", "2024-04-30")]) == 0  # before May: rejected
    assert mhs95(**base, indirect=[indirect("R", "2024-04-30")]) == 0
    assert mhs95(**base, contacts=[contact("C1", "R", "2024-05-02")]) == 1  # earlier in May: counts
    # discharged 2024-06-10: an activity in July is in no submission of the referral
    gone = dict(people=base["people"], referrals=[referral("R", "P", "2024-05-20", "2024-06-10")])
    assert mhs95(**gone, contacts=[contact("C1", "R", "2024-07-01")]) == 0
    assert mhs95(**gone, contacts=[contact("C1", "R", "2024-06-25")]) == 1  # discharge month: counts


@pytest.mark.parametrize(("la", "expected"), [
    (None, 1), ("", 1), ("E06000001", 1), ("W06000015", 0), ("S12000033", 0), (" e0", 0),
])
def test_mhs95_residents_outside_england_are_out(la, expected):
    # NHS England keeps LADistrictAuth LIKE 'E%' OR NULL OR '' (upper-case E)
    frames = dict(people=[person("P", "2012-01-01", LADistrictAuth=la)], referrals=[referral("R", "P", "2024-08-01")],
                  contacts=[contact("C1", "R", "2024-09-02")])
    assert mhs95(**frames) == expected
