"""waits.md section 14, cases 9, 10 and 11: qualifying contacts, CMH rows, CYP indirect activity."""

from __future__ import annotations

import pytest

from tests.measures.builders import contact, indirect, person, referral
from tests.measures.waits.helpers import Run, d


@pytest.mark.parametrize(
    ("date", "attend", "mech", "counts"),
    [
        ("2024-10-10", "6", "11", True),
        ("2024-10-10", "6", "05", False),
        ("2024-10-10", "3", "01", False),
        ("2024-10-10", "5", "1", True),  # "1" reads "01"
        ("2021-09-30", "5", "98", True),
        ("2021-10-01", "5", "98", False),
        ("2021-09-30", "5", "06", False),
    ],
)
def test_contact_rules(date: str, attend: str, mech: str, counts: bool) -> None:
    # case 9 (CYP first contact)
    month = "2024-11" if date.startswith("2024") else "2021-10"
    received = "2024-10-01" if date.startswith("2024") else "2021-09-01"
    run = Run(month, people=[person("P", "2012-01-01")], referrals=[referral("R", "P", received, ServTeamType="C10")],
              contacts=[contact("C", "R", date, attend=attend, mech=mech)])
    assert (run.spell()["FirstContact"] == d(date)) is counts
    assert (run.spell()["FirstContact"] is None) is not counts


def _cmh(month: str, own: tuple[str, str | None], other: tuple[str, str] | None) -> Run:
    rows = [] if other is None else [
        {"ServiceRequestId": "R", "UniqOtherCareProfTeamLocalID": other[1], "ServTeamTypeRefToMH": other[0]}
    ]
    return Run(month, people=[person("P", "1980-01-01")],
               referrals=[referral("R", "P", "2024-08-01", ServTeamType=own[0], UniqCareProfTeamLocalID=own[1])],
               MHS102OtherServiceType=rows, contacts=[contact("C", "R", "2024-08-20")])


def test_one_contact_with_two_cmh_rows_is_first_and_second() -> None:
    # case 10
    two = _cmh("2024-11", ("A06", "T1"), ("A12", "T2"))
    assert two.spell()["SecondContact"] == d("2024-08-20") and two["MRS03"] == 0
    one = _cmh("2024-11", ("A06", "T1"), None)
    assert one.spell()["SecondContact"] is None and one["MRS03"] == 1


def test_identical_rows_count_twice_in_r1_once_in_r2() -> None:
    r1 = _cmh("2024-09", ("A06", "T1"), ("A06", "T1"))
    assert r1.spell()["SecondContact"] == d("2024-08-20") and r1["MRS03"] == 0
    r2 = _cmh("2024-11", ("A06", "T1"), ("A06", "T1"))
    assert r2.spell()["SecondContact"] is None and r2["MRS03"] == 1
    # C03 reads C10 when rows are compared
    c03 = _cmh("2024-11", ("C10", "T1"), ("C03", "T1"))
    assert c03.spell()["SecondContact"] is None


def test_cmh_second_contact_is_the_second_date() -> None:
    run = Run("2024-11", people=[person("P", "1980-01-01")],
              referrals=[referral("R", "P", "2024-08-01", ServTeamType="A06")],
              contacts=[contact("C1", "R", "2024-08-20"), contact("C2", "R", "2024-09-03"),
                        contact("C3", "R", "2024-08-25", attend="3")])
    s = run.spell()
    assert (s["FirstContact"], s["SecondContact"]) == (d("2024-08-20"), d("2024-09-03"))


def test_cyp_indirect_activity_is_a_first_contact_for_4ww_not_for_mhs133() -> None:
    # case 11
    run = Run("2024-11", people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-10-01")],
              indirect=[indirect("R", "2024-11-05")])
    assert run.spell()["FirstContact"] == d("2024-11-05")
    assert run["MRS10"] == 0 and run["MRS13"] == 1 and run["MHS133"] == 1


def test_contact_outside_its_referrals_months_is_ignored() -> None:
    # dated after the referral's discharge month: in no submission
    run = Run("2024-11", people=[person("P", "2012-01-01")],
              referrals=[referral("R", "P", "2024-09-01", "2024-09-30"), referral("S", "P", "2024-10-02")],
              contacts=[contact("C", "R", "2024-10-10")])
    assert run.spell()["FirstContact"] is None
    # a contact of the person's other referral inside the spell counts for the spell
    other = Run("2024-11", people=[person("P", "2012-01-01")],
                referrals=[referral("R", "P", "2024-09-01"), referral("S", "P", "2024-10-02")],
                contacts=[contact("C", "R", "2024-10-10")])
    assert other.spell()["FirstContact"] == d("2024-10-10")
