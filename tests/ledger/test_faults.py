"""Scheduled-run faults: a killed run, two runs at once, missing or stale inputs, quiet and logged runs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from recon.ledger import Ledger
from recon.months import Month
from recon.runctl import TEST_PAUSE_ENV, RunLock, lock_path
from tests.ledger.standins import write_epr

ROOT = Path(__file__).resolve().parents[2]


def _runs(ledger: Path) -> int:
    with sqlite3.connect(ledger) as c:
        n = int(c.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    c.close()
    return n


def _start_paused(epr: Path, pack: Path, ledger: Path, pause: float = 60) -> subprocess.Popen[str]:
    env = {**os.environ, TEST_PAUSE_ENV: str(pause), "RECON_LEDGER": str(ledger), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.standins", "reconcile", "--month", "2024-09", "--epr", str(epr),
         "--pack", str(pack), "--provider", "RXX", "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_temp(pack: Path, proc: subprocess.Popen[str], timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        temps = [p for p in pack.parent.iterdir() if p.name.startswith(f".{pack.name}.") and ".recon-tmp" in p.name]
        if temps and temps[0].stat().st_size > 0:
            return temps[0]
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.returncode} {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the run never reached the pack")


def test_killed_while_writing_the_pack_leaves_previous_pack_and_no_half_run(
    tmp_path: Path, ledger_path: Path, fakes: None, cli: Any
) -> None:
    epr = write_epr(tmp_path / "epr", values={"MHS95": 120})
    pack = tmp_path / "packs" / "pack.xlsx"
    assert cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--provider", "RXX", "--quiet").exit_code == 0
    before = pack.read_bytes()
    assert _runs(ledger_path) == 1

    write_epr(epr, values={"MHS95": 999})  # the second run would write a different pack
    proc = _start_paused(epr, pack, ledger_path)
    temp = _wait_for_temp(pack, proc)
    assert b"999" not in pack.read_bytes() and temp.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert pack.read_bytes() == before  # previous pack intact
    assert _runs(ledger_path) == 1  # no half run
    with Ledger.open(ledger_path) as led:
        assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert led.conn.execute("SELECT COUNT(*) FROM measure_values").fetchone()[0] == 2 * 1  # MHS95 local+published
    # the next run succeeds, and clears the dead run's temporary file
    res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--provider", "RXX", "--quiet")
    assert res.exit_code == 0, res.stderr
    assert b"999" in pack.read_bytes() and not temp.exists()
    assert _runs(ledger_path) == 2
    assert sorted(p.name for p in pack.parent.iterdir()) == ["pack.xlsx"]


def test_second_run_for_same_provider_and_month_gets_the_lock_message(
    tmp_path: Path, ledger_path: Path, fakes: None, cli: Any
) -> None:
    epr = write_epr(tmp_path / "epr")
    pack = tmp_path / "pack.xlsx"
    proc = _start_paused(epr, pack, ledger_path)  # a real second process, holding the lock mid-run
    try:
        _wait_for_temp(pack, proc)
        res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--provider", "RXX")
        assert res.exit_code == 2
        assert "another recon run for RXX 2024-09 is in progress (pid" in res.stderr
        assert "Traceback" not in res.stderr
        assert [r.exit_code for r in Ledger.open(ledger_path, readonly=True).runs()] == [2]  # the refused run
        # another month, or another provider, is not blocked
        assert cli("reconcile", "--month", "2024-08", "--epr", epr, "--provider", "RXX", "--quiet").exit_code == 0
        assert cli("reconcile", "--month", "2024-09", "--epr", epr, "--provider", "RYY", "--quiet").exit_code == 0
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert not pack.exists()
    # the lock dies with its holder
    assert cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--provider", "RXX", "--quiet").exit_code == 0


def test_lock_in_process(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> None:
    epr = write_epr(tmp_path / "epr")
    with RunLock(lock_path("RXX", Month(2024, 9)), "RXX 2024-09"):
        res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--provider", "rxx")
        assert res.exit_code == 2 and "another recon run for" in res.stderr
        # the provider as resolved from the data, with another ledger: the same lock (issue 15 class 5)
        res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--ledger", tmp_path / "other.sqlite")
        assert res.exit_code == 2 and "another recon run for RXX 2024-09" in res.stderr


def _config(tmp_path: Path, **ages: float) -> Path:
    cfg = tmp_path / "recon.toml"
    age_lines = "".join(f"{k} = {v}\n" for k, v in ages.items())
    cfg.write_text(
        "[provider]\nods = 'RXX'\n"
        "[paths]\nepr = 'data/epr-{yyyymm}'\npack = 'packs/{yyyy}/pack-{month}.xlsx'\n"
        "ledger = 'state/ledger.sqlite'\nlog_file = 'logs/recon-{month}.log'\n"
        f"[inputs.max_age_days]\n{age_lines}"
        "[deadline]\nworking_days_after_month_end = 5\n"
        "[pack]\nsplit_by_team = true\nsuppress_small_counts = true\n",
        encoding="utf-8",
    )
    return cfg


def test_scheduled_run_from_config_quiet_and_logged(tmp_path: Path, fakes: None, cli: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_LEDGER", raising=False)
    cfg = _config(tmp_path, epr=2)
    prev = Month.parse("previous")
    write_epr(tmp_path / "data" / f"epr-{prev.year}{prev.month:02d}", provider="RXX")
    res = cli("reconcile", "--config", cfg, "--month", "previous", "--quiet")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""  # quiet and clean: nothing at all
    pack = tmp_path / "packs" / str(prev.year) / f"pack-{prev}.xlsx"
    shown = json.loads(pack.read_text())
    assert shown["split_by_team"] is True and shown["suppress_small_counts"] is True and shown["identifiable"] is False
    assert shown["deadline"] != "None"  # the cover gets the 5th working day after month end
    log = (tmp_path / "logs" / f"recon-{prev}.log").read_text()
    assert "reconcile " + str(prev) + " finished: exit 0" in log and "sha256" in log
    with Ledger.open(tmp_path / "state" / "ledger.sqlite") as led:
        (r,) = led.runs()
        assert (r.provider, r.month, r.exit_code) == ("RXX", str(prev), 0)
        roles = {f.role for f in led.run_inputs(r.run_id)}
        assert roles == {"epr", "config"}


def test_discrepancies_warn_on_stderr_even_when_quiet(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> None:
    epr = write_epr(tmp_path / "epr", discrepancy=True)
    log = tmp_path / "run.log"
    res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--quiet", "--log-file", log)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert "WARNING" in res.stderr and "2 discrepancies beyond tolerance" in res.stderr
    assert "2 discrepancies" in log.read_text()


def test_missing_input_exits_3_and_leaves_outputs(tmp_path: Path, fakes: None, cli: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_LEDGER", raising=False)
    cfg = _config(tmp_path)
    res = cli("reconcile", "--config", cfg, "--month", "2024-09", "--quiet")
    assert res.exit_code == 3
    assert "expected epr input for 2024-09 is missing" in res.stderr and "epr-202409" in res.stderr
    assert not (tmp_path / "packs").exists()
    assert "error (exit 3)" in (tmp_path / "logs" / "recon-2024-09.log").read_text()
    # the failed run is in the ledger (no figures), so monitoring can ask 'did last night's run fail?'
    res = cli("history", "--runs", "--json", "--ledger", tmp_path / "state" / "ledger.sqlite")
    assert res.exit_code == 0, res.stderr
    (r,) = json.loads(res.stdout)["runs"]
    assert (r["command"], r["month"], r["exit_code"], r["provider"], r["pack_sha256"]) == ("reconcile", "2024-09", 3, "RXX", None)
    assert cli("history", "--ledger", tmp_path / "state" / "ledger.sqlite", "--json").stdout.count('"rows": []') == 1


def test_stale_input_exits_3_and_leaves_previous_pack(tmp_path: Path, fakes: None, cli: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_LEDGER", raising=False)
    cfg = _config(tmp_path, epr=2)
    epr = write_epr(tmp_path / "data" / "epr-202409")
    assert cli("reconcile", "--config", cfg, "--month", "2024-09", "--quiet").exit_code == 0
    pack = tmp_path / "packs" / "2024" / "pack-2024-09.xlsx"
    before = pack.read_bytes()
    old = time.time() - 3 * 86400
    for p in epr.iterdir():
        os.utime(p, (old, old))
    res = cli("reconcile", "--config", cfg, "--month", "2024-09", "--quiet")
    assert res.exit_code == 3 and "is 3.0 days old; the configuration allows 2" in res.stderr
    assert pack.read_bytes() == before
    with Ledger.open(tmp_path / "state" / "ledger.sqlite") as led:
        assert [(r.exit_code, r.pack_sha256 is None) for r in led.runs()] == [(0, False), (3, True)]
    # a flag overrides the configured path, and the flag's input is checked the same way
    res = cli("reconcile", "--config", cfg, "--month", "2024-09", "--epr", tmp_path / "nowhere", "--quiet")
    assert res.exit_code == 3 and "nowhere" in res.stderr


def test_exception_memory_reaches_the_pack(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> None:
    aug = write_epr(tmp_path / "aug", exceptions=["EXC-A"], values={"MHS95": 90})
    sep = write_epr(tmp_path / "sep", exceptions=["EXC-A", "EXC-B", "EXC-C"], values={"MHS95": 100})
    pack = tmp_path / "pack.xlsx"
    assert cli("reconcile", "--month", "2024-08", "--epr", aug, "--quiet").exit_code == 0
    res = cli("accept", "EXC-C", "--reason", "x")
    assert res.exit_code == 2 and "no exception 'EXC-C'" in res.stderr
    assert cli("reconcile", "--month", "2024-09", "--epr", sep, "--pack", pack, "--quiet").exit_code == 0
    assert json.loads(pack.read_text())["exceptions"] == {"EXC-A": "recurring", "EXC-B": "new", "EXC-C": "new"}
    res = cli("accept", "EXC-C", "--reason", "known: team T01 closed referral late", "--by", "Dr A Lead")
    assert res.exit_code == 0, res.stderr
    assert "marked accepted by Dr A Lead" in res.stdout
    assert cli("reconcile", "--month", "2024-09", "--epr", sep, "--pack", pack, "--quiet").exit_code == 0
    shown = json.loads(pack.read_text())
    assert shown["exceptions"] == {"EXC-A": "recurring", "EXC-B": "new", "EXC-C": "accepted"}
    trend = {(r["month"], r["source"]): r["value"] for r in shown["trend"] if r["measure_id"] == "MHS95"}
    assert trend == {("2024-08", "ledger"): 90.0, ("2024-09", "this run"): 100.0}
    with Ledger.open(ledger_path) as led:
        assert [(h["status"], h["by"]) for h in led.exception_history("EXC-C")][-1] == ("accepted", "Dr A Lead")


def test_json_file_output_and_no_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: None, cli: Any) -> None:
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "should-not-exist.sqlite"))
    epr = write_epr(tmp_path / "epr")
    out = tmp_path / "out.json"
    res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--json-file", out, "--json", "--no-ledger")
    assert res.exit_code == 0, res.stderr
    assert json.loads(out.read_text()) == json.loads(res.stdout)
    assert {c["id"] for c in json.loads(res.stdout)["comparisons"]} == {"MHS95", "MHS32a"}
    assert not (tmp_path / "should-not-exist.sqlite").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epr", "out.json"]
