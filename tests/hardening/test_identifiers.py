"""Privacy beyond the known columns (issue 15 class 6): NHS numbers used as LocalPatientId and
postcodes in columns recon does not treat as identifying are masked in every output."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from recon.cli import app
from recon.identifiers import mask_frame, mask_identifiers, mask_text

NHS = "9434765919"  # a valid test number (modulus 11)
MPI = f"LocalPatientId,PersonBirthDate,OrgIDProv\n{NHS},2010-01-01,RXX\n{NHS},2010-01-01,RXX\nP2,2011-01-01,RXX\n"
REF = (f"ServiceRequestId,LocalPatientId,OrgIDProv,ReferralRequestReceivedDate\nR1,{NHS},RXX,2024-09-03\n"
       "R2,P2,RXX,2024-09-04\n")
CON = "CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH\nC1,R1,2024-09-10,5,01\n"


def test_text_and_frames_are_masked() -> None:
    assert mask_text(f"record {NHS} at LS1 4AP") == ("record *** *** 5919 at *** ***", True)
    assert mask_text("MHS101Referral R1 rule VAL002 1234567890") == ("MHS101Referral R1 rule VAL002 1234567890",
                                                                     False)  # not modulus-11 valid
    frame = pl.DataFrame({"LocalPatientId": [NHS, "P2"], "Notes": ["SW1A 1AA", "x"], "NHSNumber": [NHS, None]})
    masked, cols = mask_frame(frame, frozenset({"NHSNumber"}))
    assert cols == ["LocalPatientId", "Notes"]
    assert masked.to_dict(as_series=False) == {"LocalPatientId": ["*** *** 5919", "P2"], "Notes": ["*** ***", "x"],
                                               "NHSNumber": [NHS, None]}  # the pack masks NHSNumber itself
    same = ("a", {"b": 1})
    assert mask_identifiers(same) == (same, [])


def test_nhs_numbers_as_local_patient_id_never_reach_any_output(tmp_path: Path) -> None:
    ex = tmp_path / "ex"
    ex.mkdir()
    for name, text in (("MHS001MPI.csv", MPI), ("MHS101Referral.csv", REF), ("MHS201CareContact.csv", CON)):
        (ex / name).write_text(text, encoding="utf-8")
    ledger, log = tmp_path / "ledger.sqlite", tmp_path / "run.log"
    res = CliRunner().invoke(app, ["validate", "--month", "2024-09", "--epr", str(ex), "--json",
                                   "--ledger", str(ledger), "--log-file", str(log)])
    assert res.exit_code in (0, 1), res.stderr
    doc = json.loads(res.stdout)
    keys = [f["key"] for f in doc["findings"] if f["table"] == "MHS001MPI"]
    assert "*** *** 5919" in keys  # the person is still named, masked
    for output in (res.stdout, res.stderr, log.read_text(encoding="utf-8"), ledger.read_bytes().decode("latin-1")):
        assert NHS not in output
    assert res.stderr.count("shaped like NHS numbers or postcodes found in") == 1
    assert "MHS001MPI key" in res.stderr


def test_recon_digests_and_exception_ids_are_shown_exactly() -> None:
    """A SHA-256 or an exception id is hex that can hold ten digits passing the NHS number check
    by chance (seen at 400,000 people): masking it would break `recon accept` and the audit trail.
    The same digits in a record key are still masked."""
    import dataclasses as dc

    @dc.dataclass(frozen=True)
    class Row:
        table: str
        exception_id: str
        sha256: str
        key: str

    digits = "9434765919"
    row = Row("MHS101Referral", f"ab{digits}", f"{digits}{'0' * 54}", f"R{digits}")
    masked, where = mask_identifiers(row)
    assert masked.exception_id == row.exception_id and masked.sha256 == row.sha256
    assert masked.key == "R*** *** 5919" and where == ["MHS101Referral key"]
    not_hex = Row("MHS101Referral", f"id {digits}", "x", "k")
    assert mask_identifiers(not_hex)[0].exception_id == "id *** *** 5919"
