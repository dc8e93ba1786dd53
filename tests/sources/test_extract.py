"""The extract reader on small hand-made extracts: formats, types, aliases."""

import datetime as dt
import zipfile

import polars as pl
import pytest

from recon.errors import InputError, MissingInputError
from recon.sources import load_extract

MPI = "LocalPatientId,NHSNumber,PersonBirthDate,Gender,OrgIDProv\nP1,9434765919,2010-05-01,1,RXX\nP2,,01/02/2008,2,RXX\n"
REF = (
    "ServiceRequestId,LocalPatientId,OrgIDProv,ReferralRequestReceivedDate,ServDischDate\n"
    "R1,P1,RXX,2024-01-03,\nR2,P2,RXX,45383,30/09/2024\n"
)
CON = (
    "CareContactId,ServiceRequestId,CareContDate,CareContTime,AttendOrDNACode,ConsMediumUsed\n"
    "C1,R1,2024-02-01,10:30,5,01\nC2,R1,2024-03-01 00:00:00,0.5,6,11\n"
)


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def extract_dir(tmp_path):
    return write(tmp_path / "ex", {"MHS001MPI.csv": MPI, "MHS101Referral.csv": REF, "MHS201CareContact.csv": CON})


def test_reads_csv_folder_with_types_and_old_names(extract_dir):
    e = load_extract(extract_dir)
    con = e.frame("MHS201CareContact")
    assert con.schema["AttendStatus"] == pl.String  # v4.1 AttendOrDNACode renamed
    assert con.get_column("ConsMechanismMH").to_list() == ["01", "11"]  # "01" stays text
    assert con.get_column("CareContDate").to_list() == [dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
    assert con.get_column("CareContTime").to_list() == [dt.time(10, 30), dt.time(12, 0)]
    ref = e.frame("MHS101Referral")
    assert ref.get_column("ReferralRequestReceivedDate").to_list() == [dt.date(2024, 1, 3), dt.date(2024, 4, 1)]
    assert ref.get_column("ServDischDate").to_list() == [None, dt.date(2024, 9, 30)]
    assert e.provider == "RXX"
    assert e.frame("MHS204IndirectActivity").height == 0  # optional table absent: empty, typed
    assert e.frame("MHS204IndirectActivity").schema["IndirectActDate"] == pl.Date


def test_reads_zip_parquet_and_xlsx_alike(extract_dir, tmp_path):
    base = load_extract(extract_dir)
    z = tmp_path / "ex.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in extract_dir.iterdir():
            zf.write(p, p.name)
    assert load_extract(z).frame("MHS201CareContact").equals(base.frame("MHS201CareContact"))

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "MHS001MPI.csv").write_text(MPI)
    base.frame("MHS101Referral").write_parquet(mixed / "MHS101Referral.parquet")
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["CareContactId", "ServiceRequestId", "CareContDate", "CareContTime", "AttendStatus", "ConsMechanismMH"])
    ws.append(["C1", "R1", dt.date(2024, 2, 1), "10:30", 5, "01"])
    ws.append(["C2", "R1", 45352, dt.time(12, 0), "6", "11"])
    wb.save(mixed / "MHS201CareContact.xlsx")
    e = load_extract(mixed)
    assert e.frame("MHS101Referral").equals(base.frame("MHS101Referral"))
    con = e.frame("MHS201CareContact")
    assert con.get_column("CareContDate").to_list() == [dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
    assert con.get_column("AttendStatus").to_list() == ["5", "6"]


def test_missing_path_is_exit_3(tmp_path):
    with pytest.raises(MissingInputError) as info:
        load_extract(tmp_path / "nope")
    assert info.value.exit_code == 3


def test_unparseable_date_names_file_column_rule_and_key(extract_dir):
    (extract_dir / "MHS201CareContact.csv").write_text(CON.replace("2024-02-01", "2024-02-31"))
    with pytest.raises(InputError) as info:
        load_extract(extract_dir)
    msg = str(info.value)
    assert info.value.exit_code == 2
    assert "MHS201CareContact.csv" in msg and "CareContDate" in msg and "SRC011" in msg and "C1" in msg


def test_birth_date_value_never_appears_in_messages(extract_dir):
    (extract_dir / "MHS001MPI.csv").write_text(MPI.replace("2010-05-01", "1st May 2010"))
    with pytest.raises(InputError) as info:
        load_extract(extract_dir)
    assert "PersonBirthDate" in str(info.value)
    assert "May 2010" not in str(info.value)


@pytest.mark.parametrize("table", ["MHS001MPI.csv", "MHS201CareContact.csv"])
def test_a_file_without_its_header_row_echoes_no_data(extract_dir, table):
    """Its first data row would be read as the header: the message must not list those values
    (an NHS number, a birth date) as 'found' column names."""
    path = extract_dir / table
    path.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(InputError) as info:
        load_extract(extract_dir)
    msg = str(info.value)
    assert "header row" in msg
    for value in ("9434765919", "2010-05-01", "P1", "C1", "2024-02-01"):
        assert value not in msg


def test_month_gap_names_the_span_when_the_month_has_no_activity(extract_dir):
    from recon.months import Month

    e = load_extract(extract_dir)
    assert e.month_gap(Month(2024, 2)) is None  # C1 is dated 2024-02-01
    gap = e.month_gap(Month(2025, 9))
    assert gap is not None and "2025-09" in gap and "2024-02 to 2024-03" in gap


@pytest.mark.parametrize("chunk", [2, 3, 5, 1 << 24])
def test_padding_scan_sees_blanks_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    """Whitespace trimming is skipped when the byte scan finds no padded field, so the scan must
    not miss one that straddles two read chunks."""
    import recon.sources.text as text

    monkeypatch.setattr(text, "_CHUNK", chunk)
    cases = {
        b"a,b\n1,2\n": False, b"a,b\n1,RV1 3TW\n": False, b"a,b\n1, 2\n": True, b"a,b\n 1,2\n": True,
        b"a,b\n1,x \n": True, b'a,""\n': True, b"a\tb\n": True, b" a,b\n": True, b"a,b\n1,2 ": True,
    }
    path = tmp_path / "x.csv"
    for data, padded in cases.items():
        path.write_bytes(data)
        assert text._scan(path, None)[1] is padded, data
        assert text._scan(None, data)[1] is padded, data
