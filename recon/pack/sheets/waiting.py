"""The Waiting list sheet(s) and the Waits summary: who is still waiting at month end, for how long,
and when they were last seen (recon/waits_list.py), with the national waits measures and their trend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from recon.pack.layout import AMBER, RED, Grid, Rule, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.privacy import mask_nhs_number
from recon.pack.sheets.common import hdr, sheet_title, team_name, text
from recon.pack.sheets.trend import trend_blocks, trend_series
from recon.reconcile.model import ComparisonStatus, ReconcileResult
from recon.waits_list import WEEK_BANDS, summary_counts

PRIORITY = {"1": "1 Emergency", "2": "2 Urgent", "3": "3 Routine", "4": "4 Very urgent"}
WAITS_PREFIXES = ("MRS", "MHS13")
WAITS_TREND_FIRST = ("MRS10", "MRS10a", "MRS10b", "MRS14e", "MRS09", "MRS13", "MRS08b", "MHS133", "MHS131")
FIRST_ROW = 6  # header row of a waiting list sheet


def _header(no_contact_days: int) -> tuple[str, ...]:
    return ("Team", "Cohort", "Referral", "Person", "NHS number", "Referral date", "Days waiting", "Over 4 weeks",
            "Over 18 weeks", "Over 52 weeks", "Clinical priority", "Waiting for", "Last attended contact",
            "Days since last contact", f"No contact for {no_contact_days}+ days")


WIDTHS = {1: 10, 2: 8, 3: 13, 4: 11, 5: 14, 6: 12, 7: 9, 8: 9, 9: 9, 10: 9, 11: 13, 12: 14, 13: 12, 14: 10, 15: 12}


def _yes(flag: bool | None) -> Styled:
    return Styled("Yes" if flag else "", "center")


def _row(r: dict[str, Any], identifiable: bool) -> list[Any]:
    nhs = r["NHSNumber"] if identifiable else mask_nhs_number(r["NHSNumber"])
    return [
        text(team_name(r["team"]), identifiable), r["cohort"], text(r["ServiceRequestId"], identifiable),
        text(r["LocalPatientId"] or "", identifiable), nhs or "", Styled(r["referral_date"], "date"),
        Styled(r["days_waiting"], "count"), _yes(r["over_4_weeks"]), _yes(r["over_18_weeks"]),
        _yes(r["over_52_weeks"]), PRIORITY.get(r["priority"] or "", r["priority"] or "not recorded"),
        r["waiting_for"], Styled(r["last_contact"], "date") if r["last_contact"] else "never seen",
        Styled(r["days_since_contact"], "count"), _yes(r["unseen"]),
    ]


def _counts_line(frame: pl.DataFrame, no_contact_days: int) -> str:
    c = summary_counts(frame)
    return (f"{c['waiting']:,} waiting; {c['over_4_weeks']:,} over 4 weeks, {c['over_18_weeks']:,} over 18 weeks, "
            f"{c['over_52_weeks']:,} over 52 weeks; {c['unseen']:,} with no contact for more than "
            f"{no_contact_days} days.")


def waiting_sheet(title: str, frame: pl.DataFrame, result: ReconcileResult, opts: PackOptions,
                  team: str | None = None) -> Sheet:
    """One waiting list (the provider's, or one team's with --split-by-team), longest wait first."""
    header = _header(opts.no_contact_days)
    ident = opts.identifiable
    who = f" for team {team}" if team else ""

    def rows() -> Iterator[list[Any]]:
        yield [Styled(f"Waiting list{who} at {result.month.end:%d %B %Y}: who is still waiting, longest first",
                      "title")]
        yield [Styled("Children and young people (and adults of community teams) whose referral is open at the "
                      "month end and who have not had a first contact (adults: a second contact) or, with the "
                      "SNOMED CT release, a clock stop.", "subtitle")]
        yield [Styled(f"'No contact for {opts.no_contact_days}+ days': no attended contact (or, never seen, the "
                      "referral) for longer than that while waiting: check on them. Waits are calendar days to the "
                      "month end.", "subtitle")]
        yield [Styled(_counts_line(frame, opts.no_contact_days), "label")]
        yield []
        yield [hdr(h) for h in header]
        if frame.height == 0:
            yield [Styled("Nobody is waiting at the month end.", "note")]
        for r in frame.iter_rows(named=True):
            yield _row(r, ident)

    last = FIRST_ROW + max(frame.height, 1)
    return Sheet(
        title, rows(), widths=WIDTHS, heights={FIRST_ROW: 45}, freeze=f"A{FIRST_ROW + 1}",
        autofilter=f"A{FIRST_ROW}:O{last}", print_title_rows=f"{FIRST_ROW}:{FIRST_ROW}",
        rules=[Rule(f"O{FIRST_ROW + 1}:O{last}", "equals", "Yes", RED, True),
               Rule(f"J{FIRST_ROW + 1}:J{last}", "equals", "Yes", AMBER, True)],
        tab_color=RED if frame.filter(pl.col("unseen")).height else None,
    )


def waiting_sheets(result: ReconcileResult, opts: PackOptions) -> list[Sheet]:
    """The Waiting list, or one per team with --split-by-team; none when it was not computed."""
    frame = result.waiting
    if frame is None:
        return []
    if not opts.split_by_team:
        return [waiting_sheet("Waiting list", frame, result, opts)]
    keyed = frame.with_columns(pl.col("team").fill_null(team_name(None)).alias("_team"))
    teams = sorted(keyed.get_column("_team").unique().to_list())
    used: set[str] = set()
    titles = {t: sheet_title("Wait ", t, used) for t in teams}
    return [waiting_sheet(titles[t], keyed.filter(pl.col("_team") == t).drop("_team"), result, opts, t)
            for t in teams] or [waiting_sheet("Waiting list", frame, result, opts)]


WHY_WIDTH = 48  # characters of the wrapped "What it is; why" column of the measures table


def waits_summary_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    """Headline waits: the waiting list by team and band, the national waits measures compared,
    and their trend with SPC limits like the other main measures."""
    g = Grid()
    g.add(Styled(f"Waits summary ({result.month})", "title"))
    g.add(Styled("How many are waiting and for how long (from the records), then NHS England's waiting-time "
                 "measures (four-week waits MRS, first contact MHS130-MHS135) where computed.", "subtitle"))
    g.blank()
    g.add(Styled("Waiting at the month end, by team", "section"))
    heights = {g.add(*(hdr(h) for h in ("Team", "Cohort", "Waiting", "Over 4 weeks", "Over 18 weeks",
                                         "Over 52 weeks", f"No contact {opts.no_contact_days}+ days",
                                         "Longest wait (days)"))): 30.0}
    frame = result.waiting
    if frame is None or frame.height == 0:
        g.add(Styled("Nobody is waiting at the month end." if frame is not None else
                     "The waiting list was not computed in this run.", "note"))
    else:
        by_team = frame.group_by("team", "cohort").agg(
            pl.len().alias("n"), *[pl.col(name).sum().alias(name) for name, _ in WEEK_BANDS],
            pl.col("unseen").sum().alias("unseen"), pl.col("days_waiting").max().alias("longest"),
        ).sort("team", "cohort", nulls_last=True)
        for r in by_team.iter_rows(named=True):
            g.add(text(team_name(r["team"]), opts.identifiable), r["cohort"], Styled(r["n"], "count"),
                  *[Styled(r[name], "count") for name, _ in WEEK_BANDS], Styled(r["unseen"], "count"),
                  Styled(r["longest"], "count"))
        total = summary_counts(frame)
        g.add(Styled("All teams", "label"), "", Styled(total["waiting"], "bold_count"),
              *[Styled(total[name], "bold_count") for name, _ in WEEK_BANDS], Styled(total["unseen"], "bold_count"),
              Styled(frame.select(pl.col("days_waiting").max()).item(), "bold_count"))
    g.blank()
    g.add(Styled("National waiting-time measures", "section"))
    waits = [c for c in result.comparisons if c.id.startswith(WAITS_PREFIXES)]
    values = [v for v in result.local.provider_level if v.id.startswith(WAITS_PREFIXES)]
    if not waits and not values:
        g.add(Styled("No waiting-time measure was computed in this run (the waits family computes MRS01-MRS14f "
                     "and MHS130-MHS135).", "note"))
    else:
        # the explanation is wrapped in a wide last column (text running on to the right would make
        # the printed page scale down to an unreadable size)
        g.add(*(hdr(h) for h in ("Measure", "Local", "Published", "Status", "What it is; why")))
        shown = {c.id for c in waits}
        for c in waits:
            style = {ComparisonStatus.CONSISTENT: "good", ComparisonStatus.DISCREPANCY: "bad"}.get(c.status, "neutral")
            why = f"{c.name}; {c.explanation}" if c.explanation else c.name
            # id and figures top-aligned beside the wrapped explanation, so each row reads as one line
            row = g.add(Styled(c.id, "top"), Styled(c.local, "top"), Styled(c.published_text or "", "right"),
                        Styled(c.status.value.replace("_", " "), style), Styled(why, "wrap"))
            heights[row] = max(15.0, 15.0 * -(-len(why) // (WHY_WIDTH - 1)))
        for v in values:
            if v.id not in shown:
                row = g.add(Styled(v.id, "top"), Styled(v.value, "top"), "", Styled("not computed", "neutral"),
                            Styled(v.reason or "", "wrap"))
                heights[row] = max(15.0, 15.0 * -(-len(v.reason or "") // (WHY_WIDTH - 1)))
    notes = [n for n in result.notes if "WAITS_" in n or "SNOMED" in n or "not compared" in n]
    for n in notes:
        g.add(Styled(n, "note"))
    g.blank()
    g.add(Styled("Trend of the waiting-time measures (Making Data Count)", "section"))
    series = {m: p for m, p in trend_series(result).items() if m.startswith(WAITS_PREFIXES)}
    charts = []
    if not series:
        g.add(Styled("No months of waiting-time measures yet (the ledger records each run's values).", "note"))
    else:
        g.blank()
        charts = trend_blocks(g, result, series, {m: i for i, m in enumerate(WAITS_TREND_FIRST)})
    return Sheet("Waits summary", g.rows, widths={1: 12, 2: 10, 3: 11, 4: 15, 5: WHY_WIDTH, 6: 11, 7: 12, 8: 12},
                 heights=heights, charts=charts)
