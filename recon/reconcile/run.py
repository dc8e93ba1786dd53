"""One reconciliation run: load, validate, measure, compare, explain; the result every renderer reads.

Order matters for the exit codes: every input is opened and checked (missing -> exit 3,
malformed or mismatched -> exit 2) before anything is computed, so a run that cannot finish
fails early and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.config import ProviderSettings, WaitsSettings
from recon.errors import InputError, MissingInputError
from recon.findings import Finding, Severity
from recon.measures.engine import compute_measures
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.published import PublishedFile, PublishedSelection
from recon.quality.outcome import DataQuality, assess
from recon.reconcile.compare import compare_measures
from recon.reconcile.explain import Explained, explain_records
from recon.reconcile.model import (
    Comparison,
    ComparisonStatus,
    ExceptionRecord,
    InputInfo,
    PublishedCheck,
    PublishedState,
    ReconcileResult,
    RecordClass,
    RecordDifference,
)
from recon.reconcile.records import compare_records
from recon.snomed import SnomedRelease
from recon.sources import Extract, file_sha256, load_extract
from recon.sources.extract import member_sha256
from recon.sources.mapping import load_mapping
from recon.validation import validate_tables

#: What a team does about an outcomes pair that is missing, by reason (completeness_unpaired).
OUTCOME_ACTIONS = {
    "no score": "Record the tool at the start and end of care (or add the missing scores to the EPR).",
    "score out of range or not numeric": "Correct the score: it must be a number inside the tool's range.",
    "no score on or after Contact1": "Scores predate the first contact; record a score from the first contact on.",
    "only one score": "Record a second score before discharge.",
    "second score before Contact2": "Record the closing score on or after the second contact.",
    "fewer than two qualifying activities": "Check the activity: the referral has fewer than two qualifying contacts.",
}

RECORD_SEVERITY = {
    RecordClass.MISSING_IN_EXTRACT: Severity.ERROR,
    RecordClass.MISSING_LOCALLY: Severity.ERROR,
    RecordClass.FIELD_DIFFERS: Severity.ERROR,
    RecordClass.DUPLICATE_KEY: Severity.ERROR,
    RecordClass.ORPHAN: Severity.ERROR,
    RecordClass.BARREN: Severity.WARNING,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _short_hash(*parts: str | None) -> str:
    return hashlib.sha256("|".join(p or "" for p in parts).encode("utf-8")).hexdigest()[:12]


def _activity_in(extract: Extract, month: Month) -> int:
    contacts = extract.tables["MHS201CareContact"].filter(pl.col("CareContDate").is_between(month.start, month.end))
    indirect = extract.tables["MHS204IndirectActivity"].filter(
        pl.col("IndirectActDate").is_between(month.start, month.end)
    )
    return contacts.height + indirect.height


def check_same_source(local: Extract, extract: Extract, month: Month, extract_path: Path) -> None:
    """The extract must be for the same provider and hold activity in M (else exit 2)."""
    lp, ep = local.provider, extract.provider
    if lp and ep and lp.upper() != ep.upper():
        raise InputError(
            f"the extract is for provider {ep} but the local extract is for {lp} (OrgIDProv); "
            "give the extract of the same provider", file=str(extract_path), rule="REC001",
        )
    if _activity_in(extract, month) == 0:
        raise InputError(
            f"the extract holds no care contact or indirect activity dated in {month}: "
            "is it the extract for another month?", file=str(extract_path), rule="REC002",
        )


def _validate(extract: Extract, month: Month, settings: ProviderSettings) -> tuple[Finding, ...]:
    return tuple(validate_tables(extract, month, settings))


def _quality(extract: Extract, month: Month, settings: ProviderSettings) -> tuple[DataQuality | None, str | None]:
    return assess(extract, month, provider=settings.ods), None


def _measures(extract: Extract, month: Month, settings: ProviderSettings,
              snomed: SnomedRelease | None = None) -> MeasuresResult:
    return compute_measures(extract, month, settings, snomed=snomed)


def _inputs(role: str, extract: Extract) -> list[InputInfo]:
    return [
        InputInfo(role=role, name=f.name, size=f.size, sha256=f.sha256, rows=f.rows, table=f.table)
        for f in extract.files
    ]


def _mapping_input(mapping: str | None) -> list[InputInfo]:
    if mapping is None:
        return []
    path = load_mapping(mapping).path
    return [InputInfo("mapping", str(path), path.stat().st_size, file_sha256(path))]


def _published_sha256(f: PublishedFile) -> str:
    """A zipped publication is hashed by its member (the CSV read), like extract members."""
    prefix = f"{f.path.name}:"
    if f.path.suffix.lower() == ".zip" and f.name.startswith(prefix):
        return member_sha256(f.path, f.name[len(prefix):])
    return file_sha256(f.path)


def finding_exceptions(findings: Iterable[Finding]) -> list[ExceptionRecord]:
    """Every validation finding that names a record (a record to fix) as an exception."""
    out = []
    for f in findings:
        if f.key is None or f.severity is Severity.INFO:
            continue
        col = f" {f.column}" if f.column else ""
        out.append(ExceptionRecord(
            exception_id=_short_hash("validation", f.rule_id, f.table, f.key, f.column),
            source="validation", severity=f.severity, team=f.team, table=f.table, key=f.key,
            problem=f"[{f.rule_id}]{col}: {f.message}",
            action=f"Correct{col or ' the record'} in the EPR so the next extract carries it right.",
        ))
    return out


def record_exceptions(records: Iterable[RecordDifference]) -> list[ExceptionRecord]:
    out = []
    for r in records:
        moves = f" (moves {', '.join(r.measures)})" if r.measures else ""
        out.append(ExceptionRecord(
            exception_id=r.exception_id, source="reconcile", severity=RECORD_SEVERITY[r.record_class],
            team=r.team, table=r.table, key=r.key,
            problem=f"{r.record_class.value}: {r.message}{moves}", action=r.action,
        ))
    return out


def outcome_exceptions(local: MeasuresResult) -> list[ExceptionRecord]:
    """Cohort referrals without a CGAS or GBO pair (completeness_unpaired), one per referral and tool."""
    frame = local.details.get("completeness_unpaired")
    if frame is None or frame.height == 0 or "ServiceRequestId" not in frame.columns:
        return []
    team = next((c for c in ("UniqCareProfTeamLocalID", "team", "Team") if c in frame.columns), None)
    tool = "tool" if "tool" in frame.columns else None
    reason = "reason" if "reason" in frame.columns else None
    cols = [pl.col("ServiceRequestId").cast(pl.String).alias("key"),
            (pl.col(team).cast(pl.String) if team else pl.lit(None, pl.String)).alias("team"),
            (pl.col(tool).cast(pl.String) if tool else pl.lit("outcome tool")).alias("tool"),
            (pl.col(reason).cast(pl.String) if reason else pl.lit(None, pl.String)).alias("reason")]
    out = []
    for r in frame.select(cols).iter_rows(named=True):
        why = r["reason"] or "no pair"
        out.append(ExceptionRecord(
            exception_id=_short_hash("outcomes", r["tool"], "MHS101Referral", r["key"]),
            source="outcomes", severity=Severity.WARNING, team=r["team"], table="MHS101Referral", key=r["key"],
            problem=f"no paired {r['tool']}: {why}",
            action=OUTCOME_ACTIONS.get(why, "Record the paired scores for this referral."),
        ))
    return out


def _dedupe(exceptions: Iterable[ExceptionRecord]) -> tuple[ExceptionRecord, ...]:
    seen: dict[str, ExceptionRecord] = {}
    for e in exceptions:
        seen.setdefault(e.exception_id, e)
    return tuple(seen.values())


def _add_explanations(comparisons: tuple[Comparison, ...], explained: Explained | None) -> tuple[Comparison, ...]:
    if explained is None:
        return comparisons
    out = []
    for c in comparisons:
        e = explained.measures.get(c.id)
        out.append(replace(c, explanation=f"{c.explanation}. Extract vs local: {e.text}.") if e else c)
    return tuple(out)


def run_reconcile(
    month: Month,
    epr: Path,
    *,
    extract: Path | None = None,
    published: Path | None = None,
    mapping: str | None = None,
    status: str | None = None,
    settings: ProviderSettings = ProviderSettings(),
    progress: Callable[[str], None] | None = None,
    snomed: SnomedRelease | None = None,
    waits: WaitsSettings = WaitsSettings(),
) -> ReconcileResult:
    """Reconcile one provider's month: local measures against the pre-deadline extract (record by
    record, each difference tied to the measures it moves) and against the published file.

    ``progress`` (optional) is told the name of each step as it starts. ``snomed`` is the SNOMED
    CT release for the waits clock stops; ``waits`` the local waiting-list settings.
    """
    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    started = _now()
    for role, p in (("local extract", epr), ("extract", extract), ("published file", published)):
        if p is not None and not Path(p).exists():
            raise MissingInputError(f"{p}: the {role} does not exist")
    step("read local extract")
    local_ex = load_extract(epr, mapping, keep_text=True)
    if extract is not None:
        step("read pre-deadline extract")
    ext = load_extract(extract) if extract is not None else None
    selection = None
    unpublished: list[str] = []
    check = PublishedCheck()
    if published is not None:
        from recon.errors import MonthNotPublishedError
        from recon.published import select_published

        try:
            selection = select_published(Path(published), provider=None, month=month, status=status)
        except MonthNotPublishedError as exc:
            # Normal before the deadline: NHS England publishes months later.
            unpublished.append(f"{month} is not published yet ({exc.message}); compared with what else was given")
            check = PublishedCheck(PublishedState.NOT_COMPARED, f"{month} is not published yet in {published}")
    if ext is not None and extract is not None:
        check_same_source(local_ex, ext, month, Path(extract))

    provider = (settings.ods or local_ex.provider or "UNKNOWN").upper()
    notes: list[str] = [*unpublished]
    step("validate")
    findings = _validate(local_ex, month, settings)
    quality, note = _quality(local_ex, month, settings)
    local_ex = replace(local_ex, text=MappingProxyType({}))  # the text is read: free it
    if note:
        notes.append(note)
    step("measures")
    local_m = _measures(local_ex, month, settings, snomed)
    ext_m = _measures(ext, month, settings, snomed) if ext is not None else None
    if selection is not None:
        check = published_check(selection, provider, month, {v.id for v in local_m.provider_level})
        if check.state is PublishedState.NOT_COMPARED:
            selection = None  # nothing of this provider to compare: no per-measure "missing_published"

    records: tuple[RecordDifference, ...] = ()
    explained: Explained | None = None
    if ext is not None and ext_m is not None:
        step("compare records")
        rc = compare_records(local_ex.tables, ext.tables, as_at=month.end,
                             barren_after_days=waits.barren_after_days)
        explained = explain_records(local_m, ext_m, rc, month=month, local_tables=local_ex.tables,
                                    extract_tables=ext.tables)
        records = explained.records
    cs = compare_measures(local_m, published=None if selection is None else selection.rows, provider=provider,
                          extract=ext_m)
    comparisons = _add_explanations(cs.comparisons, explained)
    if selection is not None:
        notes += list(selection.notes)
        notes.append(f"published figures: STATUS {selection.status} for {month}")
    notes += list(cs.notes)
    warnings = list(local_m.notes)
    if check.state is PublishedState.NOT_COMPARED:
        warnings.append(f"published figures not compared: {check.reason}")

    validation = finding_exceptions(findings)
    flagged = {(e.table, e.key) for e in validation}
    # a duplicate or orphan validation already names is one record to fix, not two
    reconcile = [e for e, r in zip(record_exceptions(records), records, strict=True)
                 if not (r.record_class in (RecordClass.DUPLICATE_KEY, RecordClass.ORPHAN) and (r.table, r.key) in flagged)]
    exceptions = _dedupe([*validation, *reconcile, *outcome_exceptions(local_m)])
    inputs = [*_inputs("epr", local_ex), *_mapping_input(mapping)]
    if ext is not None:
        inputs += _inputs("extract", ext)
    if selection is not None:
        inputs += [InputInfo("published", f.name, f.size, _published_sha256(f), rows=f.rows)
                   for f in selection.files]
    from recon.waits_list import FAMILY_DETAIL, waiting_list

    step("waiting list")
    waiting = waiting_list(local_ex.tables, month, no_contact_days=waits.no_contact_days,
                           family=local_m.details.get(FAMILY_DETAIL))
    return ReconcileResult(
        provider=provider,
        month=month,
        started=started,
        finished=_now(),
        local=local_m,
        comparisons=comparisons,
        records=records,
        findings=findings,
        exceptions=exceptions,
        inputs=tuple(inputs),
        extract=ext_m,
        published_status=None if selection is None else selection.status,
        notes=tuple(notes),
        data_quality=quality,
        waiting=waiting,
        published_check=check,
        warnings=tuple(warnings),
    )


def published_check(
    selection: PublishedSelection, provider: str, month: Month, measure_ids: Iterable[str],
) -> PublishedCheck:
    """Compared, or not compared because the file has no Provider row of this provider for any
    measure recon computes (the provider and the file named, as ``recon published --provider`` does)."""
    from recon.reconcile.compare import provider_rows

    rows = provider_rows(selection.rows, provider)
    ours = rows.filter(pl.col("measure_id").is_in(sorted(set(measure_ids))))
    if ours.height:
        return PublishedCheck(PublishedState.COMPARED, status=selection.status)
    files = ", ".join(f.name for f in selection.files) or "the published file"
    if rows.height == 0:
        reason = (f"provider {provider} has no Provider rows for {month} in {files} (check the ODS code: "
                  "PRIMARY_LEVEL of the BREAKDOWN=Provider rows)")
    else:
        carried = sorted(set(rows.get_column("measure_id").to_list()))
        shown = ", ".join(carried[:6]) + (", ..." if len(carried) > 6 else "")
        reason = (f"{files} has {rows.height:,} Provider rows for {provider} in {month}, but none for a measure "
                  f"recon computes (it carries {shown})")
    return PublishedCheck(PublishedState.NOT_COMPARED, reason, status=selection.status)


def reconcile_json(result: ReconcileResult) -> dict[str, Any]:
    """contract.md's reconcile object: comparisons and records, plus provider, month, exit code,
    exceptions and notes."""
    by_class: dict[str, int] = {}
    for r in result.records:
        by_class[r.record_class.value] = by_class.get(r.record_class.value, 0) + 1
    statuses: dict[str, int] = {}
    for c in result.comparisons:  # overall verdicts, as the console and the pack count them
        statuses[c.overall_status.value] = statuses.get(c.overall_status.value, 0) + 1
    return {
        "provider": result.provider,
        "month": str(result.month),
        "exit_code": result.exit_code,
        "published_status": result.published_status,
        "published_comparison": result.published_check.to_json_dict(),
        "warnings": list(result.warnings),
        "counts": result.counts.to_json_dict(),
        "summary": {
            "comparisons": statuses,
            "records": by_class,
            "findings": {s.value: sum(f.severity is s for f in result.findings) for s in Severity},
            "exceptions": len(result.exceptions),
        },
        "comparisons": [c.to_json_dict() for c in result.comparisons],
        "records": [r.to_json_dict() for r in result.records],
        "exceptions": [
            {"exception_id": e.exception_id, "source": e.source, "severity": e.severity.value, "team": e.team,
             "table": e.table, "key": e.key, "problem": e.problem, "action": e.action, "status": e.status}
            for e in result.exceptions
        ],
        "notes": list(result.notes),
        "inputs": [
            {"role": i.role, "name": i.name, "size": i.size, "sha256": i.sha256, "rows": i.rows, "table": i.table}
            for i in result.inputs
        ],
    }


def status_counts(comparisons: Iterable[Comparison]) -> Mapping[ComparisonStatus, int]:
    out: dict[ComparisonStatus, int] = {}
    for c in comparisons:
        out[c.status] = out.get(c.status, 0) + 1
    return out


__all__ = [
    "check_same_source",
    "finding_exceptions",
    "outcome_exceptions",
    "reconcile_json",
    "record_exceptions",
    "run_reconcile",
    "status_counts",
]
