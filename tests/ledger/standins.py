"""Stand-ins for run_reconcile and write_pack so the orchestration is tested on its own.

The epr "extract" is a folder holding ``standin.json``: {"provider", "values": {id: value},
"exceptions": [ids], "discrepancy": bool}. The stand-in pack is a small JSON file carrying what
the real pack would show from the result (exception statuses, trend rows, options).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from recon.findings import Severity
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.pack.model import PackInfo
from recon.pipeline import Pipeline, library_pipeline
from recon.reconcile.model import Comparison, ComparisonStatus, ExceptionRecord, ReconcileResult


def write_epr(folder: Path, *, provider: str = "RXX", values: dict[str, float] | None = None,
              exceptions: list[str] | None = None, discrepancy: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"provider": provider, "values": values or {"MHS95": 120, "MHS32a": 40},
            "exceptions": exceptions if exceptions is not None else ["EXC-A", "EXC-B"], "discrepancy": discrepancy}
    (folder / "standin.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def fake_run_reconcile(month: Month, epr: Path, *, extract: Path | None = None, published: Path | None = None,
                       mapping: str | None = None, status: str | None = None, settings: Any = None,
                       progress: Any = None) -> ReconcileResult:
    if progress is not None:
        progress("load")  # as the real one reports its steps
    spec = json.loads((Path(epr) / "standin.json").read_text(encoding="utf-8"))
    provider = settings.ods if settings is not None and settings.ods else spec["provider"]
    values = tuple(MeasureValue(k, v) for k, v in spec["values"].items())
    local = MeasuresResult(provider, month, values)
    comparisons = tuple(
        Comparison(id=k, name=k, local=v, published=v + (50 if spec["discrepancy"] else 0),
                   status=ComparisonStatus.DISCREPANCY if spec["discrepancy"] else ComparisonStatus.CONSISTENT)
        for k, v in spec["values"].items()
    )
    exceptions = tuple(
        ExceptionRecord(exception_id=e, source="reconcile", severity=Severity.ERROR, team="T01",
                        table="MHS101Referral", key=f"REF-{i}", problem="missing in extract", action="resubmit")
        for i, e in enumerate(spec["exceptions"])
    )
    now = dt.datetime.now(dt.UTC)
    return ReconcileResult(provider=provider, month=month, started=now, finished=now, local=local,
                           comparisons=comparisons, exceptions=exceptions)


def fake_write_pack(result: ReconcileResult, path: Path, options: Any) -> PackInfo:
    payload = {
        "provider": result.provider, "month": str(result.month),
        "exceptions": {e.exception_id: e.status for e in result.exceptions},
        "trend": result.trend.to_dicts() if result.trend is not None else None,
        "identifiable": options.identifiable, "deadline": str(options.deadline),
        "split_by_team": options.split_by_team, "suppress_small_counts": options.suppress_small_counts,
        "extras": {k: str(v) for k, v in result.extras.items()},
    }
    data = json.dumps(payload, sort_keys=True).encode()
    Path(path).write_bytes(data)
    return PackInfo(Path(path), hashlib.sha256(data).hexdigest(), ("Cover",), len(result.exceptions))


def pipeline() -> Pipeline:
    """The library pipeline with the reconciliation and the pack writer replaced by stand-ins."""
    return dataclasses.replace(library_pipeline(), reconcile=fake_run_reconcile, write_pack=fake_write_pack)


def install(setattr_: Any) -> None:
    """Give the CLI the stand-in pipeline, with pytest's ``monkeypatch.setattr`` (or plain
    ``setattr`` in a subprocess)."""
    import recon.cli

    setattr_(recon.cli, "PIPELINE", pipeline())


if __name__ == "__main__":  # python -m tests.ledger.standins ARGS...: the CLI with stand-ins (fault tests)
    install(setattr)
    from recon.cli import app

    sys.argv[0] = "recon"
    app(args=sys.argv[1:], prog_name="recon")
