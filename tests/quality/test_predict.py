"""Predicted SDCS outcome: every decidable national rule fires on a spoiled record and not on a clean
or nearly-spoiled one; the cascade, keys, masking and the not-evaluated list (quality.md 1)."""

from __future__ import annotations

import re

import polars as pl
import pytest

from recon.quality.national import JUDGED, RuleClass, load_national_rules
from recon.quality.predict import predict
from tests.quality.builders import CGAS, base_row, frames, rule, view

RULES = load_national_rules()
RECORD = [r for r in RULES.rules if r.level == "Record" and r.klass is not RuleClass.NOT_DECIDABLE]
GROUP = [r for r in RULES.rules if r.level == "Group" and r.klass is not RuleClass.NOT_DECIDABLE]
_CMP = re.compile(r"\[M\d{6}\](\w+) is (before|after) the (?:associated )?\[M\d{6}\](\w+)( plus 24 hours)?\.")
Change = dict[str, str | None]


def spoil(code: str) -> tuple[Change, Change | None]:
    """(values that make the rule fire, values just short of it or None), worked out from its message."""
    r = rule(code)
    item = r.item
    special: dict[str, tuple[Change, Change | None]] = {
        "MHS00171": ({"PersonBirthDate": "1893-09-01"}, {"PersonBirthDate": "1893-09-02"}),  # 131 / 130 on M.start
        "MHS00117": ({"NHSNumberStatus": "07"}, {"NHSNumberStatus": "07", "NHSNumber": None}),
        "MHS00118": ({"NHSNumberStatus": None, "NHSNumber": None}, {"NHSNumberStatus": "07", "NHSNumber": None}),
        "MHS00119": ({"NHSNumberStatus": "01", "NHSNumber": None}, {"NHSNumberStatus": "07", "NHSNumber": None}),
        "MHS00153": ({"OrgIDLocalPatientID": "RYY"}, {"OrgIDLocalPatientID": "RXX"}),
        "MHS00165": ({"NHSNumber": "943476591"}, {"NHSNumber": "943 476 5919"}),
        "MHS00125": ({"Postcode": "LS1 4A"}, {"Postcode": "ls14ap"}),
        "MHS60607": ({"PersScore": "101"}, {"PersScore": "100"}),
        "MHS60707": ({"PersScore": "0"}, {"PersScore": "1"}),
    }
    if code in special:
        return special[code]
    if r.vtype == "Blank":
        return {item: None}, {item: "0"}
    if r.basis == "code_shape":
        return {item: "a1"}, None
    if r.basis == "menh_dq_codes":
        return {item: "Q"}, None
    if r.basis == "integer":
        return {item: "-5"}, {item: "0"}
    if r.vtype == "Format":
        if item.endswith("Time"):
            return {item: "25:61"}, {item: "23:59"}
        return {item: "2024-02-30"}, {item: "29/02/2024"}
    if m := re.search(r"\[M\d{6}\](\w+) is blank,? but \[M\d{6}\](\w+) is populated", r.text):
        return {m.group(1): None}, {m.group(1): None, m.group(2): None}
    m = _CMP.search(r.text)
    assert m, code
    subject, op, target, plus = m.groups()
    if target == "ReportingPeriodStartDate":
        return {subject: "2024-08-31"}, {subject: "2024-09-01"}
    if target == "ReportingPeriodEndDate":
        return ({subject: "2024-10-02"}, {subject: "2024-10-01"}) if plus else (
            {subject: "2024-10-01"}, {subject: "2024-09-30"})
    if target == "DateTimeDatSetCreate":
        return {subject: "2024-10-06"}, {subject: "2024-10-05"}
    return ({subject: "2024-09-14"}, {subject: "2024-09-15"}) if op == "before" else (
        {subject: "2024-09-16"}, {subject: "2024-09-15"})


def _row(table: str, change: Change, own: str) -> dict[str, str | None]:
    row = base_row(table)
    ident = {"MHS001MPI": "LocalPatientID", "MHS101Referral": "ServiceRequestID", "MHS201CareContact": "CareContactID",
             "MHS202CareActivity": "CareActID", "MHS008CarePlanType": "CarePlanID", "MHS501HospProvSpell":
             "HospProvSpellID", "MHS902ServiceTeamDetails": "CareProfTeamLocalID"}.get(table)
    if ident:
        row[ident] = own
    if table == "MHS607CodedScoreAssessmentAct":
        row["PersScore"] = str(10 + len(own) % 50)
    if table == "MHS102OtherServiceType":
        row["OtherCareProfTeamLocalID"] = own
    row.update(change)
    return row


@pytest.fixture(scope="module")
def spoiled():
    """One table per judged table: the clean row, then per record rule a firing row and a near-miss row."""
    rows: dict[str, list[dict[str, str | None]]] = {t: [base_row(t)] for t in JUDGED}
    where: dict[str, tuple[int, int | None]] = {}
    for r in RECORD:
        fire, near = spoil(r.code)
        rows[r.table].append(_row(r.table, fire, f"F{r.code}"))
        fire_row = len(rows[r.table])
        near_row = None
        if near is not None:
            rows[r.table].append(_row(r.table, near, f"N{r.code}"))
            near_row = len(rows[r.table])
        where[r.code] = (fire_row, near_row)
    result = predict(view(frames(rows)))
    fired = {(f.code, f.row) for f in result.findings}
    return where, fired, result


