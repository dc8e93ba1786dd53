"""waits.md section 14, cases 1, 5, 6, 7, 8 and 23: who is in the CMH and CYP cohorts."""

from __future__ import annotations

from typing import Any

from tests.measures.builders import contact, person, referral
from tests.measures.waits.helpers import Run, d


def test_age_18_on_the_day_is_cmh_never_cyp() -> None:
    # case 1: born 2006-11-10; received on the 18th birthday -> CMH (core team), the day before -> CYP
    on_birthday = Run("2024-11", people=[person("P", "2006-11-10")],
                      referrals=[referral("R", "P", "2024-11-10", ServTeamType="A05")])
    assert (on_birthday["MRS04"], on_birthday["MRS11"]) == (1, 0)
    day_before = Run("2024-11", people=[person("P", "2006-11-10")],
                     referrals=[referral("R", "P", "2024-11-09", ServTeamType="A05")])
    assert (day_before["MRS04"], day_before["MRS11"]) == (0, 1)


def test_an_adult_outside_the_cmh_teams_is_in_neither_cohort() -> None:
    run = Run("2024-11", people=[person("P", "1990-01-01")], referrals=[referral("R", "P", "2024-11-01", ServTeamType="A18")])
    assert run.spells.height == 0


def test_mhs102_closure_ends_the_cmh_referral_in_r2_not_in_r1() -> None:
    # case 5: MHS101 A18 (not CMH), MHS102 A06 closed 2024-10-15, no discharge or rejection
    given: dict[str, Any] = dict(
        people=[person("P", "1980-01-01")],
        referrals=[referral("R", "P", "2024-06-01", ServTeamType="A18")],
        MHS102OtherServiceType=[{"ServiceRequestId": "R", "UniqOtherCareProfTeamLocalID": "T2",
                                 "ServTeamTypeRefToMH": "A06", "ReferClosureDate": "2024-10-15"}],
    )
    nov = Run("2024-11", **given)
    s = nov.spell()
    assert (s["End"], s["Open"], s["IsOpen"], s["IsClosed"]) == (d("2024-10-15"), 1, False, False)
    assert nov["MRS06"] == 0 and nov["MRS05"] == 0
    octo = Run("2024-10", **given)
    assert octo.spell()["End"] == d("2024-10-31") and octo.spell()["IsOpen"]
    # a second in-scope row without an end keeps the referral open to M.end
    given["referrals"] = [referral("R", "P", "2024-06-01", ServTeamType="A06")]
    both = Run("2024-11", **given)
    assert both.spell()["End"] == d("2024-11-30") and both["MRS06"] == 1


def test_any_hospital_spell_removes_the_referral_from_4ww_but_not_mhs13x() -> None:
    # case 6
    run = Run("2024-11", people=[person("P", "2010-01-01")], referrals=[referral("R", "P", "2024-11-01")],
              spells=[{"HospProvSpellID": "H1", "ServiceRequestId": "R"}])
    assert run.spells.height == 0 and run["MRS11"] == 0
    assert run["MHS133"] == 1


CYP_CASES = [
    # (team type, priority, reason, in scope in 2024-11)
    ("A18", "2", None, False),
    ("A18", "3", None, True),
    ("C10", None, "12", False),
    ("F01", None, "12", True),
    (None, None, "12", False),
    ("A14", None, "01", False),
    ("A14", None, "02", True),
    ("A03", None, None, False),
    ("A04", None, None, False),
    ("E03", None, None, False),
    ("A25", None, None, False),
    ("C05", None, None, False),
    (None, None, None, True),
]


def test_cyp_team_rules() -> None:
    # case 7: one child per rule, each referred 2024-10-05 (started in Q)
    people = [person(f"P{i}", "2012-01-01") for i in range(len(CYP_CASES))]
    refs = [
        referral(f"R{i}", f"P{i}", "2024-10-05", ServTeamType=t, ClinRespPriorityType=p, PrimReasonReferralMH=r)
        for i, (t, p, r, _) in enumerate(CYP_CASES)
    ]
    run = Run("2024-11", people=people, referrals=refs)
    expected = {f"P{i}" for i, case in enumerate(CYP_CASES) if case[3]}
    assert set(run.spells["PersonKey"]) == expected
    # A25 and C05 are in before November 2024 (R1)
    r1 = Run("2024-10", people=people, referrals=refs)
    assert set(r1.spells["PersonKey"]) == expected | {"P10", "P11"}


