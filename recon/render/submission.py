"""Console view of ``recon submission``: period, totals, the codes table and tables whose counts
differ. Never a record key: the reports hold patient identifiers."""

from __future__ import annotations

import re

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.quality.submission import SubmissionResult


def _n(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def render_submission(result: SubmissionResult, console: Console) -> None:
    prev = f", compared with {result.previous_period}" if result.previous_period else ""
    console.print(Text(f"SDCS Summary Reports for {result.period.label} ({result.report.name}){prev}", style="bold"))
    console.print(Text(f"Rejections: {result.rejection_rows:,} rows; warnings: {result.warning_rows:,} rows"))
    if result.codes:
        table = Table(title="Codes (rows; distinct records; of them found locally; predicted by recon)",
                      title_justify="left")
        for name in ("Code", "Level", "Rows", "Records", "Local", "Pred.", "Change", "Description"):
            right = name in ("Rows", "Records", "Local", "Change")
            table.add_column(name, no_wrap=name != "Description", justify="right" if right else "left",
                             overflow="fold")
        for c in result.codes:
            level = (c.level or "-").replace("_rejected", " rej.") + (" S1" if c.severity_1 else "")
            table.add_row(Text(c.code), Text(level, style="bold red" if c.rejects else "yellow"),
                          _n(c.rows), _n(c.distinct_records), _n(c.matched_local),
                          "-" if c.predicted is None else ("yes" if c.predicted else "no"),
                          "-" if c.change is None else f"{c.change:+,}", Text(re.sub(r"\[M\d{6}\]", "", c.description)))
        console.print(table)
    differ = [t for t in result.tables if t.rows_local is not None and t.rows_local_loaded != t.rows_received]
    if differ:
        table = Table(title="Tables whose counts differ", title_justify="left")
        for name in ("Table", "Received by SDCS", "Local rows", "Predicted loaded", "Change"):
            table.add_column(name, justify="left" if name == "Table" else "right", no_wrap=True)
        for t in differ:
            table.add_row(t.table, _n(t.rows_received), _n(t.rows_local), _n(t.rows_local_loaded),
                          "-" if t.change is None else f"{t.change:+,}")
        console.print(table)
    for w in result.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))
    if result.ignored:
        console.print(Text(f"Other zips for these months, not used: {', '.join(result.ignored)}", style="dim"))