def test_clean_submission_fires_nothing():
    result = predict(view(frames()))
    assert result.findings == ()
    assert all(t.rows == 1 and t.loaded == 1 for t in result.tables)


@pytest.mark.parametrize("code", [r.code for r in RECORD])
def test_record_rule_fires_on_spoiled_row_only(spoiled, code):
    where, fired, _ = spoiled
    fire_row, near_row = where[code]
    assert (code, fire_row) in fired
    assert (code, 1) not in fired
    if near_row is not None:
        assert (code, near_row) not in fired


def test_counts_of_classes_match_the_spec():
    by = {k: sum(r.klass is k for r in RULES.rules) for k in RuleClass}
    assert by == {RuleClass.EXACT: 148, RuleClass.STATED_BASIS: 42, RuleClass.NOT_DECIDABLE: 135}
    assert sum(r.klass is RuleClass.EXACT and r.rejects for r in RULES.rules) == 128
    assert len(RECORD) + len(GROUP) == 148 + 42  # the 3 table_absent group rules are class C


def test_nhs_number_check_digit_is_its_own_basis():
    tables = frames()
    tables["MHS001MPI"] = tables["MHS001MPI"].with_columns(pl.lit("9434765918").alias("NHSNumber"))
    found = [f for f in predict(view(tables)).findings if f.code == "MHS00165"]
    assert [f.basis for f in found] == ["check_digit"]
    assert dict(found[0].keys)["[M001040]NHSNumber"] == "[masked]"


def test_finding_carries_keys_in_placeholder_order_message_and_header_dates():
    tables = frames()
    tables["MHS201CareContact"] = tables["MHS201CareContact"].with_columns(pl.lit("03/10/2024").alias("CareContDate"))
    f = next(f for f in predict(view(tables)).findings if f.code == "MHS20168")
    assert f.keys == (("[M201903]CareContactID", "C1"), ("[M201902]ServiceRequestID", "S1"),
                      ("[M201010]CareContDate", "2024-10-03"), ("[M000060]ReportingPeriodEndDate", "2024-09-30"))
    assert f.message == "Record rejected - [M201010]CareContDate is after the [M000060]ReportingPeriodEndDate."
    assert (f.table, f.row, f.klass, f.basis, f.level, f.error_level) == (
        "MHS201", 1, "A", "exact", "Record", "Record rejected")


def test_severity_1_message_is_written_as_sdcs_prints_it():
    assert rule("MHS00111").message == "Warning - [M001040]NHSNumber is blank."
    assert rule("MHS00111").error_level == "Severity 1 Warning"


def test_create_date_rules_state_their_basis():
    tables = frames()
    tables["MHS101Referral"] = tables["MHS101Referral"].with_columns(pl.lit("2024-10-06").alias("ServDischDate"))
    exact = [f for f in predict(view(tables)).findings if f.code == "MHS10131"]
    assert [f.basis for f in exact] == ["exact"]
    import datetime as dt

    from recon.quality.view import view_of_frames
    from tests.quality.builders import MONTH
    assumed = predict(view_of_frames(tables, MONTH, provider="RXX", today=dt.date(2024, 10, 2)))
    assert [f.basis for f in assumed.findings if f.code == "MHS10131"] == ["assumed_create_date"]


# ---------------------------------------------------------------- group rules and the cascade


def _codes(tables, code):
    return [(f.row, f.cause) for f in predict(view(tables)).findings if f.code == code]


@pytest.mark.parametrize("code", [r.code for r in GROUP if r.duplicate_keys])
def test_duplicate_rule_flags_every_record_sharing_the_key(code):
    r = rule(code)
    tables = frames()
    tables[r.table] = pl.concat([tables[r.table], tables[r.table]])
    assert [row for row, _ in _codes(tables, code)] == [1, 2]
    assert _codes(frames(), code) == []


def test_duplicate_key_blank_is_not_a_duplicate():
    tables = frames()
    mpi = tables["MHS001MPI"].with_columns(pl.lit(None, dtype=pl.String).alias("NHSNumber"))
    tables["MHS001MPI"] = pl.concat([mpi, mpi.with_columns(pl.lit("P2").alias("LocalPatientID"))])
    assert _codes(tables, "MHS00147") == []


@pytest.mark.parametrize("code", [r.code for r in GROUP if r.parent and r.reason is None])
def test_parent_rule_fires_when_the_parent_is_absent(code):
    r = rule(code)
    _parent, key = r.parent
    tables = frames()
    tables[r.table] = tables[r.table].with_columns(pl.lit("ORPHAN").alias(key))
    assert _codes(tables, code) == [(1, "absent")]
    assert _codes(frames(), code) == []


