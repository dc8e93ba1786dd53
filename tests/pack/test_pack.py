"""The Excel sign-off pack, re-opened with openpyxl and read like a person would."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from recon.errors import OutputError
from recon.findings import Severity
from recon.pack import xlsx as pack_xlsx
from recon.pack.fingerprint import fingerprint_workbook, stated_fingerprint, verify_pack
from recon.pack.model import PackOptions
from recon.pack.save import write_pack
from recon.reconcile.model import Comparison, ComparisonStatus, ExceptionRecord
from tests.pack.fixtures import VALID_NHS, exceptions, make_result
from tests.pack.snapshot import check_snapshot

OPTIONS = PackOptions(
    deadline=dt.date(2024, 10, 20), today=dt.date(2024, 10, 7), rules_version="2024.09", run_seconds=12.3,
    people_lists=True,
)
SNAPSHOT_CASES = ("default", "split_suppressed_identifiable")


def write_case(name: str, folder: Path) -> Path:
    if name == "default":
        options = OPTIONS
    else:
        options = dataclasses.replace(OPTIONS, split_by_team=True, suppress_small_counts=True, identifiable=True)
    return write_pack(make_result(), folder / f"{name}.xlsx", options).path


def cells(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(path)
    try:
        return [tuple(c.value for c in row) for row in wb[sheet].iter_rows()]
    finally:
        wb.close()


def row_with(rows: list[tuple[Any, ...]], first: Any) -> tuple[Any, ...]:
    return next(r for r in rows if r and r[0] == first)


def all_strings(path: Path) -> list[str]:
    wb = load_workbook(path)
    try:
        return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    finally:
        wb.close()


@pytest.mark.parametrize("name", SNAPSHOT_CASES)
def test_pack_matches_snapshot(name: str, tmp_path: Path) -> None:
    check_snapshot(write_case(name, tmp_path), name)


def test_pack_info_and_fingerprint(tmp_path: Path) -> None:
    info = write_pack(make_result(), tmp_path / "pack.xlsx", OPTIONS)
    assert info.sheets == (
        "Cover", "Summary", "Access", "Activity", "Outcomes", "Trend", "Exceptions", "Differences",
        "Data quality", "Sign-off", "Detail mhs95_people", "Detail outcomes_referrals",
    )
    assert load_workbook(info.path).sheetnames == list(info.sheets)
    assert info.exception_rows == 5
    import hashlib

    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    # The fingerprint depends on what the pack shows, not on when it was written.
    again = write_pack(make_result(), tmp_path / "again.xlsx", OPTIONS)
    assert again.fingerprint == info.fingerprint
    assert stated_fingerprint(info.path) == info.fingerprint == fingerprint_workbook(info.path)
    assert verify_pack(info.path)
    # Issue 14 point 10: a re-run of the same inputs a day later, at another time and speed, shows the
    # same figures: run time and days left are not part of the fingerprint (they are still on the Cover).
    later = make_result()
    later = dataclasses.replace(later, started=later.started + dt.timedelta(days=1, hours=3),
                                finished=later.finished + dt.timedelta(days=1, hours=3, seconds=9))
    other = write_pack(later, tmp_path / "other.xlsx",
                       dataclasses.replace(OPTIONS, today=dt.date(2024, 10, 8), run_seconds=99.0))
    assert other.fingerprint == info.fingerprint == fingerprint_workbook(other.path)
    assert row_with(cells(other.path, "Cover"), "Days left")[1] == "12 day(s) left"
    # ... but a changed deadline or figure shows.
    moved = write_pack(make_result(), tmp_path / "moved.xlsx", dataclasses.replace(OPTIONS, deadline=dt.date(2024, 10, 21)))
    assert moved.fingerprint != info.fingerprint
    wb = load_workbook(info.path)
    wb["Summary"]["C4"] = 1300
    wb.save(tmp_path / "edited.xlsx")
    assert not verify_pack(tmp_path / "edited.xlsx")


def test_cover_status_counts_and_days_left(tmp_path: Path) -> None:
    rows = cells(write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path, "Cover")
    assert row_with(rows, "Overall status")[1] == "Fix before submitting"
    assert row_with(rows, "Days left")[1] == "13 day(s) left"
    assert row_with(rows, "Discrepancies beyond tolerance")[1] == 2  # MHS30 and MHS112a (errors)
    # 5 exceptions: one accepted, one an outcome pair missing (counted apart, not a record to fix)
    assert row_with(rows, "Records to fix")[1] == 3
    assert row_with(rows, "  of which errors")[1] == 2
    assert row_with(rows, "  of which warnings")[1] == 1
    assert row_with(rows, "Outcome pairs missing (not errors)")[1] == 1
    assert row_with(rows, "Accepted (not to fix)")[1] == 1
    # errors, warnings, info, outcome gaps (apart from warnings), new, recurring, accepted
    assert row_with(rows, "T01")[1:9] == ("Exceptions", 1, 0, 0, 1, 2, 0, 0)
    assert row_with(rows, "recon version")[1] == "0.1.0"
    assert row_with(rows, "published")[1:4] == ("MHSDS Data_SepPrf_2024.csv", 999999, 40000)
    assert any(str(r[1]).startswith("SHA-256 " + "c" * 64) for r in rows if len(r) > 1)

    no_errors = tuple(e for e in exceptions() if e.severity is not Severity.ERROR)
    # a predicted SDCS rejection is a problem to fix before submitting, like an error-level finding
    rows = cells(write_pack(make_result(no_errors), tmp_path / "q0.xlsx", OPTIONS).path, "Cover")
    assert row_with(rows, "Overall status")[1] == "Fix before submitting"
    rows = cells(write_pack(dataclasses.replace(make_result(no_errors), data_quality=None), tmp_path / "q.xlsx",
                            OPTIONS).path, "Cover")
    assert row_with(rows, "Overall status")[1] == "Discrepancies to explain"
    fine = tuple(
        dataclasses.replace(c, status=ComparisonStatus.CONSISTENT) if c.status is ComparisonStatus.DISCREPANCY else c
        for c in make_result().comparisons
    )
    rows = cells(write_pack(dataclasses.replace(make_result(no_errors, fine), data_quality=None), tmp_path / "r.xlsx",
                            OPTIONS).path, "Cover")
    assert row_with(rows, "Overall status")[1] == "Fit to submit"


def test_summary_row_per_measure_with_status_fill(tmp_path: Path) -> None:
    path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    ws = load_workbook(path)["Summary"]
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref == "A4:L11"
    row = {c.column_letter: c for c in ws[7]}
    # issue 14 point 2: each difference beside its own status; overall = the worse; tolerance in its own cell
    assert [row[k].value for k in "ABCDEFGHIJK"] == [
        "MHS30", "Attended contacts", 700, 700, 0, "Consistent", 760, 60, "Discrepancy",
        "±5 or 2%, whichever is larger", "Discrepancy",
    ]
    assert row["K"].fill.fgColor.rgb.endswith("FFC7CE") and row["F"].fill.fgColor.rgb.endswith("C6EFCE")
    assert ws["K5"].value == "Consistent" and ws["K5"].fill.fgColor.rgb.endswith("C6EFCE")
    assert ws["G9"].value == "*"  # MHS69 published suppressed
    assert ws["K11"].value == "Not published"


def test_trend_prefers_ledger_and_keeps_twelve_months(tmp_path: Path) -> None:
    path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    rows = cells(path, "Trend")
    months = [r[0] for r in rows if isinstance(r[0], str) and r[0][:2] == "20"]
    mhs95 = months[:12]
    assert mhs95[0] == "2023-10" and mhs95[-1] == "2024-09"
    assert row_with(rows, "2024-08")[1] == 1200  # the ledger value, not the published 1195
    assert row_with(rows, "2024-09")[8] == "this run"
    ws = load_workbook(path)["Trend"]
    charts = ws._charts
    assert [type(c).__name__ for c in charts] == ["LineChart", "LineChart"]
    assert [len(c.series) for c in charts] == [6, 6]
    assert any("provisional" in str(r[0]) for r in rows if r and r[0])  # MHS32 has 6 months


def test_outcomes_completeness_by_team_with_bar_chart(tmp_path: Path) -> None:
    path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    rows = cells(path, "Outcomes")
    assert row_with(rows, "T02")[:7] == ("T02", 40, 40.0, 20.0, 10.0, 0.0, 5.0)
    ws = load_workbook(path)["Outcomes"]
    bars = [c for c in ws._charts if type(c).__name__ == "BarChart"]
    assert len(bars) == 1 and len(bars[0].series) == 5


def test_hundred_rows_one_sheet(tmp_path: Path) -> None:
    result = make_result(exceptions(100))
    info = write_pack(result, tmp_path / "p.xlsx", OPTIONS)
    assert info.exception_rows == 100
    ws = load_workbook(info.path)["Exceptions"]
    assert ws.freeze_panes == "B4"
    assert ws.auto_filter.ref == "A3:I103"
    assert ws.print_title_rows == "$3:$3"
    ids = [ws.cell(row=r, column=1).value for r in range(4, 104)]
    assert sorted(ids) == [f"E{i:06d}" for i in range(100)]
    assert ws.cell(row=104, column=1).value is None
    # accepted rows last; within the rest, errors first
    statuses = [ws.cell(row=r, column=2).value for r in range(4, 104)]
    assert statuses.index("accepted") == statuses.count("new") + statuses.count("recurring")
    assert ws.cell(row=4, column=3).value == "error"
    assert ws.column_dimensions["G"].width >= len("AttendStatus '9' is not valid (row 99)")


def test_split_by_team(tmp_path: Path) -> None:
    result = make_result(exceptions(100))
    info = write_pack(result, tmp_path / "p.xlsx", dataclasses.replace(OPTIONS, split_by_team=True))
    assert "Exceptions" not in info.sheets
    team_sheets = {"Fix (no team)": "(no team)", "Fix T01": "T01", "Fix T02": "T02"}
    assert [s for s in info.sheets if s.startswith("Fix ")] == list(team_sheets)
    wb = load_workbook(info.path)
    seen: list[str] = []
    for sheet, team in team_sheets.items():
        ws = wb[sheet]
        body = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0]]
        assert {r[3] for r in body} == {team}
        assert ws.auto_filter.ref == f"A3:I{3 + len(body)}"
        seen += [r[0] for r in body]
    assert sorted(seen) == [f"E{i:06d}" for i in range(100)]
    cover = cells(info.path, "Cover")
    assert row_with(cover, "T02")[1] == "Fix T02"


PLANTED = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]


def test_formula_injection_is_written_as_text(tmp_path: Path) -> None:
    planted = tuple(
        ExceptionRecord(f"X{i}", "validation", Severity.ERROR, "T01", "MHS101Referral", value, value, value)
        for i, value in enumerate(PLANTED)
    )
    comparisons = (*make_result().comparisons, Comparison("MHS01", PLANTED[0], 1, ComparisonStatus.CONSISTENT,
                                                          explanation=PLANTED[3], tolerance=PLANTED[1]))
    path = write_pack(make_result(planted, comparisons), tmp_path / "p.xlsx", OPTIONS).path
    wb = load_workbook(path)
    ws = wb["Exceptions"]
    by_id = {row[0].value: row for row in ws.iter_rows(min_row=4)}
    for i, value in enumerate(PLANTED):
        row = by_id[f"X{i}"]
        for cell in (row[5], row[6], row[7]):  # key, problem, action
            assert cell.data_type == "s"
            assert cell.value == value.replace("\r", "\n")  # line ends normalised, otherwise unchanged
            assert cell.quotePrefix
    summary = {row[0].value: row for row in wb["Summary"].iter_rows(min_row=5)}
    assert summary["MHS01"][1].value == PLANTED[0] and summary["MHS01"][1].data_type == "s"
    assert summary["MHS01"][11].value == PLANTED[3] and summary["MHS01"][11].quotePrefix
    formulas = [c.coordinate for w in wb.worksheets for row in w.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_nhs_numbers_masked_and_birth_dates_left_out(tmp_path: Path) -> None:
    path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    text = "\n".join(all_strings(path))
    assert VALID_NHS not in text and "943 476 5919" not in text and "4010232137" not in text
    assert "NHS number *** *** 5919" in text  # in an exception key
    people = cells(path, "Detail mhs95_people")
    assert people[2] == ("LocalPatientId", "NHSNumber", "UniqCareProfTeamLocalID", "FirstContact")
    assert people[3][:2] == ("P1", "*** *** 5919")
    assert people[5][1] is None
    diff = cells(path, "Differences")
    assert "NHSNumber: *** *** 5919 → *** *** 2137" in str(diff)

    ident = write_pack(make_result(), tmp_path / "i.xlsx", dataclasses.replace(OPTIONS, identifiable=True)).path
    people = cells(ident, "Detail mhs95_people")
    assert people[2][:3] == ("LocalPatientId", "NHSNumber", "PersonBirthDate")
    assert people[3][1] == VALID_NHS
    assert people[3][2] == dt.datetime(2010, 1, 2)
    assert row_with(cells(ident, "Cover"), "Identifiers")[1].startswith("IDENTIFIABLE")


def test_small_counts_suppressed_on_request(tmp_path: Path) -> None:
    options = dataclasses.replace(OPTIONS, suppress_small_counts=True)
    path = write_pack(make_result(), tmp_path / "p.xlsx", options).path
    access = cells(path, "Access")
    assert row_with(access, "All (provider)")[1:3] == (1235, 55)  # 1234 -> 1235, 57 -> 55
    assert row_with(access, "0-5")[1] == "*"  # 3 people
    assert row_with(access, "6-12")[1] == 530  # 531
    outcomes = cells(path, "Outcomes")
    t02 = row_with(outcomes, "T02")
    assert t02[1] == 40 and t02[5] == "*"  # GBO paired numerator 0 -> suppressed percentage
    assert t02[6] == "*"  # CHI-ESQ numerator 2
    assert t02[2] == 40.0  # CGAS any numerator 16: shown
    summary = {r[0]: r for r in cells(path, "Summary")}
    assert summary["MHS69"][2] == "*"  # local 3
    assert summary["MHS30"][2] == 700 and summary["MHS30"][7] == 60
    assert summary["MHS95"][2] == 1235 and summary["MHS95"][7] == 0  # difference 1 rounds to 0


def test_signoff_drop_down_and_fill_in_cells(tmp_path: Path) -> None:
    path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    ws = load_workbook(path)["Sign-off"]
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    decision_row = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "Decision")
    dv = dvs[f"B{decision_row}"]
    assert dv.type == "list" and dv.formula1 == '"Approve,Approve with caveats,Reject"'
    labels = [ws.cell(row=r, column=1).value for r in range(1, 20)]
    for label in ("Name", "Role", "Date"):
        assert label in labels
    fill_rows = [r + 1 for r, v in enumerate(labels) if v in ("Decision", "Name", "Role", "Date")]
    assert all(ws.cell(row=r, column=2).value is None for r in fill_rows)
    assert all(ws.cell(row=r, column=2).fill.fgColor.rgb.endswith("FFF9C4") for r in fill_rows)


def test_failure_mid_write_leaves_earlier_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "pack.xlsx"
    write_pack(make_result(), target, OPTIONS)
    before = target.read_bytes()
    calls = {"n": 0}
    real_cells = pack_xlsx._cells

    def failing_cells(ws: Any, values: Any, styler: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 150:  # part-way through the sheets
            raise KeyboardInterrupt
        return real_cells(ws, values, styler)

    monkeypatch.setattr(pack_xlsx, "_cells", failing_cells)
    with pytest.raises(KeyboardInterrupt):
        write_pack(make_result(exceptions(300)), target, OPTIONS)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]


def test_failure_while_saving_leaves_earlier_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "pack.xlsx"
    write_pack(make_result(), target, OPTIONS)
    before = target.read_bytes()

    def half_save(wb: Workbook, filename: Path) -> None:
        Path(filename).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pack_xlsx, "_save", half_save)
    with pytest.raises(OutputError, match="No space left on device"):
        write_pack(make_result(), target, OPTIONS)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]


def test_unwritable_destination_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_pack(make_result(), tmp_path / "missing" / "pack.xlsx", OPTIONS)
    with pytest.raises(OutputError, match=r"\.xlsx"):
        write_pack(make_result(), tmp_path / "pack.csv", OPTIONS)
    assert list(tmp_path.iterdir()) == []


def test_minimal_result_still_makes_a_complete_pack(tmp_path: Path) -> None:
    from types import MappingProxyType

    from recon.measures.model import MeasuresResult
    from recon.months import Month

    month = Month(2024, 9)
    result = dataclasses.replace(
        make_result(()), local=MeasuresResult("RXX", month, (), MappingProxyType({})), comparisons=(), records=(),
        findings=(), inputs=(), data_quality=None, trend=None, notes=(),
    )
    info = write_pack(result, tmp_path / "p.xlsx", PackOptions())
    assert info.sheets == (
        "Cover", "Summary", "Access", "Activity", "Outcomes", "Trend", "Exceptions", "Differences",
        "Data quality", "Sign-off",
    )
    cover = cells(info.path, "Cover")
    assert row_with(cover, "Overall status")[1] == "Fit to submit"
    assert row_with(cover, "Submission deadline")[1] == "not set"
    assert ("No records to fix.",) in [r[:1] for r in cells(info.path, "Exceptions")]
    assert ("No trend data in this run (no ledger history and no published months).",) in [
        r[:1] for r in cells(info.path, "Trend")
    ]
    assert verify_pack(info.path)


def test_pack_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_exceptions_beyond_sheet_limit_continue_on_next_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recon.pack.sheets import exceptions as exception_sheets

    monkeypatch.setattr(exception_sheets, "MAX_SHEET_ROWS", 40)
    info = write_pack(make_result(exceptions(100)), tmp_path / "p.xlsx", OPTIONS)
    assert [s for s in info.sheets if s.startswith("Exceptions")] == ["Exceptions", "Exceptions (2)", "Exceptions (3)"]
    wb = load_workbook(info.path)
    ids = [r[0] for s in ("Exceptions", "Exceptions (2)", "Exceptions (3)") for r in wb[s].iter_rows(min_row=4, values_only=True)]
    assert sorted(ids) == [f"E{i:06d}" for i in range(100)]
    assert wb["Exceptions (3)"]["A1"].value == "Records to fix: every team (part 3 of 3)"


def test_people_counted_lists_are_left_out_unless_asked(tmp_path: Path) -> None:
    """The MHS95/MHS69 lists of everyone counted are evidence, not records to fix: a large
    trust's MHS95 list is a third of a million rows, so the pack carries them only on request."""
    default = write_pack(make_result(), tmp_path / "default.xlsx", dataclasses.replace(OPTIONS, people_lists=False))
    assert "Detail mhs95_people" not in default.sheets
    assert "Detail outcomes_referrals" in default.sheets  # records behind the outcomes stay
    asked = write_pack(make_result(), tmp_path / "asked.xlsx", OPTIONS)
    assert "Detail mhs95_people" in asked.sheets
