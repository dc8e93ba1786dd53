"""Bad input through the CLI: exit 2, one line naming file, column and rule, no traceback, nothing written.

Each case starts from the clean extract in tests/fixtures/bad/base, breaks one thing, runs
``recon validate --month 2024-09 --epr PATH`` and compares the whole message.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.sources import load_extract

BASE = Path(__file__).parents[1] / "fixtures" / "bad" / "base"
CON = "MHS201CareContact.csv"
CON_HEADER = (BASE / CON).read_text(encoding="utf-8").splitlines()[0]
FOUND = "CareContactId, ServiceRequestId, {date}, CareContTime, AttendStatus, ConsMechanismMH, " \
        "ClinContDurOfCareCont, UniqCareProfTeamLocalID"

runner = CliRunner()


@pytest.fixture(autouse=True)
def _private_ledger(tmp_path, monkeypatch):
    """Runs may be recorded in a ledger: keep it out of the user's data folder and the inputs."""
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "ledger" / "ledger.sqlite"))


def _text(folder: Path, name: str, text: str | bytes) -> None:
    (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def _replace(folder: Path, name: str, old: str, new: str) -> None:
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text
    _text(folder, name, text.replace(old, new))


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    wb = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet(title)
        ws.title = title
        first = False
        for r in rows:
            ws.append(r)
    wb.save(path)


def _zip(folder: Path, extra: dict[str, str]) -> Path:
    z = folder.parent / "extract.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, p.name)
        for name, text in extra.items():
            zf.writestr(name, text)
    shutil.rmtree(folder)
    return z


def missing_table(d: Path) -> Path:
    (d / CON).unlink()
    return d


def renamed_column(d: Path) -> Path:
    _replace(d, CON, "CareContDate", "ContactDate")
    return d


def missing_columns(d: Path) -> Path:
    frame = pl.read_csv(d / CON, infer_schema=False).drop("AttendStatus", "ConsMechanismMH")
    frame.write_csv(d / CON)
    return d


def empty_file(d: Path) -> Path:
    _text(d, CON, "")
    return d


def header_only(d: Path) -> Path:
    _text(d, CON, CON_HEADER + "\n")
    return d


def truncated(d: Path) -> Path:
    _text(d, CON, (d / CON).read_text() + "C5,R3,2024-09-2")
    return d


def truncated_in_quotes(d: Path) -> Path:
    _text(d, CON, (d / CON).read_text() + 'C5,R3,2024-09-21,10:00,5,01,30,"T')
    return d


def bad_date(d: Path) -> Path:
    _replace(d, CON, "C3,R2,2024-08-15", "C3,R2,15th Aug 2024")
    return d


def bad_birth_date(d: Path) -> Path:
    _replace(d, "MHS001MPI.csv", "P2,,2008-02-01", "P2,,31/02/2008")
    return d


def data_on_another_sheet(d: Path) -> Path:
    rows = [line.split(",") for line in (d / CON).read_text().splitlines()]
    (d / CON).unlink()
    _workbook(d / "MHS201CareContact.xlsx", {"Read me": [["Exported from the EPR on 2024-10-03"]], "Contacts": rows})
    return d


def zip_with_unexpected_members(d: Path) -> Path:
    return _zip(d, {"notes/readme.docx": "x", "MHS999Other.csv": "a\n1\n"})


def duplicate_table_files(d: Path) -> Path:
    pl.read_csv(d / CON, infer_schema=False).write_parquet(d / "MHS201CareContact.parquet")
    return d


def semicolons(d: Path) -> Path:
    _text(d, CON, (d / CON).read_text().replace(",", ";"))
    return d


def doubled_header(d: Path) -> Path:
    _replace(d, CON, "ClinContDurOfCareCont", "AttendStatus")
    return d


def extra_fields(d: Path) -> Path:
    _text(d, CON, (d / CON).read_text() + "C5,R3,2024-09-21,10:00,5,01,30,T1,surplus\n")
    return d


def binary_csv(d: Path) -> Path:
    _text(d, CON, bytes(range(256)) * 8)
    return d


def not_a_zip(d: Path) -> Path:
    f = d.parent / "extract.txt"
    f.write_text("hello", encoding="utf-8")
    return f


def damaged_zip(d: Path) -> Path:
    z = _zip(d, {})
    data = z.read_bytes()
    z.write_bytes(data[: len(data) // 2])
    return z


def corrupt_workbook(d: Path) -> Path:
    (d / CON).unlink()
    _text(d, "MHS201CareContact.xlsx", b"PK\x03\x04 not really a workbook")
    return d


def corrupt_parquet(d: Path) -> Path:
    (d / CON).unlink()
    _text(d, "MHS201CareContact.parquet", b"PAR1 not really parquet PAR1")
    return d


# case: (breaker, expected message with {dir} = the extract folder, {tmp} = its parent)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing table file": (
        missing_table, "[SRC009] {dir}: no file for the required table MHS201CareContact"),
    "renamed column": (
        renamed_column,
        "[SRC010] {dir}/MHS201CareContact.csv, column CareContDate: required column CareContDate missing "
        "(found: " + FOUND.format(date="ContactDate") + ")"),
    "missing columns": (
        missing_columns,
        "[SRC010] {dir}/MHS201CareContact.csv, column AttendStatus: required columns AttendStatus, "
        "ConsMechanismMH missing (found: CareContactId, ServiceRequestId, CareContDate, CareContTime, "
        "ClinContDurOfCareCont, UniqCareProfTeamLocalID)"),
    "empty file": (empty_file, "[SRC002] {dir}/MHS201CareContact.csv: the file is empty"),
    "header-only file": (
        header_only,
        "[SRC003] {dir}/MHS201CareContact.csv: has a header but no records; MHS201CareContact cannot be empty"),
    "truncated last line": (
        truncated,
        "[SRC004] {dir}/MHS201CareContact.csv: the last line is cut short (3 of 8 fields): the file looks "
        "truncated; export it again"),
    "truncated inside quotes": (
        truncated_in_quotes,
        "[SRC004] {dir}/MHS201CareContact.csv: the last line ends inside a quoted value: the file looks "
        "truncated; export it again"),
    "unparseable date": (
        bad_date,
        "[SRC011] {dir}/MHS201CareContact.csv, column CareContDate, record CareContactId=C3: cannot read "
        "'15th Aug 2024' as a date (1 record affected; accepted: YYYY-MM-DD, DD/MM/YYYY, Excel serial numbers, "
        "date-times)"),
    "unparseable birth date (value withheld)": (
        bad_birth_date,
        "[SRC011] {dir}/MHS001MPI.csv, column PersonBirthDate, record LocalPatientId=P2: cannot read as a date "
        "(1 record affected; accepted: YYYY-MM-DD, DD/MM/YYYY, Excel serial numbers, date-times)"),
    "Excel data on another sheet": (
        data_on_another_sheet,
        "[SRC007] {dir}/MHS201CareContact.xlsx: sheet 'Read me' holds no MHS201CareContact columns; the "
        "records are on sheet 'Contacts': name that sheet MHS201CareContact, make it the first sheet, or set "
        "sheet = 'Contacts' in a mapping"),
    "zip with unexpected members": (
        zip_with_unexpected_members,
        "[SRC009] {tmp}/extract.zip: the archive holds members that are not an MHSDS table: notes/readme.docx, "
        "MHS999Other.csv (expected files named by table id, e.g. MHS101Referral.csv)"),
    "duplicate table files": (
        duplicate_table_files,
        "[SRC009] {dir}/MHS201CareContact.parquet: table MHS201CareContact is given twice "
        "(MHS201CareContact.csv and MHS201CareContact.parquet); keep one"),
    "semicolon separated": (
        semicolons,
        "[SRC005] {dir}/MHS201CareContact.csv: the columns are separated by semicolons, not commas; save the "
        "file as CSV (comma delimited)"),
    "column named twice": (
        doubled_header,
        "[SRC005] {dir}/MHS201CareContact.csv, column AttendStatus: the header names column AttendStatus more "
        "than once; keep one"),
    "more fields than the header": (
        extra_fields,
        "[SRC005] {dir}/MHS201CareContact.csv: cannot be read as CSV: a line has more fields than the header"),
    "binary data in a .csv": (
        binary_csv,
        "[SRC005] {dir}/MHS201CareContact.csv: holds binary data (NUL bytes), not CSV text: is it really a CSV "
        "file?"),
    "not a folder or zip": (not_a_zip, "[SRC001] {tmp}/extract.txt: is neither a folder nor a zip archive"),
    "damaged zip": (
        damaged_zip, "[SRC001] {tmp}/extract.zip: is not a readable zip archive (damaged, or only partly copied?)"),
    "corrupt workbook": (
        corrupt_workbook,
        "[SRC006] {dir}/MHS201CareContact.xlsx: cannot be opened as an Excel workbook (CalamineError)"),
    "corrupt parquet": (
        corrupt_parquet, "[SRC008] {dir}/MHS201CareContact.parquet: cannot be read as Parquet (ComputeError)"),
}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, case):
    breaker, expected = CASES[case]
    folder = tmp_path / "in" / "extract"
    shutil.copytree(BASE, folder)
    target = breaker(folder)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _snapshot(tmp_path / "in")

    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(target)])

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    message = expected.format(dir=folder, tmp=folder.parent)
    assert lines == [f"recon: error: {message}"]
    assert _snapshot(tmp_path / "in") == before  # the input is untouched
    assert list(work.iterdir()) == []  # nothing written


