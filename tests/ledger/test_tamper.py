"""Tamper scripts against the sign-off trail (issue 15 class 1): whoever can write the ledger
drops the triggers, edits, re-hashes the whole chain with recon's own function and restores the
triggers; or deletes the last sign-off; or edits the run a sign-off depends on. verify catches each."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from recon.ledger.receipts import journal_path, receipt_path
from recon.signoff import GENESIS, record_hash
from tests.ledger.standins import write_epr

TRIGGERS = ("signoffs_no_update", "signoffs_no_delete", "runs_signed_no_update", "runs_signed_no_delete")


@pytest.fixture
def signed(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> dict[str, Any]:
    epr = write_epr(tmp_path / "epr")
    pack = tmp_path / "out" / "pack-2024-09.xlsx"
    assert cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--quiet").exit_code == 0
    key = tmp_path / "lead.key"
    key.write_text("k" * 32, encoding="utf-8")
    heads = []
    for name in ("Dr Ada Lead", "Dr Bo Lead", "Dr Cy Lead"):
        res = cli("signoff", "--pack", pack, "--decision", "approve", "--name", name, "--role", "CYP lead",
                  "--key-file", key, "--json")
        assert res.exit_code == 0, res.stderr
        heads.append(json.loads(res.stdout)["hash"])
    assert cli("signoff", "verify", "--key-file", key).exit_code == 0
    return {"pack": pack, "key": key, "heads": heads, "ledger": ledger_path}


def _forge(ledger: Path, sql: str | None = None, *, rechain: bool = True) -> None:
    """The issue's attack: triggers off, edit, every hash recomputed with recon's function, triggers back."""
    with sqlite3.connect(ledger) as c:
        saved = {r[0]: r[1] for r in c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
        for name in TRIGGERS:
            c.execute(f"DROP TRIGGER {name}")
        if sql:
            c.execute(sql)
        if rechain:
            cols = [d[0] for d in c.execute("SELECT * FROM signoffs").description]
            prev = GENESIS
            for row in [dict(zip(cols, r, strict=True)) for r in c.execute("SELECT * FROM signoffs ORDER BY seq")]:
                row["prev_hash"] = prev
                row["hash"] = record_hash(row)
                c.execute("UPDATE signoffs SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, row["hash"], row["seq"]))
                prev = row["hash"]
        for name in TRIGGERS:
            c.execute(saved[name])
    c.close()


def _problems(cli: Any, *args: Any) -> tuple[int, set[str]]:
    res = cli("signoff", "verify", "--json", *args)
    return res.exit_code, {p["kind"] for p in json.loads(res.stdout)["problems"]}


def test_rewritten_and_rehashed_chain_is_caught_by_the_receipts(signed: dict[str, Any], cli: Any) -> None:
    _forge(signed["ledger"], "UPDATE signoffs SET decision = 'reject', name = 'Someone Else' WHERE seq = 2")
    code, kinds = _problems(cli)
    assert code == 1 and "chain" not in kinds  # the chain itself is consistent again ...
    assert {"receipt", "journal"} <= kinds  # ... but the copies outside the ledger disagree


def test_deleting_the_last_sign_off_is_caught(signed: dict[str, Any], cli: Any) -> None:
    _forge(signed["ledger"], "DELETE FROM signoffs WHERE seq = 3", rechain=False)
    code, kinds = _problems(cli)
    assert code == 1 and {"receipt", "journal"} <= kinds


def test_rewriting_ledger_receipt_and_journal_together_is_caught_by_the_key(signed: dict[str, Any], cli: Any) -> None:
    """Someone who can write every file, but does not hold the lead's key."""
    _forge(signed["ledger"], "UPDATE signoffs SET name = 'Someone Else' WHERE seq = 1")
    with sqlite3.connect(signed["ledger"]) as c:
        cols = [d[0] for d in c.execute("SELECT * FROM signoffs").description]
        rows = [dict(zip(cols, r, strict=True)) for r in c.execute("SELECT * FROM signoffs ORDER BY seq")]
    c.close()
    receipt_path(signed["pack"]).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    journal_path(signed["ledger"]).write_text(
        "".join(json.dumps({k: r[k] for k in ("seq", "hash", "at", "pack_path", "pack_sha256")}) + "\n" for r in rows),
        encoding="utf-8")
    assert _problems(cli) == (0, set())  # without the key nothing outside the files can tell ...
    code, kinds = _problems(cli, "--key-file", signed["key"])
    assert code == 1 and kinds == {"mac"}  # ... the key can
    code, kinds = _problems(cli, "--head", signed["heads"][-1])  # and so can a kept chain head
    assert code == 1 and kinds == {"head"}


def test_editing_the_run_a_sign_off_depends_on_is_refused_then_caught(signed: dict[str, Any], cli: Any) -> None:
    with sqlite3.connect(signed["ledger"]) as c, pytest.raises(sqlite3.DatabaseError, match="signed-off run"):
        c.execute("UPDATE runs SET pack_fingerprint = 'forged'")
    c.close()
    with sqlite3.connect(signed["ledger"]) as c, pytest.raises(sqlite3.DatabaseError, match="signed-off run"):
        c.execute("UPDATE measure_values SET value = 1626")
    c.close()
    _forge(signed["ledger"], "UPDATE runs SET pack_fingerprint = 'forged'", rechain=False)
    code, kinds = _problems(cli)
    assert code == 1 and kinds == {"run_changed"}


def test_an_edited_receipt_line_is_reported(signed: dict[str, Any], cli: Any) -> None:
    path = receipt_path(signed["pack"])
    path.write_text(path.read_text(encoding="utf-8").replace("Dr Bo Lead", "Dr Bo Fake"), encoding="utf-8")
    code, kinds = _problems(cli)
    assert code == 1 and kinds == {"receipt"}


def test_a_receipt_that_is_a_symlink_is_never_written_through(signed: dict[str, Any], tmp_path: Path,
                                                               cli: Any) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    path = receipt_path(signed["pack"])
    path.unlink()
    path.symlink_to(victim)
    res = cli("signoff", "--pack", signed["pack"], "--decision", "approve", "--name", "X", "--role", "Y")
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    assert victim.read_text(encoding="utf-8") == "precious"
    assert _problems(cli)[0] == 1  # and the chain still has three sign-offs, none added
