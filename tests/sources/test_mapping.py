"""The Riverside EPR mapping: the committed EPR export reads back as exactly the MHSDS extract."""

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.findings import Severity
from recon.sources import load_extract, load_mapping
from recon.tables import TABLES

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def mhsds():
    return load_extract(SAMPLE / "mhsds")


@pytest.fixture(scope="module")
def epr():
    return load_extract(SAMPLE / "epr", mapping="riverside")


def test_riverside_mapping_parses_every_table_with_named_sheet_and_constant():
    m = load_mapping("riverside")
    assert set(m.tables) <= set(TABLES)
    assert {t.id for t in TABLES.values() if t.required} <= set(m.tables)
    contacts = m.tables["MHS201CareContact"]
    assert (contacts.file, contacts.sheet) == ("appointments.xlsx", "Appointments")
    assert contacts.values["AttendStatus"]["DNA"] == "3"
    assert contacts.values["ConsMechanismMH"]["Video"] == "11"
    assert m.tables["MHS101Referral"].constants["OrgIDProv"] == "RXX"
    assert "OrgIDProv" not in m.tables["MHS201CareContact"].constants  # not an item of that table


def test_epr_export_really_is_local_shaped():
    head = (SAMPLE / "epr" / "referrals.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert head[0].startswith("ReferralID,ClientID,ReferralDate,")
    assert "OrgIDProv" not in head[0]
    assert head[1].split(",")[2].count("/") == 2  # DD/MM/YYYY
    import fastexcel

    sheets = fastexcel.read_excel(SAMPLE / "epr" / "appointments.xlsx").sheet_names
    assert sheets == ["Read me", "Appointments"]  # the data is not on the first sheet
    words = pl.read_excel(SAMPLE / "epr" / "appointments.xlsx", sheet_name="Appointments",
                          infer_schema_length=0)
    assert {"Attended", "DNA", "Cancelled by patient"} <= set(words.get_column("Outcome").to_list())
    assert {"Face to face", "Telephone", "Video"} <= set(words.get_column("Mode").to_list())
    assert words.item(0, "ApptDate")[2] == "-" and words.item(0, "ApptDate")[3:6].isalpha()  # 05-Sep-2024


def test_epr_through_mapping_equals_mhsds_extract(mhsds, epr):
    assert not [f for f in epr.findings if f.severity is Severity.ERROR]
    assert epr.provider == mhsds.provider == "RXX"
    for tid, table in TABLES.items():
        if tid not in load_mapping("riverside").tables:  # optional tables the EPR layout lacks
            assert mhsds.tables[tid].height == 0, tid
            continue
        left = mhsds.tables[tid].sort(list(table.names), nulls_last=True)
        right = epr.tables[tid].sort(list(table.names), nulls_last=True)
        assert left.height > 0, tid
        assert_frame_equal(left, right, check_exact=True)


def test_unmapped_local_value_is_finding_map001_and_read_as_blank(tmp_path):
    folder = tmp_path / "epr"
    shutil.copytree(SAMPLE / "epr", folder)
    path = folder / "referrals.csv"
    frame = pl.read_csv(path, infer_schema=False)
    target = frame.item(3, "ReferralID")
    frame = frame.with_columns(
        pl.when(pl.col("ReferralID") == target).then(pl.lit("Soon")).otherwise(pl.col("Priority")).alias("Priority"))
    frame.write_csv(path)

    ex = load_extract(folder, mapping="riverside")

    found = [f for f in ex.findings if f.rule_id == "MAP001"]
    assert len(found) == 1
    f = found[0]
    assert (f.table, f.key, f.column, f.value, f.severity) == (
        "MHS101Referral", target, "ClinRespPriorityType", "Soon", Severity.ERROR)
    ref = ex.tables["MHS101Referral"].filter(pl.col("ServiceRequestId") == target)
    assert ref.item(0, "ClinRespPriorityType") is None
