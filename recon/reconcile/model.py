"""Reconciliation results: the one object the console, JSON and Excel pack renderers all read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import polars as pl

from recon.findings import Finding, Severity
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.quality.outcome import DataQuality


class ComparisonStatus(StrEnum):
    CONSISTENT = "consistent"
    WITHIN_TOLERANCE = "within_tolerance"
    DISCREPANCY = "discrepancy"
    MISSING_LOCAL = "missing_local"
    MISSING_PUBLISHED = "missing_published"
    # the published file(s) hold no row at all for the provider: nothing was compared (issue 12)
    NOT_COMPARED = "not_compared"


class RecordClass(StrEnum):
    MISSING_IN_EXTRACT = "missing_in_extract"
    MISSING_LOCALLY = "missing_locally"
    FIELD_DIFFERS = "field_differs"
    DUPLICATE_KEY = "duplicate_key"
    ORPHAN = "orphan"
    BARREN = "barren"


_STATUS_RANK = {
    ComparisonStatus.CONSISTENT: 0,
    ComparisonStatus.MISSING_PUBLISHED: 1,
    ComparisonStatus.NOT_COMPARED: 1,
    ComparisonStatus.MISSING_LOCAL: 2,
    ComparisonStatus.WITHIN_TOLERANCE: 3,
    ComparisonStatus.DISCREPANCY: 4,
}


@dataclass(frozen=True)
class Comparison:
    """One measure compared across sources. ``published_text`` keeps '*' for suppressed values."""

    id: str
    name: str
    local: float | int | None
    status: ComparisonStatus
    published: float | int | None = None
    published_text: str | None = None
    extract: float | int | None = None
    difference: float | None = None  # published - local (or extract - local when no published)
    tolerance: str = ""  # human text, e.g. "±5 or 2%, whichever is larger"
    severity: Severity = Severity.ERROR
    explanation: str = ""  # one line, plain English: what the measure is / why it differs
    numerator: int | None = None
    denominator: int | None = None
    # Added for issue 4: the verdict against each source; ``status`` is the published one if any.
    published_status: ComparisonStatus | None = None
    extract_status: ComparisonStatus | None = None
    # Issue 14: each source's own difference, so a status is always explained by its own figure.
    published_difference: float | None = None  # published - local
    extract_difference: float | None = None  # extract - local

    @property
    def overall_status(self) -> ComparisonStatus:
        """The verdict a reader needs: the worse of the published and the extract comparison.

        ``status`` (the contract's JSON field) is the published verdict when a published figure
        was compared; a measure that agrees with NHS England but not with the pre-deadline
        extract must still show as a discrepancy on screen and in the pack.
        """
        verdicts = [s for s in (self.status, self.extract_status) if s is not None]
        return max(verdicts, key=_STATUS_RANK.__getitem__)

    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "name": self.name, "local": self.local, "published": self.published,
            "published_text": self.published_text, "status": self.status.value,
            "difference": self.difference, "tolerance": self.tolerance,
            "severity": self.severity.value, "explanation": self.explanation,
        }
        if self.extract is not None or self.extract_status is not None:
            d["extract"] = self.extract
        if self.numerator is not None or self.denominator is not None:
            d["numerator"] = self.numerator
            d["denominator"] = self.denominator
        if self.published_status is not None:
            d["published_status"] = self.published_status.value
        if self.extract_status is not None:
            d["extract_status"] = self.extract_status.value
        if self.published_status is not None:
            d["published_difference"] = self.published_difference
        if self.extract_status is not None:
            d["extract_difference"] = self.extract_difference
        d["overall_status"] = self.overall_status.value
        return d


@dataclass(frozen=True)
class FieldChange:
    column: str
    local: str | None  # never an identifying value: masked upstream
    extract: str | None


@dataclass(frozen=True)
class RecordDifference:
    """A record that differs between the local EPR extract and the pre-deadline extract."""

    exception_id: str  # stable across runs: hash of (class, table, key, columns)
    table: str
    key: str
    record_class: RecordClass
    team: str | None = None
    fields: tuple[FieldChange, ...] = ()
    message: str = ""
    action: str = ""
    measures: tuple[str, ...] = ()  # measure ids this record moves

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "exception_id": self.exception_id, "table": self.table, "key": self.key,
            "class": self.record_class.value, "team": self.team,
            "fields": [{"column": f.column, "local": f.local, "extract": f.extract} for f in self.fields],
            "message": self.message, "action": self.action, "measures": list(self.measures),
        }


OUTCOMES_SOURCE = "outcomes"


@dataclass(frozen=True)
class ExceptionRecord:
    """One record a team must fix, whatever found it: validation, reconciliation or outcomes."""

    exception_id: str
    source: str  # "validation" | "reconcile" | "outcomes"
    severity: Severity
    team: str | None
    table: str
    key: str | None
    problem: str
    action: str
    status: str = "new"  # "new" | "recurring" | "accepted" (from the ledger)


@dataclass(frozen=True)
class InputInfo:
    role: str  # "epr" | "extract" | "published" | "config" | "mapping"
    name: str
    size: int
    sha256: str
    rows: int | None = None
    table: str | None = None


class PublishedState(StrEnum):
    """Whether the published comparison happened: a comparison that did not happen is never 'consistent'."""

    NOT_GIVEN = "not_given"
    COMPARED = "compared"
    NOT_COMPARED = "not_compared"


@dataclass(frozen=True)
class PublishedCheck:
    """The published comparison as a whole: compared, or not compared and why (provider and file named)."""

    state: PublishedState = PublishedState.NOT_GIVEN
    reason: str = ""
    status: str | None = None  # STATUS of the rows compared (Performance / Provisional / Final)

    @property
    def text(self) -> str:
        """One line for the terminal and the Cover."""
        if self.state is PublishedState.COMPARED:
            return f"compared ({self.status})" if self.status else "compared"
        if self.state is PublishedState.NOT_COMPARED:
            return f"NOT COMPARED: {self.reason}"
        return "none given"

    def to_json_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "reason": self.reason or None, "status": self.status}


@dataclass(frozen=True)
class Tally:
    """Exceptions counted the one way every view counts them (see :class:`Counts`)."""

    records_to_fix: int
    errors: int
    warnings: int
    outcome_gaps: int
    accepted: int


def tally(exceptions: Iterable[ExceptionRecord]) -> Tally:
    """Open validation/reconciliation exceptions are records to fix; open outcome gaps apart; accepted apart."""
    to_fix = errors = warnings = gaps = accepted = 0
    for e in exceptions:
        if e.status == "accepted":
            accepted += 1
        elif e.source == OUTCOMES_SOURCE:
            gaps += 1
        else:
            to_fix += 1
            errors += e.severity is Severity.ERROR
            warnings += e.severity is Severity.WARNING
    return Tally(to_fix, errors, warnings, gaps, accepted)


@dataclass(frozen=True)
class Counts:
    """The one set of counts the terminal, the JSON and the pack show (and the exit code reads).

    ``records_to_fix`` are validation and reconciliation exceptions not accepted; outcome pairs
    missing (outcome completeness) are counted apart in ``outcome_gaps``: they are not errors.
    ``extract_errors`` are error-level findings about the extract as a whole (no record key).
    """

    discrepancies: int
    records_to_fix: int
    errors: int
    warnings: int
    extract_errors: int
    outcome_gaps: int
    accepted: int
    validation_errors: int = 0  # of ``errors``, those validation found (the exit code's "data findings")
    predicted_rejections: int = 0  # records SDCS is predicted to drop (national rules, with the cascade)

    @property
    def blocking_errors(self) -> int:
        return self.errors + self.extract_errors + self.predicted_rejections

    def to_json_dict(self) -> dict[str, int]:
        return {
            "discrepancies": self.discrepancies, "records_to_fix": self.records_to_fix, "errors": self.errors,
            "warnings": self.warnings, "extract_errors": self.extract_errors, "outcome_gaps": self.outcome_gaps,
            "accepted": self.accepted, "validation_errors": self.validation_errors,
            "predicted_rejections": self.predicted_rejections,
        }


class VerdictText(StrEnum):
    """The one headline the terminal and the pack's Cover both show."""

    FIX = "Fix before submitting"
    EXPLAIN = "Discrepancies to explain"
    CHECK = "Check before submitting"
    FIT = "Fit to submit"


@dataclass(frozen=True)
class ReconcileResult:
    provider: str
    month: Month
    started: dt.datetime
    finished: dt.datetime
    local: MeasuresResult
    comparisons: tuple[Comparison, ...]
    records: tuple[RecordDifference, ...] = ()
    findings: tuple[Finding, ...] = ()  # validation findings of the local extract
    exceptions: tuple[ExceptionRecord, ...] = ()
    inputs: tuple[InputInfo, ...] = ()
    extract: MeasuresResult | None = None
    published_status: str | None = None  # Performance / Provisional / Final
    notes: tuple[str, ...] = ()  # e.g. unknown published measure ids, status chosen
    # Predicted SDCS outcome, VODIM and DQMI estimate of the local extract (recon.quality).
    data_quality: DataQuality | None = None
    # Last months of the main measures (ledger or published files): columns month (YYYY-MM),
    # measure_id, value, source ("ledger" | "published" | "this run").
    trend: pl.DataFrame | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Everyone waiting at month end (recon.waits_list.WAITING_SCHEMA), longest first; None when
    # not computed (e.g. results built by hand).
    waiting: pl.DataFrame | None = None
    published_check: PublishedCheck = PublishedCheck()
    # Warnings every renderer shows first, e.g. no activity dated in the month in the local extract.
    warnings: tuple[str, ...] = ()

    @property
    def discrepancies(self) -> tuple[Comparison, ...]:
        return tuple(
            c for c in self.comparisons
            if (c.status is ComparisonStatus.DISCREPANCY or c.extract_status is ComparisonStatus.DISCREPANCY)
            and c.severity is Severity.ERROR
        )

    @property
    def not_compared(self) -> tuple[Comparison, ...]:
        """Measures the published file(s) could not be compared for (no row for the provider)."""
        return tuple(c for c in self.comparisons if c.status is ComparisonStatus.NOT_COMPARED)

    @property
    def counts(self) -> Counts:
        """Counted once, from the exceptions (with their ledger status) and the keyless findings."""
        keyed = [f for f in self.findings if f.key is not None]
        # A result built without exceptions (a library caller's own) counts its keyed findings.
        t = tally(self.exceptions) if self.exceptions else Tally(
            records_to_fix=sum(f.severity is not Severity.INFO for f in keyed),
            errors=sum(f.severity is Severity.ERROR for f in keyed),
            warnings=sum(f.severity is Severity.WARNING for f in keyed), outcome_gaps=0, accepted=0)
        validation_errors = (
            sum(e.source == "validation" and e.severity is Severity.ERROR and e.status != "accepted"
                for e in self.exceptions) if self.exceptions else t.errors
        )
        return Counts(
            discrepancies=len(self.discrepancies), records_to_fix=t.records_to_fix, errors=t.errors,
            warnings=t.warnings, extract_errors=sum(f.key is None and f.severity is Severity.ERROR for f in self.findings),
            outcome_gaps=t.outcome_gaps, accepted=t.accepted, validation_errors=validation_errors,
            predicted_rejections=(sum(t.rejected for t in self.data_quality.prediction.tables)
                                  if self.data_quality is not None else 0),
        )

    @property
    def verdict(self) -> VerdictText:
        c = self.counts
        if c.blocking_errors:
            return VerdictText.FIX
        if c.discrepancies:
            return VerdictText.EXPLAIN
        return VerdictText.CHECK if self.warnings or self.not_compared else VerdictText.FIT

    @property
    def exit_code(self) -> int:
        """contract.md: 1 for discrepancies beyond tolerance or error-level data findings (validation's,
        not accepted) and records SDCS is predicted to reject; record differences with the extract are records to fix, told by the verdict."""
        c = self.counts
        return 1 if c.discrepancies or c.validation_errors or c.extract_errors or c.predicted_rejections else 0