def test_missing_path_is_exit_3(tmp_path):
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(tmp_path / "nope")])
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("recon: error: ") and str(tmp_path / "nope") in lines[0]
    assert "Traceback" not in result.output


def test_windows_1252_text_reads_correctly(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(BASE, folder)
    ref = (folder / "MHS101Referral.csv").read_text(encoding="utf-8").replace(",T2,", ",Équipe Nord’s,")
    (folder / "MHS101Referral.csv").write_bytes(ref.encode("cp1252"))
    assert "’".encode("cp1252") == b"\x92"  # really not UTF-8
    _replace(folder, CON, "C3,R2,2024-08-15,09:00,6,98", "C3,R2,2024-08-15,09:00,1,98")  # a finding on team T2

    teams = load_extract(folder).frame("MHS101Referral").get_column("UniqCareProfTeamLocalID").to_list()
    assert teams == ["T1", "Équipe Nord’s", "T1"]

    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(folder), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [(f["rule_id"], f["key"], f["team"]) for f in payload["findings"]] == [
        ("SRC021", None, None), ("VAL003", "C3", "Équipe Nord’s"),
    ]


def test_utf16_and_bom_crlf_files_read(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(BASE, folder)
    text = (folder / CON).read_text(encoding="utf-8")
    (folder / CON).write_bytes(text.encode("utf-16"))
    mpi = (folder / "MHS001MPI.csv").read_text(encoding="utf-8")
    (folder / "MHS001MPI.csv").write_bytes(b"\xef\xbb\xbf" + mpi.replace("\n", "\r\n").encode("utf-8"))
    base = load_extract(BASE)
    e = load_extract(folder)
    assert e.frame("MHS201CareContact").equals(base.frame("MHS201CareContact"))
    assert e.frame("MHS001MPI").equals(base.frame("MHS001MPI"))
    assert runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(folder)]).exit_code == 0


