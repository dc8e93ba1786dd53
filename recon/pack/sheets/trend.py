"""The Trend sheet: the last 12 months of each headline measure with SPC limits."""

from __future__ import annotations

import textwrap

import polars as pl

from recon.measures.catalog import Catalog
from recon.pack.layout import (
    MDC_GREY,
    MDC_LIMIT,
    MDC_MEAN,
    MDC_PURPLE,
    NHS_BLUE,
    ChartSpec,
    Grid,
    SeriesSpec,
    Sheet,
    Styled,
)
from recon.pack.model import PackOptions
from recon.pack.sheets.common import hdr, header_height, is_pct, measure_names
from recon.reconcile.model import ReconcileResult
from recon.spc import RULE_LABEL, analyse

TREND_MONTHS = 12
TREND_SOURCE_PRIORITY = ("this run", "ledger", "published")


def _trend_series(trend: pl.DataFrame) -> dict[str, list[tuple[str, float, str]]]:
    if trend.is_empty():
        return {}
    rank = {s: i for i, s in enumerate(TREND_SOURCE_PRIORITY)}
    df = (
        trend.select(
            pl.col("month").cast(pl.String), pl.col("measure_id").cast(pl.String),
            pl.col("value").cast(pl.Float64), pl.col("source").cast(pl.String),
        )
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .with_columns(pl.col("source").replace_strict(rank, default=len(rank), return_dtype=pl.Int64).alias("_rank"))
        .sort("measure_id", "month", "_rank")
        .unique(subset=["measure_id", "month"], keep="first", maintain_order=True)
    )
    out: dict[str, list[tuple[str, float, str]]] = {}
    for month, m, value, source, _ in df.iter_rows():
        out.setdefault(m, []).append((month, value, source))
    return {m: rows[-TREND_MONTHS:] for m, rows in out.items()}


PUBLISHED_SOURCE = "published"
TREND_HEADER = ("Month", "Local", "Published (rounded)", "Mean", "Lower limit", "Upper limit", "Special cause",
                "Why", "Source")
TREND_WIDTHS = {1: 9, 2: 10, 3: 11, 4: 10, 5: 10, 6: 10, 7: 10, 8: 20, 9: 10}
NAME_WRAP = 90  # characters of the full measure name per row (the table's printed width)
CHART_ROWS = 16  # rows under the 8 cm chart below the table (16 x 15 pt = 8.5 cm)
SHORT_NAME = 34  # characters of the measure name in a chart title


def short_title(measure_id: str, name: str) -> str:
    """A chart title that fits above a chart: the id and the start of the name, cut at a word."""
    if not name or name == measure_id:
        return measure_id
    short = name if len(name) <= SHORT_NAME else textwrap.shorten(name, SHORT_NAME, placeholder="…")
    return f"{measure_id} {short}"


def trend_series(result: ReconcileResult) -> dict[str, list[tuple[str, float, str]]]:
    """The last 12 months of every measure in the run's trend frame (best source per month)."""
    return _trend_series(result.trend) if result.trend is not None else {}


