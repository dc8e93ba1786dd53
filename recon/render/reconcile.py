"""Console view of ``recon reconcile``: comparisons, record differences by class, a verdict line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.findings import Severity
from recon.reconcile.model import ComparisonStatus, ReconcileResult, RecordClass

STYLE = {
    ComparisonStatus.CONSISTENT: "green",
    ComparisonStatus.WITHIN_TOLERANCE: "yellow",
    ComparisonStatus.DISCREPANCY: "bold red",
    ComparisonStatus.MISSING_LOCAL: "magenta",
    ComparisonStatus.MISSING_PUBLISHED: "dim",
    ComparisonStatus.NOT_COMPARED: "bold magenta",
}
MAX_RECORDS = 30


def _num(v: float | int | None, text: str | None = None) -> str:
    if text is not None and text.strip() == "*":
        return "*"
    if v is None:
        return "-"
    f = float(v)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.1f}"


def render_reconcile(result: ReconcileResult, console: Console) -> None:
    """One screen: what was compared, what differs and what to do; details are in the pack / --json."""
    console.print(Text(f"Reconciliation for {result.provider}, {result.month.label}", style="bold"))
    if result.published_status:
        console.print(f"Published figures: {result.published_status}", markup=False)
    has_pub = any(c.published_status is not None for c in result.comparisons)
    has_ext = result.extract is not None
    if result.comparisons:
        wide = console.width >= 140
        table = Table(title="Measures", title_justify="left")
        table.add_column("ID", no_wrap=True, min_width=7)
        named = console.width >= 100
        if named:
            table.add_column("Measure", max_width=40 if wide else 24, overflow="ellipsis", no_wrap=True)
        table.add_column("Local", justify="right", no_wrap=True, min_width=6)
        if has_ext:
            table.add_column("Extract", justify="right", no_wrap=True, min_width=7)
        if has_pub:
            table.add_column("Published", justify="right", no_wrap=True)
        table.add_column("Status", no_wrap=True, min_width=16)
        if wide:
            table.add_column("Why", ratio=1)
        for c in result.comparisons:
            cells = [c.id, c.name, _num(c.local)] if named else [c.id, _num(c.local)]
            if has_ext:
                cells.append(_num(c.extract))
            if has_pub:
                cells.append(_num(c.published, c.published_text))
            cells.append(f"[{STYLE[c.overall_status]}]{c.overall_status.value}[/]")
            if wide:
                cells.append(Text(c.explanation) if c.overall_status is not ComparisonStatus.CONSISTENT else "")  # type: ignore[arg-type]
            table.add_row(*cells)
        console.print(table)
        if not wide:
            for c in result.comparisons:
                if c.overall_status not in (ComparisonStatus.CONSISTENT, ComparisonStatus.MISSING_PUBLISHED):
                    console.print(f"{c.id}: {c.explanation}", markup=False)
    if result.records:
        counts = {cls: 0 for cls in RecordClass}
        for r in result.records:
            counts[r.record_class] += 1
        summary = Table(title="Record differences (local EPR vs pre-deadline extract)", title_justify="left")
        summary.add_column("Class")
        summary.add_column("Records", justify="right")
        for cls, n in counts.items():
            if n:
                summary.add_row(cls.value, f"{n:,}")
        console.print(summary)
        # Errors first: barren referrals (people still waiting) are a warning and can be many.
        ordered = sorted(result.records, key=lambda r: r.record_class is RecordClass.BARREN)
        for r in ordered[:MAX_RECORDS]:
            team = f" (team {r.team})" if r.team else ""
            moves = f" [moves {', '.join(r.measures)}]" if r.measures else ""
            console.print(f"- {r.record_class.value} {r.table} {r.key}{team}: {r.message}{moves}", markup=False)
        if len(result.records) > MAX_RECORDS:
            console.print(f"... {len(result.records) - MAX_RECORDS:,} more record differences: see --json or the pack",
                          markup=False)
    errors = sum(f.severity is Severity.ERROR for f in result.findings)
    warnings = sum(f.severity is Severity.WARNING for f in result.findings)
    console.print(f"Validation: {errors:,} error{'s' if errors != 1 else ''}, {warnings:,} warning"
                  f"{'s' if warnings != 1 else ''}; {len(result.exceptions):,} records to fix", markup=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    n_disc = len(result.discrepancies)
    skipped = len(result.not_compared)
    if skipped:
        console.print(Text(f"Not compared: {skipped} measure{'s' if skipped != 1 else ''} could not be compared with "
                           f"the published file (no row for {result.provider}; see the notes)", style="bold magenta"))
    if result.exit_code == 0 and skipped:
        console.print(Text("Verdict: not compared with the published file; no discrepancy beyond tolerance in what "
                           "was compared", style="bold magenta"))
    elif result.exit_code == 0:
        console.print(Text("Verdict: consistent (no discrepancy beyond tolerance, no error-level finding)",
                           style="bold green"))
    else:
        why = []
        if n_disc:
            shown = ", ".join(c.id for c in result.discrepancies[:8]) + (", ..." if n_disc > 8 else "")
            why.append(f"{n_disc} measure{'s' if n_disc != 1 else ''} beyond tolerance ({shown})")
        if errors:
            why.append(f"{errors:,} error-level finding{'s' if errors != 1 else ''}")
        console.print(Text(f"Verdict: needs attention: {'; '.join(why)}", style="bold red"))
