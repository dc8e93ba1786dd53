"""``recon validate`` end to end: exit codes, the console view, --json, and privacy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recon.cli import app

BASE = Path(__file__).parent / "fixtures" / "bad" / "base"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _private_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "ledger" / "ledger.sqlite"))


def run(*args: str):
    return runner.invoke(app, ["validate", "--month", "2024-09", *args])


def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "extract"
    shutil.copytree(BASE, folder)
    con = folder / "MHS201CareContact.csv"
    con.write_text(con.read_text().replace("C2,R1,2024-09-02,14:00,3,", "C2,R1,2024-09-02,14:00,8,"))
    a607 = folder / "MHS607CodedScoreAssessmentAct.csv"
    a607.write_text(a607.read_text().replace("C3,959951000000108,8", "C3,959951000000108,12"))
    return folder


def test_valid_extract_exits_0():
    result = run("--epr", str(BASE))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "Validation of RXX, September 2024"
    assert result.stdout.rstrip().splitlines()[-1] == "PASS: 18 records, no errors or warnings"


def test_error_finding_exits_1_and_is_listed_by_rule(tmp_path):
    result = run("--epr", str(broken(tmp_path)))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "VAL003" in out and "VAL018" in out and "C2" in out
    assert "FAIL: 1 error and 1 warning in 18 records" in out.replace("\n", " ")
    assert "\x1b[" not in out  # no colour codes when not a terminal


def test_warnings_only_exit_0(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(BASE, folder)
    a607 = folder / "MHS607CodedScoreAssessmentAct.csv"
    a607.write_text(a607.read_text().replace("C3,959951000000108,8", "C3,959951000000108,12"))
    result = run("--epr", str(folder))
    assert result.exit_code == 0
    assert "PASS with 1 warning in 18 records" in result.stdout


def test_json_shape(tmp_path):
    result = run("--epr", str(broken(tmp_path)), "--json")
    assert result.exit_code == 1
    d = json.loads(result.stdout)
    assert set(d) >= {"provider", "month", "files", "rows", "summary", "findings"}
    assert d["provider"] == "RXX" and d["month"] == "2024-09"
    assert sorted((Path(f["name"]).name, f["table"], f["rows"]) for f in d["files"])[:2] == [
        ("MHS001MPI.csv", "MHS001MPI", 3), ("MHS101Referral.csv", "MHS101Referral", 3)]
    assert len(d["files"]) == 8
    assert [(s["rule_id"], s["severity"], s["table"], s["count"]) for s in d["summary"]] == [
        ("VAL003", "error", "MHS201CareContact", 1),
        ("VAL018", "warning", "MHS607CodedScoreAssessmentAct", 1),
    ]
    assert d["findings"] == [
        {"rule_id": "VAL003", "severity": "error", "table": "MHS201CareContact", "key": "C2",
         "column": "AttendStatus", "message": "Attendance code not in the national list", "value": "8", "team": "T1"},
        {"rule_id": "VAL018", "severity": "warning", "table": "MHS607CodedScoreAssessmentAct",
         "key": "C3|959951000000108", "column": "PersScore", "message": "Assessment score outside the tool's range",
         "value": "12", "team": "T2"},
    ]


def test_identifying_values_never_printed(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(BASE, folder)
    mpi = folder / "MHS001MPI.csv"
    # A wrong check digit, a birth date after the referral and in the future, an odd postcode.
    mpi.write_text(mpi.read_text().replace("P1,9434765919,2010-05-01", "P1,4010232138,2031-05-17")
                   .replace("LS1 4AP", "SW1A 9ZZ"))
    for args in ((), ("--json",)):
        result = run("--epr", str(folder), *args)
        assert result.exit_code == 1
        text = result.stdout + result.stderr
        assert "P1" in text  # the patient is named by LocalPatientId ...
        for secret in ("4010232138", "2031-05-17", "2031", "17/05", "SW1A"):
            assert secret not in text  # ... never by NHS number, birth date or postcode

    mpi.write_text(mpi.read_text().replace("2031-05-17", "17th May 2031"))
    result = run("--epr", str(folder))
    assert result.exit_code == 2
    assert "PersonBirthDate" in result.stderr
    assert "May 2031" not in result.stdout + result.stderr


def test_a_month_without_activity_is_a_warning_in_validate_and_a_note_in_measures():
    """All-zero figures for a month the extract does not cover must not pass silently."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "mhsds"
    res = CliRunner().invoke(app, ["validate", "--month", "2025-09", "--epr", str(sample), "--json", "--no-ledger"])
    found = [f for f in json.loads(res.stdout)["findings"] if f["rule_id"] == "VAL023"]
    assert len(found) == 1 and found[0]["severity"] == "warning" and "2023-09 to 2024-09" in found[0]["message"]
    res = CliRunner().invoke(app, ["measures", "--month", "2025-09", "--epr", str(sample), "--json", "--no-ledger"])
    assert res.exit_code == 0
    assert "is this the right month?" in json.loads(res.stdout)["notes"][0]
    res = CliRunner().invoke(app, ["measures", "--month", "2024-09", "--epr", str(sample), "--json", "--no-ledger"])
    assert "notes" not in json.loads(res.stdout)
