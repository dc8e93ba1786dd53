"""waits.md section 14, cases 12-15: clock-stop events, the CMH assessment rule, tools, care plans."""

from __future__ import annotations

from typing import Any

from recon.measures.waits import NOT_COMPUTED
from tests.measures.builders import contact, person, referral
from tests.measures.waits.helpers import ASSESSMENTS, CGAS, INTERVENTION, PSYCH, Run, d, release

CHILD = person("P", "2012-01-01")


def _plan(pid: str, created: str | None, updated: str | None, *agreed: str | None) -> dict[str, Any]:
    return {
        "MHS008CarePlanType": [{"CarePlanID": "CP", "LocalPatientId": pid, "CarePlanCreatDate": created,
                                "CarePlanLastUpdateDate": updated}],
        "MHS009CarePlanAgreement": [{"CarePlanID": "CP", "CarePlanAgreedDate": a} for a in agreed],
    }


def _cyp(plan_date: str, month: str = "2024-11") -> Run:
    return Run(month, people=[CHILD], referrals=[referral("R", "P", "2024-10-01")],
               contacts=[contact("C1", "R", "2024-10-05"), contact("C2", "R", "2024-10-10", attend="3")],
               MHS607CodedScoreAssessmentAct=[{"CareContactId": "C2", "CodedAssToolType": CGAS, "PersScore": "50"}],
               **_plan("P", plan_date, plan_date, plan_date))


def test_cyp_clock_stop_within_four_weeks() -> None:
    # case 12: stop 2024-10-29 = 28 days: MRS08 and MRS08a; plan 2024-10-30: 29 days, MRS08 only
    run = _cyp("2024-10-29")
    s = run.spell()
    assert (s["FirstContact"], s["Baseline"], s["CarePlanOrIntervention"]) == (
        d("2024-10-05"), d("2024-10-10"), d("2024-10-29"))
    assert (s["ClockStop"], s["DaysToStop"]) == (d("2024-10-29"), 28)
    assert (run["MRS08"], run["MRS08a"], run["MRS08b"], run["MRS09"]) == (1, 1, 100.0, 0)
    late = _cyp("2024-10-30")
    assert (late["MRS08"], late["MRS08a"], late["MRS08b"]) == (1, 0, 0.0)


def test_without_snomed_clock_stop_measures_are_not_computed() -> None:
    run = Run("2024-11", snomed=None, people=[CHILD], referrals=[referral("R", "P", "2024-10-01")])
    for mid in ("MRS01", "MRS01b", "MRS02f", "MRS08", "MRS09", "MRS09f"):
        assert run.by_id[mid].value is None and run.by_id[mid].reason == NOT_COMPUTED
    assert run["MRS10"] == 1 and run.by_id["MRS10"].reason is None
    assert "WAITS_NO_SNOMED" in run.details["waits_caveats"]["code"].to_list()


def _cmh(first_contact: str, with_assessment: bool) -> Run:
    snomed = release([(PSYCH, INTERVENTION, "2002-01-31", 1), (ASSESSMENTS, "900000000000002", "2002-01-31", 1)])
    contacts = [contact("C1", "R", first_contact), contact("C2", "R", "2024-04-20", attend="3")]
    activity = [{"CareActId": "A1", "CareContactId": "C2", "Procedure": "900000000000002:123"}] if with_assessment else []
    return Run("2024-05", snomed=snomed, people=[person("P", "1980-01-01")],
               referrals=[referral("R", "P", "2024-03-15", ServTeamType="A05")], contacts=contacts,
               MHS202CareActivity=activity,
               MHS606CodedScoreAssessmentRefer=[{"ServiceRequestId": "R", "CodedAssToolType": CGAS,
                                                 "AssToolCompTimestamp": "2024-03-25T10:00:00", "PersScore": "1"}],
               **_plan("P", "2024-04-10", "2024-04-10", "2024-04-10"))


