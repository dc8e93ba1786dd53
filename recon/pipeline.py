"""The library functions a recorded run calls, gathered in one value that is passed into the jobs.

:mod:`recon.jobs` orchestrates (configuration, input checks, lock, ledger, outputs); what it runs
is a :class:`Pipeline`. The command line passes :func:`library_pipeline`; tests of the
orchestration pass stand-ins. Nothing is swapped behind the jobs' back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recon.config import ProviderSettings, WaitsSettings
from recon.measures.engine import run_measures
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.pack.model import PackInfo, PackOptions
from recon.reconcile.model import ReconcileResult
from recon.snomed import SnomedRelease
from recon.validation import ValidationReport, validate_extract


class Reconcile(Protocol):
    def __call__(
        self, month: Month, epr: Path, *, extract: Path | None = None, published: Path | None = None,
        mapping: str | None = None, status: str | None = None, settings: ProviderSettings = ...,
        progress: Callable[[str], None] | None = None, snomed: SnomedRelease | None = None,
        waits: WaitsSettings = ...,
    ) -> ReconcileResult: ...


class ComputeMeasures(Protocol):
    def __call__(self, epr: Path, month: Month, *, mapping: str | None, settings: ProviderSettings,
                 snomed: SnomedRelease | None = None) -> MeasuresResult: ...


class Validate(Protocol):
    def __call__(self, epr: Path, month: Month, *, mapping: str | None,
                 settings: ProviderSettings) -> ValidationReport: ...


class WritePack(Protocol):
    def __call__(self, result: ReconcileResult, path: Path, options: PackOptions | None = None) -> PackInfo: ...


@dataclass(frozen=True)
class Pipeline:
    """What each job runs: the reconciliation, the measures, the validation, the pack writer."""

    reconcile: Reconcile
    measures: ComputeMeasures
    validate: Validate
    write_pack: WritePack


def run_reconcile(month: Month, epr: Path, **options: Any) -> ReconcileResult:
    """The reconciliation, imported when a reconcile runs (its comparison pulls in numpy)."""
    from recon.reconcile.run import run_reconcile as run

    return run(month, epr, **options)


def write_pack(result: ReconcileResult, path: Path, options: PackOptions | None = None) -> PackInfo:
    """The pack writer, imported when a pack is written (openpyxl costs every other run 0.3 s)."""
    from recon.pack.save import write_pack as write

    return write(result, path, options)


def library_pipeline() -> Pipeline:
    """recon's own functions."""
    return Pipeline(reconcile=run_reconcile, measures=run_measures, validate=validate_extract, write_pack=write_pack)
