"""The Data quality sheet: VODIM counts per data item and validation findings by rule."""

from __future__ import annotations

import math
from collections import Counter

import polars as pl

from recon.findings import Severity
from recon.pack.layout import Grid, Rule, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import SEVERITY_RANK, hdr
from recon.reconcile.model import ReconcileResult


def data_quality_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled("Data quality of the local extract (VODIM: valid, other, default, invalid, missing)", "title"))
    g.add(Styled(
        "Completeness % = (records − missing) / records. Validity % = valid / records. "
        "Score as computed by recon's data quality rules.", "subtitle",
    ))
    header = g.add(*(hdr(h) for h in (
        "Table", "Data item", "Valid", "Other", "Default", "Invalid", "Missing", "Records",
        "Completeness %", "Validity %", "Score",
    )))
    dq = result.data_quality
    first = header + 1
    if dq is None or dq.is_empty():
        g.add(Styled("No data quality counts in this run.", "note"))
    else:
        cols = ("valid", "other", "default", "invalid", "missing")
        frame = dq.select(
            pl.col("table").cast(pl.String), pl.col("column").cast(pl.String),
            *(pl.col(c).cast(pl.Int64).fill_null(0) for c in cols), pl.col("score").cast(pl.Float64),
        )
        for table, column, valid, other, default, invalid, missing, score in frame.iter_rows():
            total = valid + other + default + invalid + missing
            completeness = round(100 * (total - missing) / total, 1) if total else None
            validity = round(100 * valid / total, 1) if total else None
            g.add(
                table, column, *(Styled(x, "count") for x in (valid, other, default, invalid, missing, total)),
                None if completeness is None else Styled(completeness, "pct"),
                None if validity is None else Styled(validity, "pct"),
                None if score is None or not math.isfinite(score) else Styled(score, "dec"),
            )
    last = max(g.next_row - 1, first)
    rules = [
        Rule(f"I{first}:I{last}", "scale"), Rule(f"J{first}:J{last}", "scale"),
    ]
    top = dq["score"].cast(pl.Float64).max() if dq is not None and not dq.is_empty() else None
    if isinstance(top, float) and top > 1:
        rules.append(Rule(f"K{first}:K{last}", "scale"))
    g.blank()
    g.add(Styled("Validation findings by rule", "section"))
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
        widths={1: 32, 2: 30, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10, 9: 14, 10: 12, 11: 10},
        heights={header: 30, fh: 18}, freeze=f"C{first}", autofilter=f"A{header}:K{last}", rules=rules,
        print_title_rows=f"{header}:{header}",
    )
