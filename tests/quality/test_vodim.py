"""VODIM per item and the DQMI estimate, on cases worked out by hand (quality.md 3)."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from recon.quality.codelists import load_vodim_rules
from recon.quality.predict import predict
from recon.quality.view import view_of_frames
from recon.quality.vodim import VodimCount, dqmi_estimate, vodim
from tests.quality.builders import MONTH


def _counts(tables, prediction=False):
    view = view_of_frames(tables, MONTH, provider="RXX")
    result = vodim(view, predict(view) if prediction else None)
    return {m.measure: m for m in result.measures}, result


def _cats(m: VodimCount) -> tuple[int, ...]:
    return (m.denominator, m.valid, m.other, m.default, m.invalid, m.missing)


def test_gender_five_categories_and_score():
    people = pl.DataFrame({"LocalPatientID": [f"P{i}" for i in range(7)],
                           "Gender": ["1", "2", "9", "X", "7", " ", None]})
    m = _counts({"MHS001MPI": people})[0]["MHS-DQM04"]
    assert _cats(m) == (7, 2, 1, 1, 1, 2)
    assert m.score() == pytest.approx(300 / 7)  # (2 + 1 + 1 - (1 - 0 x 7)) / 7
    assert m.score(1.0) == pytest.approx(400 / 7)
    assert m.to_json_dict()["score"] == 42.9 and m.published == ("valid", "other", "default", "invalid", "missing")


def test_ethnicity_by_first_character_and_lower_case():
    people = pl.DataFrame({"LocalPatientID": list("abcdef"), "EthnicCategory": ["A", "Zx", "99", "I", "s1", "O"]})
    assert _cats(_counts({"MHS001MPI": people})[0]["MHS-DQM05"]) == (6, 2, 1, 1, 2, 0)


def test_birth_date_120_on_the_last_day_of_the_month():
    people = pl.DataFrame({"LocalPatientID": list("abcd"),
                           "PersonBirthDate": ["1904-09-30", "1903-10-01", "1903-09-30", None]})
    assert _cats(_counts({"MHS001MPI": people})[0]["MHS-DQM03"]) == (4, 2, 0, 0, 1, 1)


def test_postcode_without_a_directory_is_judged_by_format():
    people = pl.DataFrame({"LocalPatientID": list("abcde"), "Postcode": ["ZZ99 3WZ", "LS1 4AP", "ls14ap", "NOTPC", None]})
    m = _counts({"MHS001MPI": people})[0]["MHS-DQM02"]
    assert _cats(m) == (5, 2, 0, 1, 1, 1) and m.basis == "postcode_format"


def test_nhs_number_blank_is_missing_even_with_status_07():
    people = pl.DataFrame({"LocalPatientID": list("abc"), "NHSNumber": ["9434765919", "123", None],
                           "NHSNumberStatus": ["01", "02", "07"]})
    assert _cats(_counts({"MHS001MPI": people})[0]["MHS-DQM01"]) == (3, 2, 0, 0, 0, 1)


def test_blank_is_not_missing_where_the_item_does_not_apply():
    refs = pl.DataFrame({
        "ServiceRequestID": ["R1", "R2", "R3", "R4", "R5"], "LocalPatientID": ["P1", "P2", "P3", "P4", "P5"],
        "ReferralRequestReceivedDate": ["2024-09-01", "2015-06-01", "2024-09-02", "2024-09-03", "2024-09-04"],
        "ServDischDate": [None, "2024-09-10", "2024-09-11", "2024-09-12", None],
        "ReferClosReason": [None, None, "03", None, None],
        "ReferRejectionDate": [None, None, None, "2024-09-12", None],
        "ReferRejectReason": [None, None, None, "02", None],
        "PrimReasonReferralMH": ["12", "12", "17", None, "12"],
        "ClinRespPriorityType": [None, "2", None, None, "1"],
    })
    people = pl.DataFrame({"LocalPatientID": ["P1", "P2", "P3", "P4", "P5"],
                           "PersonBirthDate": ["2010-01-01", "2000-01-01", "2010-01-01", "2010-01-01", "2005-09-04"]})
    got = _counts({"MHS101Referral": refs, "MHS001MPI": people})[0]
    assert _cats(got["MHS-DQM51"]) == (2, 1, 0, 0, 0, 1)  # R2 closed blank, R3 closed 03; R1 open, R4 rejected
    assert _cats(got["MHS-DQM10"]) == (4, 3, 0, 0, 1, 0)  # R4 rejected with reason 02 left out
    assert _cats(got["MHS-DQM19"]) == (3, 2, 0, 0, 1, 0)  # and R2, received before 2016
    # eating disorders (12) of under-19s at referral: R1 (14), R2 (15, 2015), not R5 (19 on the day)
    assert _cats(got["MHS-DQM20"]) == (2, 1, 0, 0, 0, 1)


def test_discharge_destination_only_for_discharged_spells_and_admission_dates():
    spells = pl.DataFrame({
        "HospProvSpellID": ["S1", "S2", "S3"], "ServiceRequestID": ["R1", "R1", "R1"],
        "StartDateHospProvSpell": ["2024-09-05", "2024-09-05", "2024-09-05"],
        "DischDateHospProvSpell": [None, "2024-09-20", "2024-09-21"],
        "DestOfDischHospProvSpell": [None, "99", "98"],
        "EstimatedDischDateHospProvSpell": ["2024-09-05", "2024-09-04", None],
        "DecidedToAdmitDate": ["2024-09-05", "2024-09-06", None],
    })
    got = _counts({"MHS501HospProvSpell": spells})[0]
    assert _cats(got["MHS-DQM70"]) == (2, 0, 0, 1, 1, 0)
    assert _cats(got["MHS-DQM52"]) == (3, 1, 0, 0, 1, 1)
    assert _cats(got["MHS-DQM67"]) == (3, 1, 0, 0, 1, 1)
    assert _cats(got["MHS-DQM68"]) == (3, 0, 0, 0, 0, 3) and got["MHS-DQM68"].basis == "column_absent"


def test_care_plan_type_blank_falls_in_no_category():
    plans = pl.DataFrame({"CarePlanID": ["A", "B", "C"], "LocalPatientID": ["P1"] * 3,
                          "CarePlanTypeMH": ["10", "15", None]})
    m = _counts({"MHS008CarePlanType": plans})[0]["MHS-DQM42"]
    assert _cats(m) == (3, 1, 0, 0, 1, 0) and m.score() == pytest.approx(100 / 3)


def test_team_type_of_referrals_and_other_services_except_inpatients():
    refs = pl.DataFrame({"ServiceRequestID": ["R1", "R2", "R3"], "LocalPatientID": ["P1"] * 3,
                         "UniqCareProfTeamLocalID": ["T1", "T2", "T9"]})
    other = pl.DataFrame({"ServiceRequestID": ["R1"], "UniqOtherCareProfTeamLocalID": ["T3"]})
    teams = pl.DataFrame({"UniqCareProfTeamLocalID": ["T1", "T2", "T3"], "ServTeamTypeMH": ["C05", "Z01", "Q99"]})
    spells = pl.DataFrame({"HospProvSpellID": ["S1"], "ServiceRequestID": ["R2"]})
    got = _counts({"MHS101Referral": refs, "MHS102OtherServiceType": other, "MHS902ServiceTeamDetails": teams,
                   "MHS501HospProvSpell": spells})[0]
    assert _cats(got["MHS-DQM18"]) == (3, 1, 0, 0, 1, 1)  # R1 C05, R1's other team Q99, R3 unmatched; R2 inpatient


def test_rejected_records_are_not_counted():
    people = pl.DataFrame({"LocalPatientID": ["P1", "P2"], "NHSNumber": ["9434765919", "943476591"],
                           "Gender": ["1", "7"]})
    refs = pl.DataFrame({"ServiceRequestID": ["R1", "R2"], "LocalPatientID": ["P1", "P2"],
                         "ReferralRequestReceivedDate": ["2024-09-01"] * 2})
    got = _counts({"MHS001MPI": people, "MHS101Referral": refs}, prediction=True)[0]
    assert _cats(got["MHS-DQM04"]) == (1, 1, 0, 0, 0, 0)  # P2 rejected (MHS00165)


def test_dqmi_estimate_mean_low_and_high():
    rules = load_vodim_rules()
    a = VodimCount("MHS-DQM04", "g", "MHS001", 10, 6, 1, 2, 1, 0, (), 0.0, "exact")  # 70, 90 with t=1
    b = VodimCount("MHS-DQM35", "c", "MHS201", 4, 4, 0, 0, 0, 0, (), 0.0, "exact")  # 100
    empty = VodimCount("MHS-DQM42", "p", "MHS008", 0, 0, 0, 0, 0, 0, (), 0.0, "exact")
    d = dqmi_estimate([a, b, empty], rules)
    assert (d.value, d.low, d.high, d.items, d.target) == (85.0, 85.0, 95.0, 2, 95.0)
    assert d.meets_target is False and "not NHS England's DQMI" in d.label
    half = dataclasses.replace(rules, dqmi=dataclasses.replace(rules.dqmi, thresholds={"MHS-DQM04": 0.1},
                                                                 items=("MHS-DQM04",)))
    got = dqmi_estimate([a, b], half)
    assert (got.value, got.low, got.high, got.items) == (80.0, 70.0, 90.0, 1)  # excess 2 - 1 = 1
    assert dqmi_estimate([empty], rules).value is None


def test_json_shape():
    people = pl.DataFrame({"LocalPatientID": ["P1"], "Gender": ["1"]})
    _, result = _counts({"MHS001MPI": people})
    out = result.to_json_dict()
    assert out["dqmi"]["estimate"] is True and out["dqmi"]["coverage"] == 1 and out["dqmi"]["target"] == 95
    assert "MHS-DQM12" in out["dqmi"]["not_computed"]
    assert set(out["vodim"][0]) == {"measure", "name", "table", "denominator", "valid", "other", "default",
                                    "invalid", "missing", "published", "score", "threshold", "basis"}
