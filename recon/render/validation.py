"""Console view of ``recon validate``: files read, one row per rule and table, a one-line verdict."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.quality.outcome import DataQuality
from recon.validation import ValidationReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def render_validation(report: ValidationReport, console: Console) -> None:
    """Rich tables degrade to plain text (no colour) when stdout is not a terminal."""
    who = report.provider or "unknown provider"
    console.print(Text(f"Validation of {who}, {report.month.label}", style="bold"))
    folder = {str(f.path.parent) for f in report.files if f.member is None}
    where = f" from {folder.pop()}" if len(folder) == 1 else ""
    files = Table(title=f"Files read{where}", title_justify="left")
    files.add_column("Table", no_wrap=True)
    files.add_column("File")
    files.add_column("Rows", justify="right", no_wrap=True)
    for f in report.files:
        shown = f.name if f.member is not None else Path(f.name).name
        files.add_row(Text(f.table), Text(shown + (f" (sheet {f.sheet})" if f.sheet else "")), f"{f.rows:,}")
    console.print(files)

    summary = report.summary()
    if summary:
        table = Table(title="Findings by rule", title_justify="left")
        table.add_column("Rule", no_wrap=True)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Table", no_wrap=True)
        table.add_column("Count", justify="right", no_wrap=True)
        table.add_column("Title", ratio=3)
        table.add_column("First keys", ratio=2, overflow="fold")
        for s in summary:
            table.add_row(
                Text(s["rule_id"]),
                Text(s["severity"], style=_STYLE.get(s["severity"], "")),
                Text(_short(s["table"])),
                f"{s['count']:,}",
                Text(s["title"]),
                Text(", ".join(s["first_keys"][:2])),
            )
        console.print(table)
    # Findings about the extract as a whole (no record key, e.g. no activity in the month) are
    # spelt out, as measures and reconcile print them: a row of the table above is easy to miss.
    for finding in report.findings:
        if finding.key is None and finding.severity.value != "info":
            console.print(Text(f"{finding.severity.value}: [{finding.rule_id}] {finding.message}",
                               style=_STYLE[finding.severity.value]))
    if report.quality is not None:
        render_quality(report.quality, console)
    console.print(Text(verdict(report), style="bold red" if report.exit_code else "bold green"))


def render_quality(quality: DataQuality, console: Console) -> None:
    """Predicted SDCS outcome by code (rejections first), what SDCS would load, and the DQMI estimate."""
    p = quality.prediction
    codes = p.by_code()
    if codes:
        table = Table(title=f"Predicted SDCS outcome ({p.rules_name}"
                            f"{', cut to ' + str(p.month) + chr(39) + 's submission' if quality.cut else ''})",
                      title_justify="left")
        for name, kw in (("Code", {"no_wrap": True}), ("Level", {"no_wrap": True}), ("Table", {"no_wrap": True}),
                         ("Records", {"justify": "right", "no_wrap": True}), ("National message", {"ratio": 3}),
                         ("Basis", {"no_wrap": True})):
            table.add_column(name, **kw)  # type: ignore[arg-type]
        for c in codes:
            table.add_row(Text(c["rule_id"]), Text(c["error_level"], style="bold red" if c["rejects"] else "yellow"),
                          Text(c["table"]), f"{c['records']:,}", Text(re.sub(r"\[M\d{6}\]", "", c["message"])), Text(", ".join(c["basis"])))
        console.print(table)
    dropped = [t for t in p.tables if t.rejected]
    if dropped:
        console.print(Text("SDCS would drop: " + "; ".join(
            f"{t.table} {t.rejected:,} of {t.rows:,} ({t.rejected_by_cascade:,} with their parent)" for t in dropped)))
    skipped = Counter(n.reason for n in p.not_evaluated)
    console.print(Text(f"National rules not evaluated: {len({n.code for n in p.not_evaluated})} "
                       f"({', '.join(f'{r} {n}' for r, n in sorted(skipped.items()))}); --json lists them"))
    d = quality.vodim.dqmi
    if d.value is not None:
        style = "green" if d.meets_target else "yellow"
        console.print(Text(f"DQMI estimate (recon, not NHS England's DQMI): {d.value:.1f} "
                           f"(range {d.low:.1f}-{d.high:.1f}) over {d.items} items; goal {d.target:g} or more",
                           style=style))


def _short(table_id: str) -> str:
    """MHS606CodedScoreAssessmentRefer -> MHS606: the number is what people use."""
    match = re.match(r"MHS\d+", table_id)
    return match.group(0) if match else table_id


def verdict(report: ValidationReport) -> str:
    """One line: how many errors and warnings, and what that means for submission."""
    errors = sum(f.severity.value == "error" for f in report.findings)
    warnings = sum(f.severity.value == "warning" for f in report.findings)
    rows = sum(report.rows.values())
    rejected = sum(t.rejected for t in report.quality.prediction.tables) if report.quality is not None else 0
    if rejected and not errors:
        return (f"FAIL: SDCS is predicted to reject {rejected:,} record{'s' if rejected != 1 else ''}; "
                "fix them before submission ('recon rules MHSnnnnn' explains each national rule)")
    if errors:
        return (f"FAIL: {errors:,} error{'s' if errors != 1 else ''} and {warnings:,} "
                f"warning{'s' if warnings != 1 else ''} in {rows:,} records; fix the errors before "
                "submission ('recon rules ID' explains each rule; --json lists every record)")
    if warnings:
        return (f"PASS with {warnings:,} warning{'s' if warnings != 1 else ''} in {rows:,} records "
                "('recon rules ID' explains each rule)")
    return f"PASS: {rows:,} records, no errors or warnings"
