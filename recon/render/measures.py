"""Console view of ``recon measures``: one table per measure family, provider level only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.measures.engine import FAMILIES, catalog
from recon.measures.model import MeasuresResult, MeasureValue

TITLES = {
    "access": "Access",
    "activity": "Activity (this month)",
    "outcomes": "Outcomes (referrals closed this month)",
    "completeness": "Outcome completeness (recon's own)",
}


def _value(v: MeasureValue) -> str:
    if v.value is None:
        return "-"
    if v.is_percentage:
        return f"{v.value:.1f}%"
    return f"{int(v.value):,}"


def render_measures(result: MeasuresResult, console: Console) -> None:
    """Provider-level figures grouped by family; breakdowns are only in --json."""
    cat = catalog()
    provider_level = {v.id: v for v in result.provider_level}
    console.print(Text(f"Measures for {result.provider}, {result.month.label}", style="bold"))
    for family in FAMILIES:
        rows = [(m, provider_level[m.id]) for m in cat.family(family) if m.id in provider_level]
        if not rows:
            continue
        table = Table(title=TITLES.get(family, family), title_justify="left", show_lines=False)
        table.add_column("ID", no_wrap=True)
        table.add_column("Measure")
        table.add_column("Value", justify="right", no_wrap=True)
        table.add_column("Numerator / denominator", justify="right", no_wrap=True)
        for m, v in rows:
            fraction = f"{v.numerator:,} / {v.denominator:,}" if v.is_percentage else ""
            name = Text(m.name, style="bold" if m.main else "")
            table.add_row(Text(m.id), name, _value(v), fraction)
        console.print(table)
    breakdowns = sum(1 for v in result.values if v.breakdown is not None)
    console.print(
        Text(
            f"{breakdowns} team and age-band breakdown values are in --json output (entries with "
            "\"breakdown\" and \"level\"). Headline measures are in bold.",
            style="dim",
        )
    )
    for note in result.notes:
        console.print(Text(f"warning: {note}", style="bold yellow"))
