"""Kill loops (issue 15 class 5): a run killed or stopped at its worst moments leaves a state the
next run recovers, never a pack the ledger does not know, a truncated file or stray temporary files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from recon.months import Month
from recon.runctl import TEST_PAUSE_AFTER_ENV, TEST_PAUSE_ENV, lock_path
from tests.ledger.standins import write_epr

ROOT = Path(__file__).resolve().parents[2]


def _start(epr: Path, pack: Path, ledger: Path, hook: str, tmp: Path, pause: float = 60) -> subprocess.Popen[str]:
    env = {**os.environ, hook: str(pause), "RECON_LEDGER": str(ledger), "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.standins", "reconcile", "--month", "2024-09", "--epr", str(epr),
         "--pack", str(pack), "--provider", "RXX", "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait(proc: subprocess.Popen[str], ready: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            time.sleep(0.1)
            return
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.returncode} {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the run never reached the hook")


def _runs(ledger: Path) -> int:
    with sqlite3.connect(ledger) as c:
        n = int(c.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    c.close()
    return n


@pytest.fixture
def first(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> dict[str, Any]:
    epr = write_epr(tmp_path / "epr", values={"MHS95": 120})
    pack = tmp_path / "packs" / "pack.xlsx"
    assert cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--provider", "RXX",
               "--quiet").exit_code == 0
    write_epr(epr, values={"MHS95": 999})
    return {"epr": epr, "pack": pack, "before": pack.read_bytes(), "tmp": tmp_path / "tmp"}


def test_killed_between_moving_the_pack_and_recording_the_run(first: dict[str, Any], ledger_path: Path,
                                                              cli: Any) -> None:
    pack = first["pack"]
    proc = _start(first["epr"], pack, ledger_path, TEST_PAUSE_AFTER_ENV, first["tmp"])
    _wait(proc, lambda: b"999" in pack.read_bytes())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert b"999" in pack.read_bytes() and _runs(ledger_path) == 1  # a pack the ledger does not know ...
    write_epr(first["epr"], values={"MHS95": 120})
    res = cli("reconcile", "--month", "2024-09", "--epr", first["epr"], "--pack", pack, "--provider", "RXX")
    assert res.exit_code == 0, res.stderr
    assert "the previous one was put back" in res.stderr  # ... is undone and said so by the next run
    assert b"999" not in pack.read_bytes() and _runs(ledger_path) == 2
    assert [p.name for p in pack.parent.iterdir() if p.name != pack.name] == []


def test_sigterm_is_handled_like_ctrl_c(first: dict[str, Any], ledger_path: Path) -> None:
    pack = first["pack"]
    proc = _start(first["epr"], pack, ledger_path, TEST_PAUSE_ENV, first["tmp"])
    _wait(proc, lambda: any(".recon-tmp" in p.name for p in pack.parent.iterdir()))
    assert any(p.name.startswith("recon-run-") for p in first["tmp"].iterdir())  # its private temp folder
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert pack.read_bytes() == first["before"] and _runs(ledger_path) == 1
    assert [p.name for p in pack.parent.iterdir()] == [pack.name]  # no temporary pack left
    assert list(first["tmp"].iterdir()) == []  # nor anything in the temporary folder


def test_a_ledger_replaced_during_the_run_is_not_written(first: dict[str, Any], ledger_path: Path) -> None:
    pack = first["pack"]
    proc = _start(first["epr"], pack, ledger_path, TEST_PAUSE_ENV, first["tmp"], pause=2)
    _wait(proc, lambda: any(".recon-tmp" in p.name for p in pack.parent.iterdir()))
    for suffix in ("-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    ledger_path.unlink()
    ledger_path.write_bytes(b"a replacement someone put here")
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 2 and "replaced, moved or deleted" in err, err
    assert ledger_path.read_bytes() == b"a replacement someone put here"
    assert pack.read_bytes() == first["before"]


def test_a_lock_file_that_is_a_symlink_never_truncates_its_target(first: dict[str, Any], cli: Any) -> None:
    pack = first["pack"]
    lock = lock_path("RXX", Month(2024, 9))
    lock.unlink()  # left by the first run
    lock.symlink_to(pack)
    res = cli("reconcile", "--month", "2024-09", "--epr", first["epr"], "--provider", "RXX")
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    assert pack.read_bytes() == first["before"]


def test_temporary_files_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    from recon.runctl import stage_file

    dead, live = 2 ** 22 + 12345, os.getppid()  # a pid no process has; a pid that is alive
    names = [f".pack.xlsx.{dead}.recon-tmp.xlsx", f"..pack.xlsx.{dead}.recon-tmp.x1y2.xlsx.tmp",
             f".pack.xlsx.{dead}.recon-old.xlsx", f".pack.xlsx.{live}.recon-tmp.xlsx", "pack.xlsx"]
    for name in names:
        (tmp_path / name).write_text("x", encoding="utf-8")
    staged = stage_file(tmp_path / "pack.xlsx")
    staged.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f".pack.xlsx.{live}.recon-tmp.xlsx", "pack.xlsx"])
