"""Console view of ``recon reconcile``: comparisons, record differences by class, a verdict line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.reconcile.model import ComparisonStatus, PublishedState, ReconcileResult, RecordClass, VerdictText

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
    for warning in result.warnings:
        console.print(Text(f"warning: {warning}", style="bold yellow"))
    check = result.published_check
    if check.state is not PublishedState.NOT_GIVEN:
        style = "bold yellow" if check.state is PublishedState.NOT_COMPARED else ""
        console.print(Text(f"Published figures: {check.text}", style=style))
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
    for line in counts_lines(result):
        console.print(line, markup=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    tally = result.counts
    n_disc = tally.discrepancies
    verdict = result.verdict  # the same headline as the pack's Cover
    why = []
    if tally.blocking_errors:
        why.append(_plural(tally.blocking_errors, "error-level problem") + " to fix")
    if n_disc:
        shown = ", ".join(c.id for c in result.discrepancies[:8]) + (", ..." if n_disc > 8 else "")
        why.append(f"{n_disc} measure{'s' if n_disc != 1 else ''} beyond tolerance ({shown})")
    if check.state is PublishedState.NOT_COMPARED:
        why.append("the published figures were NOT compared (see above)")
    elif not result.comparisons:
        why.append("nothing compared (no extract, no published figures)")
    if verdict is VerdictText.FIT and not why:
        why.append("no discrepancy beyond tolerance, no error-level problem")
    style = {VerdictText.FIX: "bold red", VerdictText.FIT: "bold green"}.get(verdict, "bold yellow")
    if verdict is VerdictText.FIT and why[0].startswith("nothing compared"):
        style = "bold yellow"
    console.print(Text(f"Verdict: {verdict.value}: {'; '.join(why)}", style=style))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def counts_lines(result: ReconcileResult) -> list[str]:
    """The counts, worded as on the pack's Cover (one :class:`Counts`, read by both)."""
    c = result.counts
    lines = [f"Records to fix: {c.records_to_fix:,} ({_plural(c.errors, 'error')}, {_plural(c.warnings, 'warning')})"
             f"; {c.accepted:,} accepted"]
    if c.extract_errors:
        lines.append(f"Extract-level errors (no record key): {c.extract_errors:,}")
    if c.outcome_gaps:
        lines.append(f"Outcome pairs missing (outcome completeness, not errors): {c.outcome_gaps:,}")
    return lines
