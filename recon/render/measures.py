"""Console view of ``recon measures``: each family's section of the register, provider level only."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from recon.measures.catalog import catalog
from recon.measures.model import MeasuresResult
from recon.register import FAMILIES


def render_measures(result: MeasuresResult, console: Console) -> None:
    """Provider-level figures grouped by family; breakdowns are only in --json."""
    cat = catalog()
    console.print(Text(f"Measures for {result.provider}, {result.month.label}", style="bold"))
    for family in FAMILIES:
        family.console(result, family.title, cat.family(family.name), console)
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