def test_cmh_meaningful_assessment_from_april_2024() -> None:
    # case 13: Start 2024-03-15; first contact 2024-03-20: not required; 2024-04-02: required
    assert _cmh("2024-03-20", False).spell()["ClockStop"] == d("2024-04-10")
    assert _cmh("2024-04-02", False).spell()["ClockStop"] is None
    required = _cmh("2024-04-02", True).spell()
    assert (required["MeaningfulAssessment"], required["ClockStop"]) == (d("2024-04-20"), d("2024-04-20"))


def _tool(month: str, tool: str, score: str = "abc", stamp: str = "2024-10-20T09:00:00") -> dict[str, Any]:
    run = Run(month, people=[CHILD], referrals=[referral("R", "P", "2024-10-01")],
              MHS606CodedScoreAssessmentRefer=[{"ServiceRequestId": "R", "CodedAssToolType": tool,
                                                "AssToolCompTimestamp": stamp, "PersScore": score}])
    return run.spell()


def test_tools() -> None:
    # case 14: Current View counts up to 2025-03, not from 2025-04; CHI-ESQ counts; a score "abc" counts
    current_view = "987191000000101"
    assert _tool("2025-03", current_view)["Baseline"] == d("2024-10-20")
    assert _tool("2025-04", current_view)["Baseline"] is None
    assert _tool("2024-11", "1035681000000101")["Baseline"] == d("2024-10-20")
    assert _tool("2024-11", f" +0{CGAS}.7 ")["Baseline"] == d("2024-10-20")
    assert _tool("2024-11", f"{CGAS}e0")["Baseline"] is None
    assert _tool("2024-11", "123")["Baseline"] is None


def test_mhs606_before_receipt_is_submitted_in_the_received_month() -> None:
    # an MHS606 row dated 2024-08-20 on a referral received 2024-09-03 counts for the spell holding 2024-08-20
    run = Run("2024-11", people=[CHILD],
              referrals=[referral("A", "P", "2024-08-01"), referral("B", "P", "2024-09-03")],
              MHS606CodedScoreAssessmentRefer=[{"ServiceRequestId": "B", "CodedAssToolType": CGAS,
                                                "AssToolCompTimestamp": "2024-08-20T09:00:00", "PersScore": "5"}])
    assert run.spell()["Baseline"] == d("2024-08-20")
    # ... but not when B is outside the cohort in September (a crisis team)
    out = Run("2024-11", people=[CHILD],
              referrals=[referral("A", "P", "2024-08-01"), referral("B", "P", "2024-09-03", ServTeamType="A02")],
              MHS606CodedScoreAssessmentRefer=[{"ServiceRequestId": "B", "CodedAssToolType": CGAS,
                                                "AssToolCompTimestamp": "2024-08-20T09:00:00", "PersScore": "5"}])
    assert out.spell()["Baseline"] is None


def _care_plan(month: str, created: str | None, updated: str | None, agreed: str | None,
               disch: str | None = None) -> Any:
    run = Run(month, people=[CHILD], referrals=[referral("R", "P", "2024-10-01", disch)],
              **_plan("P", created, updated, agreed))
    return run.spell()["CarePlanOrIntervention"]


def test_care_plans() -> None:
    # case 15
    assert _care_plan("2024-11", "2024-09-01", "2024-10-20", "2024-10-20") == d("2024-10-20")
    assert _care_plan("2024-11", "2024-10-12", "2024-10-20", "2024-10-12") == d("2024-10-12")
    assert _care_plan("2024-11", "2024-10-12", None, "2024-10-12") is None
    assert _care_plan("2024-11", "2024-10-12", "2024-12-15", "2024-10-12") is None
    assert _care_plan("2024-12", "2024-10-12", "2024-12-15", "2024-10-12") == d("2024-10-12")
    # agreed after the last month its person is submitted in (discharged in November): never
    assert _care_plan("2024-12", "2024-10-12", "2024-11-15", "2024-12-02", disch="2024-11-20") is None
    assert _care_plan("2024-12", "2024-10-12", "2024-11-15", "2024-11-30", disch="2024-11-20") == d("2024-10-12")
    # an agreement row with a blank date has no bound
    assert _care_plan("2024-11", "2024-10-12", "2024-10-20", None) == d("2024-10-12")