def trend_blocks(
    g: Grid, result: ReconcileResult, series: dict[str, list[tuple[str, float, str]]], order: dict[str, int],
    *, keep: dict[int, int] | None = None, heights: dict[int, float] | None = None,
) -> list[ChartSpec]:
    """One block per measure of ``series`` (by ``order``, then the rest by id): heading, months with
    mean, limits and special causes, and a line chart below, kept on one printed page (the Trend and
    Waits summary sheets)."""
    keep = {} if keep is None else keep
    heights = {} if heights is None else heights
    names = measure_names(result)
    charts: list[ChartSpec] = []
    after = max(order.values(), default=0) + 1
    for m in sorted(series, key=lambda k: (order.get(k, after), k)):
        g.blank()
        start = g.next_row
        points = series[m]
        pct = is_pct(result, m)
        spc = analyse([p[1] for p in points], floor=0.0, ceiling=100.0 if pct else None)
        name = names.get(m, "")
        g.add(Styled(f"{m}" + (" (provisional limits)" if spc.provisional else ""), "section"))
        for line in textwrap.wrap(name, NAME_WRAP) if name and name != m else ():
            g.add(Styled(line, "note"))
        published_n = sum(1 for p in points if p[2] == PUBLISHED_SOURCE)
        mixed = f" {published_n} of {len(points)} months are published (rounded) figures." if published_n else ""
        g.add(Styled(spc.describe() + mixed, "note"))
        header = g.add(*(hdr(h) for h in TREND_HEADER))
        heights[header] = header_height(TREND_HEADER, 10)
        vfmt, sfmt = ("pct", "pct") if pct else ("count", "count1")
        for (month, value, source), flags in zip(points, spc.flags, strict=True):
            published = source == PUBLISHED_SOURCE
            g.add(
                month, None if published else Styled(value, vfmt), Styled(value, vfmt) if published else None,
                Styled(spc.mean, sfmt), Styled(spc.lower, sfmt), Styled(spc.upper, sfmt),
                Styled(value, vfmt) if flags else None, ", ".join(RULE_LABEL[f] for f in flags), source,
            )
        last = g.next_row - 1
        g.blank()
        chart_row = g.next_row
        rows = (header, header + 1, last)
        charts.append(ChartSpec(
            "line", short_title(m, name), f"A{chart_row}", 1, header + 1, last,
            (
                SeriesSpec(2, *rows, color=MDC_GREY, marker="circle"),
                SeriesSpec(3, *rows, color=NHS_BLUE, marker="triangle", line=False),
                SeriesSpec(4, *rows, color=MDC_MEAN),
                SeriesSpec(5, *rows, color=MDC_LIMIT, dash="dash"),
                SeriesSpec(6, *rows, color=MDC_LIMIT, dash="dash"),
                SeriesSpec(7, *rows, color=MDC_PURPLE, marker="circle", line=False),
            ),
            y_title="%" if pct else "Count", width_cm=18, height_cm=8, y_min=0.0,
            y_max=100.0 if pct and spc.upper >= 90 else None, y_format="0.0" if pct else "#,##0",
        ))
        g.pad_to(chart_row + CHART_ROWS)
        keep[start] = g.next_row - start  # heading, table and chart print on one page
    return charts


def trend_sheet(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> Sheet:
    """One block per measure (heading, table, chart below it), each on its own printed page."""
    g = Grid()
    g.add(Styled("Trend: the last 12 months of the headline measures, with statistical process control "
                 "(Making Data Count)", "title"))
    for line in textwrap.wrap(
        "Grey line: the local monthly value (recon's own, unrounded). Blue triangles: a month only NHS England's "
        "published (rounded) figure covers; it is not joined to the local line. Black: the mean. Dashed: process "
        "limits (mean ± 2.66 × mean moving range), never below 0 (nor above 100 for a percentage). Purple: "
        "special cause: outside the limits; 7 in a row above or below the mean; 7 rising or falling; 2 of 3 "
        "beyond 2 sigma. Under 12 months: provisional. Every measure's history: recon history.", NAME_WRAP + 10,
    ):
        g.add(Styled(line, "subtitle"))
    series = trend_series(result)
    # Headline measures only (the catalogue's ``trend`` positions and ``main`` measures): a chart per
    # page for each of ~50 measures made the printed pack unreadable; `recon history` has them all.
    order = {m.id: m.trend for m in cat.measures if m.trend is not None}
    headline = set(order) | {m.id for m in cat.main}
    series = {m: p for m, p in series.items() if m in headline}
    keep: dict[int, int] = {}
    heights: dict[int, float] = {}
    if not series:
        g.add(Styled("No trend data in this run (no ledger history and no published months).", "note"))
    charts = trend_blocks(g, result, series, order, keep=keep, heights=heights)
    return Sheet(
        "Trend", g.rows, widths=TREND_WIDTHS, heights=heights, charts=charts, keep_together=keep, landscape=False,
    )
