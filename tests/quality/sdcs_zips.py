"""Summary Reports zips made in SDCS's exact format: ASCII, CRLF, RFC 4180 quoting, the 25 columns."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from recon.quality.reports import COLUMNS

Pairs = list[tuple[str, str]]
TYPES = {"aggregation.csv": "Aggregation", "diagnostics.csv": "Diagnostic", "validations.csv": "Validation Failures",
         "data_quality.csv": "Data Quality Issues"}


def row(file: str, description: str, code: str, numerator: str = "1", denominator: str = "",
        pairs: Pairs | None = None) -> list[str]:
    cells = [TYPES[file], description, code, numerator, denominator]
    flat = [x for p in (pairs or []) for x in p]
    return cells + flat + [""] * (20 - len(flat))


def csv_bytes(rows: list[list[str]], header: tuple[str, ...] = COLUMNS) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("ascii")


def write_zip(path: Path, files: dict[str, bytes], *, stamp: tuple[int, ...] = (2024, 10, 20, 9, 0, 0)) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def september(nhs_number: str) -> dict[str, bytes]:
    """Every code family: MHSARV, MHSDAG, record/group/file rejections, Severity 1 and plain warnings,
    a v5 item name, an unknown code; identifying values in DATA_VALUEn."""
    v, d = "validations.csv", "data_quality.csv"
    a, g = "aggregation.csv", "diagnostics.csv"
    dup = "Group rejected - More than one [MHS201]CareContact submitted for this [M201903]CareContactID."
    return {
        a: csv_bytes([row(a, "Total MHS001 Pre-deadline Processing Row Count", "MHSARV001", "975"),
                      row(a, "Total MHS101 Pre-deadline Processing Row Count", "MHSARV101", "1134"),
                      row(a, "Total MHS201 Pre-deadline Processing Row Count", "MHSARV201", "3560")]),
        g: csv_bytes([row(g, "Completed Person Birth Date", "MHSDAG001", "970", "975"),
                      row(g, "Records, with a comma", "MHSDAG019", "12", "")]),
        v: csv_bytes([
            row(v, dup, "MHS20143", pairs=[("[M201903]CareContactID", "CC000000031")]),
            row(v, dup, "MHS20143", pairs=[("[M201903]CareContactID", "CC000000031")]),
            row(v, "Record rejected - [M001040]NHSNumber has an incorrect data format.", "MHS00165",
                pairs=[("[M001901]LocalPatientID", "P0000011"), ("[M001040]NHSNumber", nhs_number)]),
            row(v, "Record rejected - [M201010]CareContDate is after the [M000060]ReportingPeriodEndDate.", "MHS20168",
                pairs=[("[M201903]CareContactID", "CC999"), ("[M201902]ServiceRequestID", "SR1"),
                       ("[M201010]CareContDate", "2024-10-03 00:00:00"),
                       ("[M000060]ReportingPeriodEndDate", "2024-09-30 00:00:00")]),
            row(v, "File rejected - Failed Postcode of Usual Address Check", "MHSREJ007"),
        ]),
        d: csv_bytes([
            row(d, "Warning - [M001070]Postcode is blank.", "MHS00123", pairs=[("[M001901]LocalPatientID", "P0000002")]),
            row(d, "Warning - [M101080]PrimReasonReferralMH contains an invalid national code value.", "MHS10126",
                pairs=[("[M101902]ServiceRequestID", "SR00000320"), ("[M101901]LocalPatientID", "P0000213"),
                       ("[M101080]PrimReasonReferralMH", "17")]),
            row(d, "Warning - Severity 1 - PERSON BIRTH DATE is, oddly, late", "MHS00120",
                pairs=[("M001901 LOCAL PATIENT IDENTIFIER (EXTENDED)", "P0000003"),
                       ("M001060 PERSON BIRTH DATE", "2011-02-03")]),
            row(d, "Warning - something new", "ABC123", pairs=[("Postcode", "ZZ1 1ZZ")]),
        ]),
    }


def august() -> dict[str, bytes]:
    v, d, a = "validations.csv", "data_quality.csv", "aggregation.csv"
    dup = "Group rejected - More than one [MHS201]CareContact submitted for this [M201903]CareContactID."
    before = "Record rejected - [M101090]ServDischDate is before the [M000050]ReportingPeriodStartDate."
    return {
        a: csv_bytes([row(a, "Total MHS201 Pre-deadline Processing Row Count", "MHSARV201", "3500")]),
        v: csv_bytes([row(v, dup, "MHS20143", pairs=[("[M201903]CareContactID", "CC000000007")])]
                     + [row(v, before, "MHS10129", pairs=[("[M101902]ServiceRequestID", f"SR{i}"),
                                                          ("[M000050]ReportingPeriodStartDate", "2024-08-01 00:00:00")])
                        for i in range(3)]),
        d: csv_bytes([]),
    }