def test_header_only_optional_table_is_fine(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(BASE, folder)
    header = (folder / "MHS204IndirectActivity.csv").read_text().splitlines()[0]
    (folder / "MHS204IndirectActivity.csv").write_text(header + "\n")
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(folder)])
    assert result.exit_code == 0, result.output
    assert load_extract(folder).frame("MHS204IndirectActivity").height == 0


MAPPING = """
name = "tiny"
[constants]
OrgIDProv = "RXX"
[tables.MHS001MPI]
file = "clients.csv"
[tables.MHS001MPI.columns]
LocalPatientId = "ClientID"
PersonBirthDate = "DOB"
[tables.MHS101Referral]
file = "referrals.csv"
[tables.MHS101Referral.columns]
ServiceRequestId = "ReferralID"
LocalPatientId = "ClientID"
ReferralRequestReceivedDate = "Received"
UniqCareProfTeamLocalID = "Team"
[tables.MHS201CareContact]
file = "appointments*.csv"
[tables.MHS201CareContact.columns]
CareContactId = "ApptID"
ServiceRequestId = "ReferralID"
CareContDate = "ApptDate"
AttendStatus = "Outcome"
ConsMechanismMH = "Medium"
[tables.MHS201CareContact.values.AttendStatus]
"Attended" = "5"
"DNA" = "3"
[tables.MHS201CareContact.values.ConsMechanismMH]
"Face to face" = "01"
"""


def _epr(tmp_path: Path) -> tuple[Path, Path]:
    epr = tmp_path / "in" / "epr"
    epr.mkdir(parents=True)
    (epr / "clients.csv").write_text("ClientID,DOB\nP1,2010-05-01\n")
    (epr / "referrals.csv").write_text("ReferralID,ClientID,Received,Team\nR1,P1,2024-01-03,T1\n")
    (epr / "appointments.csv").write_text(
        "ApptID,ReferralID,ApptDate,Outcome,Medium\nA1,R1,2024-09-02,Attended,Face to face\n"
        "A2,R1,2024-09-09,Seen??,Face to face\n")
    mapping = tmp_path / "in" / "tiny.toml"
    mapping.write_text(MAPPING)
    return epr, mapping


def test_mapping_column_missing_is_map002(tmp_path):
    epr, mapping = _epr(tmp_path)
    (epr / "appointments.csv").write_text("ApptID,ReferralID,ApptDate,Medium\nA1,R1,2024-09-02,Face to face\n")
    before = _snapshot(tmp_path / "in")
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(epr), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"recon: error: [MAP002] {epr}/appointments.csv, column Outcome: local column 'Outcome' (mapped to "
        "AttendStatus by mapping 'tiny') is missing; found: ApptID, ReferralID, ApptDate, Medium")
    assert _snapshot(tmp_path / "in") == before


def test_mapping_file_pattern_matching_two_files_is_map003(tmp_path):
    epr, mapping = _epr(tmp_path)
    shutil.copy(epr / "appointments.csv", epr / "appointments_old.csv")
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(epr), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"recon: error: [MAP003] {epr}: 2 files match 'appointments*.csv' for MHS201CareContact: "
        "appointments.csv, appointments_old.csv")


def test_unmapped_local_value_is_an_error_finding(tmp_path):
    epr, mapping = _epr(tmp_path)
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(epr), "--mapping", str(mapping),
                                 "--json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule_id"], f["severity"], f["key"], f["column"], f["value"]) for f in findings] == [
        ("MAP001", "error", "A2", "AttendStatus", "Seen??"),
        ("VAL001", "error", "A2", "AttendStatus", None),
    ]
