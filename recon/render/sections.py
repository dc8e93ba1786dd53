"""Console sections of ``recon measures``: one table per family, provider level only.

A family's register entry names its section; most use :func:`family_table`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.measures.catalog import Kind, MeasureDef
from recon.measures.model import MeasuresResult, MeasureValue


def format_value(v: MeasureValue, kind: Kind) -> str:
    """A count with thousands separators, a percentage to one decimal, a percentile to one decimal."""
    if v.value is None:
        return "not computed" if v.reason else "-"
    if v.is_percentage:
        return f"{v.value:.1f}%"
    if kind is Kind.PERCENTILE:
        return f"{float(v.value):,.1f}"
    return f"{int(v.value):,}"


def family_table(result: MeasuresResult, title: str, measures: Sequence[MeasureDef], console: Console) -> None:
    """The family's provider-level values: id, name (headline measures bold), value, fraction."""
    provider_level = {v.id: v for v in result.provider_level}
    rows = [(m, provider_level[m.id]) for m in measures if m.id in provider_level]
    if not rows:
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Measure")
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Numerator / denominator", justify="right", no_wrap=True)
    reasons: list[str] = []
    for m, v in rows:
        fraction = f"{v.numerator:,} / {v.denominator:,}" if v.is_percentage else ""
        name = Text(m.name, style="bold" if m.main else "")
        table.add_row(Text(m.id), name, format_value(v, m.kind), fraction)
        if v.reason:
            reasons.append(f"{m.id}: {v.reason}")
    console.print(table)
    for line in reasons:
        console.print(Text(line, style="dim"))