def test_cyp_in_via_another_team_row() -> None:
    # MHS101 team A02 (crisis) with an MHS102 row A08: in
    run = Run("2024-11", people=[person("P", "2012-01-01")],
              referrals=[referral("R", "P", "2024-10-05", ServTeamType="A02")],
              MHS102OtherServiceType=[{"ServiceRequestId": "R", "UniqOtherCareProfTeamLocalID": "T",
                                       "ServTeamTypeRefToMH": "A08"}])
    assert run["MRS11"] == 1


def test_v5_referral_with_only_a_crisis_team_row_is_out_before_april_2024() -> None:
    # received 2023-06-01, blank own team, MHS102 A02: out before April 2024, in from April 2024
    def run(contact_date: str) -> Run:
        return Run("2024-11", people=[person("P", "2012-01-01")],
                   referrals=[referral("R", "P", "2023-06-01")],
                   MHS102OtherServiceType=[{"ServiceRequestId": "R", "UniqOtherCareProfTeamLocalID": "T",
                                            "ServTeamTypeRefToMH": "A02"}],
                   contacts=[contact("C", "R", contact_date)])
    assert run("2024-03-15").spell()["FirstContact"] is None
    assert run("2024-04-15").spell()["FirstContact"] == d("2024-04-15")


def test_cmh_via_mhs102_and_its_contacts_count() -> None:
    # case 8
    run = Run("2024-11", people=[person("P", "1980-01-01")],
              referrals=[referral("R", "P", "2024-10-01", ServTeamType="A18")],
              MHS102OtherServiceType=[{"ServiceRequestId": "R", "UniqOtherCareProfTeamLocalID": "T",
                                       "ServTeamTypeRefToMH": "A06"}],
              contacts=[contact("C", "R", "2024-10-10")])
    s = run.spell("CMH")
    assert s["FirstContact"] == d("2024-10-10") and run["MRS04"] == 1


def test_resident_outside_england_or_without_mpi_is_out() -> None:
    run = Run("2024-11", people=[person("P", "2012-01-01", LADistrictAuth="W06000015"),
                                 person("Q", "2012-01-01", LADistrictAuth="E08000025"),
                                 person("S", "2012-01-01", LADistrictAuth="e08000025")],
              referrals=[referral("R1", "P", "2024-10-05"), referral("R2", "Q", "2024-10-05"),
                         referral("R3", "S", "2024-10-05"), referral("R4", "NOMPI", "2024-10-05")])
    assert set(run.spells["PersonKey"]) == {"Q"}
    assert run["MHS133"] == 1


def test_digital_providers() -> None:
    # case 23: DFC every MRS count 0, proportions and percentiles null; MHS13x with text contacts
    given: dict[str, Any] = dict(people=[person("P", "2012-01-01"), person("A", "1980-01-01")],
                 referrals=[referral("R", "P", "2024-10-05"), referral("RA", "A", "2024-10-05", ServTeamType="A05")],
                 contacts=[contact("C", "R", "2024-10-20", attend="3", mech="09")])
    dfc = Run("2024-11", ods="DFC", **given)
    assert all(v.value == 0 for v in dfc.values if v.id.startswith("MRS") and isinstance(v.value, int))
    assert all(v.value is None for v in dfc.values if v.id.startswith("MRS") and not isinstance(v.value, int))
    assert dfc["MHS130"] == 1 and dfc["MHS131"] == 15.0
    s9 = Run("2024-11", ods="S9X2N", **given)
    assert s9["MRS11"] == 0 and s9["MHS130"] == 1
    s9_r1 = Run("2024-10", ods="S9X2N", **given)
    assert s9_r1["MRS11"] == 1 and s9_r1["MRS04"] == 1 and s9_r1["MHS130"] == 0 and s9_r1["MHS133"] == 1
    ordinary = Run("2024-11", ods="RXX", **given)
    assert ordinary["MHS130"] == 0 and ordinary["MRS11"] == 1
