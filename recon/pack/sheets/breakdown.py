"""Breakdown sheets (the Access and Activity families): each measure by team and by age band.

The columns are the family's catalogue entries (``pack = true``) that this run computed.
"""

from __future__ import annotations

from collections.abc import Sequence

from recon.measures.catalog import Catalog, MeasureDef
from recon.pack.layout import ChartSpec, Grid, SeriesSpec, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import (
    get_col,
    header_height,
    is_pct,
    level_key,
    measure_cell,
    measure_names,
    text,
)
from recon.reconcile.model import ReconcileResult


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
        out[i] = f"{i}\n{label}{unit}" if label and label != i else f"{i}{unit}"
    return out


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
    for breakdown, level_title in (("Team", "Team"), ("Age band", "Age band")):
        g.add(Styled(f"By {breakdown.lower()}", "section"))
        span = measure_matrix(g, result, opts, breakdown, ids, labels, level_title)
        if span is None:
            g.add(Styled(f"No {breakdown.lower()} breakdown in this run.", "note"))
        else:
            any_section = True
            heights[span[0]] = header_height([labels[i] for i in ids])
            if breakdown == "Team" and chart_unit is not None:
                charts.append(ChartSpec(
                    "bar", f"{heading} by team", f"{get_col(len(ids) + 3)}{span[0]}", 1, span[0] + 1, span[1],
                    tuple(SeriesSpec(c + 2, span[0], span[0] + 1, span[1]) for c in range(len(ids))),
                    y_title=chart_unit, width_cm=16, height_cm=7.5,
                ))
        g.blank()
    if not any_section and not ids:
        g.add(Styled("No measures of this group in this run.", "note"))
    widths = {1: 24} | {c + 2: 15 for c in range(len(ids))}
    return Sheet(title, g.rows, widths=widths, heights=heights, charts=charts, freeze="B4")


def access_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> list[Sheet]:
    ids = ids_present(result, cat.family("access"))
    return [breakdown_sheet("Access", "Access", result, opts, ids, cat, chart_unit="People")]


def activity_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> list[Sheet]:
    ids = ids_present(result, cat.family("activity"))
    return [breakdown_sheet("Activity", "Activity in the month", result, opts, ids, cat)]
