"""The Waiting list and Waits summary sheets, re-opened and read like a CYP lead would."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
from openpyxl import load_workbook

from recon.pack.model import PackOptions
from recon.pack.save import write_pack
from recon.reconcile.model import Comparison, ComparisonStatus
from recon.waits_list import WAITING_SCHEMA
from tests.pack.fixtures import VALID_NHS, make_result
from tests.pack.test_pack import OPTIONS, cells


def waiting() -> pl.DataFrame:
    rows = [
        ("T01", "A06", "CYP", "R1", "P1", VALID_NHS, dt.date(2023, 9, 1), 395, True, True, True, "3", "first contact",
         None, None, 395, True),
        ("T02", "C10", "CYP", "R2", "P2", None, dt.date(2024, 9, 10), 20, False, False, False, "2", "first contact",
         None, None, 20, False),
        ("T01", "A06", "CMH", "R3", "P3", None, dt.date(2024, 7, 1), 91, True, False, False, None, "second contact",
         dt.date(2024, 8, 1), dt.date(2024, 8, 1), 60, True),
    ]
    return pl.DataFrame(rows, schema=WAITING_SCHEMA, orient="row")


def result_with_waiting():  # type: ignore[no-untyped-def]
    return dataclasses.replace(make_result(), waiting=waiting())


def test_waiting_list_sheet_longest_first_masked_and_flagged(tmp_path: Path) -> None:
    path = write_pack(result_with_waiting(), tmp_path / "p.xlsx", OPTIONS).path
    wb = load_workbook(path)
    names = wb.sheetnames
    wb.close()
    assert names.index("Waits summary") == names.index("Summary") + 1 and "Waiting list" in names
    rows = cells(path, "Waiting list")
    assert "3 waiting; 2 over 4 weeks, 1 over 18 weeks, 1 over 52 weeks; 2 with no contact for more than 28 days." \
        in rows[3][0]
    header = rows[5]
    assert header[:7] == ("Team", "Cohort", "Referral", "Person", "NHS number", "Referral date", "Days waiting")
    assert header[-1] == "No contact for 28+ days"
    r1 = rows[6]
    assert r1[:5] == ("T01", "CYP", "R1", "P1", f"*** *** {VALID_NHS[-4:]}") and r1[6] == 395
    assert r1[7:12] == ("Yes", "Yes", "Yes", "3 Routine", "first contact") and r1[12] == "never seen"
    assert rows[8][10] == "not recorded" and rows[8][14] == "Yes"
    text = " ".join(str(c) for r in rows for c in r if c is not None)
    assert VALID_NHS not in text


def test_split_by_team_gives_one_waiting_sheet_per_team_and_config_days(tmp_path: Path) -> None:
    opts = dataclasses.replace(OPTIONS, split_by_team=True, no_contact_days=21)
    path = write_pack(result_with_waiting(), tmp_path / "p.xlsx", opts).path
    wb = load_workbook(path)
    names = wb.sheetnames
    wb.close()
    assert "Wait T01" in names and "Wait T02" in names and "Waiting list" not in names
    t01 = cells(path, "Wait T01")
    assert t01[0][0].startswith("Waiting list for team T01") and [r[2] for r in t01[6:8]] == ["R1", "R3"]
    assert t01[5][-1] == "No contact for 21+ days"


def test_waits_summary_counts_by_team_and_shows_waits_comparisons(tmp_path: Path) -> None:
    comp = Comparison("MRS10", "Number of open CYP referral-spells waiting for a 1st contact", 5501,
                      ComparisonStatus.CONSISTENT, published=5500, published_text="5500",
                      explanation="Local 5501 is published as 5500, as published")
    res = dataclasses.replace(result_with_waiting(), comparisons=(*make_result().comparisons, comp))
    path = write_pack(res, tmp_path / "p.xlsx", OPTIONS).path
    rows = cells(path, "Waits summary")
    t01 = [r for r in rows if r and r[0] == "T01"]
    assert [r[:8] for r in t01] == [("T01", "CMH", 1, 1, 0, 0, 1, 91), ("T01", "CYP", 1, 1, 1, 1, 1, 395)]
    assert next(r for r in rows if r and r[0] == "All teams")[2] == 3
    mrs10 = next(r for r in rows if r and r[0] == "MRS10")
    assert mrs10[1:4] == (5501, "5500", "consistent")


def test_no_waiting_list_no_waits_sheets(tmp_path: Path) -> None:
    path = write_pack(make_result(), tmp_path / "p.xlsx", PackOptions()).path
    wb = load_workbook(path)
    assert "Waiting list" not in wb.sheetnames and "Waits summary" not in wb.sheetnames
    wb.close()


def test_cover_verdict_says_not_compared_when_the_published_file_lacks_the_provider(tmp_path: Path) -> None:
    base = make_result()
    skipped = tuple(dataclasses.replace(c, status=ComparisonStatus.NOT_COMPARED, extract_status=None)
                    for c in base.comparisons)
    res = dataclasses.replace(base, comparisons=skipped, findings=(), exceptions=(), data_quality=None)
    path = write_pack(res, tmp_path / "p.xlsx", OPTIONS).path
    text = " ".join(str(c) for r in cells(path, "Cover") for c in r if c is not None)
    assert "Not compared with the published file" in text and "Fit to submit" not in text
    summary = " ".join(str(c) for r in cells(path, "Summary") for c in r if c is not None)
    assert "Not compared" in summary


def test_detail_frames_with_list_columns_are_written_as_text(tmp_path: Path) -> None:
    base = make_result()
    spells = pl.DataFrame({"PersonKey": ["P1"], "Referrals": [["R1", "R2"]], "Days": [[3, 4]]})
    local = dataclasses.replace(base.local, details={**base.local.details, "waits_caveats": spells})
    path = write_pack(dataclasses.replace(base, local=local), tmp_path / "p.xlsx", OPTIONS).path
    rows = cells(path, "Detail waits_caveats")
    assert ("P1", "R1, R2", "3, 4") in rows
