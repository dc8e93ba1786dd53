"""What each sheet of the sign-off pack shows, built from a :class:`ReconcileResult`.

Everything here is presentation of values the reconciliation already computed: no measure is
recomputed. Privacy rules (masking, suppression, inert text) are applied here, before any
value reaches the writer or the fingerprint.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from openpyxl.utils import get_column_letter

from recon import __version__
from recon.findings import Severity
from recon.measures.model import MeasureValue
from recon.pack.layout import (
    AMBER,
    MDC_GREY,
    MDC_LIMIT,
    MDC_MEAN,
    MDC_PURPLE,
    NHS_BLUE,
    RED,
    ChartSpec,
    Grid,
    Rule,
    SeriesSpec,
    Sheet,
    Styled,
    Validation,
)
from recon.pack.model import PEOPLE_LISTS, PackOptions
from recon.pack.privacy import (
    IDENTIFYING_COLUMNS,
    NHS_NUMBER_COLUMNS,
    SUPPRESSED,
    clean_text,
    mask_nhs_number,
    mask_text,
    suppress_count,
)
from recon.reconcile.model import (
    Comparison,
    ComparisonStatus,
    ExceptionRecord,
    ReconcileResult,
    RecordClass,
)
from recon.rounding import round5
from recon.spc import RULE_LABEL, analyse

# Presentation groups of measure ids (layout, not rules): which sheet shows which measure.
ACCESS_IDS = ("MHS95", "MHS69")
ACTIVITY_IDS = ("MHS32", "MHS32a", "MHS29", "MHS30", "MHS58", "MHS57a", "MHS01", "MHS23", "MHS61a")
OUTCOME_IDS = ("MHS110", "MHS111a", "MHS112a", "MHS112c", "MHS112e", "MHS112g")
COMPLETENESS_IDS = (
    "RECON_CGAS_ANY", "RECON_CGAS_PAIRED", "RECON_GBO_ANY", "RECON_GBO_PAIRED", "RECON_CHIESQ_ANY",
)
COMPLETENESS_LABELS = {
    "MHS110": "Cohort (MHS110)",
    "RECON_CGAS_ANY": "CGAS any", "RECON_CGAS_PAIRED": "CGAS paired", "RECON_GBO_ANY": "GBO any",
    "RECON_GBO_PAIRED": "GBO paired", "RECON_CHIESQ_ANY": "CHI-ESQ any",
}
TREND_ORDER = ("MHS95", "MHS69", "MHS32", "MHS30", "MHS01", "MHS110", "MHS112a", "MHS111a")
TREND_MONTHS = 12
TREND_SOURCE_PRIORITY = ("this run", "ledger", "published")
TREND_BLOCK_ROWS = 18  # rows per measure on the Trend sheet (table and chart side by side)

STATUS_TEXT = {
    ComparisonStatus.CONSISTENT: "Consistent",
    ComparisonStatus.WITHIN_TOLERANCE: "Within tolerance",
    ComparisonStatus.DISCREPANCY: "Discrepancy",
    ComparisonStatus.MISSING_LOCAL: "Missing locally",
    ComparisonStatus.MISSING_PUBLISHED: "Not published",
}
CLASS_TEXT = {
    RecordClass.MISSING_IN_EXTRACT: "Missing in extract",
    RecordClass.MISSING_LOCALLY: "Missing locally",
    RecordClass.FIELD_DIFFERS: "Field differs",
    RecordClass.DUPLICATE_KEY: "Duplicate key",
    RecordClass.ORPHAN: "Orphan",
    RecordClass.BARREN: "Barren",
}
SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
EXCEPTION_HEADER = (
    "Exception ID", "Status", "Severity", "Team", "Table", "Record key", "Problem", "Suggested action", "Found by",
)
NO_TEAM = "(no team)"
SIGNOFF_TITLE = "Sign-off"
DECISIONS = ("Approve", "Approve with caveats", "Reject")


@dataclass(frozen=True)
class Verdict:
    text: str
    style: str
    advice: str


# ---------------------------------------------------------------- small helpers

NUMERIC_HEADERS = frozenset({
    "Errors", "Warnings", "Info", "New", "Recurring", "Accepted", "Size (bytes)", "Rows", "Local", "Extract",
    "Published", "Difference", "Value", "Mean", "Lower limit", "Upper limit", "Special cause", "Valid", "Other",
    "Default", "Invalid", "Missing", "Records", "Completeness %", "Validity %", "Score",
})


def _hdr(h: str) -> Styled:
    """A header cell, right-aligned above numbers so each heading sits over its figures."""
    return Styled(h, "header_num" if h in NUMERIC_HEADERS else "header")


def _header_height(labels: Sequence[str], width: float = 15) -> float:
    """Row height (points) that shows every line of the wrapped header labels."""
    per_line = max(int(width) - 2, 1)
    lines = max((sum(-(-max(len(part), 1) // per_line) for part in label.split("\n")) for label in labels), default=1)
    return 15.0 * lines + 3


def text(value: Any, identifiable: bool) -> str:
    """Any free text bound for a cell: masked (unless identifiable) and XML-safe."""
    s = clean_text(str(value))
    return s if identifiable else mask_text(s)


def _num(v: float | int | None) -> float | int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _is_pct(result: ReconcileResult, measure_id: str) -> bool:
    for v in result.local.values:
        if v.id == measure_id:
            return v.is_percentage
    for c in result.comparisons:
        if c.id == measure_id:
            return c.denominator is not None
    return False


def _measure_cell(v: MeasureValue | None, opts: PackOptions) -> Any:
    if v is None:
        return None
    value = _num(v.value)
    if v.is_percentage:
        if opts.suppress_small_counts and v.numerator is not None and v.numerator < 5:
            return Styled(SUPPRESSED, "right")
        return None if value is None else Styled(round(float(value), 1), "pct")
    if opts.suppress_small_counts:
        shown = suppress_count(value)
        return Styled(shown, "right") if shown == SUPPRESSED else Styled(shown, "count")
    return None if value is None else Styled(value, "count")


def _names(result: ReconcileResult) -> dict[str, str]:
    return {c.id: c.name for c in result.comparisons if c.name}


def _level_key(level: str | None) -> tuple[int, str]:
    m = re.match(r"\s*(\d+)", level or "")
    return (int(m.group(1)) if m else 10**6, level or "")


def _team(team: str | None) -> str:
    return team if team else NO_TEAM


def verdict(result: ReconcileResult, split_by_team: bool = False) -> Verdict:
    """The one line a CYP lead reads first."""
    to_fix = [e for e in result.exceptions if e.status != "accepted"]
    errors = sum(1 for e in to_fix if e.severity is Severity.ERROR)
    blocking = errors > 0 if result.exceptions else any(f.severity is Severity.ERROR for f in result.findings)
    discrepancies = len(result.discrepancies)
    if blocking:
        n = errors or sum(1 for f in result.findings if f.severity is Severity.ERROR)
        return Verdict(
            "Fix before submitting", "status_bad",
            f"{n:,} error-level record problem(s) must be corrected in the source system before the extract "
            "is submitted: see " + ("your team's 'Fix' sheet." if split_by_team
                                    else "the Exceptions sheet (filter by Team)."),
        )
    if discrepancies:
        return Verdict(
            "Discrepancies to explain", "status_warn",
            f"{discrepancies} measure(s) differ beyond tolerance: explain each one (Summary sheet) "
            "before signing off.",
        )
    return Verdict(
        "Fit to submit", "status_good",
        "No error-level record problem and no discrepancy beyond tolerance. Review any warnings, then sign off.",
    )


def sorted_exceptions(exceptions: Sequence[ExceptionRecord]) -> list[ExceptionRecord]:
    """Accepted last; then errors first; then team, table, key: the order a team works through."""
    return sorted(
        exceptions,
        key=lambda e: (
            e.status == "accepted", SEVERITY_RANK.get(e.severity, 9), e.team or "~", e.table, e.key or "",
            e.exception_id,
        ),
    )


def team_sheet_names(exceptions: Sequence[ExceptionRecord]) -> dict[str, str]:
    """One valid, unique worksheet title per team ("Fix TEAM")."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for team in sorted({_team(e.team) for e in exceptions}):
        base = "Fix " + re.sub(r"[\[\]:*?/\\']", "_", team)
        base = base[:31]
        name, i = base, 2
        while name.lower() in used:
            suffix = f" ({i})"
            name, i = base[: 31 - len(suffix)] + suffix, i + 1
        used.add(name.lower())
        names[team] = name
    return names


