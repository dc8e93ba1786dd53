"""Ledger growth (issue 15 class 10): a large run is stored compactly; prune never touches signed runs."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from recon.ledger import ExceptionRow, InputFile, Ledger, RunRecord, ValueRow
from recon.months import Month
from tests.ledger.standins import write_epr

T0 = dt.datetime(2024, 10, 5, 6, 0, tzinfo=dt.UTC)


def _large_run(month: str, n_exceptions: int, finished: dt.datetime) -> RunRecord:
    """The shape of a 400,000-person run: ~50,000 exceptions (12-hex ids), ~560 figures, 12 inputs."""
    return RunRecord(
        run_id=uuid.uuid4().hex, command="reconcile", provider="RXX", month=Month.parse(month),
        started=finished, finished=finished, exit_code=1, recon_version="0.1.0", rules_version="rules-x",
        user="cron",
        inputs=tuple(InputFile("epr", "/data/epr", f"/data/epr/MHS{i:03d}.parquet", 10 ** 8, "ab" * 32)
                     for i in range(12)),
        values=tuple(ValueRow(f"MHS{i % 40}", "local", float(i), "Team" if i >= 40 else None, f"T{i:02d}")
                     for i in range(560)),
        exceptions=tuple(ExceptionRow(uuid.uuid4().hex[:12], "new", "validation", "error", "T01",
                                      "MHS204IndirectActivity", f"SR{i:08d}|2024-02-27|12:15:00",
                                      "[VAL002]: Duplicate record key") for i in range(n_exceptions)),
    )


def _size(path: Path) -> int:
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return path.stat().st_size


def test_a_large_run_adds_under_2_mb_and_a_rerun_far_less(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        led.record_run(_large_run("2024-08", 10, T0))
    empty = _size(ledger_path)
    first = _large_run("2024-09", 50_000, T0)
    with Ledger.open(ledger_path) as led:
        led.record_run(first)
    grown = _size(ledger_path) - empty
    assert grown < 2_000_000, grown  # was 19.5 MB before the compact exception memory
    rerun = RunRecord(**{**first.__dict__, "run_id": uuid.uuid4().hex})  # the daily cron, same exceptions
    with Ledger.open(ledger_path) as led:
        led.record_run(rerun)
        assert led.exception_statuses("RXX", Month(2024, 10), [first.exceptions[0].exception_id]) == {
            first.exceptions[0].exception_id: "recurring"}
    assert _size(ledger_path) - empty - grown < 150_000


def test_prune_keeps_signed_runs_and_recent_months(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> None:
    packs = {}
    for month in ("2024-06", "2024-07", "2024-08", "2024-09"):
        epr = write_epr(tmp_path / month)
        packs[month] = tmp_path / "out" / f"pack-{month}.xlsx"
        assert cli("reconcile", "--month", month, "--epr", epr, "--pack", packs[month], "--quiet").exit_code == 0
    assert cli("signoff", "--pack", packs["2024-06"], "--decision", "approve", "--name", "A", "--role", "B").exit_code == 0
    res = cli("ledger", "prune", "--keep-months", "2", "--json")
    assert res.exit_code == 0, res.stderr
    report = json.loads(res.stdout)
    assert (report["runs_removed"], report["signed_kept"], report["cutoff"]) == (1, 1, "2024-08")
    with Ledger.open(ledger_path) as led:
        assert sorted(r.month for r in led.runs()) == ["2024-06", "2024-08", "2024-09"]
    assert cli("signoff", "verify").exit_code == 0  # the signed run and its sign-off are intact
    assert cli("ledger", "prune", "--keep-months", "0").exit_code == 2
