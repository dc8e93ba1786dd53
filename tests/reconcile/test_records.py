"""Each record class on a tiny pair of extracts (real CSV files read by the extract reader)."""

from __future__ import annotations

import json

import pytest

from recon.reconcile.model import RecordClass as RC
from recon.reconcile.records import MASK, compare_records, exception_id
from recon.sources import load_extract
from tests.reconcile.data import PEOPLE, _contact, base, write_extract


def run(tmp_path, change):
    local = base()
    other = base()
    change(other)
    lo = load_extract(write_extract(tmp_path / "local", local))
    ex = load_extract(write_extract(tmp_path / "extract", other))
    return compare_records(lo.tables, ex.tables)


def classes(rc):
    return sorted((d.record_class.value, d.table, d.key) for d in rc.differences)


def test_identical_extracts_have_no_difference(tmp_path):
    assert run(tmp_path, lambda t: None).differences == ()


def test_missing_in_extract_and_missing_locally(tmp_path):
    def change(t):
        t["MHS201CareContact"] = [r for r in t["MHS201CareContact"] if r["CareContactId"] != "C2"]
        t["MHS201CareContact"].append(_contact("C6", "R3", "2024-09-14", team="T2"))

    rc = run(tmp_path, change)
    assert classes(rc) == [("missing_in_extract", "MHS201CareContact", "C2"),
                           ("missing_locally", "MHS201CareContact", "C6")]
    by_key = {d.key: d for d in rc.differences}
    assert by_key["C2"].team == "T1" and by_key["C6"].team == "T2"  # the referral's team
    assert by_key["C2"].exception_id == exception_id("missing_in_extract", "MHS201CareContact", "C2")


def test_field_differs_names_fields_and_masks_identifying_values(tmp_path):
    def change(t):
        t["MHS201CareContact"][2]["AttendStatus"] = "3"  # C3
        t["MHS201CareContact"][2]["ConsMechanismMH"] = "11"
        p1 = t["MHS001MPI"][0]
        p1["NHSNumber"], p1["PersonBirthDate"], p1["Postcode"] = "9434765870", "2012-03-02", "LS9 9ZZ"

    rc = run(tmp_path, change)
    assert classes(rc) == [("field_differs", "MHS001MPI", "P1"), ("field_differs", "MHS201CareContact", "C3")]
    c3 = next(d for d in rc.differences if d.key == "C3")
    assert [(f.column, f.local, f.extract) for f in c3.fields] == [("AttendStatus", "5", "3"),
                                                                   ("ConsMechanismMH", "02", "11")]
    assert c3.exception_id == exception_id("field_differs", "MHS201CareContact", "C3",
                                           ["ConsMechanismMH", "AttendStatus"])
    p1 = next(d for d in rc.differences if d.key == "P1")
    assert {f.column for f in p1.fields} == {"NHSNumber", "PersonBirthDate", "Postcode"}
    assert all(f.local == MASK and f.extract == MASK for f in p1.fields)
    dumped = json.dumps([d.to_json_dict() for d in rc.differences]) + rc.links.write_csv()
    for secret in (PEOPLE[0]["NHSNumber"], "9434765870", "2012-03-01", "2012-03-02", "LS1 1AA", "LS9 9ZZ"):
        assert secret not in dumped


def test_duplicate_key_on_one_side_only(tmp_path):
    rc = run(tmp_path, lambda t: t["MHS201CareContact"].append(dict(t["MHS201CareContact"][4])))
    assert classes(rc) == [("duplicate_key", "MHS201CareContact", "C5")]
    assert "2 times in the pre-deadline extract" in rc.differences[0].message


def test_orphan_contact_and_barren_referral(tmp_path):
    def change(t):
        # R2 lost its contacts in the extract and is discharged there (barren); a contact points at
        # a referral the extract lacks
        t["MHS201CareContact"] = [r for r in t["MHS201CareContact"] if r["ServiceRequestId"] != "R2"]
        t["MHS201CareContact"].append(_contact("C9", "R9", "2024-09-14"))
        t["MHS101Referral"][1]["ServDischDate"] = "2024-09-25"

    rc = run(tmp_path, change)
    assert classes(rc) == [
        ("barren", "MHS101Referral", "R2"),
        ("field_differs", "MHS101Referral", "R2"),
        ("missing_in_extract", "MHS201CareContact", "C3"),
        ("missing_in_extract", "MHS201CareContact", "C4"),
        ("missing_locally", "MHS201CareContact", "C9"),
        ("orphan", "MHS201CareContact", "C9"),
    ]
    orphan = next(d for d in rc.differences if d.record_class is RC.ORPHAN)
    assert "MHS101Referral record is missing from the pre-deadline extract" in orphan.message
    barren = next(d for d in rc.differences if d.record_class is RC.BARREN)
    assert barren.team == "T2" and "pre-deadline extract" in barren.message
    assert "discharged with no care contact" in barren.message and "before discharge" in barren.action