# ---------------------------------------------------------------- Cover


def cover_sheet(result: ReconcileResult, opts: PackOptions, team_sheets: dict[str, str] | None) -> Sheet:
    g = Grid()
    v = verdict(result, opts.split_by_team)
    g.add(Styled(f"MHSDS CYP sign-off pack: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Children and young people's mental health measures, checked before submission", "subtitle"))
    g.blank()
    g.add(Styled("Overall status", "label"), Styled(v.text, v.style))
    advice_row = g.add(Styled("What to do", "label"), Styled(v.advice, "wrap"))
    g.blank()
    to_fix = [e for e in result.exceptions if e.status != "accepted"]
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
    g.add(Styled("Discrepancies beyond tolerance", "label"), Styled(len(result.discrepancies), "count_left"))
    g.add(Styled("Records to fix", "label"), Styled(len(to_fix), "count_left"))
    g.add(
        Styled("  of which errors", "label"),
        Styled(sum(1 for e in to_fix if e.severity is Severity.ERROR), "count_left"),
    )
    g.add(
        Styled("Accepted (not to fix)", "label"),
        Styled(len(result.exceptions) - len(to_fix), "count_left"),
    )
    g.add(Styled("Published figures", "label"), result.published_status or "none compared")
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

    g.add(Styled("Records to fix by team", "section"))
    g.add(*(_hdr(h) for h in ("Team", "Sheet", "Errors", "Warnings", "Info", "New", "Recurring", "Accepted")))
    counts: dict[str, Counter[str]] = {}
    for e in result.exceptions:
        c = counts.setdefault(_team(e.team), Counter())
        if e.status == "accepted":
            c["accepted"] += 1
        else:
            c[e.severity.value] += 1
            c[e.status] += 1
    if not counts:
        g.add("No records to fix.")
    for team in sorted(counts):
        c = counts[team]
        sheet = team_sheets.get(team, "") if team_sheets else "Exceptions"
        g.add(
            text(team, opts.identifiable), sheet,
            *(Styled(c[k], "count") for k in ("error", "warning", "info", "new", "recurring", "accepted")),
        )
    g.blank()

    g.add(Styled("Input files", "section"))
    g.add(*(_hdr(h) for h in ("Role", "File (table) and SHA-256", "Size (bytes)", "Rows")))
    if not result.inputs:
        g.add("No input files recorded.")
    for i in result.inputs:
        # The file's own name fits the column; the full path follows the hash on the next line,
        # which has empty cells to run into.
        short = i.name.replace("\\", "/").rsplit("/", 1)[-1]
        name = text(short, opts.identifiable) + (f" ({i.table})" if i.table else "")
        g.add(i.role, name, Styled(i.size, "count"), Styled(i.rows, "count") if i.rows is not None else None)
        g.add(None, Styled(f"SHA-256 {i.sha256}  {text(i.name, opts.identifiable)}", "mono"))
    if result.notes:
        g.blank()
        g.add(Styled("Notes", "section"))
        for n in result.notes:
            g.add(Styled(text(n, opts.identifiable), "note"))
    g.blank()
    g.add(Styled("Sign the pack off on the 'Sign-off' sheet.", "note"))
    return Sheet(
        "Cover", g.rows, widths={1: 30, 2: 40, 3: 12, 4: 12, 5: 12, 6: 12, 7: 12, 8: 12},
        heights={advice_row: 13.5 * (len(v.advice) // 38 + 1)}, landscape=True, tab_color=NHS_BLUE,
    )


# ---------------------------------------------------------------- Summary


def _comparison_row(c: Comparison, pct: bool, opts: PackOptions) -> list[Any]:
    fmt = "pct" if pct else "count"
    local = _num(c.local)
    extract = _num(c.extract)
    published: Any = _num(c.published)
    difference = _num(c.difference)
    if c.published_text == SUPPRESSED and published is None:
        published = Styled(SUPPRESSED, "right")
    elif published is not None:
        published = Styled(published, fmt)
    cells_local: Any = None if local is None else Styled(local, fmt)
    cells_extract: Any = None if extract is None else Styled(extract, fmt)
    cells_diff: Any = None if difference is None else Styled(difference, "pct" if pct else "count")
    if opts.suppress_small_counts:
        small = (c.numerator is not None and c.numerator < 5) if pct else (local is not None and 0 <= local < 5)
        if pct:
            if small:
                cells_local = Styled(SUPPRESSED, "right")
                cells_diff = None if difference is None else Styled(SUPPRESSED, "right")
        else:
            cells_local = None if local is None else _measure_cell(MeasureValue(c.id, local), opts)
            cells_extract = None if extract is None else _measure_cell(MeasureValue(c.id, extract), opts)
            if difference is not None:
                cells_diff = Styled(SUPPRESSED, "right") if small else Styled(round5(difference), "count")
    status_style = {
        ComparisonStatus.CONSISTENT: "good",
        ComparisonStatus.WITHIN_TOLERANCE: "warn",
        ComparisonStatus.DISCREPANCY: "bad" if c.severity is Severity.ERROR else "warn",
    }.get(c.overall_status, "neutral")
    return [
        Styled(c.id, "top"), Styled(text(c.name, True), "wrap"), cells_local, cells_extract, published, cells_diff,
        Styled(text(c.tolerance, True), "center"), Styled(STATUS_TEXT[c.overall_status], status_style),
        Styled(text(c.explanation, True), "wrap"),
    ]


def summary_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled(f"Measures: local figures against the extract and the published file ({result.month})", "title"))
    g.add(Styled("Difference = published − local (extract − local when nothing is published). Percentages in %.",
                 "subtitle"))
    g.add(Styled("Consistent: the published figure equals the local one after national rounding to 5.",
                 "subtitle"))
    header = g.add(*(_hdr(h) for h in (
        "ID", "Measure", "Local", "Extract", "Published", "Difference", "Tolerance", "Status", "Explanation",
    )))
    heights: dict[int, float] = {header: 30}
    for c in result.comparisons:
        row = g.add(*_comparison_row(c, _is_pct(result, c.id), opts))
        # Wrapped text does not grow its row by itself in every spreadsheet (LibreOffice keeps
        # the default height): size each row for its explanation (col I) and name (col B).
        lines = max(math.ceil(len(c.explanation) / 88), math.ceil(len(c.name) / 44), 1)
        if lines > 1:
            heights[row] = 15.0 * lines
    last = max(g.next_row - 1, header + 1)
    return Sheet(
        "Summary", g.rows,
        widths={1: 19, 2: 40, 3: 11, 4: 11, 5: 11, 6: 11, 7: 16, 8: 17, 9: 70},
        heights=heights, freeze=f"C{header + 1}", autofilter=f"A{header}:I{last}",
        print_title_rows=f"{header}:{header}",
    )


# ---------------------------------------------------------------- breakdown sheets


def _ids_present(result: ReconcileResult, wanted: Sequence[str], extra_prefix: str | None = None) -> list[str]:
    present = {v.id for v in result.local.values}
    ids = [i for i in wanted if i in present]
    if extra_prefix:
        ids += sorted(i for i in present if i.startswith(extra_prefix) and i not in ids)
    return ids


def _levels(result: ReconcileResult, breakdown: str, ids: Sequence[str]) -> list[str]:
    wanted = set(ids)
    levels = {
        v.level for v in result.local.values
        if v.breakdown == breakdown and v.level is not None and v.id in wanted
    }
    return sorted(levels, key=_level_key)


def _matrix(
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
        *(_measure_cell(index.get((i, None, None)), opts) for i in ids),
    )
    for level in levels:
        g.add(text(level, opts.identifiable), *(_measure_cell(index.get((i, breakdown, level)), opts) for i in ids))
    return header, g.next_row - 1


def _labels(result: ReconcileResult, ids: Sequence[str]) -> dict[str, str]:
    names = _names(result)
    out = {}
    for i in ids:
        if i in COMPLETENESS_LABELS:
            out[i] = COMPLETENESS_LABELS[i] + (" (%)" if _is_pct(result, i) else "")
            continue
        unit = " (%)" if _is_pct(result, i) and "%" not in names.get(i, "") else ""
        label = names.get(i, "")
        out[i] = f"{i}\n{label}{unit}" if label and label != i else f"{i}{unit}"
    return out


def breakdown_sheet(title: str, heading: str, result: ReconcileResult, opts: PackOptions, ids: Sequence[str]) -> Sheet:
    g = Grid()
    g.add(Styled(f"{heading}: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("By team and by age band. Percentages in %." + (
        " Small counts suppressed (0-4 as *, others to the nearest 5)." if opts.suppress_small_counts else ""
    ), "subtitle"))
    g.blank()
    labels = _labels(result, ids)
    heights: dict[int, float] = {}
    charts: list[ChartSpec] = []
    any_section = False
    for breakdown, level_title in (("Team", "Team"), ("Age band", "Age band")):
        g.add(Styled(f"By {breakdown.lower()}", "section"))
        span = _matrix(g, result, opts, breakdown, ids, labels, level_title)
        if span is None:
            g.add(Styled(f"No {breakdown.lower()} breakdown in this run.", "note"))
        else:
            any_section = True
            heights[span[0]] = _header_height([labels[i] for i in ids])
            if breakdown == "Team" and title == "Access":
                charts.append(ChartSpec(
                    "bar", f"{heading} by team", f"{get_col(len(ids) + 3)}{span[0]}", 1, span[0] + 1, span[1],
                    tuple(SeriesSpec(c + 2, span[0], span[0] + 1, span[1]) for c in range(len(ids))),
                    y_title="People", width_cm=16, height_cm=7.5,
                ))
        g.blank()
    if not any_section and not ids:
        g.add(Styled("No measures of this group in this run.", "note"))
    widths = {1: 24} | {c + 2: 15 for c in range(len(ids))}
    return Sheet(title, g.rows, widths=widths, heights=heights, charts=charts, freeze="B4")


