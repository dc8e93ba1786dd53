"""What the pack shows (issue 15 classes 2 and 7): a pack signed by its content must show what recon
wrote (formats, colours, hidden rows and sheets), and odd text never makes an invalid workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font

from recon.errors import UsageError
from recon.findings import Severity
from recon.ledger import Ledger, RunRecord
from recon.months import Month
from recon.pack.fingerprint import verify_pack
from recon.pack.model import PackOptions
from recon.pack.save import write_pack
from recon.pack.view import view_fingerprint
from recon.reconcile.model import ExceptionRecord
from recon.signoff import sign_off
from tests.pack.fixtures import exceptions, make_result

OPTIONS = PackOptions(deadline=dt.date(2024, 11, 7), rules_version="rules-test", run_seconds=1.0)
T0 = dt.datetime(2024, 10, 5, tzinfo=dt.UTC)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Ledger]:
    info = write_pack(make_result(exceptions(30)), tmp_path / "pack.xlsx", OPTIONS)
    led = Ledger.open(tmp_path / "ledger.sqlite")
    led.record_run(RunRecord("run1", "reconcile", "RXX", Month(2024, 9), T0, T0, 0, "0", "r",
                             pack_path=str(info.path), pack_sha256=info.sha256, pack_fingerprint=info.fingerprint,
                             pack_view=view_fingerprint(info.path)))
    return info.path, led


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    """Re-save the pack with another writer, Sign-off sheet filled in, after ``change``."""
    wb = load_workbook(path)
    ws = wb["Sign-off"]
    for row in ws.iter_rows():
        if row[0].value in ("Decision", "Name", "Role"):
            row[1].value = {"Decision": "approve", "Name": "Dr A Lead", "Role": "CYP lead"}[row[0].value]
    change(wb)
    wb.save(path)


def _summary_number(wb: Any) -> Any:
    return next(c for row in wb["Summary"].iter_rows(min_row=5) for c in row if isinstance(c.value, int | float))


TAMPERS: dict[str, Callable[[Any], None]] = {
    "number format shows 99,999": lambda wb: setattr(_summary_number(wb), "number_format", '"99,999"'),
    "hidden row": lambda wb: setattr(wb["Exceptions"].row_dimensions[5], "hidden", True),
    "hidden column": lambda wb: setattr(wb["Exceptions"].column_dimensions["C"], "hidden", True),
    "hidden sheet": lambda wb: setattr(wb["Exceptions"], "sheet_state", "hidden"),
    "white text": lambda wb: setattr(wb["Exceptions"]["A5"], "font", Font(color="FFFFFFFF")),
}


def test_a_pack_only_filled_in_by_another_writer_still_signs(recorded: tuple[Path, Ledger]) -> None:
    path, led = recorded
    _edit(path, lambda wb: None)
    assert verify_pack(path)
    # the fixture's Cover says "Fix before submitting": approving it needs a caveat (issue 14 point 8)
    signed = sign_off(led, path, caveats=("known EPR gap",))
    assert signed.decision == "approve" and signed.caveats == ("known EPR gap",)


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_what_a_reader_sees_cannot_be_changed_before_sign_off(recorded: tuple[Path, Ledger], tamper: str) -> None:
    path, led = recorded
    _edit(path, TAMPERS[tamper])
    assert verify_pack(path)  # every value is unchanged ...
    with pytest.raises(UsageError, match="what it shows was changed"):  # ... but not what a reader sees
        sign_off(led, path)


def test_control_characters_and_long_text_make_a_valid_signable_workbook(tmp_path: Path) -> None:
    odd = [
        dataclasses.replace(e, team=team, problem=problem)
        for e, team, problem in zip(exceptions(3), ("T\x0701", "T\x1b[2", "T\x0001"),
                                    ("x" * 40_000, "bell\x07", "ok"), strict=True)
    ]
    odd.append(ExceptionRecord("Z1", "validation", Severity.ERROR, "T\ud800x", "MHS101Referral", "R\x0c1", "p", "a"))
    info = write_pack(make_result(tuple(odd)), tmp_path / "p.xlsx", dataclasses.replace(OPTIONS, split_by_team=True))
    wb = load_workbook(info.path)  # parses: the XML is valid
    assert all(not any(ord(ch) < 32 for ch in title) for title in wb.sheetnames)
    longest = max(len(str(c.value)) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert longest <= 32_767
    texts = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any("[... cut: 32," in t and "of 40,000 characters shown]" in t for t in texts)
    assert verify_pack(info.path)  # and it can be signed
