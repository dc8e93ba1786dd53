"""Record differences tied to the measures they move (measures computed on both sources)."""

from __future__ import annotations

from recon.config import ProviderSettings
from recon.measures.engine import compute_measures
from recon.months import Month
from recon.reconcile.explain import explain_records
from recon.reconcile.records import compare_records
from recon.sources import load_extract
from tests.reconcile.data import base, write_extract

M = Month(2024, 9)


def explain(tmp_path, change):
    other = base()
    change(other)
    lo = load_extract(write_extract(tmp_path / "local", base()))
    ex = load_extract(write_extract(tmp_path / "extract", other))
    lm, em = compute_measures(lo, M, ProviderSettings()), compute_measures(ex, M, ProviderSettings())
    rc = compare_records(lo.tables, ex.tables)
    return lm, em, explain_records(lm, em, rc, month=M, local_tables=lo.tables, extract_tables=ex.tables)


def test_person_counted_in_mhs95_locally_only_is_explained_by_the_lost_activity(tmp_path):
    def change(t):  # P3's only activity (C5 and the indirect row of R3) is not in the extract
        t["MHS201CareContact"] = [r for r in t["MHS201CareContact"] if r["CareContactId"] != "C5"]
        t["MHS204IndirectActivity"] = []

    lm, em, ex = explain(tmp_path, change)
    assert (lm.value("MHS95"), em.value("MHS95")) == (3, 2)
    e95 = ex.measures["MHS95"]
    assert (e95.only_local, e95.only_extract) == (1, 0)
    moved = {(d.table, d.key, d.record_class.value): d.measures for d in ex.records}
    assert "MHS95" in moved[("MHS201CareContact", "C5", "missing_in_extract")]
    assert "MHS95" in moved[("MHS204IndirectActivity", "R3|2024-09-13|09:00:00", "missing_in_extract")]
    assert "MHS95" in moved[("MHS101Referral", "R3", "barren")]
    # C5 is an attended contact in September: it also moves the contact counts
    assert {"MHS29", "MHS30"} <= set(moved[("MHS201CareContact", "C5", "missing_in_extract")])
    assert "MHS58" not in moved[("MHS201CareContact", "C5", "missing_in_extract")]
    assert "1 counted from the local extract only" in e95.text and "explained by 3" in e95.text


def test_attendance_change_moves_attended_and_missed_not_all_contacts(tmp_path):
    def change(t):
        t["MHS201CareContact"][1]["AttendStatus"] = "3"  # C2 attended locally, DNA in the extract

    lm, em, ex = explain(tmp_path, change)
    assert (lm.value("MHS30"), em.value("MHS30"), lm.value("MHS58"), em.value("MHS58")) == (3, 2, 1, 2)
    assert lm.value("MHS29") == em.value("MHS29")
    [d] = ex.records
    assert d.key == "C2" and set(d.measures) >= {"MHS30", "MHS58"} and "MHS29" not in d.measures
    assert "MHS29" not in ex.measures


def test_birth_date_difference_moves_the_people_measures(tmp_path):
    def change(t):
        t["MHS001MPI"][2]["PersonBirthDate"] = "2000-01-20"  # P3 is an adult in the extract

    lm, em, ex = explain(tmp_path, change)
    assert lm.value("MHS95") == 3 and em.value("MHS95") == 2
    [d] = ex.records
    assert d.table == "MHS001MPI" and d.key == "P3" and "MHS95" in d.measures
    assert ex.measures["MHS95"].exception_ids == (d.exception_id,)