def get_col(n: int) -> str:
    return get_column_letter(n)


def outcomes_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled(f"Outcomes: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Cohort (MHS110): referrals closed in the month after two contacts.", "subtitle"))
    g.add(Styled("Any: at least one valid score. Paired: a first and a later score (see measures).", "subtitle"))
    heights: dict[int, float] = {}
    charts: list[ChartSpec] = []
    completeness = _ids_present(result, COMPLETENESS_IDS, "RECON_")
    cohort = [i for i in ("MHS110",) if i in {v.id for v in result.local.values}]
    labels = _labels(result, completeness + cohort)
    g.add(Styled("Score completeness by team (% of cohort)", "section"))
    span = _matrix(g, result, opts, "Team", cohort + completeness, labels, "Team")
    if span is None:
        g.add(Styled("No team breakdown of the completeness measures in this run.", "note"))
    else:
        heights[span[0]] = _header_height([labels[i] for i in cohort + completeness], 17)
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
    outcome_ids = _ids_present(result, OUTCOME_IDS)
    outcome_labels = _labels(result, outcome_ids)
    for breakdown, title in (("Team", "National outcome measures by team"), ("Age band", "By age band")):
        g.add(Styled(title, "section"))
        span2 = _matrix(g, result, opts, breakdown, outcome_ids, outcome_labels, breakdown)
        if span2 is None:
            g.add(Styled(f"No {breakdown.lower()} breakdown of the national outcome measures in this run.", "note"))
        else:
            heights[span2[0]] = _header_height([outcome_labels[i] for i in outcome_ids], 17)
        g.blank()
    width = max(len(completeness) + len(cohort), len(outcome_ids))
    widths = {1: 24} | {c + 2: 17 for c in range(width)}
    return Sheet(
        "Outcomes", g.rows, widths=widths, heights=heights, charts=charts, freeze="B4", page_breaks=[national_row - 1],
    )


