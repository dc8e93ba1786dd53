"""The Outcomes sheet: score completeness by team, then the national outcome measures."""

from __future__ import annotations

from recon.pack.layout import ChartSpec, Grid, SeriesSpec, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.breakdown import column_labels, ids_present, measure_matrix
from recon.pack.sheets.common import header_height
from recon.reconcile.model import ReconcileResult

OUTCOME_IDS = ("MHS110", "MHS111a", "MHS112a", "MHS112c", "MHS112e", "MHS112g")
COMPLETENESS_IDS = (
    "RECON_CGAS_ANY", "RECON_CGAS_PAIRED", "RECON_GBO_ANY", "RECON_GBO_PAIRED", "RECON_CHIESQ_ANY",
)


def outcomes_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled(f"Outcomes: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Cohort (MHS110): referrals closed in the month after two contacts.", "subtitle"))
    g.add(Styled("Any: at least one valid score. Paired: a first and a later score (see measures).", "subtitle"))
    heights: dict[int, float] = {}
    charts: list[ChartSpec] = []
    completeness = ids_present(result, COMPLETENESS_IDS, "RECON_")
    cohort = [i for i in ("MHS110",) if i in {v.id for v in result.local.values}]
    labels = column_labels(result, completeness + cohort)
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
    outcome_ids = ids_present(result, OUTCOME_IDS)
    outcome_labels = column_labels(result, outcome_ids)
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
