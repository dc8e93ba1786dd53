"""The Summary sheet: every measure, local against extract and published, with its status."""

from __future__ import annotations

import math
from typing import Any

from recon.findings import Severity
from recon.measures.model import MeasureValue
from recon.pack.layout import Grid, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import hdr, is_pct, measure_cell, num, text
from recon.reconcile.model import Comparison, ComparisonStatus, ReconcileResult
from recon.rounding import SUPPRESSED, round5

STATUS_TEXT = {
    ComparisonStatus.CONSISTENT: "Consistent",
    ComparisonStatus.WITHIN_TOLERANCE: "Within tolerance",
    ComparisonStatus.DISCREPANCY: "Discrepancy",
    ComparisonStatus.MISSING_LOCAL: "Missing locally",
    ComparisonStatus.MISSING_PUBLISHED: "Not published",
}


def _comparison_row(c: Comparison, pct: bool, opts: PackOptions) -> list[Any]:
    fmt = "pct" if pct else "count"
    local = num(c.local)
    extract = num(c.extract)
    published: Any = num(c.published)
    difference = num(c.difference)
    if c.published_text == SUPPRESSED and published is None:
        published = Styled(SUPPRESSED, "right")
    elif published is not None:
        published = Styled(published, fmt)
    cells_local: Any = None if local is None else Styled(local, fmt)
    cells_extract: Any = None if extract is None else Styled(extract, fmt)
    cells_diff: Any = None if difference is None else Styled(difference, "pct" if pct else "count")
    if opts.suppress_small_counts:
        small = (c.numerator is not None and c.numerator < 5) if pct else (local is not None and 0 <= local < 5)
        if pct:
            if small:
                cells_local = Styled(SUPPRESSED, "right")
                cells_diff = None if difference is None else Styled(SUPPRESSED, "right")
        else:
            cells_local = None if local is None else measure_cell(MeasureValue(c.id, local), opts)
            cells_extract = None if extract is None else measure_cell(MeasureValue(c.id, extract), opts)
            if difference is not None:
                cells_diff = Styled(SUPPRESSED, "right") if small else Styled(round5(difference), "count")
    status_style = {
        ComparisonStatus.CONSISTENT: "good",
        ComparisonStatus.WITHIN_TOLERANCE: "warn",
        ComparisonStatus.DISCREPANCY: "bad" if c.severity is Severity.ERROR else "warn",
    }.get(c.overall_status, "neutral")
    return [
        Styled(c.id, "top"), Styled(text(c.name, True), "wrap"), cells_local, cells_extract, published, cells_diff,
        Styled(text(c.tolerance, True), "center"), Styled(STATUS_TEXT[c.overall_status], status_style),
        Styled(text(c.explanation, True), "wrap"),
    ]


def summary_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled(f"Measures: local figures against the extract and the published file ({result.month})", "title"))
    g.add(Styled("Difference = published − local (extract − local when nothing is published). Percentages in %.",
                 "subtitle"))
    g.add(Styled("Consistent: the published figure equals the local one after national rounding to 5.",
                 "subtitle"))
    header = g.add(*(hdr(h) for h in (
        "ID", "Measure", "Local", "Extract", "Published", "Difference", "Tolerance", "Status", "Explanation",
    )))
    heights: dict[int, float] = {header: 30}
    for c in result.comparisons:
        row = g.add(*_comparison_row(c, is_pct(result, c.id), opts))
        # Wrapped text does not grow its row by itself in every spreadsheet (LibreOffice keeps
        # the default height): size each row for its explanation (col I) and name (col B).
        lines = max(math.ceil(len(c.explanation) / 88), math.ceil(len(c.name) / 44), 1)
        if lines > 1:
            heights[row] = 15.0 * lines
    last = max(g.next_row - 1, header + 1)
    return Sheet(
        "Summary", g.rows,
        widths={1: 19, 2: 40, 3: 11, 4: 11, 5: 11, 6: 11, 7: 16, 8: 17, 9: 70},
        heights=heights, freeze=f"C{header + 1}", autofilter=f"A{header}:I{last}",
        print_title_rows=f"{header}:{header}",
    )
