"""The rules file parser and the pandera schemas: pandera itself must reject bad data values."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from recon.codes import RULES_DIR
from recon.errors import RulesError
from recon.findings import Severity
from recon.months import Month
from recon.schemas import keys_surely_unique, load_rules, nhs_number_check_ok, table_schema
from recon.tables import TABLES

SEP = Month(2024, 9)


def contacts(**over: list) -> pl.DataFrame:
    data = {
        "CareContactId": ["C1", "C2"],
        "ServiceRequestId": ["R1", "R1"],
        "CareContDate": [dt.date(2024, 9, 1), dt.date(2024, 9, 2)],
        "CareContTime": [dt.time(10), None],
        "AttendStatus": ["5", "3"],
        "ConsMechanismMH": ["01", "11"],
        "ClinContDurOfCareCont": [30, None],
        "UniqCareProfTeamLocalID": ["T1", None],
    }
    data.update(over)
    return pl.DataFrame(data, schema=TABLES["MHS201CareContact"].schema)


def failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[tuple[str | None, str, int | None]]:
    with pytest.raises(SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    cases = info.value.failure_cases
    return sorted(cases.select("column", "check", "index").iter_rows(), key=str)


def test_clean_frame_passes_pandera():
    schema = table_schema(TABLES["MHS201CareContact"], SEP)
    assert schema.validate(contacts()).height == 2


@pytest.mark.parametrize(
    ("column", "bad", "rule"),
    [
        ("AttendStatus", ["5", "1"], "VAL003"),
        ("ConsMechanismMH", ["01", "06"], "VAL004"),
        ("ClinContDurOfCareCont", [30, -5], "VAL021"),
        ("CareContDate", [dt.date(2024, 9, 1), dt.date(1899, 12, 31)], "VAL007"),
        ("CareContDate", [dt.date(2024, 9, 1), dt.date(2024, 10, 1)], "VAL008"),
        ("CareContactId", ["C1", None], "not_nullable"),
        ("CareContactId", ["C1", "C1"], "field_uniqueness"),
    ],
)
def test_pandera_rejects_each_bad_value_with_its_rule(column, bad, rule):
    schema = table_schema(TABLES["MHS201CareContact"], SEP)
    got = failures(schema, contacts(**{column: bad}))
    expected = [(column, rule, 1)] if rule != "field_uniqueness" else [(column, rule, 0), (column, rule, 1)]
    assert got == expected


def test_month_end_is_the_upper_bound_for_dates_and_timestamps():
    schema = table_schema(TABLES["MHS606CodedScoreAssessmentRefer"], SEP)
    frame = pl.DataFrame(
        {"ServiceRequestId": ["R1", "R1"], "CodedAssToolType": ["860591000000104"] * 2,
         "AssToolCompTimestamp": [dt.datetime(2024, 9, 30, 23, 59, 59), dt.datetime(2024, 10, 1)],
         "PersScore": ["50", "5x"]},
        schema=TABLES["MHS606CodedScoreAssessmentRefer"].schema,
    )
    assert failures(schema, frame) == [("AssToolCompTimestamp", "VAL008", 1), ("PersScore", "VAL017", 1)]


def test_referral_discharge_before_received_is_a_frame_check():
    schema = table_schema(TABLES["MHS101Referral"], SEP)
    ref = TABLES["MHS101Referral"]
    frame = pl.DataFrame(
        {"ServiceRequestId": ["R1", "R2", "R3"], "LocalPatientId": ["P1"] * 3,
         "ReferralRequestReceivedDate": [dt.date(2024, 1, 5)] * 3,
         "ServDischDate": [dt.date(2024, 1, 4), dt.date(2024, 1, 5), None]},
    ).with_columns(pl.lit(None, dtype=c.kind.dtype).alias(c.name) for c in ref.columns
                   if c.name not in ("ServiceRequestId", "LocalPatientId", "ReferralRequestReceivedDate",
                                     "ServDischDate")).select(ref.names)
    assert failures(schema, frame) == [("MHS101Referral", "VAL015", 0)]  # pandera names the frame


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("9434765919", True),  # sum 299, 299 mod 11 = 2, check 9
        ("9434765918", False),
        ("0000000116", True),  # 1*3 + 1*2 = 5, check 6
        ("0000000000", True),  # sum 0: check 11 means 0
        ("0000000060", False),  # 6*2 = 12, 12 mod 11 = 1: check 10 is never valid
        ("0000000061", False),
        (None, True),  # blanks are VAL001's business, not the check digit's
        ("12345", True),  # not 10 digits: VAL005's business
    ],
)
def test_nhs_number_modulus_11(number, ok):
    frame = pl.DataFrame({"n": [number]}, schema={"n": pl.String})
    assert frame.select(nhs_number_check_ok(pl.col("n"))).item() is ok


def test_nhs_number_checks_in_the_schema_never_echo_the_number():
    mpi = TABLES["MHS001MPI"]
    frame = pl.DataFrame({"LocalPatientId": ["P1", "P2", "P3"], "NHSNumber": ["9434765919", "94347659", "9434765918"],
                          "PersonBirthDate": [dt.date(2010, 1, 1)] * 3}).with_columns(
        pl.lit(None, dtype=c.kind.dtype).alias(c.name) for c in mpi.columns
        if c.name not in ("LocalPatientId", "NHSNumber", "PersonBirthDate")).select(mpi.names)
    assert failures(table_schema(mpi, SEP), frame) == [("NHSNumber", "VAL005", 1), ("NHSNumber", "VAL006", 2)]


def test_rules_file_parses_with_severities_from_the_file():
    rules = load_rules()
    assert rules.severity("VAL003") is Severity.ERROR
    assert rules.severity("VAL018") is Severity.WARNING
    assert rules.severity("SRC021") is Severity.INFO
    assert rules.rule("SRC010").stops and not rules.rule("VAL001").stops
    assert rules.rule("VAL003").tables == ("MHS201CareContact",) and rules.rule("VAL003").column == "AttendStatus"
    ids = [r.id for r in rules.rules]
    val = [i for i in ids if i.startswith("VAL")]
    assert val[:24] == [f"VAL{n:03d}" for n in range(24)] and val == sorted(set(val))  # ids ascend, never reused


def test_every_rule_id_the_code_uses_is_in_the_rules_file():
    used = set()
    for path in (Path(__file__).parents[1] / "recon").rglob("*.py"):
        used |= set(re.findall(r'"((?:VAL|SRC|MAP)\d{3})"', path.read_text(encoding="utf-8")))
    assert used - {r.id for r in load_rules().rules} == set()
    assert {"SRC001", "SRC011", "SRC020", "MAP003", "VAL022"} <= used


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('severity = "warning"', 'severity = "fatal"'), "severity must be error, warning or info"),
        (('id = "VAL002"', 'id = "VAL001"'), "rule id VAL001 is used twice"),
        (('title = "Duplicate record key"\n', ""), "lacks 'title'"),
        (("[[rule]]", "[[rule"), "cannot be read"),
    ],
)
def test_broken_rules_file_is_a_rules_error(tmp_path, edit, message):
    text = (RULES_DIR / "validation.toml").read_text(encoding="utf-8")
    path = tmp_path / "validation.toml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_keys_surely_unique():
    con = TABLES["MHS201CareContact"]
    assert keys_surely_unique(contacts(), con)
    assert not keys_surely_unique(contacts(CareContactId=["C1", "C1"]), con)
    a607 = TABLES["MHS607CodedScoreAssessmentAct"]
    frame = pl.DataFrame({"CareContactId": ["C1", "C1"], "CodedAssToolType": ["1", "2"], "PersScore": ["1", "1"]})
    assert keys_surely_unique(frame, a607)
    assert not keys_surely_unique(frame.with_columns(pl.lit("1").alias("CodedAssToolType")), a607)
