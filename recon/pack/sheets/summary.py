"""The Summary sheet: every measure, local against extract and published, with its status."""

from __future__ import annotations

import math
from typing import Any

from recon.findings import Severity
from recon.measures.model import MeasureValue
from recon.pack.layout import Grid, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import hdr, header_height, is_pct, measure_cell, num, text
from recon.reconcile.model import Comparison, ComparisonStatus, PublishedState, ReconcileResult
from recon.rounding import SUPPRESSED, round5

NOT_COMPARED = "Not compared"
STATUS_TEXT = {
    ComparisonStatus.CONSISTENT: "Consistent",
    ComparisonStatus.WITHIN_TOLERANCE: "Within tolerance",
    ComparisonStatus.DISCREPANCY: "Discrepancy",
    ComparisonStatus.MISSING_LOCAL: "Missing locally",
    ComparisonStatus.MISSING_PUBLISHED: "Not published",
    ComparisonStatus.NOT_COMPARED: "Not compared",
}


def _diff_cell(difference: float | None, small: bool, pct: bool, opts: PackOptions) -> Any:
    """A difference in its own cell, suppressed like the figures it is taken from."""
    d = num(difference)
    if d is None:
        return None
    if opts.suppress_small_counts and small:
        return Styled(SUPPRESSED, "right")
    if opts.suppress_small_counts and not pct:
        return Styled(round5(d), "count")
    return Styled(d, "pct" if pct else "count")


def _status_cell(status: ComparisonStatus | None, severity: Severity, not_compared: bool = False) -> Any:
    if status is None:
        return Styled(NOT_COMPARED, "neutral") if not_compared else None
    style = {
        ComparisonStatus.CONSISTENT: "good",
        ComparisonStatus.WITHIN_TOLERANCE: "warn",
        ComparisonStatus.DISCREPANCY: "bad" if severity is Severity.ERROR else "warn",
    }.get(status, "neutral")
    return Styled(STATUS_TEXT[status], style)


def _comparison_row(c: Comparison, pct: bool, opts: PackOptions, published_not_compared: bool) -> list[Any]:
    fmt = "pct" if pct else "count"
    local = num(c.local)
    extract = num(c.extract)
    published: Any = num(c.published)
    if c.published_text == SUPPRESSED and published is None:
        published = Styled(SUPPRESSED, "right")
    elif published is not None:
        published = Styled(published, fmt)
    cells_local: Any = None if local is None else Styled(local, fmt)
    cells_extract: Any = None if extract is None else Styled(extract, fmt)
    small = (c.numerator is not None and c.numerator < 5) if pct else (local is not None and 0 <= local < 5)
    if opts.suppress_small_counts:
        if pct:
            if small:
                cells_local = Styled(SUPPRESSED, "right")
        else:
            cells_local = None if local is None else measure_cell(MeasureValue(c.id, local), opts)
            cells_extract = None if extract is None else measure_cell(MeasureValue(c.id, extract), opts)
    return [
        Styled(c.id, "top"), Styled(text(c.name, True), "wrap"), cells_local,
        cells_extract, _diff_cell(c.extract_difference, small, pct, opts),
        _status_cell(c.extract_status, c.severity),
        published, _diff_cell(c.published_difference, small, pct, opts),
        _status_cell(c.published_status, c.severity, published_not_compared),
        Styled(text(c.tolerance, True), "wrap"), _status_cell(c.overall_status, c.severity),
        Styled(text(c.explanation, True), "wrap"),
    ]


SUMMARY_HEADER = (
    "ID", "Measure", "Local", "Extract", "Extract − local", "Extract status", "Published", "Published − local",
    "Published status", "Tolerance", "Overall status", "Explanation",
)
SUMMARY_WIDTHS = {1: 10, 2: 26, 3: 9, 4: 9, 5: 9, 6: 15, 7: 10, 8: 10, 9: 15, 10: 15, 11: 15, 12: 38}


def _lines(text_: str, width: float) -> int:
    return max(math.ceil(len(text_) / max(width - 2, 1)), 1)


def summary_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled(f"Measures: local figures against the extract and the published file ({result.month})", "title"))
    g.add(Styled("Each difference sits next to its own status (extract − local; published − local); the overall "
                 "status is the worse of the two. Percentages in %.", "subtitle"))
    g.add(Styled("Consistent: the published figure equals the local one after national rounding to 5. "
                 "A tolerance '±a or b%' allows whichever is larger.", "subtitle"))
    not_compared = result.published_check.state is PublishedState.NOT_COMPARED
    if not_compared:
        g.add(Styled(f"Published figures NOT compared: {text(result.published_check.reason, True)}", "warn"))
    header = g.add(*(hdr(h) for h in SUMMARY_HEADER))
    heights: dict[int, float] = {header: header_height(SUMMARY_HEADER, 9)}
    for c in result.comparisons:
        row = g.add(*_comparison_row(c, is_pct(result, c.id), opts, not_compared))
        # Wrapped text does not grow its row by itself in every spreadsheet (LibreOffice keeps
        # the default height): size each row for its wrapped cells.
        lines = max(_lines(c.explanation, SUMMARY_WIDTHS[12]), _lines(c.name, SUMMARY_WIDTHS[2]),
                    _lines(c.tolerance, SUMMARY_WIDTHS[10]))
        if lines > 1:
            heights[row] = 15.0 * lines
    last = max(g.next_row - 1, header + 1)
    return Sheet(
        "Summary", g.rows, widths=SUMMARY_WIDTHS,
        heights=heights, freeze=f"C{header + 1}", autofilter=f"A{header}:L{last}",
        print_title_rows=f"{header}:{header}",
    )