# ---------------------------------------------------------------- Trend (SPC)


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


def trend_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled("Trend: the last 12 months with statistical process control (Making Data Count)", "title"))
    g.add(Styled("Grey: the monthly value. Black: the mean. Dashed: process limits (mean ± 2.66 × mean moving "
                 "range). Purple: special cause.", "subtitle"))
    g.add(Styled("Special cause: outside the limits; 7 in a row above or below the mean; 7 rising or falling; "
                 "2 of 3 beyond 2 sigma. Under 12 months: provisional.", "subtitle"))
    g.blank()
    series = _trend_series(result.trend) if result.trend is not None else {}
    order = {m: i for i, m in enumerate(TREND_ORDER)}
    names = _names(result)
    charts: list[ChartSpec] = []
    if not series:
        g.add(Styled("No trend data in this run (no ledger history and no published months).", "note"))
    for m in sorted(series, key=lambda k: (order.get(k, len(order)), k)):
        points = series[m]
        spc = analyse([p[1] for p in points])
        start = g.next_row
        name = names.get(m, "")
        title = f"{m} {name}".strip() + (" (provisional limits)" if spc.provisional else "")
        g.add(Styled(title, "section"))
        g.add(Styled(spc.describe(), "note"))
        header = g.add(*(_hdr(h) for h in (
            "Month", "Value", "Mean", "Lower limit", "Upper limit", "Special cause", "Why", "Source",
        )))
        pct = _is_pct(result, m)
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


