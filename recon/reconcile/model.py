"""Reconciliation results: the one object the console, JSON and Excel pack renderers all read."""

from __future__ import annotations

import datetime as dt
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
    tolerance: str = ""  # human text, e.g. "±5 or 2%"
    severity: Severity = Severity.ERROR
    explanation: str = ""  # one line, plain English: what the measure is / why it differs
    numerator: int | None = None
    denominator: int | None = None
    # Added for issue 4: the verdict against each source; ``status`` is the published one if any.
    published_status: ComparisonStatus | None = None
    extract_status: ComparisonStatus | None = None

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
    def exit_code(self) -> int:
        errors = any(f.severity is Severity.ERROR for f in self.findings)
        rejected = self.data_quality is not None and self.data_quality.has_rejections
        return 1 if self.discrepancies or errors or rejected else 0
