"""The Trend sheet: the last 12 months of each headline measure with SPC limits."""

from __future__ import annotations

import polars as pl

from recon.measures.catalog import Catalog
from recon.pack.layout import (
    MDC_GREY,
    MDC_LIMIT,
    MDC_MEAN,
    MDC_PURPLE,
    ChartSpec,
    Grid,
    SeriesSpec,
    Sheet,
    Styled,
)
from recon.pack.model import PackOptions
from recon.pack.sheets.common import hdr, is_pct, measure_names
from recon.reconcile.model import ReconcileResult
from recon.spc import RULE_LABEL, analyse

TREND_MONTHS = 12
TREND_SOURCE_PRIORITY = ("this run", "ledger", "published")
TREND_BLOCK_ROWS = 18  # rows per measure on the Trend sheet (table and chart side by side)


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


def trend_sheet(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> Sheet:
    """One block per measure: the catalogue's ``trend`` positions first, then the rest by id."""
    g = Grid()
    g.add(Styled("Trend: the last 12 months with statistical process control (Making Data Count)", "title"))
    g.add(Styled("Grey: the monthly value. Black: the mean. Dashed: process limits (mean ± 2.66 × mean moving "
                 "range). Purple: special cause.", "subtitle"))
    g.add(Styled("Special cause: outside the limits; 7 in a row above or below the mean; 7 rising or falling; "
                 "2 of 3 beyond 2 sigma. Under 12 months: provisional.", "subtitle"))
    g.blank()
    series = _trend_series(result.trend) if result.trend is not None else {}
    order = {m.id: m.trend for m in cat.measures if m.trend is not None}
    names = measure_names(result)
    charts: list[ChartSpec] = []
    if not series:
        g.add(Styled("No trend data in this run (no ledger history and no published months).", "note"))
    after = max(order.values(), default=0) + 1
    for m in sorted(series, key=lambda k: (order.get(k, after), k)):
        points = series[m]
        spc = analyse([p[1] for p in points])
        start = g.next_row
        name = names.get(m, "")
        title = f"{m} {name}".strip() + (" (provisional limits)" if spc.provisional else "")
        g.add(Styled(title, "section"))
        g.add(Styled(spc.describe(), "note"))
        header = g.add(*(hdr(h) for h in (
            "Month", "Value", "Mean", "Lower limit", "Upper limit", "Special cause", "Why", "Source",
        )))
        pct = is_pct(result, m)
        vfmt, sfmt = ("pct", "pct") if pct else ("count", "count1")
        for (month, value, source), flags in zip(points, spc.flags, strict=True):
            g.add(
                month, Styled(value, vfmt), Styled(spc.mean, sfmt), Styled(spc.lower, sfmt),
                Styled(spc.upper, sfmt), Styled(value, vfmt) if flags else None,
                ", ".join(RULE_LABEL[f] for f in flags), source,
            )
        last = g.next_row - 1
        charts.append(ChartSpec(
            "line", title, f"J{start}", 1, header + 1, last,
            (
                SeriesSpec(2, header, header + 1, last, color=MDC_GREY, marker="circle"),
                SeriesSpec(3, header, header + 1, last, color=MDC_MEAN),
                SeriesSpec(4, header, header + 1, last, color=MDC_LIMIT, dash="dash"),
                SeriesSpec(5, header, header + 1, last, color=MDC_LIMIT, dash="dash"),
                SeriesSpec(6, header, header + 1, last, color=MDC_PURPLE, marker="circle", line=False),
            ),
            y_title=m, width_cm=19, height_cm=8.5, y_format="0.0" if pct else "#,##0", rotate_labels=True,
        ))
        g.pad_to(start + TREND_BLOCK_ROWS)
    return Sheet(
        "Trend", g.rows, widths={1: 10, 2: 11, 3: 11, 4: 11, 5: 11, 6: 11, 7: 36, 8: 10},
        charts=charts,
    )
