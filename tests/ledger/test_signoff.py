"""Sign-off: bound to the pack and input hashes, append-only, hash-chained; verify finds each tampering."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from recon.ledger import Ledger
from recon.signoff import GENESIS, record_hash, signoffs
from tests.ledger.standins import write_epr


@pytest.fixture
def signed_run(tmp_path: Path, ledger_path: Path, fakes: None, cli: Any) -> dict[str, Path]:
    epr = write_epr(tmp_path / "epr")
    (epr / "MHS101Referral.csv").write_text("ServiceRequestId\nR1\n", encoding="utf-8")
    pack = tmp_path / "out" / "pack-2024-09.xlsx"
    res = cli("reconcile", "--month", "2024-09", "--epr", epr, "--pack", pack, "--quiet")
    assert res.exit_code == 0, res.stderr
    return {"epr": epr, "pack": pack}


def _sign(cli: Any, pack: Path, *extra: str) -> Any:
    return cli("signoff", "--pack", pack, "--decision", "approve", "--name", "Dr Ada Lead", "--role", "CYP lead", *extra)


def test_sign_off_is_bound_to_pack_and_inputs_and_verifies_clean(signed_run: dict[str, Path], ledger_path: Path,
                                                                 cli: Any) -> None:
    res = _sign(cli, signed_run["pack"], "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    import hashlib

    assert doc["pack_sha256"] == hashlib.sha256(signed_run["pack"].read_bytes()).hexdigest()
    assert doc["decision"] == "approve" and doc["name"] == "Dr Ada Lead" and doc["prev_hash"] == GENESIS
    bound = {Path(f["path"]).name: f["sha256"] for f in doc["inputs"]}
    assert bound["standin.json"] == hashlib.sha256((signed_run["epr"] / "standin.json").read_bytes()).hexdigest()
    assert "MHS101Referral.csv" in bound
    res = cli("signoff", "--pack", signed_run["pack"], "--decision", "caveats", "--name", "B", "--role", "Analyst",
              "--caveat", "MHS32a low: EPR outage 3-5 Sept", "--caveat", "team T06 late")
    assert res.exit_code == 0, res.stderr
    assert "caveat: team T06 late" in res.stdout
    with Ledger.open(ledger_path) as led:
        first, second = signoffs(led)
    assert second.prev_hash == first.hash and second.caveats == ("MHS32a low: EPR outage 3-5 Sept", "team T06 late")
    res = cli("signoff", "verify")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "2 sign-off(s) checked, chain of 2 intact" in res.stdout
    res = cli("signoff", "verify", "--pack", signed_run["pack"], "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True


def test_bad_sign_off_requests(signed_run: dict[str, Path], tmp_path: Path, cli: Any) -> None:
    res = cli("signoff", "--pack", signed_run["pack"], "--decision", "caveats", "--name", "A", "--role", "B")
    assert res.exit_code == 2 and "needs at least one caveat" in res.stderr
    res = cli("signoff", "--pack", signed_run["pack"], "--decision", "maybe", "--name", "A", "--role", "B")
    assert res.exit_code == 2 and all(w in res.stderr for w in ("'maybe'", "'approve'", "'caveats'", "'reject'"))
    res = cli("signoff", "--pack", signed_run["pack"])
    assert res.exit_code == 2 and "needs a decision, a name and a role" in res.stderr
    other = tmp_path / "other.xlsx"
    other.write_bytes(b"not written by recon")
    res = _sign(cli, other)
    assert res.exit_code == 2 and "is not a recon sign-off pack" in res.stderr
    res = cli("signoff", "verify", "--pack", other)
    assert res.exit_code == 1 and "no sign-off recorded for this pack" in res.stdout


def test_pack_altered_after_sign_off(signed_run: dict[str, Path], cli: Any) -> None:
    pack = signed_run["pack"]
    assert _sign(cli, pack).exit_code == 0
    st = pack.stat()
    data = bytearray(pack.read_bytes())
    data[10] = ord("X") if data[10] != ord("X") else ord("Y")  # same size ...
    pack.write_bytes(bytes(data))
    os.utime(pack, ns=(st.st_atime_ns, st.st_mtime_ns))  # ... and same mtime: only the content tells
    res = cli("signoff", "verify", "--pack", pack)
    assert res.exit_code == 1
    assert "[pack_altered]" in res.stdout and "altered after sign-off by Dr Ada Lead" in res.stdout
    # an altered pack cannot be signed off either
    res = _sign(cli, pack)
    assert res.exit_code == 2 and "is not a recon sign-off pack" in res.stderr


def test_inputs_changed_or_added_after_sign_off(signed_run: dict[str, Path], cli: Any) -> None:
    assert _sign(cli, signed_run["pack"]).exit_code == 0
    (signed_run["epr"] / "MHS101Referral.csv").write_text("ServiceRequestId\nR2\n", encoding="utf-8")
    res = cli("signoff", "verify", "--json")
    assert res.exit_code == 1
    kinds = [p["kind"] for p in json.loads(res.stdout)["problems"]]
    assert kinds == ["input_changed"]
    (signed_run["epr"] / "MHS201CareContact.csv").write_text("x\n", encoding="utf-8")
    (signed_run["epr"] / "standin.json").unlink()
    res = cli("signoff", "verify", "--json")
    kinds = sorted(p["kind"] for p in json.loads(res.stdout)["problems"])
    assert kinds == ["input_added", "input_changed", "input_missing"]


def test_sign_offs_cannot_be_updated_or_deleted(signed_run: dict[str, Path], ledger_path: Path, cli: Any) -> None:
    assert _sign(cli, signed_run["pack"]).exit_code == 0
    with sqlite3.connect(ledger_path) as c:
        for sql in ("UPDATE signoffs SET decision = 'reject'", "DELETE FROM signoffs"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                c.execute(sql)
    c.close()


def _bypass(ledger_path: Path, sql: str) -> None:
    """Edit history the way a determined person would: drop the triggers, edit, put them back."""
    with sqlite3.connect(ledger_path) as c:
        c.execute("DROP TRIGGER signoffs_no_update")
        c.execute("DROP TRIGGER signoffs_no_delete")
        c.execute(sql)
        c.execute("CREATE TRIGGER signoffs_no_update BEFORE UPDATE ON signoffs BEGIN SELECT RAISE(ABORT, 'x'); END")
        c.execute("CREATE TRIGGER signoffs_no_delete BEFORE DELETE ON signoffs BEGIN SELECT RAISE(ABORT, 'x'); END")
    c.close()


def test_edited_row_breaks_the_chain(signed_run: dict[str, Path], ledger_path: Path, cli: Any) -> None:
    for _ in range(3):
        assert _sign(cli, signed_run["pack"]).exit_code == 0
    assert cli("signoff", "verify").exit_code == 0
    _bypass(ledger_path, "UPDATE signoffs SET decision = 'reject' WHERE seq = 2")
    res = cli("signoff", "verify", "--json")
    assert res.exit_code == 1
    problems = json.loads(res.stdout)["problems"]
    assert [(p["kind"], p["seq"]) for p in problems] == [("chain", 2)]
    assert "edited after it was recorded" in problems[0]["message"]


def test_edit_with_recomputed_hash_still_breaks_the_chain(signed_run: dict[str, Path], ledger_path: Path,
                                                          cli: Any) -> None:
    for _ in range(2):
        assert _sign(cli, signed_run["pack"]).exit_code == 0
    with Ledger.open(ledger_path) as led:
        cols = [d[0] for d in led.conn.execute("SELECT * FROM signoffs WHERE seq = 1").description]
        row = dict(zip(cols, led.conn.execute("SELECT * FROM signoffs WHERE seq = 1").fetchone(), strict=True))
    row["name"] = "Someone Else"
    new_hash = record_hash(row)  # the forger recomputes this row's hash, but cannot fix the next row's prev_hash
    _bypass(ledger_path, f"UPDATE signoffs SET name = 'Someone Else', hash = '{new_hash}' WHERE seq = 1")
    res = cli("signoff", "verify", "--json")
    problems = [p for p in json.loads(res.stdout)["problems"] if p["kind"] == "chain"]
    assert res.exit_code == 1 and [(p["kind"], p["seq"]) for p in problems] == [("chain", 2)]
    assert "hash chain broken before sign-off #2" in problems[0]["message"]


def test_deleted_row_and_dropped_triggers_are_reported(signed_run: dict[str, Path], ledger_path: Path,
                                                       cli: Any) -> None:
    for _ in range(3):
        assert _sign(cli, signed_run["pack"]).exit_code == 0
    with sqlite3.connect(ledger_path) as c:
        c.execute("DROP TRIGGER signoffs_no_delete")
        c.execute("DELETE FROM signoffs WHERE seq = 2")
    c.close()
    res = cli("signoff", "verify", "--json")
    assert res.exit_code == 1
    kinds = [(p["kind"], p["seq"]) for p in json.loads(res.stdout)["problems"]]
    assert kinds[:3] == [("triggers", None), ("chain", 2), ("chain", 3)]
    assert ("receipt", 2) in kinds and ("journal", 2) in kinds  # the copies outside the ledger still hold #2


def test_verify_with_no_sign_off_at_all_is_exit_3_not_ok(ledger_path: Path, cli: Any) -> None:
    """A scheduled `signoff verify` pointed at the wrong (empty) ledger must not look healthy."""
    Ledger.open(ledger_path).close()
    res = cli("signoff", "verify")
    assert res.exit_code == 3 and "holds no sign-off" in res.stdout


def test_history_refuses_an_unknown_measure_with_a_suggestion(ledger_path: Path, cli: Any) -> None:
    Ledger.open(ledger_path).close()
    res = cli("history", "--measure", "MHS9")
    assert res.exit_code == 2 and "did you mean MHS95" in res.stderr