def _quiet_r2(t, received: str) -> None:
    """R2 open, received on ``received``, with no contact (a child waiting)."""
    t["MHS201CareContact"] = [r for r in t["MHS201CareContact"] if r["ServiceRequestId"] != "R2"]
    t["MHS101Referral"][1]["ReferralRequestReceivedDate"] = received


def barren_keys(tmp_path, received: str, extra=None, days: int = 728) -> list[str]:
    import datetime as dt

    local = base()
    _quiet_r2(local, received)
    if extra is not None:
        extra(local)
    lo = load_extract(write_extract(tmp_path / f"l{received}{days}", local))
    rc = compare_records(lo.tables, lo.tables, as_at=dt.date(2024, 9, 30), barren_after_days=days)
    return [d.key for d in rc.differences if d.record_class is RC.BARREN]


def test_a_child_waiting_is_not_barren_until_the_configured_age(tmp_path):
    # 2024-09-30 - 728 days = 2022-10-03: received that day is not older than 728 days
    assert barren_keys(tmp_path, "2024-09-03") == []
    assert barren_keys(tmp_path, "2022-10-03") == []
    assert barren_keys(tmp_path, "2022-10-02") == ["R2"]
    assert barren_keys(tmp_path, "2024-09-03", days=20) == ["R2"]


def test_a_waits_event_keeps_a_long_open_referral_from_being_barren(tmp_path):
    def assessed(t):
        t["MHS606CodedScoreAssessmentRefer"] = [{"ServiceRequestId": "R2", "CodedAssToolType": "860591000000104",
                                                 "AssToolCompTimestamp": "2023-01-05 10:00:00", "PersScore": "50"}]

    def planned(t):
        t["MHS008CarePlanType"] = [{"CarePlanID": "CP1", "LocalPatientId": "P2", "CarePlanCreatDate": "2023-01-05",
                                    "CarePlanLastUpdateDate": "2023-01-05"}]

    assert barren_keys(tmp_path, "2022-01-01", assessed) == []
    assert barren_keys(tmp_path, "2022-01-02", planned) == []
    rc_open = barren_keys(tmp_path, "2022-01-03")
    assert rc_open == ["R2"]


def test_long_open_barren_referral_says_why_and_what_to_do(tmp_path):
    import datetime as dt

    local = base()
    _quiet_r2(local, "2021-05-01")
    lo = load_extract(write_extract(tmp_path / "x", local))
    [d] = [d for d in compare_records(lo.tables, lo.tables, as_at=dt.date(2024, 9, 30)).differences]
    assert "open for more than 728 days" in d.message and "book a first contact" in d.action


def test_structural_problem_in_both_sources_is_reported_once_naming_both(tmp_path):
    local = base()
    local["MHS201CareContact"].append(_contact("C9", "R9", "2024-09-14"))
    local["MHS204IndirectActivity"].append(dict(local["MHS204IndirectActivity"][0]))
    lo = load_extract(write_extract(tmp_path / "l", local))
    ex = load_extract(write_extract(tmp_path / "e", local))
    rc = compare_records(lo.tables, ex.tables)
    assert classes(rc) == [("duplicate_key", "MHS204IndirectActivity", "R3|2024-09-13|09:00:00"),
                           ("orphan", "MHS201CareContact", "C9")]
    assert all("both extracts" in d.message for d in rc.differences)


def test_exception_ids_are_stable_and_distinct(tmp_path):
    def change(t):
        t["MHS201CareContact"][2]["AttendStatus"] = "3"
        t["MHS201CareContact"] = [r for r in t["MHS201CareContact"] if r["CareContactId"] != "C2"]

    a = run(tmp_path / "a", change)
    b = run(tmp_path / "b", change)
    assert [d.exception_id for d in a.differences] == [d.exception_id for d in b.differences]
    assert len({d.exception_id for d in a.differences}) == len(a.differences) == 2
    assert exception_id("x", "t", "k", ["b", "a"]) == exception_id("x", "t", "k", ["a", "b"])
    assert len(exception_id("x", "t", "k")) == 12


@pytest.mark.parametrize("table", ["MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct"])
def test_assessment_tables_compare_on_their_keys(tmp_path, table):
    row = ({"ServiceRequestId": "R1", "CodedAssToolType": "860591000000104",
            "AssToolCompTimestamp": "2024-09-10 10:00:00", "PersScore": "55"}
           if table.startswith("MHS606") else
           {"CareContactId": "C2", "CodedAssToolType": "860591000000104", "PersScore": "55"})

    def change(t):
        t[table][0]["PersScore"] = "60"

    local = base()
    local[table] = [row]
    other = base()
    other[table] = [dict(row)]
    change(other)
    lo = load_extract(write_extract(tmp_path / "l", local))
    ex = load_extract(write_extract(tmp_path / "e", other))
    rc = compare_records(lo.tables, ex.tables)
    assert [(d.record_class, d.table, [(f.column, f.local, f.extract) for f in d.fields], d.team)
            for d in rc.differences] == [(RC.FIELD_DIFFERS, table, [("PersScore", "55", "60")], "T1")]