# ---------------------------------------------------------------- Exceptions


def _exception_values(e: ExceptionRecord, identifiable: bool) -> list[Any]:
    return [
        e.exception_id, e.status, e.severity.value, text(_team(e.team), identifiable), e.table,
        text(e.key, identifiable) if e.key is not None else "", text(e.problem, identifiable),
        text(e.action, identifiable), e.source,
    ]


def _fit(lengths: Sequence[int], header: Sequence[str], caps: Sequence[int]) -> dict[int, float]:
    return {
        i + 1: float(min(max(n, len(h), 6) + 2, cap))
        for i, (n, h, cap) in enumerate(zip(lengths, header, caps, strict=True))
    }


def exceptions_sheet(
    title: str, exceptions: Sequence[ExceptionRecord], opts: PackOptions, heading: str,
) -> Sheet:
    rows = sorted_exceptions(exceptions)
    values = [_exception_values(e, opts.identifiable) for e in rows]
    lengths = [max((len(v[i]) for v in values), default=0) for i in range(len(EXCEPTION_HEADER))]
    widths = _fit(lengths, EXCEPTION_HEADER, (18, 11, 10, 20, 34, 30, 70, 60, 12))
    errors = sum(1 for e in rows if e.severity is Severity.ERROR and e.status != "accepted")
    to_fix = sum(1 for e in rows if e.status != "accepted")
    n = len(values)
    header_row = 3

    def gen() -> Iterator[list[Any]]:
        yield [Styled(heading, "title")]
        yield [Styled(
            f"{to_fix:,} record(s) to fix ({errors:,} errors); {n - to_fix:,} accepted. Every record is listed, "
            "not a sample: use the filter arrows to choose your team.", "subtitle",
        )]
        yield [Styled(h, "header") for h in EXCEPTION_HEADER]
        if not values:
            yield [Styled("No records to fix.", "note")]
        yield from values

    last = header_row + max(n, 1)
    return Sheet(
        title, gen(), widths=widths, freeze=f"B{header_row + 1}", autofilter=f"A{header_row}:I{last}",
        print_title_rows=f"{header_row}:{header_row}",
        rules=[
            Rule(f"C{header_row + 1}:C{last}", "equals", "error", RED, True),
            Rule(f"C{header_row + 1}:C{last}", "equals", "warning", AMBER),
            Rule(f"B{header_row + 1}:B{last}", "equals", "new", "", True),
        ],
        tab_color="DA291C" if errors else None,
    )