def test_rejected_referral_takes_its_contacts_activities_and_scores():
    tables = frames()
    tables["MHS101Referral"] = tables["MHS101Referral"].with_columns(pl.lit(None, dtype=pl.String).alias(
        "ReferralRequestReceivedDate"))  # MHS10111: blank
    result = predict(view(tables))
    got = {(f.code, f.table): f.cause for f in result.findings}
    assert got[("MHS10111", "MHS101")] is None
    # the person goes with its only referral, which is then named again under MHS10101 (as in real reports)
    assert got[("MHS20142", "MHS201")] == {"table": "MHS101", "codes": ["MHS10101", "MHS10111"]}
    assert got[("MHS20224", "MHS202")] == {"table": "MHS201", "codes": ["MHS20142"]}
    assert got[("MHS60708", "MHS607")] == {"table": "MHS202", "codes": ["MHS20224"]}
    assert got[("MHS00146", "MHS001")] == {"table": "MHS101", "codes": ["MHS10101", "MHS10111"]}
    assert got[("MHS10101", "MHS101")] == {"table": "MHS001", "codes": ["MHS00146"]}
    assert ("MHS00811", "MHS008") in got
    by_table = {t.table: t for t in result.tables}
    assert (by_table["MHS101"].rejected, by_table["MHS101"].rejected_by_cascade) == (1, 0)
    assert (by_table["MHS201"].rejected, by_table["MHS201"].rejected_by_cascade, by_table["MHS201"].loaded) == (1, 1, 0)
    assert by_table["MHS902"].rejected == 0


def test_one_valid_parent_is_enough():
    tables = frames()
    good = tables["MHS101Referral"]
    bad = good.with_columns(pl.lit(None, dtype=pl.String).alias("ReferralRequestReceivedDate"))
    tables["MHS101Referral"] = pl.concat([bad, good.with_columns(pl.lit("S2").alias("ServiceRequestID"))])
    result = predict(view(tables))
    assert {f.code for f in result.findings} == {"MHS10111", "MHS20142", "MHS20224", "MHS60708", "MHS20403",
                                                 "MHS50102", "MHS60612", "MHS10228"}
    assert not any(f.table == "MHS001" for f in result.findings)


def test_warnings_never_reject():
    tables = frames()
    tables["MHS001MPI"] = tables["MHS001MPI"].with_columns(pl.lit(None, dtype=pl.String).alias("Postcode"))
    result = predict(view(tables))
    assert [f.code for f in result.findings] == ["MHS00123"]
    assert not result.has_rejections and all(t.rejected == 0 for t in result.tables)


# ---------------------------------------------------------------- not evaluated


def test_not_evaluated_lists_every_undecidable_rule_with_its_reason():
    result = predict(view(frames()))
    reasons = {n.code: n.reason for n in result.not_evaluated}
    assert reasons["MHS20147"] == "ods" and reasons["MHS20230"] == "snomed"
    assert reasons["MHS00145"] == "table_absent" and reasons["MHS60613"] == "subset"
    assert sum(r == "format_unknown" for r in reasons.values()) == 84
    assert sum(r == "no_code_list" for r in reasons.values()) == 35
    assert len(reasons) == 135


def test_absent_column_and_table():
    tables = frames()
    tables["MHS001MPI"] = tables["MHS001MPI"].drop("NHSNumberStatus")
    del tables["MHS902ServiceTeamDetails"]
    result = predict(view(tables))
    got = {(n.code, n.reason, n.column) for n in result.not_evaluated}
    assert ("MHS00117", "column_absent", "NHSNumberStatus") in got
    assert ("MHS90205", "table_absent", None) in got


def test_mhs607_without_care_activity_id_leaves_its_rules_unevaluated():
    tables = frames()
    tables["MHS607CodedScoreAssessmentAct"] = tables["MHS607CodedScoreAssessmentAct"].drop("CareActID").with_columns(
        pl.lit(None, dtype=pl.String).alias("PersScore"))
    result = predict(view(tables))
    assert not any(f.table == "MHS607" for f in result.findings)
    assert ("MHS60705", "column_absent") in {(n.code, n.reason) for n in result.not_evaluated}


def test_staff_table_supplied_makes_its_group_rules_exact():
    tables = frames()
    tables["MHS901StaffDetails"] = pl.DataFrame({"CareProfLocalID": ["OTHER"]})
    result = predict(view(tables))
    got = {f.code: f.klass for f in result.findings}
    assert got == {"MHS20421": "A", "MHS60615": "A"}
    assert "MHS20421" not in {n.code for n in result.not_evaluated}


def test_provider_unknown_leaves_mhs00153_unevaluated():
    result = predict(view(frames(), provider=None))
    assert ("MHS00153", "provider_unknown") in {(n.code, n.reason) for n in result.not_evaluated}


def test_tool_outside_reference_is_not_judged_by_range():
    tables = frames()
    tables["MHS606CodedScoreAssessmentRefer"] = tables["MHS606CodedScoreAssessmentRefer"].with_columns(
        pl.lit("123456").alias("CodedAssToolType"), pl.lit("9999").alias("PersScore"))
    assert predict(view(tables)).findings == ()
    assert CGAS in base_row("MHS606CodedScoreAssessmentRefer").values()
