"""Breakdown sheets (the Access and Activity families): each measure by team and by age band.

The columns are the family's catalogue entries (``pack = true``) that this run computed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from recon.measures.catalog import Catalog, MeasureDef
from recon.pack.layout import NHS_BLUE, ChartSpec, Grid, SeriesSpec, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import (
    header_height,
    is_pct,
    level_key,
    measure_cell,
    measure_names,
    text,
)
from recon.reconcile.model import ReconcileResult

SHORT_LABEL = 28  # characters of a measure name in a column header
NAME_WRAP = 110  # characters per line of the full names under the tables
CHART_ROWS = 15  # rows under a 7 cm chart (15 x 15 pt = 7.9 cm)

def ids_present(result: ReconcileResult, measures: Sequence[MeasureDef]) -> list[str]:
    """The ids of ``measures`` shown on a sheet (``pack``) that this run computed, in catalogue order."""
    present = {v.id for v in result.local.values}
    return [m.id for m in measures if m.pack and m.id in present]


def _levels(result: ReconcileResult, breakdown: str, ids: Sequence[str]) -> list[str]:
    wanted = set(ids)
    levels = {
        v.level for v in result.local.values
        if v.breakdown == breakdown and v.level is not None and v.id in wanted
    }
    return sorted(levels, key=level_key)


def measure_matrix(
    g: Grid, result: ReconcileResult, opts: PackOptions, breakdown: str, ids: Sequence[str],
    labels: dict[str, str], level_title: str,
) -> tuple[int, int] | None:
    """Rows = provider then each level, columns = measures. Returns (header row, last row)."""
    levels = _levels(result, breakdown, ids)
    if not ids or not levels:
        return None
    index = {(v.id, v.breakdown, v.level): v for v in result.local.values}
    header = g.add(Styled(level_title, "header"), *(Styled(labels.get(i, i), "header_num") for i in ids))
    g.add(
        Styled("All (provider)", "label"),
        *(measure_cell(index.get((i, None, None)), opts) for i in ids),
    )
    for level in levels:
        g.add(text(level, opts.identifiable), *(measure_cell(index.get((i, breakdown, level)), opts) for i in ids))
    return header, g.next_row - 1


def column_labels(result: ReconcileResult, ids: Sequence[str], cat: Catalog) -> dict[str, str]:
    """Header labels: the catalogue's short ``label`` where it has one, else id and name."""
    names = measure_names(result)
    out = {}
    for i in ids:
        short = m.label if (m := cat.find(i)) is not None else None
        if short:
            out[i] = short + (" (%)" if is_pct(result, i) else "")
            continue
        unit = " (%)" if is_pct(result, i) and "%" not in names.get(i, "") else ""
        label = names.get(i, "")
        # A short name in the header; the full names are listed under the tables.
        cut = label if len(label) <= SHORT_LABEL else textwrap.shorten(label, SHORT_LABEL, placeholder="…")
        out[i] = f"{i}\n{cut}{unit}" if label and label != i else f"{i}{unit}"
    return out


def _name_rows(g: Grid, result: ReconcileResult, ids: Sequence[str]) -> dict[int, int]:
    """The full national name of each measure in the tables above, wrapped to the printed width;
    returns the rows to keep on one page (the heading with every name)."""
    names = measure_names(result)
    listed = [(i, names[i]) for i in ids if names.get(i) and names[i] != i]
    if not listed:
        return {}
    start = g.add(Styled("Measures", "section"))
    for i, name in listed:
        for n, line in enumerate(textwrap.wrap(f"{i}: {name}", NAME_WRAP)):
            g.add(Styled(line if n == 0 else f"    {line}", "note"))
    return {start: g.next_row - start}


def breakdown_sheet(
    title: str, heading: str, result: ReconcileResult, opts: PackOptions, ids: Sequence[str], cat: Catalog,
    chart_unit: str | None = None,
) -> Sheet:
    """Each measure of ``ids`` by team, then by age band; with ``chart_unit`` a bar chart by team."""
    g = Grid()
    g.add(Styled(f"{heading}: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("By team and by age band. Percentages in %." + (
        " Small counts suppressed (0-4 as *, others to the nearest 5)." if opts.suppress_small_counts else ""
    ), "subtitle"))
    g.blank()
    labels = column_labels(result, ids, cat)
    heights: dict[int, float] = {}
    charts: list[ChartSpec] = []
    any_section = False
    keep: dict[int, int] = {}
    team_span: tuple[int, int] | None = None
    for breakdown, level_title in (("Team", "Team"), ("Age band", "Age band")):
        section = g.add(Styled(f"By {breakdown.lower()}", "section"))
        span = measure_matrix(g, result, opts, breakdown, ids, labels, level_title)
        if span is None:
            g.add(Styled(f"No {breakdown.lower()} breakdown in this run.", "note"))
        else:
            any_section = True
            heights[span[0]] = header_height([labels[i] for i in ids])
            keep[section] = min(span[1] - section + 1, 8)  # a heading never alone at a page foot
            if breakdown == "Team":
                team_span = span
        g.blank()
    if not any_section and not ids:
        g.add(Styled("No measures of this group in this run.", "note"))
    keep.update(_name_rows(g, result, ids))
    if chart_unit is not None and team_span is not None:
        # One chart per measure, teams only: MHS95 (12 months) and MHS69, or a team and the whole
        # provider, are of very different sizes and would flatten each other on one axis.
        header, last = team_span
        for c, i in enumerate(ids):
            g.blank()
            row = g.next_row
            charts.append(ChartSpec(
                "bar", f"{i} by team", f"A{row}", 1, header + 2, last,
                (SeriesSpec(c + 2, header, header + 2, last, color=NHS_BLUE),),
                y_title=chart_unit, width_cm=16, height_cm=7, legend=False,
            ))
            g.pad_to(row + CHART_ROWS)
            keep[row] = CHART_ROWS
    widths = {1: 24} | {c + 2: 15 for c in range(len(ids))}
    return Sheet(title, g.rows, widths=widths, heights=heights, charts=charts, freeze="B4", keep_together=keep)


def access_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> list[Sheet]:
    ids = ids_present(result, cat.family("access"))
    return [breakdown_sheet("Access", "Access", result, opts, ids, cat, chart_unit="People")]


def activity_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> list[Sheet]:
    ids = ids_present(result, cat.family("activity"))
    return [breakdown_sheet("Activity", "Activity in the month", result, opts, ids, cat)]