MAX_SHEET_ROWS = 1_000_000  # Excel holds 1,048,576 rows; longer lists continue on a further sheet


def _chunked(title: str, rows: Sequence[ExceptionRecord], opts: PackOptions, heading: str) -> list[Sheet]:
    ordered = sorted_exceptions(rows)
    parts = [ordered[i : i + MAX_SHEET_ROWS] for i in range(0, len(ordered), MAX_SHEET_ROWS)] or [[]]
    sheets = []
    for n, part in enumerate(parts, 1):
        suffix = f" ({n})" if n > 1 else ""
        more = f" (part {n} of {len(parts)})" if len(parts) > 1 else ""
        sheets.append(exceptions_sheet(title[: 31 - len(suffix)] + suffix, part, opts, heading + more))
    return sheets


def exception_sheets(result: ReconcileResult, opts: PackOptions) -> list[Sheet]:
    if not opts.split_by_team:
        return _chunked("Exceptions", result.exceptions, opts, "Records to fix: every team")
    names = team_sheet_names(result.exceptions)
    if not names:
        return [exceptions_sheet("Exceptions", (), opts, "Records to fix")]
    by_team: dict[str, list[ExceptionRecord]] = {}
    for e in result.exceptions:
        by_team.setdefault(_team(e.team), []).append(e)
    return [
        sheet
        for team in sorted(names)
        for sheet in _chunked(names[team], by_team[team], opts, f"Records to fix: {text(team, opts.identifiable)}")
    ]


# ---------------------------------------------------------------- Differences (record level)

DIFF_HEADER = (
    "Exception ID", "Difference", "Team", "Table", "Record key", "Fields (local → extract)", "What it means",
    "Suggested action", "Measures moved",
)


