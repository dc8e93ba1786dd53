"""Cell helpers shared by the pack's sheets: headers, numbers, masking, the verdict.

Everything here is presentation of values the reconciliation already computed: no measure is
recomputed. Privacy rules (masking, suppression, inert text) are applied in the sheets, before
any value reaches the writer or the fingerprint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recon.findings import Severity
from recon.measures.model import MeasureValue
from recon.pack.layout import Styled
from recon.pack.model import PackOptions
from recon.pack.privacy import clean_text, mask_text, suppress_count
from recon.reconcile.model import ReconcileResult, VerdictText
from recon.rounding import SUPPRESSED

SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
NO_TEAM = "(no team)"


@dataclass(frozen=True)
class Verdict:
    text: str
    style: str
    advice: str


NUMERIC_HEADERS = frozenset({
    "Errors", "Warnings", "Info", "New", "Recurring", "Accepted", "Size (bytes)", "Rows", "Local", "Extract",
    "Published", "Difference", "Value", "Mean", "Lower limit", "Upper limit", "Special cause", "Valid", "Other",
    "Default", "Invalid", "Missing", "Records", "Completeness %", "Validity %", "Score", "Extract − local",
    "Published − local",
})


def hdr(h: str) -> Styled:
    """A header cell, right-aligned above numbers so each heading sits over its figures."""
    return Styled(h, "header_num" if h in NUMERIC_HEADERS else "header")


def header_height(labels: Sequence[str], width: float = 15) -> float:
    """Row height (points) that shows every line of the wrapped header labels."""
    per_line = max(int(width) - 2, 1)
    lines = max((sum(-(-max(len(part), 1) // per_line) for part in label.split("\n")) for label in labels), default=1)
    return 15.0 * lines + 3


def text(value: Any, identifiable: bool) -> str:
    """Any free text bound for a cell: masked (unless identifiable) and XML-safe."""
    s = clean_text(str(value))
    return s if identifiable else mask_text(s)


def num(v: float | int | None) -> float | int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def is_pct(result: ReconcileResult, measure_id: str) -> bool:
    for v in result.local.values:
        if v.id == measure_id:
            return v.is_percentage
    for c in result.comparisons:
        if c.id == measure_id:
            return c.denominator is not None
    return False


def measure_cell(v: MeasureValue | None, opts: PackOptions) -> Any:
    if v is None:
        return None
    value = num(v.value)
    if v.is_percentage:
        if opts.suppress_small_counts and v.numerator is not None and v.numerator < 5:
            return Styled(SUPPRESSED, "right")
        return None if value is None else Styled(round(float(value), 1), "pct")
    if opts.suppress_small_counts:
        shown = suppress_count(value)
        return Styled(shown, "right") if shown == SUPPRESSED else Styled(shown, "count")
    return None if value is None else Styled(value, "count")


def measure_names(result: ReconcileResult) -> dict[str, str]:
    return {c.id: c.name for c in result.comparisons if c.name}


def level_key(level: str | None) -> tuple[int, str]:
    m = re.match(r"\s*(\d+)", level or "")
    return (int(m.group(1)) if m else 10**6, level or "")


def sheet_title(prefix: str, name: str, used: set[str]) -> str:
    """A valid worksheet title ``prefix + name`` (31 characters, no []:*?/\\'), unique among ``used``
    (case-insensitively; the title is added to it). Excel refuses []:*?/\' in a title, and a
    control character or lone surrogate makes the file corrupt."""
    base = (prefix + re.sub(r"[\[\]:*?/\\'\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]", "_", name))[:31]
    title, i = base, 2
    while title.lower() in used:
        suffix = f" ({i})"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(title.lower())
    return title


def team_name(team: str | None) -> str:
    return team if team else NO_TEAM


def verdict(result: ReconcileResult, split_by_team: bool = False) -> Verdict:
    """The one line a CYP lead reads first: the result's own verdict (the terminal prints it too)."""
    counts = result.counts
    v = result.verdict
    if v is VerdictText.FIX:
        return Verdict(
            v.value, "status_bad",
            f"{counts.blocking_errors:,} error-level problem(s) must be corrected in the source system before the "
            "extract is submitted: see " + ("your team's 'Fix' sheet." if split_by_team
                                            else "the Exceptions sheet (filter by Team)."),
        )
    if v is VerdictText.EXPLAIN:
        return Verdict(
            v.value, "status_warn",
            f"{counts.discrepancies} measure(s) differ beyond tolerance: explain each one (Summary sheet) "
            "before signing off.",
        )
    if v is VerdictText.CHECK:
        reasons = list(result.warnings)
        if result.not_compared:
            reasons.append(f"Not compared with the published file: {len(result.not_compared)} measure(s) have no "
                           f"row for {result.provider} (check the ODS code and the file)")
        return Verdict(v.value, "status_warn", "No error and no discrepancy was found, but: " + "; ".join(reasons) + ".")
    return Verdict(
        v.value, "status_good",
        "No error-level record problem and no discrepancy beyond tolerance. Review any warnings, then sign off.",
    )


def fit_widths(lengths: Sequence[int], header: Sequence[str], caps: Sequence[int]) -> dict[int, float]:
    return {
        i + 1: float(min(max(n, len(h), 6) + 2, cap))
        for i, (n, h, cap) in enumerate(zip(lengths, header, caps, strict=True))
    }


def get_col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(n))


def wrapped_height(values: Sequence[Any], widths: Mapping[int, float], wrapped: Sequence[int]) -> float | None:
    """Row height for the wrapped cells of a row (None: one line is enough)."""
    lines = max((-(-len(str(values[i])) // max(int(widths[i + 1]) - 1, 1)) for i in wrapped), default=1)
    return 15.0 * lines if lines > 1 else None


def row_heights(values: Sequence[Sequence[Any]], widths: Mapping[int, float], wrapped: Sequence[int],
                header_row: int) -> dict[int, float]:
    """Heights of a table whose header is at ``header_row``: the header 18 pt, each data row tall
    enough for its wrapped cells."""
    heights: dict[int, float] = {header_row: 18}
    for i, v in enumerate(values):
        h = wrapped_height(v, widths, wrapped)
        if h is not None:
            heights[header_row + 1 + i] = h
    return heights


def wrap_cells(values: list[Any], wrapped: Sequence[int]) -> list[Any]:
    """Wrapped text in the ``wrapped`` columns; every other text cell top-aligned beside it."""
    return [Styled(v, "wrap" if i in wrapped else "top") if isinstance(v, str) and v else v
            for i, v in enumerate(values)]
