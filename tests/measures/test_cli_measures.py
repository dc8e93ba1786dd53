"""``recon measures`` end to end on a CSV extract folder: the JSON contract and the console view."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.measures.catalog import catalog

MPI = (
    "LocalPatientId,NHSNumber,PersonBirthDate,OrgIDProv\n"
    "P1,9434765919,2012-03-01,RXX\n"
    "P2,,2008-01-01,RXX\n"
    "P3,9434765919,2012-03-01,RXX\n"
)
REF = (
    "ServiceRequestId,LocalPatientId,OrgIDProv,ReferralRequestReceivedDate,ServDischDate,UniqCareProfTeamLocalID\n"
    "R1,P1,RXX,2024-09-02,,T1\n"
    "R2,P2,RXX,2024-01-10,2024-09-30,T2\n"
    "R3,P3,RXX,2024-06-01,,T1\n"
)
CON = (
    "CareContactId,ServiceRequestId,CareContDate,CareContTime,AttendStatus,ConsMechanismMH\n"
    "C1,R1,2024-09-05,10:00,5,01\n"
    "C2,R1,2024-09-19,10:00,5,11\n"
    "C3,R2,2024-09-10,09:00,3,01\n"
    "C4,R2,2024-03-01,09:00,6,02\n"
    "C5,R3,2024-09-20,09:00,5,01\n"
)


@pytest.fixture
def epr(tmp_path):
    for name, text in (("MHS001MPI.csv", MPI), ("MHS101Referral.csv", REF), ("MHS201CareContact.csv", CON)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, ["measures", *args])


def test_json_contract(epr):
    result = run("--month", "2024-09", "--epr", str(epr), "--json")
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)
    assert list(d) == ["provider", "month", "measures"]
    assert (d["provider"], d["month"]) == ("RXX", "2024-09")
    provider = [m for m in d["measures"] if "breakdown" not in m]
    assert [m["id"] for m in provider] == list(catalog().ids)
    for m in provider:
        if catalog().get(m["id"]).is_percentage:
            assert set(m) == {"id", "value", "numerator", "denominator"}
        else:
            assert set(m) == {"id", "value"}
    for m in d["measures"]:
        if "breakdown" in m:
            assert set(m) in ({"id", "value", "breakdown", "level"},
                              {"id", "value", "numerator", "denominator", "breakdown", "level"})
    values = {m["id"]: m["value"] for m in provider}
    # MHS95: P1 (C1), P3 (C5), P2 (C4 attended 2024-03-01, aged 16) -> 3 people.
    # MHS69: R1 first 09-05, second 09-19 -> P1 in September; R2 one qualifying contact; R3 one -> 1.
    # MHS32: R1 -> 1. MHS29: C1, C2, C3, C5 -> 4; MHS30: 3; MHS58: 1 (C3).
    # MHS57a: P2 discharged 09-30, aged 16 -> 1. MHS23: R1, R3 open -> 2 (R2 discharged on M.end).
    # MHS01: P1, P3 -> 2. MHS61a: R1 (first attended 09-05) and R3 (09-20) -> 2.
    assert {k: values[k] for k in ("MHS95", "MHS69", "MHS32", "MHS32a", "MHS29", "MHS30", "MHS58",
                                   "MHS57a", "MHS01", "MHS23", "MHS61a")} == {
        "MHS95": 3, "MHS69": 1, "MHS32": 1, "MHS32a": 1, "MHS29": 4, "MHS30": 3, "MHS58": 1,
        "MHS57a": 1, "MHS01": 2, "MHS23": 2, "MHS61a": 2,
    }
    teams = {m["level"]: m["value"] for m in d["measures"] if m["id"] == "MHS95" and m.get("breakdown") == "Team"}
    assert teams == {"T1": 2, "T2": 1}
    assert "9434765919" not in result.stdout and "2012-03-01" not in result.stdout


def test_person_key_nhs_and_provider_flags(epr):
    # P1 and P3 share a valid NHS number: one person by NHS number -> MHS95 2, MHS01 1.
    result = run("--month", "2024-09", "--epr", str(epr), "--json", "--person-key", "nhs", "--provider", "RXX")
    assert result.exit_code == 0, result.stderr
    values = {m["id"]: m["value"] for m in json.loads(result.stdout)["measures"] if "breakdown" not in m}
    assert (values["MHS95"], values["MHS01"], values["MHS23"]) == (2, 1, 2)
    other = run("--month", "2024-09", "--epr", str(epr), "--json", "--provider", "RZZ")
    values = {m["id"]: m["value"] for m in json.loads(other.stdout)["measures"] if "breakdown" not in m}
    assert (values["MHS95"], values["MHS29"]) == (0, 0)  # every record belongs to RXX


def test_console_view(epr):
    result = run("--month", "2024-09", "--epr", str(epr))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Measures for RXX, September 2024" in out
    for word in ("MHS95", "MHS61a", "MHS112a", "RECON_GBO_PAIRED", "--json"):
        assert word in out
    assert "9434765919" not in out


def test_missing_extract_is_a_clean_error(tmp_path):
    result = run("--month", "2024-09", "--epr", str(tmp_path / "nowhere"), "--json")
    assert result.exit_code == 3  # contract.md: an expected input is missing
    assert "nowhere" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