def differences_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    ident = opts.identifiable

    def field_text(column: str, local: str | None, extract: str | None) -> str:
        if column in NHS_NUMBER_COLUMNS and not ident:
            local, extract = mask_nhs_number(local), mask_nhs_number(extract)
        elif column in IDENTIFYING_COLUMNS and not ident:
            return f"{column}: (identifying, not shown)"
        return f"{column}: {local if local is not None else '(blank)'} → {extract if extract is not None else '(blank)'}"

    records = sorted(result.records, key=lambda r: (r.team or "~", r.table, r.record_class.value, r.key))
    values = [
        [
            r.exception_id, CLASS_TEXT[r.record_class], text(_team(r.team), ident), r.table, text(r.key, ident),
            text("; ".join(field_text(f.column, f.local, f.extract) for f in r.fields), ident),
            text(r.message, ident), text(r.action, ident), ", ".join(r.measures),
        ]
        for r in records
    ]
    lengths = [max((len(v[i]) for v in values), default=0) for i in range(len(DIFF_HEADER))]
    widths = _fit(lengths, DIFF_HEADER, (18, 20, 20, 30, 30, 50, 60, 50, 24))
    header_row = 3

    def gen() -> Iterator[list[Any]]:
        yield [Styled("Record-level differences between the local records and the pre-deadline extract", "title")]
        yield [Styled(f"{len(values):,} record(s) differ.", "subtitle")]
        yield [Styled(h, "header") for h in DIFF_HEADER]
        if not values:
            yield [Styled("No record-level differences (or no extract compared).", "note")]
        yield from values

    last = header_row + max(len(values), 1)
    return Sheet(
        "Differences", gen(), widths=widths, freeze=f"B{header_row + 1}",
        autofilter=f"A{header_row}:I{last}", print_title_rows=f"{header_row}:{header_row}",
    )


# ---------------------------------------------------------------- Data quality


def data_quality_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled("Data quality of the local extract (VODIM: valid, other, default, invalid, missing)", "title"))
    g.add(Styled(
        "Completeness % = (records − missing) / records. Validity % = valid / records. "
        "Score as computed by recon's data quality rules.", "subtitle",
    ))
    header = g.add(*(_hdr(h) for h in (
        "Table", "Data item", "Valid", "Other", "Default", "Invalid", "Missing", "Records",
        "Completeness %", "Validity %", "Score",
    )))
    dq = result.data_quality
    first = header + 1
    if dq is None or dq.is_empty():
        g.add(Styled("No data quality counts in this run.", "note"))
    else:
        cols = ("valid", "other", "default", "invalid", "missing")
        frame = dq.select(
            pl.col("table").cast(pl.String), pl.col("column").cast(pl.String),
            *(pl.col(c).cast(pl.Int64).fill_null(0) for c in cols), pl.col("score").cast(pl.Float64),
        )
        for table, column, valid, other, default, invalid, missing, score in frame.iter_rows():
            total = valid + other + default + invalid + missing
            completeness = round(100 * (total - missing) / total, 1) if total else None
            validity = round(100 * valid / total, 1) if total else None
            g.add(
                table, column, *(Styled(x, "count") for x in (valid, other, default, invalid, missing, total)),
                None if completeness is None else Styled(completeness, "pct"),
                None if validity is None else Styled(validity, "pct"),
                None if score is None or not math.isfinite(score) else Styled(score, "dec"),
            )
    last = max(g.next_row - 1, first)
    rules = [
        Rule(f"I{first}:I{last}", "scale"), Rule(f"J{first}:J{last}", "scale"),
    ]
    top = dq["score"].cast(pl.Float64).max() if dq is not None and not dq.is_empty() else None
    if isinstance(top, float) and top > 1:
        rules.append(Rule(f"K{first}:K{last}", "scale"))
    g.blank()
    g.add(Styled("Validation findings by rule", "section"))
    fh = g.add(*(_hdr(h) for h in ("Table", "Data item", "Records", "Severity", "Rule")))
    counts = Counter((f.rule_id, f.severity, f.table, f.column or "") for f in result.findings)
    if not counts:
        g.add(Styled("No validation findings.", "note"))
    for (rule, sev, table, column), n in sorted(
        counts.items(), key=lambda kv: (SEVERITY_RANK.get(kv[0][1], 9), kv[0][0], kv[0][2], kv[0][3]),
    ):
        g.add(table, column, Styled(n, "count"),
              Styled(sev.value, "bad" if sev is Severity.ERROR else "warn" if sev is Severity.WARNING else "text"),
              rule)
    return Sheet(
        "Data quality", g.rows,
        widths={1: 32, 2: 30, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10, 9: 14, 10: 12, 11: 10},
        heights={header: 30, fh: 18}, freeze=f"C{first}", autofilter=f"A{header}:K{last}", rules=rules,
        print_title_rows=f"{header}:{header}",
    )


# ---------------------------------------------------------------- details frames (appendix)


def _details_title(name: str, used: set[str]) -> str:
    base = ("Detail " + re.sub(r"[\[\]:*?/\\']", "_", name))[:31]
    title, i = base, 2
    while title.lower() in used:
        suffix = f" ({i})"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(title.lower())
    return title


