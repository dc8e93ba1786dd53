"""The Exceptions sheets: every record to fix, one list or one sheet per team."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from recon.pack.layout import AMBER, RED, Rule, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import (
    SEVERITY_RANK,
    row_heights,
    sheet_title,
    team_name,
    text,
    wrap_cells,
)
from recon.reconcile.model import ExceptionRecord, ReconcileResult, tally

EXCEPTION_HEADER = (
    "Exception ID", "Status", "Severity", "Team", "Table", "Record key", "Problem", "Suggested action", "Found by",
)


def sorted_exceptions(exceptions: Sequence[ExceptionRecord]) -> list[ExceptionRecord]:
    """Accepted last; then errors first; then team, table, key: the order a team works through."""
    return sorted(
        exceptions,
        key=lambda e: (
            e.status == "accepted", SEVERITY_RANK.get(e.severity, 9), e.team or "~", e.table, e.key or "",
            e.exception_id,
        ),
    )


def team_sheet_names(exceptions: Sequence[ExceptionRecord]) -> dict[str, str]:
    """One valid, unique worksheet title per team ("Fix TEAM")."""
    used: set[str] = set()
    return {team: sheet_title("Fix ", team, used) for team in sorted({team_name(e.team) for e in exceptions})}


# Printed at 8 pt or more on landscape A4: long text wraps in its column instead of being cut.
EXCEPTION_WIDTHS = {1: 13, 2: 9, 3: 9, 4: 10, 5: 18, 6: 16, 7: 44, 8: 34, 9: 10}
_WRAPPED = (4, 5, 6, 7)  # table, key, problem, action (0-based)


def _exception_values(e: ExceptionRecord, identifiable: bool) -> list[Any]:
    return [
        e.exception_id, e.status, e.severity.value, text(team_name(e.team), identifiable), e.table,
        text(e.key, identifiable) if e.key is not None else "", text(e.problem, identifiable),
        text(e.action, identifiable), e.source,
    ]


def exceptions_sheet(
    title: str, exceptions: Sequence[ExceptionRecord], opts: PackOptions, heading: str,
) -> Sheet:
    rows = sorted_exceptions(exceptions)
    values = [_exception_values(e, opts.identifiable) for e in rows]
    widths = EXCEPTION_WIDTHS
    header_row = 3
    heights = row_heights(values, widths, _WRAPPED, header_row)
    t = tally(rows)
    n = len(values)

    def gen() -> Iterator[list[Any]]:
        yield [Styled(heading, "title")]
        gaps = f"; {t.outcome_gaps:,} outcome pair(s) missing (not errors)" if t.outcome_gaps else ""
        yield [Styled(
            f"{t.records_to_fix:,} record(s) to fix ({t.errors:,} errors){gaps}; {t.accepted:,} accepted. Every "
            "record is listed, not a sample: use the filter arrows to choose your team.", "subtitle",
        )]
        yield [Styled(h, "header") for h in EXCEPTION_HEADER]
        if not values:
            yield [Styled("No records to fix.", "note")]
        for v in values:
            yield wrap_cells(v, _WRAPPED)

    last = header_row + max(n, 1)
    return Sheet(
        title, gen(), widths=widths, heights=heights, freeze=f"B{header_row + 1}",
        autofilter=f"A{header_row}:I{last}",
        print_title_rows=f"{header_row}:{header_row}",
        rules=[
            Rule(f"C{header_row + 1}:C{last}", "equals", "error", RED, True),
            Rule(f"C{header_row + 1}:C{last}", "equals", "warning", AMBER),
            Rule(f"B{header_row + 1}:B{last}", "equals", "new", "", True),
        ],
        tab_color="DA291C" if t.errors else None,
    )


MAX_SHEET_ROWS = 1_000_000  # Excel holds 1,048,576 rows; longer lists continue on a further sheet


def _chunked(title: str, rows: Sequence[ExceptionRecord], opts: PackOptions, heading: str) -> list[Sheet]:
    ordered = sorted_exceptions(rows)
    parts = [ordered[i : i + MAX_SHEET_ROWS] for i in range(0, len(ordered), MAX_SHEET_ROWS)] or [[]]
    sheets = []
    for n, part in enumerate(parts, 1):
        suffix = f" ({n})" if n > 1 else ""
        more = f" (part {n} of {len(parts)})" if len(parts) > 1 else ""
        sheets.append(exceptions_sheet(title[: 31 - len(suffix)] + suffix, part, opts, heading + more))
    return sheets


def exception_sheets(result: ReconcileResult, opts: PackOptions) -> list[Sheet]:
    if not opts.split_by_team:
        return _chunked("Exceptions", result.exceptions, opts, "Records to fix: every team")
    names = team_sheet_names(result.exceptions)
    if not names:
        return [exceptions_sheet("Exceptions", (), opts, "Records to fix")]
    by_team: dict[str, list[ExceptionRecord]] = {}
    for e in result.exceptions:
        by_team.setdefault(team_name(e.team), []).append(e)
    return [
        sheet
        for team in sorted(names)
        for sheet in _chunked(names[team], by_team[team], opts, f"Records to fix: {text(team, opts.identifiable)}")
    ]
