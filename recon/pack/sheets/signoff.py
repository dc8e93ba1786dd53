"""The Sign-off sheet: the decision cells a CYP lead fills in and the pack's fingerprint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recon.choices import Decision
from recon.pack.layout import Grid, Sheet, Styled, Validation
from recon.pack.sheets.common import verdict
from recon.reconcile.model import ReconcileResult

SIGNOFF_TITLE = "Sign-off"
DECISIONS = tuple(d.label for d in Decision)


def signoff_sheet(fingerprint: str, result: ReconcileResult) -> Sheet:
    g = Grid()
    g.add(Styled(f"Sign-off: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Fill in the yellow cells (the decision from the drop-down list), save the file and return it "
                 "to your informatics team, who record the sign-off with: recon signoff --pack FILE", "subtitle"))
    g.blank()
    v = verdict(result)
    g.add(Styled("Pack status", "label"), Styled(v.text, v.style.replace("status_", "")))
    counts = result.counts
    g.add(Styled("Discrepancies / records to fix", "label"), f"{counts.discrepancies} / {counts.records_to_fix:,}")
    g.blank()
    decision = g.add(Styled("Decision", "label"), Styled(None, "input"))
    name = g.add(Styled("Name", "label"), Styled(None, "input"))
    role = g.add(Styled("Role", "label"), Styled(None, "input"))
    date = g.add(Styled("Date", "label"), Styled(None, "input_date"))
    caveats = g.add(Styled("Caveats\n(required to approve with caveats or to reject)", "label_wrap"),
                    Styled(None, "input_wrap"))
    g.blank()
    g.add(Styled("Pack fingerprint (SHA-256)", "label"), Styled(fingerprint, "mono"))
    how = g.add(Styled("What the fingerprint covers", "label"), Styled(
        "The SHA-256 of every value shown on every other sheet of this pack (except the Cover's run time "
        "and days left, so a re-run of the same inputs keeps it), in sheet and row order "
        "(canonical JSON, one line per row). It cannot be the hash of this file, which contains it. "
        "Filling in this sheet does not change it. recon recomputes it when the sign-off is recorded "
        "and refuses a pack whose figures or records were edited.", "wrap",
    ))
    return Sheet(
        SIGNOFF_TITLE, g.rows, widths={1: 34, 2: 80},
        heights={caveats: 90, how: 64, name: 20, role: 20, decision: 20, date: 20},
        validations=[
            Validation(f"B{decision}", "list", DECISIONS, "Approve, Approve with caveats or Reject"),
            Validation(f"B{date}", "date", (), "Date of sign-off"),
        ],
        fingerprinted=False, landscape=False, tab_color="009639",
    )


@dataclass(frozen=True)
class FilledSignOff:
    """What a CYP lead typed into the pack's Sign-off sheet (decision as recon's word)."""

    decision: str | None  # approve | caveats | reject
    name: str | None
    role: str | None
    date: dt.date | None
    caveats: tuple[str, ...]


def read_signoff(path: Path) -> FilledSignOff:
    """Read the Sign-off sheet's filled cells, so a lead who never opens a terminal can sign in Excel."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        if SIGNOFF_TITLE not in wb.sheetnames:
            return FilledSignOff(None, None, None, None, ())
        cells: dict[str, Any] = {}
        for row in wb[SIGNOFF_TITLE].iter_rows(values_only=True):
            if row and isinstance(row[0], str):
                cells[row[0].split("\n")[0].strip()] = row[1] if len(row) > 1 else None
    finally:
        wb.close()

    def text(label: str) -> str | None:
        value = cells.get(label)
        return str(value).strip() or None if value is not None else None

    raw_date = cells.get("Date")
    day = raw_date.date() if isinstance(raw_date, dt.datetime) else raw_date if isinstance(raw_date, dt.date) else None
    caveats = tuple(c.strip() for c in (text("Caveats") or "").splitlines() if c.strip())
    decision = text("Decision")
    word = Decision.parse(decision) if decision else None
    return FilledSignOff(word.value if word is not None else decision,
                         text("Name"), text("Role"), day, caveats)

