"""The Outcomes sheet: score completeness by team, then the national outcome measures."""

from __future__ import annotations

from recon.measures.catalog import Catalog
from recon.pack.layout import ChartSpec, Grid, SeriesSpec, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.breakdown import column_labels, ids_present, measure_matrix
from recon.pack.sheets.common import header_height
from recon.reconcile.model import ReconcileResult


def outcomes_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> list[Sheet]:
    """The outcomes and completeness families share one sheet: completeness first, as a % of the cohort."""
    return [outcomes_sheet(result, opts, cat)]


def outcomes_sheet(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> Sheet:
    g = Grid()
    g.add(Styled(f"Outcomes: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Cohort (MHS110): referrals closed in the month after two contacts.", "subtitle"))
    g.add(Styled("Any: at least one valid score. Paired: a first and a later score (see measures).", "subtitle"))
    heights: dict[int, float] = {}
    charts: list[ChartSpec] = []
    completeness_defs = cat.family("completeness")
    completeness = ids_present(result, completeness_defs)
    # the cohort (MHS110) first: the completeness measures' denominator
    present = {v.id for v in result.local.values}
    cohort = [i for i in dict.fromkeys(m.denominator for m in completeness_defs if m.denominator) if i in present]
    labels = column_labels(result, completeness + cohort, cat)
    g.add(Styled("Score completeness by team (% of cohort)", "section"))
    span = measure_matrix(g, result, opts, "Team", cohort + completeness, labels, "Team")
    if span is None:
        g.add(Styled("No team breakdown of the completeness measures in this run.", "note"))
    else:
        heights[span[0]] = header_height([labels[i] for i in cohort + completeness], 17)
        first_pct = 2 + len(cohort)
        charts.append(ChartSpec(
            "bar", "Score completeness by team (% of cohort)", f"A{span[1] + 2}", 1, span[0] + 1, span[1],
            tuple(
                SeriesSpec(first_pct + k, span[0], span[0] + 1, span[1])
                for k in range(len(completeness))
            ),
            y_title="% of cohort", y_min=0, y_max=100, width_cm=22, height_cm=8, y_format="0",
        ))
        g.pad_to(span[1] + 2 + 17)
    g.blank()
    national_row = g.next_row  # the national measures start on a new printed page
    outcome_ids = ids_present(result, cat.family("outcomes"))
    outcome_labels = column_labels(result, outcome_ids, cat)
    for breakdown, title in (("Team", "National outcome measures by team"), ("Age band", "By age band")):
        g.add(Styled(title, "section"))
        span2 = measure_matrix(g, result, opts, breakdown, outcome_ids, outcome_labels, breakdown)
        if span2 is None:
            g.add(Styled(f"No {breakdown.lower()} breakdown of the national outcome measures in this run.", "note"))
        else:
            heights[span2[0]] = header_height([outcome_labels[i] for i in outcome_ids], 17)
        g.blank()
    width = max(len(completeness) + len(cohort), len(outcome_ids))
    widths = {1: 24} | {c + 2: 17 for c in range(width)}
    return Sheet(
        "Outcomes", g.rows, widths=widths, heights=heights, charts=charts, freeze="B4", page_breaks=[national_row - 1],
    )
