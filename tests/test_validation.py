"""Record-level validation on real CSV extracts: each kind of bad value gives exactly one finding.

The base extract (tests/fixtures/bad/base) is clean for September 2024; every case changes
one value and asserts the complete list of findings (rule, table, key, column, team, value).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from types import MappingProxyType

import polars as pl
import pytest

from recon.codes import RULES_DIR
from recon.config import ProviderSettings
from recon.findings import Severity
from recon.months import Month
from recon.schemas import load_rules
from recon.sources import Extract, load_extract
from recon.tables import TABLES
from recon.validation import ValidationReport, validate_extract, validate_tables

BASE = Path(__file__).parent / "fixtures" / "bad" / "base"
SEP = Month(2024, 9)
SETTINGS = ProviderSettings()


def copy_base(tmp_path: Path) -> Path:
    target = tmp_path / "extract"
    shutil.copytree(BASE, target)
    return target


def edit(folder: Path, table: str, old: str, new: str) -> None:
    path = folder / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {table}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def found(folder: Path) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
    findings = validate_tables(load_extract(folder), SEP, SETTINGS)
    return [(f.rule_id, f.table, f.key, f.column, f.team, f.value) for f in findings]


def test_base_extract_is_clean():
    assert validate_tables(load_extract(BASE), SEP, SETTINGS) == ()


MPI, REF, CON = "MHS001MPI", "MHS101Referral", "MHS201CareContact"
IND, A606, A607 = "MHS204IndirectActivity", "MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct"
SPELL = "MHS501HospProvSpell"

CASES = {
    # rule: (table file, old text, new text, expected findings)
    "VAL001 blank attendance": (CON, "C2,R1,2024-09-02,14:00,3,", "C2,R1,2024-09-02,14:00,,",
                                [("VAL001", CON, "C2", "AttendStatus", "T1", None)]),
    "VAL001 blank key": (CON, "C2,R1,2024-09-02", ",R1,2024-09-02",
                         [("VAL001", CON, None, "CareContactId", "T1", None)]),
    "VAL002 duplicate referral": (REF, "R3,P3,RXX,2024-09-10,,,T1,C05",
                                  "R3,P3,RXX,2024-09-10,,,T1,C05\nR3,P3,RXX,2024-09-11,,,T1,C05",
                                  [("VAL002", REF, "R3", "ServiceRequestId", "T1", "R3")]),
    "VAL002 duplicate composite key": (A607, "C3,959951000000108,8", "C1,959951000000108,8",
                                       [("VAL002", A607, "C1|959951000000108", None, "T1", None)]),
    "VAL003 attendance code": (CON, "C2,R1,2024-09-02,14:00,3,", "C2,R1,2024-09-02,14:00,8,",
                               [("VAL003", CON, "C2", "AttendStatus", "T1", "8")]),
    "VAL004 v4.1 mechanism": (CON, "6,98,60", "6,03,60", [("VAL004", CON, "C3", "ConsMechanismMH", "T2", "03")]),
    "VAL005 NHS number format": (MPI, "9434765919", "943 476 5919", [("VAL005", MPI, "P1", "NHSNumber", "T1", None)]),
    "VAL006 NHS number check digit": (MPI, "9434765919", "9434765918",
                                      [("VAL006", MPI, "P1", "NHSNumber", "T1", None)]),
    "VAL006 check digit of 10": (MPI, "9434765919", "0000000060", [("VAL006", MPI, "P1", "NHSNumber", "T1", None)]),
    "VAL007 date before 1900": (REF, "R3,P3,RXX,2024-09-10,,", "R3,P3,RXX,2024-09-10,,1899-12-31",
                                [("VAL007", REF, "R3", "ReferRejectionDate", "T1", "1899-12-31")]),
    "VAL008 date after month end": (CON, "C4,R3,2024-09-20", "C4,R3,2024-10-01",
                                    [("VAL008", CON, "C4", "CareContDate", "T1", "2024-10-01")]),
    "VAL008 timestamp after month end": (A606, "2024-08-15 09:00", "2024-10-01 00:00",
                                         [("VAL008", A606, "R2|860591000000104|2024-10-01 00:00:00.000000",
                                           "AssToolCompTimestamp", "T2", "2024-10-01 00:00:00.000000")]),
    "VAL009 birth after referral": (MPI, "P1,9434765919,2010-05-01", "P1,9434765919,2024-06-01",
                                    [("VAL009", MPI, "P1", "PersonBirthDate", "T1", None)]),
    "VAL010 contact without referral": (CON, "C4,R3,", "C4,R9,",
                                        [("VAL010", CON, "C4", "ServiceRequestId", "T1", "R9")]),
    "VAL011 referral without patient": (REF, "R3,P3,", "R3,P9,",
                                        [("VAL011", REF, "R3", "LocalPatientId", "T1", "P9")]),
    "VAL012 indirect without referral": (IND, "R1,2024-03-05", "R9,2024-03-05",
                                         [("VAL012", IND, "R9|2024-03-05|12:00:00", "ServiceRequestId", None, "R9")]),
    "VAL013 referral assessment without referral": (
        A606, "R1,860591000000104", "R8,860591000000104",
        [("VAL013", A606, "R8|860591000000104|2024-02-01 10:30:00.000000", "ServiceRequestId", None, "R8")]),
    "VAL014 activity assessment without contact": (A607, "C3,959951000000108", "C7,959951000000108",
                                                   [("VAL014", A607, "C7|959951000000108", "CareContactId", None,
                                                     "C7")]),
    "VAL015 discharge before received": (REF, "2023-11-20,2024-08-31", "2023-11-20,2023-11-19",
                                         [("VAL015", REF, "R2", "ServDischDate", "T2", "2023-11-19"),
                                          ("VAL020", CON, "C3", "CareContDate", "T2", "2024-08-15")]),
    "VAL016 contact before referral": (CON, "C1,R1,2024-02-01", "C1,R1,2024-01-02",
                                       [("VAL016", CON, "C1", "CareContDate", "T1", "2024-01-02")]),
    "VAL017 score not numeric": (A607, "C3,959951000000108,8", "C3,959951000000108,n/a",
                                 [("VAL017", A607, "C3|959951000000108", "PersScore", "T2", "n/a")]),
    "VAL018 score out of range": (A606, "2024-02-01T10:30:00,55", "2024-02-01T10:30:00,120",
                                  [("VAL018", A606, "R1|860591000000104|2024-02-01 10:30:00.000000", "PersScore",
                                    "T1", "120")]),
    "VAL019 unknown tool": (A607, "C3,959951000000108", "C3,123456",
                            [("VAL019", A607, "C3|123456", "CodedAssToolType", "T2", "123456")]),
    "VAL020 contact after discharge": (CON, "C3,R2,2024-08-15", "C3,R2,2024-09-03",
                                       [("VAL020", CON, "C3", "CareContDate", "T2", "2024-09-03")]),
    "VAL021 negative duration": (IND, "12:00,15", "12:00,-15",
                                 [("VAL021", IND, "R1|2024-03-05|12:00:00", "DurationIndirectAct", "T1", "-15")]),
    "VAL022 spell without referral": (SPELL, "S1,R2", "S1,R7", [("VAL022", SPELL, "S1", "ServiceRequestId", None,
                                                                  "R7")]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_bad_value_gives_exactly_its_finding(tmp_path, case):
    table, old, new, expected = CASES[case]
    folder = copy_base(tmp_path)
    edit(folder, table, old, new)
    assert found(folder) == expected


def test_severity_of_each_finding_comes_from_the_rules_file(tmp_path):
    folder = copy_base(tmp_path)
    edit(folder, A606, "2024-02-01T10:30:00,55", "2024-02-01T10:30:00,120")  # VAL018, a warning
    edit(folder, CON, "6,98,60", "6,03,60")  # VAL004, an error
    extract = load_extract(folder)
    by_rule = {f.rule_id: f.severity for f in validate_tables(extract, SEP, SETTINGS)}
    assert by_rule == {"VAL018": Severity.WARNING, "VAL004": Severity.ERROR}

    text = (RULES_DIR / "validation.toml").read_text(encoding="utf-8")
    swapped = text.replace('id = "VAL018"\nstage = "validation"\nseverity = "warning"',
                           'id = "VAL018"\nstage = "validation"\nseverity = "error"')
    assert swapped != text
    custom = tmp_path / "validation.toml"
    custom.write_text(swapped)
    rules = load_rules(custom)
    by_rule = {f.rule_id: f.severity for f in validate_tables(extract, SEP, SETTINGS, rules=rules)}
    assert by_rule == {"VAL018": Severity.ERROR, "VAL004": Severity.ERROR}


def test_identifying_values_never_reach_findings(tmp_path):
    folder = copy_base(tmp_path)
    edit(folder, MPI, "P1,9434765919,2010-05-01", "P1,9434765918,2031-05-01")
    findings = validate_tables(load_extract(folder), SEP, SETTINGS)
    assert {f.rule_id for f in findings} == {"VAL006", "VAL008", "VAL009"}
    for f in findings:
        text = repr(f)
        assert "9434765918" not in text and "2031" not in text
        assert f.value is None


def test_reader_findings_are_included(tmp_path):
    folder = copy_base(tmp_path)
    path = folder / "MHS101Referral.csv"
    path.write_bytes(path.read_text().replace("T2", "Équipe Nord’s").encode("cp1252"))
    findings = validate_tables(load_extract(folder), SEP, SETTINGS)
    assert [(f.rule_id, f.severity, f.table) for f in findings] == [("SRC021", Severity.INFO, REF)]


def test_many_failures_in_one_table_keep_rule_and_key_apart(tmp_path):
    folder = copy_base(tmp_path)
    edit(folder, CON, "C2,R1,2024-09-02,14:00,3,02", "C2,R1,2024-09-02,14:00,1,07")
    edit(folder, CON, "C4,R3,2024-09-20,11:15,5,11,50", "C4,R3,2024-09-20,11:15,5,11,-1")
    assert found(folder) == [
        ("VAL003", CON, "C2", "AttendStatus", "T1", "1"),
        ("VAL004", CON, "C2", "ConsMechanismMH", "T1", "07"),
        ("VAL021", CON, "C4", "ClinContDurOfCareCont", "T1", "-1"),
    ]


def test_wrong_column_type_is_a_table_level_finding():
    extract = load_extract(BASE)
    tables = dict(extract.tables)
    tables[CON] = tables[CON].with_columns(pl.col("ClinContDurOfCareCont").cast(pl.String))
    broken = dataclasses.replace(extract, tables=MappingProxyType(tables), findings=())
    findings = validate_tables(broken, SEP, SETTINGS)
    assert [(f.rule_id, f.table, f.key, f.column) for f in findings] == [
        ("VAL000", CON, None, "ClinContDurOfCareCont")
    ]


def test_duplicates_reported_once_per_key_on_a_large_table():
    n = 50_000
    contacts = pl.DataFrame({
        "CareContactId": [f"C{i}" for i in range(n)] + ["C7"],
        "ServiceRequestId": ["R1"] * (n + 1),
        "CareContDate": [dt.date(2024, 9, 1)] * (n + 1),
        "AttendStatus": ["5"] * (n + 1),
        "ConsMechanismMH": ["01"] * (n + 1),
    })
    base = load_extract(BASE)
    con = TABLES[CON]
    contacts = contacts.with_columns(
        pl.lit(None, dtype=c.kind.dtype).alias(c.name) for c in con.columns if c.name not in contacts.columns
    ).select(con.names)
    tables = dict(base.tables)
    tables[CON] = contacts
    tables[A607] = TABLES[A607].empty()
    extract = Extract(base.origin, "mhsds", MappingProxyType(tables), base.files)
    findings = validate_tables(extract, SEP, SETTINGS)
    assert [(f.rule_id, f.key) for f in findings] == [("VAL002", "C7")]


def test_report_json_and_exit_code(tmp_path):
    folder = copy_base(tmp_path)
    edit(folder, CON, "C2,R1,2024-09-02,14:00,3,", "C2,R1,2024-09-02,14:00,8,")
    edit(folder, A607, "C3,959951000000108,8", "C3,959951000000108,n/a")
    report = validate_extract(folder, SEP, mapping=None, settings=SETTINGS)
    assert isinstance(report, ValidationReport)
    assert report.exit_code == 1
    d = report.to_json_dict()
    assert d["provider"] == "RXX" and d["month"] == "2024-09"
    assert {"name": "MHS201CareContact.csv", "table": CON, "rows": 4} in [
        {**f, "name": Path(f["name"]).name} for f in d["files"]
    ]
    assert d["rows"][CON] == 4 and d["rows"][MPI] == 3
    assert [(s["rule_id"], s["severity"], s["table"], s["count"], s["first_keys"]) for s in d["summary"]] == [
        ("VAL003", "error", CON, 1, ["C2"]),
        ("VAL017", "warning", A607, 1, ["C3|959951000000108"]),
    ]
    assert d["findings"][0] == {
        "rule_id": "VAL003", "severity": "error", "table": CON, "key": "C2", "column": "AttendStatus",
        "message": "Attendance code not in the national list", "value": "8", "team": "T1",
    }
    clean = validate_extract(BASE, SEP, mapping=None, settings=ProviderSettings(ods="RYY"))
    assert clean.exit_code == 0 and clean.provider == "RYY"
    warn_only = validate_extract(folder, SEP, mapping=None, settings=SETTINGS)
    assert warn_only.exit_code == 1  # still has the VAL003 error


def test_data_checks_run_even_when_pandera_is_told_schema_only(tmp_path):
    from pandera.config import ValidationDepth, config_context

    folder = copy_base(tmp_path)
    edit(folder, CON, "6,98,60", "6,03,60")
    extract = load_extract(folder)
    with config_context(validation_enabled=False, validation_depth=ValidationDepth.SCHEMA_ONLY):
        findings = validate_tables(extract, SEP, SETTINGS)
    assert [(f.rule_id, f.key) for f in findings] == [("VAL004", "C3")]
