"""The Differences sheet: record-level differences between local records and the extract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from recon.pack.layout import Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.privacy import IDENTIFYING_COLUMNS, NHS_NUMBER_COLUMNS, mask_nhs_number
from recon.pack.sheets.common import row_heights, team_name, text, wrap_cells
from recon.reconcile.model import ReconcileResult, RecordClass

CLASS_TEXT = {
    RecordClass.MISSING_IN_EXTRACT: "Missing in extract",
    RecordClass.MISSING_LOCALLY: "Missing locally",
    RecordClass.FIELD_DIFFERS: "Field differs",
    RecordClass.DUPLICATE_KEY: "Duplicate key",
    RecordClass.ORPHAN: "Orphan",
    RecordClass.BARREN: "Barren",
}


# Printed at 8 pt or more on landscape A4: long text wraps in its column instead of being cut.
DIFF_WIDTHS = {1: 13, 2: 12, 3: 9, 4: 18, 5: 16, 6: 34, 7: 34, 8: 30, 9: 14}
_WRAPPED = (1, 3, 4, 5, 6, 7, 8)
DIFF_HEADER = (
    "Exception ID", "Difference", "Team", "Table", "Record key", "Fields (local → extract)", "What it means",
    "Suggested action", "Measures moved",
)


def differences_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    ident = opts.identifiable

    def field_text(column: str, local: str | None, extract: str | None) -> str:
        if column in NHS_NUMBER_COLUMNS and not ident:
            local, extract = mask_nhs_number(local), mask_nhs_number(extract)
        elif column in IDENTIFYING_COLUMNS and not ident:
            return f"{column}: (identifying, not shown)"
        return f"{column}: {local if local is not None else '(blank)'} → {extract if extract is not None else '(blank)'}"

    records = sorted(result.records, key=lambda r: (r.team or "~", r.table, r.record_class.value, r.key))
    values = [
        [
            r.exception_id, CLASS_TEXT[r.record_class], text(team_name(r.team), ident), r.table, text(r.key, ident),
            text("; ".join(field_text(f.column, f.local, f.extract) for f in r.fields), ident),
            text(r.message, ident), text(r.action, ident), ", ".join(r.measures),
        ]
        for r in records
    ]
    widths = DIFF_WIDTHS
    header_row = 3
    heights = row_heights(values, widths, _WRAPPED, header_row)

    def gen() -> Iterator[list[Any]]:
        yield [Styled("Record-level differences between the local records and the pre-deadline extract", "title")]
        yield [Styled(f"{len(values):,} record(s) differ.", "subtitle")]
        yield [Styled(h, "header") for h in DIFF_HEADER]
        if not values:
            yield [Styled("No record-level differences (or no extract compared).", "note")]
        for v in values:
            yield wrap_cells(v, _WRAPPED)

    last = header_row + max(len(values), 1)
    return Sheet(
        "Differences", gen(), widths=widths, heights=heights, freeze=f"B{header_row + 1}",
        autofilter=f"A{header_row}:I{last}", print_title_rows=f"{header_row}:{header_row}",
    )
