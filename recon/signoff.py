"""Sign-off audit trail: who approved which pack, built from which inputs, and proof nobody changed it since.

Each sign-off is bound to the SHA-256 of the pack file and of every input file of the ledger run
that wrote the pack. Records are append-only (SQLite triggers refuse UPDATE and DELETE) and
hash-chained: each record's hash covers its fields and the previous record's hash, so a row
edited by someone who dropped the triggers breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recon.choices import Decision
from recon.errors import LedgerError, UsageError
from recon.ledger import InputFile, Ledger, RunRow, input_paths, iso, now_utc, os_user

DECISIONS = tuple(d.value for d in Decision)
GENESIS = "0" * 64
_FIELDS = ("seq", "signoff_id", "at", "provider", "month", "run_id", "pack_path", "pack_sha256", "inputs",
           "decision", "name", "role", "caveats", "os_user", "prev_hash")


@dataclass(frozen=True)
class SignOff:
    seq: int
    signoff_id: str
    at: str
    provider: str | None
    month: str | None
    run_id: str | None
    pack_path: str
    pack_sha256: str
    inputs: tuple[InputFile, ...]
    decision: str
    name: str
    role: str
    caveats: tuple[str, ...]
    os_user: str | None
    prev_hash: str
    hash: str

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["inputs"] = [asdict(f) for f in self.inputs]
        d["caveats"] = list(self.caveats)
        return d


@dataclass(frozen=True)
class Problem:
    kind: str  # ledger | chain | triggers | pack_altered | pack_missing | input_changed | input_missing | input_added | no_signoff
    message: str
    seq: int | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class VerifyReport:
    ledger: str
    checked: tuple[SignOff, ...]
    chain_length: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        """1 for problems; 3 when the ledger holds no sign-off at all (nothing was verified: a
        scheduled check pointed at the wrong ledger must not look healthy); else 0."""
        if self.problems:
            return 1
        return 3 if self.chain_length == 0 else 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.problems, "ledger": self.ledger, "chain_length": self.chain_length,
            "checked": [s.to_json_dict() for s in self.checked],
            "problems": [p.to_json_dict() for p in self.problems],
        }


def sha256_file(path: Path) -> str:
    """Fresh hash, never cached: verification must see a change that kept size and mtime."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _inputs_text(inputs: Sequence[InputFile]) -> str:
    return json.dumps([asdict(f) for f in inputs], sort_keys=True, separators=(",", ":"))


