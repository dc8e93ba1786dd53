"""The Cover sheet: the verdict, the run's facts, records to fix by team, the input files."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import Counter

from recon import __version__
from recon.pack.layout import NHS_BLUE, Grid, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import hdr, header_height, team_name, text, verdict
from recon.pack.sheets.data_quality import dqmi_text
from recon.reconcile.model import OUTCOMES_SOURCE, PublishedState, ReconcileResult


def cover_sheet(result: ReconcileResult, opts: PackOptions, team_sheets: dict[str, str] | None) -> Sheet:
    g = Grid()
    v = verdict(result, opts.split_by_team)
    g.add(Styled(f"MHSDS CYP sign-off pack: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Children and young people's mental health measures, checked before submission", "subtitle"))
    g.blank()
    g.add(Styled("Overall status", "label"), Styled(v.text, v.style))
    advice_row = g.add(Styled("What to do", "label"), Styled(v.advice, "wrap"))
    heights = {advice_row: 13.5 * (len(v.advice) // 38 + 1)}
    for w in result.warnings:
        row = g.add(Styled("Warning", "label"), Styled(text(w, opts.identifiable), "warn_wrap"))
        heights[row] = 15.0 * (len(w) // 38 + 1)
    g.blank()
    counts = result.counts
    g.add(Styled("Provider", "label"), result.provider)
    g.add(Styled("Reporting month", "label"), f"{result.month.label} ({result.month})")
    if opts.deadline is not None:
        today = opts.today or dt.date.today()
        days = (opts.deadline - today).days
        g.add(Styled("Submission deadline", "label"), Styled(opts.deadline, "date"))
        left = f"{days} day(s) left" if days >= 0 else f"deadline passed {-days} day(s) ago"
        g.add(Styled("Days left", "label"), left)
    else:
        g.add(Styled("Submission deadline", "label"), "not set")
    g.add(Styled("Discrepancies beyond tolerance", "label"), Styled(counts.discrepancies, "count_left"))
    g.add(Styled("Records to fix", "label"), Styled(counts.records_to_fix, "count_left"))
    g.add(Styled("  of which errors", "label"), Styled(counts.errors, "count_left"))
    g.add(Styled("  of which warnings", "label"), Styled(counts.warnings, "count_left"))
    if counts.extract_errors:
        g.add(Styled("Extract-level errors (no record key)", "label"), Styled(counts.extract_errors, "count_left"))
    g.add(Styled("Outcome pairs missing (not errors)", "label"), Styled(counts.outcome_gaps, "count_left"))
    g.add(Styled("Accepted (not to fix)", "label"), Styled(counts.accepted, "count_left"))
    dq = result.data_quality
    if dq is not None:
        rejected = counts.predicted_rejections
        g.add(Styled("Predicted SDCS rejections", "label"),
              Styled(f"{rejected:,} record(s) SDCS would drop (Data quality sheet)" if rejected else "none predicted",
                     "bad" if rejected else "text"))
        d = dq.vodim.dqmi
        g.add(Styled("DQMI estimate (recon)", "label"),
              Styled(dqmi_text(dq), "text" if d.meets_target is not False else "warn"))
    check = result.published_check
    not_compared = check.state is PublishedState.NOT_COMPARED
    row = g.add(Styled("Published figures", "label"),
                Styled(text(check.text, opts.identifiable), "warn_wrap" if not_compared else "text"))
    if not_compared:
        heights[row] = 15.0 * (len(check.text) // 38 + 1)
    g.add(
        Styled("Identifiers", "label"),
        "IDENTIFIABLE: full NHS numbers and dates of birth shown. Keep inside the provider."
        if opts.identifiable else "NHS numbers masked; dates of birth left out",
    )
    g.add(
        Styled("Small counts", "label"),
        "suppressed: 0-4 shown as *, other counts rounded to the nearest 5"
        if opts.suppress_small_counts else "not suppressed: for use inside the provider only",
    )
    g.add(Styled("recon version", "label"), __version__)
    g.add(Styled("Rules version", "label"), opts.rules_version or "not recorded")
    run = f"started {result.started:%Y-%m-%d %H:%M:%S}, finished {result.finished:%Y-%m-%d %H:%M:%S}"
    seconds = opts.run_seconds if opts.run_seconds is not None else (result.finished - result.started).total_seconds()
    run += f", took {seconds:.1f} s"
    g.add(Styled("Run", "label"), run)
    g.blank()

    keep: dict[int, int] = {}
    keep[g.add(Styled("Records to fix by team", "section"))] = 4
    team_header = ("Team", "Sheet", "Errors", "Warnings", "Info", "Outcome gaps", "New", "Recurring", "Accepted")
    heights[g.add(*(hdr(h) for h in team_header))] = header_height(team_header, 12)
    # The same rule as the counts above: outcome pairs missing are counted apart, not as warnings.
    by_team: dict[str, Counter[str]] = {}
    for e in result.exceptions:
        c = by_team.setdefault(team_name(e.team), Counter())
        if e.status == "accepted":
            c["accepted"] += 1
        else:
            c["outcome gaps" if e.source == OUTCOMES_SOURCE else e.severity.value] += 1
            c[e.status] += 1
    if not by_team:
        g.add("No records to fix.")
    for team in sorted(by_team):
        c = by_team[team]
        sheet = team_sheets.get(team, "") if team_sheets else "Exceptions"
        g.add(
            text(team, opts.identifiable), sheet,
            *(Styled(c[k], "count")
              for k in ("error", "warning", "info", "outcome gaps", "new", "recurring", "accepted")),
        )
    g.blank()

    keep[g.add(Styled("Input files", "section"))] = 4
    g.add(*(hdr(h) for h in ("Role", "File (table) and SHA-256", "Size (bytes)", "Rows")))
    if not result.inputs:
        g.add("No input files recorded.")
    for i in result.inputs:
        # The file's own name fits the column; the full path follows the hash on the next line,
        # which has empty cells to run into.
        short = i.name.replace("\\", "/").rsplit("/", 1)[-1]
        name = text(short, opts.identifiable) + (f" ({i.table})" if i.table else "")
        row = g.add(i.role, Styled(name, "wrap"), Styled(i.size, "count"),
                    Styled(i.rows, "count") if i.rows is not None else None)
        if len(name) > 38:
            heights[row] = 15.0 * (len(name) // 38 + 1)
        keep[row] = 2  # a file and its hash on one page
        g.add(None, Styled(f"SHA-256 {i.sha256}  {text(i.name, opts.identifiable)}", "mono"))
    if result.notes:
        g.blank()
        keep[g.add(Styled("Notes", "section"))] = 2
        for n in result.notes:  # wrapped to the printed width rather than cut at its edge
            for line in textwrap.wrap(text(n, opts.identifiable), 140):
                g.add(Styled(line, "note"))
    g.blank()
    g.add(Styled("Sign the pack off on the 'Sign-off' sheet.", "note"))
    return Sheet(
        "Cover", g.rows, widths={1: 36, 2: 40, 3: 12, 4: 12, 5: 12, 6: 12, 7: 12, 8: 12, 9: 12},
        heights=heights, landscape=True, tab_color=NHS_BLUE, keep_together=keep,
    )
