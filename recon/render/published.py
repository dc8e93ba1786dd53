"""Console view of ``recon published``: the chosen rows as one table, notes underneath."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.published import PublishedSelection, measure_summary

MAX_ROWS = 200  # a whole national file is ~20,000 rows: point to --provider / --month / --json


def _value(text: str | None) -> str:
    return "" if text is None else text


def render_published(selection: PublishedSelection, console: Console) -> None:
    """Period, status, breakdown, level, measure and value of every selected row (first 200)."""
    rows = selection.rows
    what = []
    if selection.provider:
        what.append(selection.provider)
    if selection.month:
        what.append(selection.month.label)
    if selection.status:
        what.append(selection.status)
    title = "Published MHSMS rows" + (f" for {', '.join(what)}" if what else "")
    console.print(Text(title, style="bold"))
    console.print(
        f"{rows.height:,} row{'s' if rows.height != 1 else ''} from {len(selection.files)} file"
        f"{'s' if len(selection.files) != 1 else ''}; months in the files: {', '.join(selection.periods) or 'none'}",
        markup=False,
    )
    if selection.provider is None and rows.height > MAX_ROWS:
        _render_summary(selection, console)
        return
    wide = console.width >= 120
    show_level = selection.provider is None
    table = Table(show_lines=False)
    table.add_column("Period", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    if show_level:
        table.add_column("Breakdown", max_width=24 if wide else 12, overflow="ellipsis", no_wrap=True)
        table.add_column("Level", no_wrap=True)
    table.add_column("Measure", no_wrap=True)
    if wide:
        table.add_column("Name", max_width=60, overflow="ellipsis", no_wrap=True)
    table.add_column("Value", justify="right", no_wrap=True)
    for r in rows.head(MAX_ROWS).iter_rows(named=True):
        cells = [f"{r['period_start']:%d/%m/%Y}-{r['period_end']:%d/%m/%Y}", r["status"] or ""]
        if show_level:
            cells += [r["breakdown"] or "", r["level"] or ""]
        cells.append(r["measure_id"] or "")
        if wide:
            cells.append(r["measure_name"] or "")
        cells.append(_value(r["value_text"]))
        table.add_row(*cells)
    console.print(table)
    if rows.height > MAX_ROWS:
        console.print(
            f"... {rows.height - MAX_ROWS:,} more rows: narrow with --provider and --month, or use --json",
            markup=False,
        )
    for note in selection.notes:
        console.print(f"note: {note}", markup=False)
    if rows.height == 0:
        console.print(Text("No published rows match.", style="bold yellow"))


def _render_summary(selection: PublishedSelection, console: Console) -> None:
    """A whole file at a glance: one line per measure (fits 80 columns), then how to see values."""
    table = Table(title="By measure", title_justify="left")
    table.add_column("Measure", no_wrap=True, min_width=9)
    # What is left of the width after the fixed columns (ids, counts and borders take ~46).
    table.add_column("Name", overflow="ellipsis", no_wrap=True, max_width=max(console.width - 46, 8))
    table.add_column("Rows", justify="right", no_wrap=True, min_width=6)
    table.add_column("Providers", justify="right", no_wrap=True, min_width=9)
    table.add_column("*", justify="right", no_wrap=True, min_width=5)
    for r in measure_summary(selection.rows).iter_rows(named=True):
        table.add_row(r["measure_id"] or "", r["name"] or "", f"{r['rows']:,}", f"{r['providers']:,}",
                      f"{r['suppressed']:,}")
    console.print(table)
    console.print("*: values suppressed. To see the figures: --provider ODS (and --month YYYY-MM), or --json.",
                  markup=False)
    for note in selection.notes:
        console.print(f"note: {note}", markup=False)
