"""Read-only is not corruption (issue 15 class 8): each condition its own message; history and
verify still run when the ledger sits somewhere SQLite cannot open it for writing.

The suite runs as root (permissions do not bind root), so the conditions are simulated where the
operating system reports them: os.access, os.geteuid and SQLite's own refusal."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from recon.errors import LedgerError
from recon.ledger import Ledger
from tests.ledger.test_ledger import run


@pytest.fixture
def ledger(ledger_path: Path) -> Path:
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-09", values={"MHS95": 120}))
    return ledger_path


def _deny(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    real = os.access
    denied = {str(p) for p in paths}
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) in denied else real(p, mode, **kw))


def test_a_read_only_file_says_so(ledger: Path, monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    _deny(monkeypatch, ledger)
    with pytest.raises(LedgerError, match="is a read-only file") as info:
        Ledger.open(ledger)
    assert "corrupt" not in str(info.value) and info.value.exit_code == 2
    res = cli("accept", "E1", "--reason", "x")
    assert res.exit_code == 2 and "read-only file" in res.stderr and "corrupt" not in res.stderr


def test_a_foreign_owned_file_names_its_owner(ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _deny(monkeypatch, ledger)
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    with pytest.raises(LedgerError, match=r"belongs to user root and you \(uid 4242\) may not write it"):
        Ledger.open(ledger)


def test_a_read_only_folder_says_so(ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _deny(monkeypatch, ledger.parent)
    with pytest.raises(LedgerError, match=r"the folder of ledger .* is read-only"):
        Ledger.open(ledger)


def test_history_and_verify_run_from_a_copy_when_sqlite_cannot_open_in_place(
        ledger: Path, monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    real = sqlite3.connect

    def refuse_in_place(database: str, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if str(ledger.parent) in database:  # what SQLite says in a read-only folder with WAL files
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", refuse_in_place)
    res = cli("history", "--json")
    assert res.exit_code == 0, res.stderr
    assert '"MHS95"' in res.stdout
    res = cli("signoff", "verify")
    assert res.exit_code == 3 and "holds no sign-off" in res.stdout  # ran; nothing to verify
    made: list[Path] = []
    import tempfile

    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kw: made.append(Path(real_mkdtemp(**kw))) or str(made[-1]))
    assert cli("history", "--runs").exit_code == 0
    assert made and not made[0].exists()  # the private copy is removed when the ledger is closed
