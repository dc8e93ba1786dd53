"""The pack fingerprint's fast sheet reader gives exactly what openpyxl's read-only reader gives."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from recon.pack.fingerprint import combine_sheet_hashes, fingerprint_workbook, row_line
from recon.pack.sheets.signoff import SIGNOFF_TITLE


def openpyxl_fingerprint(path: Path) -> str:
    """The definition: every row as openpyxl's read-only reader returns it."""
    wb = load_workbook(path, read_only=True, data_only=False)
    hashes = []
    for ws in wb.worksheets:
        if ws.title == SIGNOFF_TITLE:
            continue
        h = hashlib.sha256()
        for row in ws.iter_rows(values_only=True):
            line = row_line(row)
            if line is not None:
                h.update(line)
        hashes.append((ws.title, h.hexdigest()))
    wb.close()
    return combine_sheet_hashes(hashes)


ROWS = [
    ["Team", "Count", "Share", "When", "Flag", None, "Note"],
    ["T&1 <a>", 12, 0.125, dt.date(2024, 9, 30), True, None, '  "quoted" '],
    [None, -3, 1e-12, dt.datetime(2024, 9, 1, 13, 45), False, "", "ünïcode ✓"],
    ["line\nbreak", 10**15, 2.5e20, None, None, None, "tab\there"],
]


@pytest.mark.parametrize("shape", ["plain", "from column B", "formula", "rich text"])
def test_fast_reader_equals_openpyxl(tmp_path: Path, shape: str) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in ROWS:
        ws.append([None, *row] if shape == "from column B" else row)
    if shape == "formula":
        ws["H2"] = "=B2*2"
    if shape == "rich text":
        from openpyxl.cell.rich_text import CellRichText, TextBlock
        from openpyxl.cell.text import InlineFont

        ws["H3"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    wb.create_sheet(SIGNOFF_TITLE)["A1"] = "ignored"
    wb.create_sheet("Empty")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    assert fingerprint_workbook(path) == openpyxl_fingerprint(path)
    ws["B2"] = 13  # and it sees a change
    wb.save(path)
    assert fingerprint_workbook(path) == openpyxl_fingerprint(path)