def _private_frame(frame: pl.DataFrame, identifiable: bool) -> pl.DataFrame:
    """Mask NHS numbers and drop other identifying columns unless the pack is identifiable."""
    if identifiable:
        return frame
    exprs: list[pl.Expr] = []
    for name in frame.columns:
        if name in NHS_NUMBER_COLUMNS:
            s = pl.col(name).cast(pl.String).str.replace_all(r"[\s-]", "")
            exprs.append(
                pl.when(s.is_null()).then(None)
                .when(s.str.contains(r"^\d{10}$")).then(pl.lit("*** *** ") + s.str.slice(6, 4))
                .otherwise(pl.lit("***")).alias(name)
            )
        elif name not in IDENTIFYING_COLUMNS:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def _plain(v: Any, identifiable: bool) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return Styled(v, "date")
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, int | float):
        return _num(v)
    return text(v, identifiable)


def details_sheets(result: ReconcileResult, opts: PackOptions, used: set[str]) -> list[Sheet]:
    sheets = []
    for name in sorted(result.local.details):
        if name in PEOPLE_LISTS and not opts.people_lists:
            continue
        frame = _private_frame(result.local.details[name], opts.identifiable)
        header = tuple(frame.columns)
        lengths = [
            int(frame.select(pl.col(c).cast(pl.String).str.len_chars().max()).item() or 0) if len(frame) else 0
            for c in header
        ]
        widths = _fit(lengths, header, tuple(40 for _ in header)) if header else {}
        ident = opts.identifiable

        def gen(
            frame: pl.DataFrame = frame, header: tuple[str, ...] = header, name: str = name, ident: bool = ident,
        ) -> Iterator[list[Any]]:
            yield [Styled(f"Records behind the figures: {name}", "title")]
            yield [Styled(f"{len(frame):,} row(s)." + ("" if ident else " NHS numbers masked; dates of birth left out."), "subtitle")]
            yield [Styled(h, "header") for h in header]
            for row in frame.iter_rows():
                yield [_plain(v, ident) for v in row]

        last = 3 + max(len(frame), 1)
        end_col = get_col(max(len(header), 1))
        sheets.append(Sheet(
            _details_title(name, used), gen(), widths=widths, freeze="A4", autofilter=f"A3:{end_col}{last}",
            print_title_rows="3:3",
        ))
    return sheets


# ---------------------------------------------------------------- Sign-off


def signoff_sheet(fingerprint: str, result: ReconcileResult) -> Sheet:
    g = Grid()
    g.add(Styled(f"Sign-off: {result.provider}, {result.month.label}", "title"))
    g.add(Styled("Fill in the yellow cells (the decision from the drop-down list), save the file and return it "
                 "to your informatics team, who record the sign-off with: recon signoff --pack FILE", "subtitle"))
    g.blank()
    v = verdict(result)
    g.add(Styled("Pack status", "label"), Styled(v.text, v.style.replace("status_", "")))
    to_fix = sum(1 for e in result.exceptions if e.status != "accepted")
    g.add(Styled("Discrepancies / records to fix", "label"), f"{len(result.discrepancies)} / {to_fix:,}")
    g.blank()
    decision = g.add(Styled("Decision", "label"), Styled(None, "input"))
    name = g.add(Styled("Name", "label"), Styled(None, "input"))
    role = g.add(Styled("Role", "label"), Styled(None, "input"))
    date = g.add(Styled("Date", "label"), Styled(None, "input_date"))
    caveats = g.add(Styled("Caveats\n(required to approve with caveats or to reject)", "label_wrap"),
                    Styled(None, "input_wrap"))
    g.blank()
    g.add(Styled("Pack fingerprint (SHA-256)", "label"), Styled(fingerprint, "mono"))
    how = g.add(Styled("What the fingerprint covers", "label"), Styled(
        "The SHA-256 of every value shown on every other sheet of this pack, in sheet and row order "
        "(canonical JSON, one line per row). It cannot be the hash of this file, which contains it. "
        "Filling in this sheet does not change it. recon recomputes it when the sign-off is recorded "
        "and refuses a pack whose figures or records were edited.", "wrap",
    ))
    return Sheet(
        SIGNOFF_TITLE, g.rows, widths={1: 34, 2: 80},
        heights={caveats: 90, how: 64, name: 20, role: 20, decision: 20, date: 20},
        validations=[
            Validation(f"B{decision}", "list", DECISIONS, "Approve, Approve with caveats or Reject"),
            Validation(f"B{date}", "date", (), "Date of sign-off"),
        ],
        fingerprinted=False, landscape=False, tab_color="009639",
    )
