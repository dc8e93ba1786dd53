"""Issue 14 points 4-6 and 10: the pack on paper, its charts, its colours and its input hashes."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import load_workbook

from recon.pack.layout import keep_together_breaks
from recon.pack.save import write_pack
from recon.reconcile.model import ExceptionRecord
from tests.pack.fixtures import exceptions, make_result
from tests.pack.test_pack import OPTIONS, cells, row_with

A4_WIDTH_PT = {"landscape": (29.7 - 2 * 1.016) / 2.54 * 72, "portrait": (21.0 - 2 * 1.016) / 2.54 * 72}


def _printed_widths(ws: Any) -> list[float]:
    """Column widths (characters) of what prints: the print area's columns, else every column set."""
    cols = sorted((k, v.width) for k, v in ws.column_dimensions.items() if v.width)
    if ws.print_area:
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        last = area.rsplit(":", 1)[1].lstrip("$").rstrip("0123456789$")
        from openpyxl.utils import column_index_from_string

        cols = [(k, w) for k, w in cols if column_index_from_string(k) <= column_index_from_string(last)]
    return [w for _, w in cols]


def _long_pack(tmp_path: Path) -> Path:
    long = "Contact's referral is not in MHS101Referral; " * 4
    rows = (*exceptions(), ExceptionRecord("E9", "validation", exceptions()[0].severity, "T01", "MHS201CareContact",
                                           "C9", long, "Correct the referral in the EPR. " * 3))
    return write_pack(make_result(rows), tmp_path / "p.xlsx", OPTIONS).path


def test_every_sheet_prints_at_8_pt_or_larger_with_its_header_repeated(tmp_path: Path) -> None:
    wb = load_workbook(_long_pack(tmp_path))
    for ws in wb.worksheets:
        if ws.page_setup.fitToWidth:
            total = sum((7 * w + 5) * 0.75 for w in _printed_widths(ws))
            scale = min(1.0, A4_WIDTH_PT[ws.page_setup.orientation] / total)
            assert 11 * scale >= 8, (ws.title, round(11 * scale, 1))
    for title in ("Summary", "Exceptions", "Differences", "Data quality", "Detail mhs95_people"):
        assert wb[title].print_title_rows, title  # repeated on every printed page


def test_exceptions_text_wraps_instead_of_being_cut(tmp_path: Path) -> None:
    ws = load_workbook(_long_pack(tmp_path))["Exceptions"]
    row = next(r for r in ws.iter_rows(min_row=4) if r[0].value == "E9")
    problem, action = row[6], row[7]
    assert problem.alignment.wrap_text and action.alignment.wrap_text
    needed = math.ceil(len(problem.value) / (ws.column_dimensions["G"].width - 1))
    assert ws.row_dimensions[problem.row].height >= 15 * needed


def test_page_breaks_keep_a_heading_with_what_follows() -> None:
    """30 rows of 15 pt fit a landscape page (463 pt usable): a 3-row run starting at row 29 moves
    to the next page (break after 28); one starting at row 10 stays."""
    assert keep_together_breaks(50, {}, {29: 3}, [], landscape=True, scale=1.0) == [28]
    assert keep_together_breaks(50, {}, {10: 3}, [], landscape=True, scale=1.0) == []
    assert keep_together_breaks(50, {}, {29: 3}, [20], landscape=True, scale=1.0) == []  # manual break first


def test_trend_chart_blocks_are_whole_on_a_page_and_charts_readable(tmp_path: Path) -> None:
    path = _long_pack(tmp_path)
    wb = load_workbook(path)
    ws = wb["Trend"]
    breaks = [b.id for b in ws.row_breaks.brk]
    for chart in ws._charts:
        top = chart.anchor._from.row + 1
        # the block's heading is at most ~8 rows above the table, the chart 16 rows below its anchor
        assert not any(top - 8 < b < top + 16 for b in breaks), (top, breaks)
        assert chart.legend is not None and not chart.legend.overlay
        title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
        assert len(title) <= 45, title
    for title in ("Access",):
        for chart in wb[title]._charts:
            assert len(chart.series) == 1  # one measure per axis: no bars of very different scale


def test_trend_limits_never_negative_and_published_points_apart(tmp_path: Path) -> None:
    result = make_result()
    months = [f"2024-{m:02d}" for m in range(1, 10)]
    wild = [2.0, 30.0, 2.0, 30.0, 2.0, 30.0, 2.0, 30.0, 2.0]  # unclamped lower limit far below 0
    trend = pl.DataFrame({"month": months, "measure_id": ["MHS69"] * 9, "value": wild,
                          "source": ["published"] * 4 + ["ledger"] * 4 + ["this run"]})
    path = write_pack(dataclasses.replace(result, trend=trend), tmp_path / "p.xlsx", OPTIONS).path
    rows = cells(path, "Trend")
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Month")
    assert rows[header][1:6] == ("Local", "Published (rounded)", "Mean", "Lower limit", "Upper limit")
    data = rows[header + 1: header + 10]
    assert all(r[4] >= 0 for r in data)
    assert [r[1] is None for r in data] == [True] * 4 + [False] * 5  # published months not on the local line
    assert [r[2] is not None for r in data] == [True] * 4 + [False] * 5
    chart = load_workbook(path)["Trend"]._charts[0]
    published = chart.series[1]
    assert published.graphicalProperties.line.noFill  # markers only: never joined to local points


def test_data_quality_red_only_for_problems(tmp_path: Path) -> None:
    """Point 6: no colour scale; in the VODIM table only an item with invalid values or values NHS
    England counts as missing is red (the fixture: one blank mechanism, an invalid ethnic category);
    an item with neither has no Problem cell and no red."""
    path = write_pack(make_result(), tmp_path / "p.xlsx", OPTIONS).path
    ws = load_workbook(path)["Data quality"]
    assert not any(cf.rules[0].type == "colorScale" for cf in ws.conditional_formatting)
    rows = list(ws.iter_rows())
    header = next(i for i, r in enumerate(rows) if r[0].value == "Measure" and r[-1].value == "Problem")
    vodim = []
    for r in rows[header + 1:]:
        if r[0].value is None:
            break
        vodim.append(r)
    assert vodim
    for r in vodim:
        invalid, missing, problem = r[7].value, r[8].value, r[11]
        red = problem.fill is not None and str(problem.fill.fgColor.rgb).endswith("FFC7CE")
        if invalid or missing:
            assert problem.value and red, (r[0].value, invalid, missing)
        else:
            assert problem.value is None and not red, r[0].value
    assert any(r[11].value for r in vodim) and any(r[11].value is None for r in vodim)


def test_cover_lists_each_zip_member_with_its_own_hash(tmp_path: Path) -> None:
    rows = cells(_long_pack(tmp_path), "Cover")
    assert row_with(rows, "Input files")  # the section is there; member hashes: tests/reconcile