def record_hash(values: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of every field but ``hash`` (prev_hash included: that is the chain)."""
    payload = {k: values[k] for k in _FIELDS}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sign_off(ledger: Ledger, pack: Path, decision: str | None = None, name: str | None = None,
             role: str | None = None, caveats: Sequence[str] = (), *, by: str | None = None) -> SignOff:
    """Append one sign-off for ``pack``, a pack a recorded run wrote.

    What the flags leave out is read from the pack's Sign-off sheet, so a CYP lead can sign in
    Excel and an analyst (or a scheduled job) records it. Filling in that sheet changes the
    file's bytes but not its figures: such a pack is recognised by its content fingerprint.
    """
    pack = Path(pack)
    if not pack.is_file():
        raise UsageError(f"{pack}: no such pack file")
    if decision is None or name is None or role is None:
        filled = _filled(pack)
        decision, name, role = decision or filled.decision, name or filled.name, role or filled.role
        caveats = tuple(caveats) or filled.caveats
    if decision is None or name is None or role is None:
        raise UsageError("a sign-off needs a decision, a name and a role: give them, or fill in Decision, Name "
                         "and Role on the pack's Sign-off sheet")
    chosen = Decision.parse(decision)
    if chosen is None:
        raise UsageError(f"the decision must be one of {', '.join(DECISIONS)}, not {decision.strip().lower()!r}")
    decision = chosen.value
    caveat_list = tuple(c.strip() for c in caveats if c.strip())
    if chosen is Decision.CAVEATS and not caveat_list:
        raise UsageError("a decision to approve with caveats needs at least one caveat")
    if not name.strip() or not role.strip():
        raise UsageError("the name and the role must not be empty")
    pack_sha = sha256_file(pack)
    run = ledger.run_for_pack(pack_sha) or _run_by_content(ledger, pack)
    if run is None:
        raise UsageError(
            f"{pack} does not match any pack recorded in ledger {ledger.path}",
            hint="it was changed after it was written, or written with another ledger; re-run recon reconcile",
        )
    inputs = tuple(ledger.run_inputs(run.run_id))
    with ledger.transaction("recording a sign-off") as c:
        last = c.execute("SELECT seq, hash FROM signoffs ORDER BY seq DESC LIMIT 1").fetchone()
        values: dict[str, Any] = {
            "seq": (last[0] + 1) if last else 1,
            "signoff_id": uuid.uuid4().hex,
            "at": iso(now_utc()),
            "provider": run.provider,
            "month": run.month,
            "run_id": run.run_id,
            "pack_path": str(pack.resolve()),
            "pack_sha256": pack_sha,
            "inputs": _inputs_text(inputs),
            "decision": decision,
            "name": name.strip(),
            "role": role.strip(),
            "caveats": json.dumps(list(caveat_list), ensure_ascii=False),
            "os_user": by or os_user(),
            "prev_hash": last[1] if last else GENESIS,
        }
        values["hash"] = record_hash(values)
        cols = (*_FIELDS, "hash")
        c.execute(f"INSERT INTO signoffs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                  [values[k] for k in cols])
    return _from_values(values)


# A file that is not an .xlsx workbook (zip) or lacks its parts.
_UNREADABLE = (zipfile.BadZipFile, KeyError, OSError, ValueError)


def _filled(pack: Path) -> Any:
    from recon.pack.sheets.signoff import read_signoff

    try:
        return read_signoff(pack)
    except _UNREADABLE:
        raise UsageError(f"{pack}: not a readable pack workbook, so its Sign-off sheet cannot be read: "
                         "a sign-off needs a decision, a name and a role given with it") from None


def _run_by_content(ledger: Ledger, pack: Path) -> RunRow | None:
    """The run whose pack shows exactly what this file shows (only its Sign-off sheet filled in)."""
    from recon.pack.fingerprint import fingerprint_workbook, stated_fingerprint

    try:
        stated = stated_fingerprint(pack)
    except _UNREADABLE:
        return None
    run = ledger.run_for_fingerprint(stated) if stated else None
    if run is not None and fingerprint_workbook(pack) != stated:
        raise UsageError(f"{pack}: its figures or records were changed after recon wrote it (the fingerprint on "
                         "its Sign-off sheet no longer matches); re-run recon reconcile and sign the new pack")
    return run


def _from_values(v: dict[str, Any]) -> SignOff:
    return SignOff(
        seq=int(v["seq"]), signoff_id=v["signoff_id"], at=v["at"], provider=v["provider"], month=v["month"],
        run_id=v["run_id"], pack_path=v["pack_path"], pack_sha256=v["pack_sha256"],
        inputs=tuple(InputFile(**d) for d in _loads(v["inputs"], [])), decision=v["decision"], name=v["name"],
        role=v["role"], caveats=tuple(_loads(v["caveats"], [])), os_user=v["os_user"], prev_hash=v["prev_hash"],
        hash=v["hash"],
    )


def _loads(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _rows(ledger: Ledger) -> list[dict[str, Any]]:
    cols = (*_FIELDS, "hash")
    cur = ledger.conn.execute(f"SELECT {', '.join(cols)} FROM signoffs ORDER BY seq")
    return [dict(zip(cols, r, strict=True)) for r in cur]


def signoffs(ledger: Ledger) -> list[SignOff]:
    return [_from_values(r) for r in _rows(ledger)]


def verify(ledger: Ledger, pack: Path | None = None) -> VerifyReport:
    """Check the whole chain, then each sign-off (or those of ``pack``): pack unchanged, inputs unchanged."""
    problems: list[Problem] = []
    try:
        ledger.check_integrity(full=True)  # the audit reads indexes too, not only pages
    except LedgerError as exc:
        problems.append(Problem("ledger", str(exc)))
    missing = ledger.check_append_only()
    if missing:
        problems.append(Problem("triggers", f"append-only protection removed from the ledger ({', '.join(missing)})"))
    rows = _rows(ledger)
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row["seq"] != expected_seq:
            problems.append(Problem("chain", f"sign-off #{expected_seq} is missing (deleted?)", expected_seq))
        if record_hash(row) != row["hash"]:
            problems.append(Problem("chain", f"sign-off #{row['seq']} was edited after it was recorded "
                                             "(its hash no longer matches its content)", row["seq"]))
        if row["prev_hash"] != prev:
            problems.append(Problem("chain", f"hash chain broken before sign-off #{row['seq']} "
                                             "(a previous record was edited or removed)", row["seq"]))
        prev = row["hash"]
    records = [_from_values(r) for r in rows]
    if pack is not None:
        pack_abs = str(Path(pack).resolve())
        sha = sha256_file(Path(pack)) if Path(pack).is_file() else None
        records = [s for s in records if s.pack_path == pack_abs or (sha is not None and s.pack_sha256 == sha)]
        if not records:
            problems.append(Problem("no_signoff", f"{pack}: no sign-off recorded for this pack"))
    hashes: dict[str, str | None] = {}

    def current(path: str) -> str | None:
        if path not in hashes:
            p = Path(path)
            hashes[path] = sha256_file(p) if p.is_file() else None
        return hashes[path]

    for s in records:
        now = current(s.pack_path)
        if now is None:
            problems.append(Problem("pack_missing", f"sign-off #{s.seq}: pack {s.pack_path} no longer exists", s.seq))
        elif now != s.pack_sha256:
            problems.append(Problem("pack_altered", f"sign-off #{s.seq}: pack {s.pack_path} was altered after "
                                                    f"sign-off by {s.name} on {s.at[:10]}", s.seq))
        problems.extend(_input_problems(s, current))
    return VerifyReport(ledger=str(ledger.path), checked=tuple(records), chain_length=len(rows), problems=tuple(problems))


def _input_problems(s: SignOff, current: Any) -> list[Problem]:
    out: list[Problem] = []
    roots: dict[tuple[str, str], set[str]] = {}
    for f in s.inputs:
        roots.setdefault((f.role, f.root), set()).add(f.path)
        now = current(f.path)
        if now is None:
            out.append(Problem("input_missing", f"sign-off #{s.seq}: {f.role} input {f.path} no longer exists", s.seq))
        elif now != f.sha256:
            out.append(Problem("input_changed", f"sign-off #{s.seq}: {f.role} input {f.path} has changed since "
                                                "the signed-off run", s.seq))
    for (role, root), recorded in roots.items():
        # a shared folder of published files grows every month by design; only extract folders must not
        if role != "published" and Path(root).is_dir():
            added = sorted({str(p) for p in input_paths(Path(root))} - recorded)
            out.extend(Problem("input_added", f"sign-off #{s.seq}: {role} input folder gained {p} since the "
                                              "signed-off run", s.seq) for p in added)
    return out
