"""Issue 14 point 7: every run is listed (paged, saying what a window left out); a mistaken run is voided,
recorded and never deleted, and leaves trends and history; a signed-off run cannot be voided."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from recon.errors import UsageError
from recon.ledger import Ledger, list_runs, load_history, trend_frame
from recon.months import Month
from tests.ledger.test_ledger import T0, run
from tests.ledger.test_signoff import _sign, signed_run  # noqa: F401  (fixture)


def _three_months(path: Path) -> list[str]:
    """Runs of 2023-01 (old), 2024-08 and two of 2024-09 (the later one mistaken: 999)."""
    ids = ["old", "aug", "sep-good", "sep-bad"]
    with Ledger.open(path) as led:
        led.record_run(run("2023-01", run_id="old", finished=T0 - dt.timedelta(days=600)))
        led.record_run(run("2024-08", run_id="aug", values={"MHS95": 80.0}, finished=T0 - dt.timedelta(days=30)))
        led.record_run(run("2024-09", run_id="sep-good", values={"MHS95": 100.0}, finished=T0))
        led.record_run(run("2024-09", run_id="sep-bad", values={"MHS95": 999.0}, finished=T0 + dt.timedelta(hours=1)))
    return ids


def test_runs_are_all_listed_newest_first_and_paged(ledger_path: Path) -> None:
    _three_months(ledger_path)
    with Ledger.open(ledger_path, readonly=True) as led:
        every = list_runs(led)
        assert [r.run_id for r in every.runs] == ["sep-bad", "sep-good", "aug", "old"]  # 2023 not hidden
        assert every.left_out() is None and every.total == 4
        first = list_runs(led, limit=3)
        assert [r.run_id for r in first.runs] == ["sep-bad", "sep-good", "aug"] and first.pages == 2
        assert first.left_out() == "showing runs 1-3 of 4 (page 1 of 2); --page 2 for older runs"
        second = list_runs(led, limit=3, page=2)
        assert [r.run_id for r in second.runs] == ["old"]
        assert second.left_out() == "showing runs 4-4 of 4 (page 2 of 2)"
        window = list_runs(led, months=12)
        assert [r.run_id for r in window.runs] == ["sep-bad", "sep-good", "aug"]
        assert window.left_out() == "1 run(s) of months before 2023-10 not shown (drop --months to list them)"
        assert list_runs(led, page=3).left_out() == "page 3 is past the last page (1) of 4 run(s)"
        with pytest.raises(UsageError, match="--page"):
            list_runs(led, page=0)


def test_void_leaves_trends_and_history_but_stays_listed(ledger_path: Path, cli: Any) -> None:
    _three_months(ledger_path)
    res = cli("void", "sep-bad", "--reason", "ran on last month's extract", "--by", "analyst1")
    assert res.exit_code == 0, res.stderr
    assert "Run sep-bad voided by analyst1" in res.stdout
    with Ledger.open(ledger_path, readonly=True) as led:
        hist = load_history(led, measure_ids=["MHS95"])
        assert dict(zip(hist.frame["month"], hist.frame["value"], strict=True))["2024-09"] == 100.0
        trend = trend_frame(led, "RXX", Month.parse("2024-09"), ["MHS95"], months=2)
        assert trend["value"].to_list() == [80.0, 100.0]
        void = led.voids()["sep-bad"]
        assert (void["by"], void["reason"]) == ("analyst1", "ran on last month's extract") and void["at"]
    listed = json.loads(cli("history", "--runs", "--json").stdout)
    assert [r["run_id"] for r in listed["runs"]] == ["sep-bad", "sep-good", "aug", "old"]
    assert listed["runs"][0]["void"]["reason"] == "ran on last month's extract"
    assert listed["runs"][1]["void"] is None
    shown = cli("history", "--runs", "--limit", "2")
    assert "VOID" in shown.stdout and "--page 2 for older runs" in shown.stdout
    # voided once only; the record can be neither edited nor deleted; the run's rows are still there
    again = cli("void", "sep-bad", "--reason", "again")
    assert again.exit_code == 2 and "already voided by analyst1" in again.stderr
    with sqlite3.connect(ledger_path) as c:
        for sql in ("UPDATE run_voids SET reason = 'x'", "DELETE FROM run_voids"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                c.execute(sql)
        assert c.execute("SELECT COUNT(*) FROM runs WHERE run_id = 'sep-bad'").fetchone()[0] == 1


def test_bad_void_requests(ledger_path: Path, cli: Any) -> None:
    _three_months(ledger_path)
    res = cli("void", "nope", "--reason", "x")
    assert res.exit_code == 2 and "no run 'nope'" in res.stderr
    res = cli("void", "aug", "--reason", "  ")
    assert res.exit_code == 2 and "--reason must not be empty" in res.stderr
    assert cli("void", "aug").exit_code == 2  # --reason is required


def test_signed_run_cannot_be_voided(
        signed_run: dict[str, Path], ledger_path: Path, cli: Any) -> None:  # noqa: F811
    assert _sign(cli, signed_run["pack"]).exit_code == 0
    with Ledger.open(ledger_path, readonly=True) as led:
        (r,) = led.runs()
    res = cli("void", r.run_id, "--reason", "mistake")
    assert res.exit_code == 2 and "signed off and cannot be voided" in res.stderr
    with sqlite3.connect(ledger_path) as c, pytest.raises(sqlite3.IntegrityError, match="signed-off run"):
        c.execute("INSERT INTO run_voids (run_id, reason, by, at) VALUES (?, 'x', 'y', 'z')", (r.run_id,))
    assert cli("signoff", "verify").exit_code == 0


def test_voided_run_cannot_be_signed(signed_run: dict[str, Path], cli: Any) -> None:  # noqa: F811
    listed = json.loads(cli("history", "--runs", "--json").stdout)
    assert cli("void", listed["runs"][0]["run_id"], "--reason", "wrong extract").exit_code == 0
    res = _sign(cli, signed_run["pack"])
    assert res.exit_code == 2 and "a voided run cannot be signed off" in res.stderr


def test_dropped_void_trigger_is_reported_by_verify(
        signed_run: dict[str, Path], ledger_path: Path, cli: Any) -> None:  # noqa: F811
    assert _sign(cli, signed_run["pack"]).exit_code == 0
    with sqlite3.connect(ledger_path) as c:
        c.execute("DROP TRIGGER run_voids_no_delete")
    res = cli("signoff", "verify", "--json")
    assert res.exit_code == 1 and "run_voids_no_delete" in res.stdout


def test_rerun_with_the_same_figures_says_unchanged_since_the_signed_pack(
        signed_run: dict[str, Path], tmp_path: Path, cli: Any) -> None:  # noqa: F811
    """Issue 14 point 10: the fingerprint ignores run time, so a re-run can say nothing moved."""
    args = ("reconcile", "--month", "2024-09", "--epr", signed_run["epr"], "--pack", signed_run["pack"])
    before = cli(*args)
    assert before.exit_code == 0 and "unchanged since the signed pack" not in before.stdout  # nothing signed yet
    assert _sign(cli, signed_run["pack"]).exit_code == 0
    again = cli(*args)
    assert again.exit_code == 0, again.stderr
    assert "Figures unchanged since the signed pack" in again.stdout and "sign-off #1, approve" in again.stdout
