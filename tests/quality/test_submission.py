"""``recon submission`` on Summary Reports zips made in SDCS's exact format (quality.md 2)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from recon.config import ProviderSettings
from recon.errors import InputError, MissingInputError, UsageError
from recon.months import Month
from recon.quality.reports import read_report
from recon.quality.submission import family, item_identity, level_of, read_submission
from tests.quality.sdcs_zips import august, csv_bytes, row, september, write_zip

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "mhsds"
SEP = Month(2024, 9)


@pytest.fixture(scope="module")
def nhs_number() -> str:
    mpi = pl.read_csv(SAMPLE / "MHS001MPI.csv", infer_schema=False, encoding="utf8-lossy")
    return str(mpi.filter(pl.col("LocalPatientId") == "P0000011").get_column("NHSNumber").item()).strip()


def _run(reports: Path, **kw):
    return read_submission(reports, month=kw.get("month"), epr=kw.get("epr"), mapping=None,
                           settings=ProviderSettings(ods="RXX"))


def test_one_zip_every_family(tmp_path, nhs_number):
    z = write_zip(tmp_path / "202409 Summary Reports.zip", september(nhs_number))
    result = _run(z)
    out = result.to_json_dict()
    assert out["period"] == "2024-09" and out["previous_period"] is None
    assert out["report"] == {"name": z.name, "period_from": "file_name", "files": [
        "aggregation.csv", "data_quality.csv", "diagnostics.csv", "validations.csv"]}
    codes = {c["rule_id"]: c for c in out["codes"]}
    assert [c["rule_id"] for c in out["codes"]] == ["MHSREJ007", "MHS00165", "MHS20168", "MHS20143", "MHS00120",
                                                 "MHS00123", "ABC123", "MHS10126"]
    assert codes["MHS20143"] | {} == {
        "rule_id": "MHS20143", "family": "MHSnnnnn", "level": "group_rejected", "severity_1": False, "table": "MHS201",
        "description": "Group rejected - More than one [MHS201]CareContact submitted for this [M201903]CareContactID.",
        "items": ["[M201903]CareContactID"], "rows": 2, "distinct_records": 1, "matched_local": None,
        "predicted": None, "rows_previous": None, "change": None}
    assert codes["MHSREJ007"]["table"] is None and codes["MHSREJ007"]["level"] == "file_rejected"
    assert codes["MHS00123"]["severity_1"] and codes["MHS00120"]["severity_1"]  # rules CSV; DESCRIPTION
    assert codes["ABC123"]["family"] == "other" and any("ABC123" in w for w in out["warnings"])
    assert out["diagnostics"] == [
        {"code": "MHSDAG001", "description": "Completed Person Birth Date", "numerator": 970, "denominator": 975},
        {"code": "MHSDAG019", "description": "Records, with a comma", "numerator": 12, "denominator": None}]
    assert {t["table"]: t["rows_received"] for t in out["tables"]} == {"MHS001": 975, "MHS101": 1134, "MHS201": 3560}
    assert all(t["rows_local"] is None for t in out["tables"])
    assert result.exit_code == 1 and result.rejection_rows == 5 and result.warning_rows == 4


def test_identifying_values_never_leave(tmp_path, nhs_number):
    z = write_zip(tmp_path / "202409 Summary Reports.zip", september(nhs_number))
    text = json.dumps(_run(z).to_json_dict())
    for secret in (nhs_number, "2011-02-03", "ZZ1 1ZZ"):
        assert secret not in text
    assert text.count("[masked]") == 3


def test_local_extract_ties_each_record_back(tmp_path, nhs_number):
    z = write_zip(tmp_path / "202409 Summary Reports.zip", september(nhs_number))
    out = _run(z, epr=SAMPLE, month=SEP).to_json_dict()
    codes = {c["rule_id"]: c for c in out["codes"]}
    assert codes["MHS20143"]["matched_local"] == 1 and codes["MHS20143"]["predicted"] is True
    assert codes["MHS00165"]["matched_local"] == 1 and codes["MHS00165"]["predicted"] is True
    assert codes["MHS20168"]["matched_local"] == 0 and codes["MHS20168"]["predicted"] is False
    assert codes["MHS10126"]["matched_local"] == 1 and codes["MHS10126"]["predicted"] is True
    records = {(r["rule_id"], json.dumps(r["key"])): r for r in out["records"]}
    dup = records[("MHS20143", json.dumps([["[M201903]CareContactID", "CC000000031"]]))]
    assert (dup["rows"], dup["local_rows"]) == (2, 2)
    assert records[("MHSREJ007", "[]")]["local_rows"] is None
    mhs201 = next(t for t in out["tables"] if t["table"] == "MHS201")
    assert mhs201["rows_received"] == 3560 and mhs201["rows_local"] > mhs201["rows_local_loaded"] > 0


def test_two_months_and_a_resubmission(tmp_path, nhs_number):
    folder = tmp_path / "reports"
    folder.mkdir()
    write_zip(folder / "202409 Summary Reports.zip", september(nhs_number), stamp=(2024, 10, 20, 9, 0, 0))
    write_zip(folder / "202409 Summary Reports Refresh.zip", september(nhs_number), stamp=(2024, 11, 20, 9, 0, 0))
    write_zip(folder / "202408 Summary Reports.zip", august())
    (folder / "notes.txt").write_text("not a zip")
    out = _run(folder).to_json_dict()
    assert out["period"] == "2024-09" and out["previous_period"] == "2024-08"
    assert out["report"]["name"] == "202409 Summary Reports Refresh.zip"
    assert out["ignored"] == ["202409 Summary Reports.zip"]
    codes = {c["rule_id"]: c for c in out["codes"]}
    assert (codes["MHS20143"]["rows_previous"], codes["MHS20143"]["change"]) == (1, 1)
    assert (codes["MHS10129"]["rows"], codes["MHS10129"]["rows_previous"], codes["MHS10129"]["change"]) == (0, 3, -3)
    assert next(t for t in out["tables"] if t["table"] == "MHS201")["change"] == 60
    assert _run(folder, month=Month(2024, 8)).to_json_dict()["previous_period"] is None


def test_no_rejection_row_is_exit_0(tmp_path):
    d = "data_quality.csv"
    z = write_zip(tmp_path / "202409.zip", {"validations.csv": csv_bytes([]), d: csv_bytes([
        row(d, "Warning - [M001070]Postcode is blank.", "MHS00123", pairs=[("[M001901]LocalPatientID", "P1")])])})
    result = _run(z)
    assert result.exit_code == 0 and result.report.files == ("data_quality.csv", "validations.csv")


@pytest.mark.parametrize("files, message", [
    ({"data_quality.csv": csv_bytes([])}, "holds no validations.csv"),
    ({"validations.csv": csv_bytes([], header=("CODE", "DESCRIPTION")), "data_quality.csv": csv_bytes([])},
     "not the 25 SDCS columns"),
    ({"validations.csv": csv_bytes([]), "VALIDATIONS.CSV": csv_bytes([]), "data_quality.csv": csv_bytes([])},
     "twice"),
])
def test_malformed_zip_is_exit_2(tmp_path, files, message):
    z = write_zip(tmp_path / "202409 Summary Reports.zip", files)
    with pytest.raises(InputError) as err:
        _run(z)
    assert message in str(err.value) and err.value.exit_code == 2


def test_period_errors(tmp_path, nhs_number):
    z = write_zip(tmp_path / "Summary Reports.zip", september(nhs_number))
    with pytest.raises(InputError, match="period unknown"):
        _run(z)
    assert _run(z, month=SEP).report.period_from == "option"
    with pytest.raises(InputError, match="another month"):
        _run(z, month=Month(2024, 10))
    with pytest.raises(UsageError):
        _run(z, epr=SAMPLE)


def test_missing_reports_are_exit_3(tmp_path):
    with pytest.raises(MissingInputError):
        _run(tmp_path / "nowhere.zip")
    folder = tmp_path / "reports"
    folder.mkdir()
    write_zip(folder / "202408 Summary Reports.zip", august())
    with pytest.raises(MissingInputError) as err:
        _run(folder, month=SEP)
    assert err.value.exit_code == 3


def test_hostile_zip_is_refused_before_reading(tmp_path):
    z = tmp_path / "202409 bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("validations.csv", b"0" * (8 * 1024 * 1024))
        zf.writestr("data_quality.csv", csv_bytes([]))
    with pytest.raises(InputError, match="too highly compressed"):
        read_report(z)


def test_zip_inside_the_zip_is_ignored_with_a_warning(tmp_path, nhs_number):
    files = september(nhs_number) | {"extra/inner.zip": b"PK"}
    z = write_zip(tmp_path / "202409 Summary Reports.zip", files)
    assert any("inner.zip" in w for w in _run(z).warnings)


def test_windows_1252_and_bom_are_read(tmp_path):
    with_bom = b"\xef\xbb\xbf" + csv_bytes([])
    cp1252 = csv_bytes([]) + b"Data Quality Issues,Warning - caf\xe9,MHS00123,1" + b"," * 21 + b"\r\n"
    z = write_zip(tmp_path / "202409.zip", {"validations.csv": with_bom, "data_quality.csv": cp1252})
    assert [c.description for c in _run(z).codes] == ["Warning - caf\u00e9"]


def test_code_families_levels_and_item_names():
    assert [family(c) for c in ("MHSARV201", "MHSDAG001", "MHS20142", "MHSREJ007", "MHS2014")] == [
        "MHSARVnnn", "MHSDAGnnn", "MHSnnnnn", "MHSREJnnn", "other"]
    assert level_of("Record Rejected - x") == "record_rejected" and level_of("Warning - Severity 1 - x") == "warning"
    assert item_identity("[M201902]ServiceRequestID", "MHS201") == ("MHS201", "ServiceRequestID", False)
    assert item_identity("M101902 SERVICE REQUEST IDENTIFIER", "MHS101") == ("MHS101", "ServiceRequestID", False)
    assert item_identity("Nhs Number", "MHS001") == ("MHS001", None, True)
    assert item_identity("NHS NUMBER STATUS INDICATOR CODE", "MHS001")[2] is False
    assert item_identity("Hospital Provider Spell Number", "MHS501") == ("MHS501", "HospProvSpellID", False)
