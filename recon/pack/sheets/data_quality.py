"""The Data quality sheet: predicted SDCS rejections first, then NHS England's VODIM per item with
recon's DQMI estimate, the national rules recon could not decide, and recon's own findings."""

from __future__ import annotations

import re
from collections import Counter

from recon.findings import Severity
from recon.pack.layout import Grid, Sheet, Styled
from recon.pack.model import PackOptions
from recon.pack.sheets.common import SEVERITY_RANK, hdr
from recon.quality.outcome import DataQuality
from recon.reconcile.model import ReconcileResult
from recon.tables import TABLES


def _required(table: str, column: str) -> bool:
    t = TABLES.get(table)
    return bool(t is not None and any(c.name == column and c.required for c in t.columns))


def problem_text(table: str, column: str, invalid: int, missing: int, flag: object = None) -> str:
    """Why an item is a problem, or "" when it is not. A ``problem`` flag the quality rules give
    wins; otherwise invalid values are a problem, and blanks only where the item is required
    (an optional item left blank, e.g. a discharge date of an open referral, is not)."""
    if flag is not None:
        return (flag if isinstance(flag, str) else "yes") if flag else ""
    reasons = []
    if invalid:
        reasons.append(f"{invalid:,} invalid")
    if missing and _required(table, column):
        reasons.append(f"{missing:,} blank (required)")
    return "; ".join(reasons)

_ID = re.compile(r"\[M\d{6}\]")


def dqmi_text(dq: DataQuality) -> str:
    """"DQMI estimate 96.2 (96.2-97.0), goal 95: met" (always labelled as recon's estimate)."""
    d = dq.vodim.dqmi
    if d.value is None:
        return "no data item to score"
    met = "met" if d.meets_target else "not met"
    return f"{d.value:.1f} (range {d.low:.1f}-{d.high:.1f}); goal {d.target:g} or more: {met}"


def _keys(keys: tuple[tuple[str, str | None], ...]) -> str:
    return ", ".join(f"{_ID.sub('', k)}={v or ''}" if k.startswith("[") else k for k, v in keys)


def _sdcs(g: Grid, dq: DataQuality) -> int:
    p = dq.prediction
    g.add(Styled(f"Predicted SDCS outcome ({p.rules_name}): what national validation would reject", "section"))
    if dq.cut:
        g.add(Styled(f"Judged on {p.month}'s submission cut from the local extract (quality.md 1.4).", "note"))
    header = g.add(*(hdr(h) for h in ("Code", "Level", "Table", "Records", "National message", "Basis",
                                      "First records")))
    codes = p.by_code()
    if not codes:
        g.add(Styled("No national rule recon can decide fires.", "note"))
    for c in codes:
        g.add(c["rule_id"], Styled(c["error_level"], "bad" if c["rejects"] else "warn"), c["table"],
              Styled(c["records"], "count"), Styled(_ID.sub("", c["message"]), "wrap"), ", ".join(c["basis"]),
              Styled("; ".join(_keys(k) for k in c["first_keys"]), "wrap"))
    g.blank()
    g.add(Styled("What SDCS would load", "section"))
    g.add(*(hdr(h) for h in ("Table", "Rows", "Rejected", "With their parent", "Loaded")))
    for t in p.tables:
        if t.rows:
            g.add(t.table, *(Styled(x, "count") for x in (t.rows, t.rejected, t.rejected_by_cascade, t.loaded)))
    return header


def _vodim_problem(invalid: int, missing: int) -> Styled | None:
    """Red only for a problem: invalid values, or blanks NHS England counts as missing (VODIM already
    leaves out fields that are legitimately blank, e.g. the discharge date of an open referral)."""
    reasons = [f"{n:,} {what}" for n, what in ((invalid, "invalid"), (missing, "missing")) if n]
    return Styled("; ".join(reasons), "bad_wrap") if reasons else None


def _vodim(g: Grid, dq: DataQuality) -> tuple[int, int, int]:
    g.add(Styled("DQMI estimate (recon), not NHS England's DQMI", "section"))
    g.add(Styled("Estimate", "label"), dqmi_text(dq))
    g.add(Styled(
        "Mean item score over the items below with records; low uses no default threshold, high accepts every "
        "default (NHS England's item list and thresholds are not published).", "note"))
    g.blank()
    g.add(Styled("VODIM per data item (NHS England's definitions, on the records SDCS would load)", "section"))
    header = g.add(*(hdr(h) for h in ("Measure", "Data item", "Table", "Records", "Valid", "Other", "Default",
                                      "Invalid", "Missing", "Score", "Basis", "Problem")))
    first = header + 1
    for m in dq.vodim.measures:
        score = m.score()
        g.add(m.measure, m.name, m.table,
              *(Styled(x, "count") for x in (m.denominator, m.valid, m.other, m.default, m.invalid, m.missing)),
              None if score is None else Styled(round(score, 1), "dec"), m.basis,
              _vodim_problem(m.invalid, m.missing))
    skipped = Counter(n.reason for n in dq.prediction.not_evaluated)
    g.blank()
    g.add(Styled("National rules recon could not decide", "section"))
    g.add(*(hdr(h) for h in ("Reason", "Rules")))
    for reason, n in sorted(skipped.items()):
        g.add(reason, Styled(n, "count"))
    return header, first, max(first, first + len(dq.vodim.measures) - 1)


def data_quality_sheet(result: ReconcileResult, opts: PackOptions) -> Sheet:
    g = Grid()
    g.add(Styled("Data quality of the local extract: predicted SDCS rejections, VODIM and DQMI estimate", "title"))
    g.add(Styled("National rules of the MHSDS v6.0 Technical Output Specification as recon reads them; "
                 "'recon rules CODE' explains each.", "subtitle"))
    dq = result.data_quality
    heights: dict[int, int] = {}
    if dq is None:
        g.add(Styled("No data quality assessment in this run.", "note"))
    else:
        heights[_sdcs(g, dq)] = 18
        g.blank()
        vh, _first, _last = _vodim(g, dq)
        heights[vh] = 30
    g.blank()
    g.add(Styled("recon's own validation findings by rule", "section"))
    fh = g.add(*(hdr(h) for h in ("Table", "Data item", "Records", "Severity", "Rule")))
    counts = Counter((f.rule_id, f.severity, f.table, f.column or "") for f in result.findings)
    if not counts:
        g.add(Styled("No validation findings.", "note"))
    for (rule, sev, table, column), n in sorted(
        counts.items(), key=lambda kv: (SEVERITY_RANK.get(kv[0][1], 9), kv[0][0], kv[0][2], kv[0][3]),
    ):
        g.add(table, column, Styled(n, "count"),
              Styled(sev.value, "bad" if sev is Severity.ERROR else "warn" if sev is Severity.WARNING else "text"),
              rule)
    heights[fh] = 18
    return Sheet(
        "Data quality", g.rows,
        widths={1: 14, 2: 34, 3: 10, 4: 10, 5: 48, 6: 14, 7: 40, 8: 10, 9: 10, 10: 10, 11: 14},
        heights=heights, freeze="A4", print_title_rows="1:2",
    )
