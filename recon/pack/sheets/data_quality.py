"""The Data quality sheet: VODIM counts per data item and validation findings by rule."""

from __future__ import annotations

import math
from collections import Counter

import polars as pl

from recon.findings import Severity
from recon.pack.layout import Grid, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import SEVERITY_RANK, hdr
from recon.reconcile.model import ReconcileResult
from recon.tables import TABLES


def _required(table: str, column: str) -> bool:
    t = TABLES.get(table)
    return bool(t is not None and any(c.name == column and c.required for c in t.columns))


def problem_text(table: str, column: str, invalid: int, missing: int, flag: object = None) -> str:
    """Why an item is a problem, or "" when it is not. A ``problem`` flag the quality rules give
    wins; otherwise invalid values are a problem, and blanks only where the item is required
    (an optional item left blank, e.g. a discharge date of an open referral, is not)."""
    if flag is not None:
        return (flag if isinstance(flag, str) else "yes") if flag else ""
    reasons = []
    if invalid:
        reasons.append(f"{invalid:,} invalid")
    if missing and _required(table, column):
        reasons.append(f"{missing:,} blank (required)")
    return "; ".join(reasons)


def data_quality_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled("Data quality of the local extract (VODIM: valid, other, default, invalid, missing)", "title"))
    g.add(Styled(
        "Completeness % = (records − missing) / records. Validity % = valid / records. "
        "Score as computed by recon's data quality rules.", "subtitle",
    ))
    g.add(Styled("Red marks a problem only: invalid values, or blanks in a required item. An optional item "
                 "left blank is not a problem.", "subtitle"))
    header = g.add(*(hdr(h) for h in (
        "Table", "Data item", "Valid", "Other", "Default", "Invalid", "Missing", "Records",
        "Completeness %", "Validity %", "Score", "Problem",
    )))
    dq = result.data_quality
    first = header + 1
    heights: dict[int, float] = {header: 30}
    if dq is None or dq.is_empty():
        g.add(Styled("No data quality counts in this run.", "note"))
    else:
        cols = ("valid", "other", "default", "invalid", "missing")
        flag = pl.col("problem") if "problem" in dq.columns else pl.lit(None)
        frame = dq.select(
            pl.col("table").cast(pl.String), pl.col("column").cast(pl.String),
            *(pl.col(c).cast(pl.Int64).fill_null(0) for c in cols), pl.col("score").cast(pl.Float64),
            flag.alias("problem"),
        )
        for table, column, valid, other, default, invalid, missing, score, flagged in frame.iter_rows():
            total = valid + other + default + invalid + missing
            completeness = round(100 * (total - missing) / total, 1) if total else None
            validity = round(100 * valid / total, 1) if total else None
            problem = problem_text(table, column, invalid, missing, flagged)
            row = g.add(
                table, column, *(Styled(x, "count") for x in (valid, other, default, invalid, missing, total)),
                None if completeness is None else Styled(completeness, "pct"),
                None if validity is None else Styled(validity, "pct"),
                None if score is None or not math.isfinite(score) else Styled(score, "dec"),
                Styled(problem, "bad_wrap") if problem else None,
            )
            if len(problem) > 20:
                heights[row] = 30
    last = max(g.next_row - 1, first)
    g.blank()
    section = g.add(Styled("Validation findings by rule", "section"))
    fh = g.add(*(hdr(h) for h in ("Table", "Data item", "Records", "Severity", "Rule")))
    counts = Counter((f.rule_id, f.severity, f.table, f.column or "") for f in result.findings)
    if not counts:
        g.add(Styled("No validation findings.", "note"))
    for (rule, sev, table, column), n in sorted(
        counts.items(), key=lambda kv: (SEVERITY_RANK.get(kv[0][1], 9), kv[0][0], kv[0][2], kv[0][3]),
    ):
        g.add(table, column, Styled(n, "count"),
              Styled(sev.value, "bad" if sev is Severity.ERROR else "warn" if sev is Severity.WARNING else "text"),
              rule)
    return Sheet(
        "Data quality", g.rows,
        widths={1: 32, 2: 28, 3: 9, 4: 9, 5: 9, 6: 9, 7: 9, 8: 9, 9: 13, 10: 10, 11: 9, 12: 22},
        heights={**heights, fh: 18}, freeze=f"C{first}", autofilter=f"A{header}:L{last}",
        print_title_rows=f"{header}:{header}", keep_together={section: 3},
    )
