"""Sign-off audit trail: who approved which pack, built from which inputs, and proof nobody changed it since.

Each sign-off is bound to the SHA-256 of the pack file, of every input file of the ledger run
that wrote the pack, and to a digest of that run's rows (run, inputs, figures), which are frozen
from then on. Records are append-only (SQLite triggers refuse UPDATE and DELETE) and
hash-chained. A chain inside the ledger alone can be recomputed by whoever can write the
ledger, so each sign-off is also anchored outside it (docs/audit-trail.md): a receipt beside the
signed pack, a journal of chain heads beside the ledger, and, when a key file is given, an HMAC
that nobody without the key can recompute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recon.choices import Decision
from recon.errors import LedgerError, UsageError
from recon.ledger import InputFile, Ledger, RunRow, input_paths, iso, now_utc, os_user
from recon.ledger.receipts import Appended, append_line, journal_path, read_lines, receipt_path
from recon.reconcile.model import VerdictText

DECISIONS = tuple(d.value for d in Decision)
GENESIS = "0" * 64
KEY_ENV = "RECON_SIGNOFF_KEY_FILE"
_MIN_KEY_BYTES = 16
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
    run_digest: str | None = None
    mac: str | None = None
    signed_on: str | None = None  # the date the lead wrote (YYYY-MM-DD), as typed
    warnings: tuple[str, ...] = ()  # said when it was recorded; not stored

    @property
    def exit_code(self) -> int:
        """A recorded rejection exits 1, so a script sees that the pack was not approved."""
        return 1 if self.decision == Decision.REJECT.value else 0

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        d["inputs"] = [asdict(f) for f in self.inputs]
        d["caveats"] = list(self.caveats)
        return d


@dataclass(frozen=True)
class Problem:
    kind: str  # ledger | chain | triggers | pack_altered | pack_missing | input_changed | input_missing | input_added
    #            | no_signoff | run_changed | receipt | journal | mac | head
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
    keyed: bool = False  # were the MACs checked (a key file was given)?
    head: str | None = None  # the newest sign-off's hash: the chain head a lead keeps

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
            "keyed": self.keyed, "head": self.head,
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
    """SHA-256 of the canonical JSON of every field but ``hash`` and ``mac`` (prev_hash included:
    that is the chain; run_digest only when present, so sign-offs from before it still verify)."""
    payload = {k: values[k] for k in _FIELDS}
    for optional in ("run_digest", "signed_on"):  # only when present, so older sign-offs still verify
        if values.get(optional) is not None:
            payload[optional] = values[optional]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def record_mac(key: bytes, record_hash_hex: str) -> str:
    """HMAC-SHA256 of a record's hash: only a holder of the key can make one."""
    return hmac.new(key, record_hash_hex.encode(), hashlib.sha256).hexdigest()


def load_key(path: Path | str | None = None) -> bytes | None:
    """The sign-off key from ``--key-file`` or $RECON_SIGNOFF_KEY_FILE; None when neither is set."""
    chosen = path or os.environ.get(KEY_ENV)
    if not chosen:
        return None
    p = Path(chosen).expanduser()
    try:
        key = p.read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"sign-off key file {p} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(key) < _MIN_KEY_BYTES:
        raise UsageError(f"sign-off key file {p} holds {len(key)} bytes; at least {_MIN_KEY_BYTES} are needed",
                         hint="e.g. head -c 32 /dev/urandom | base64 > KEYFILE, readable only by those who sign")
    return key


_RUN_COLUMNS = ("run_id", "command", "provider", "month", "started", "finished", "exit_code", "recon_version",
                "rules_version", "user", "pack_path", "pack_sha256", "pack_fingerprint", "pack_view")


def run_digest(ledger: Ledger, run_id: str) -> str:
    """SHA-256 of every ledger row a sign-off depends on: the run, its input hashes and its figures."""
    conn = ledger.conn
    run = conn.execute(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE run_id = ?", (run_id,)).fetchall()
    inputs = conn.execute("SELECT role, root, path, size, sha256 FROM run_inputs WHERE run_id = ?"
                          " ORDER BY role, path, sha256", (run_id,)).fetchall()
    values = conn.execute("SELECT measure_id, source, breakdown, level, value, numerator, denominator"
                          " FROM measure_values WHERE run_id = ?", (run_id,)).fetchall()
    payload = {"run": [list(r) for r in run], "inputs": [list(r) for r in inputs],
               "values": sorted(json.dumps(list(r)) for r in values)}
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def sign_off(ledger: Ledger, pack: Path, decision: str | None = None, name: str | None = None,
             role: str | None = None, caveats: Sequence[str] = (), *, by: str | None = None,
             key: bytes | None = None, signed_on: dt.date | None = None) -> SignOff:
    """Append one sign-off for ``pack``, a pack a recorded run wrote.

    What the flags leave out is read from the pack's Sign-off sheet, so a CYP lead can sign in
    Excel and an analyst (or a scheduled job) records it. Filling in that sheet changes the
    file's bytes but not its figures: such a pack is recognised by its content fingerprint.
    """
    pack = Path(pack)
    if not pack.is_file():
        raise UsageError(f"{pack}: no such pack file")
    from_sheet = decision is None
    if decision is None or name is None or role is None:
        filled = _filled(pack)
        decision, name, role = decision or filled.decision, name or filled.name, role or filled.role
        caveats = tuple(caveats) or filled.caveats
        signed_on = signed_on or filled.date
    if decision is None or name is None or role is None:
        raise UsageError("a sign-off needs a decision, a name and a role: give them, or fill in Decision, Name "
                         "and Role on the pack's Sign-off sheet")
    chosen = Decision.parse(decision)
    if chosen is None:
        if from_sheet:
            raise UsageError(f"the Decision on the pack's Sign-off sheet reads {decision.strip()!r}: choose "
                             + ", ".join(f'"{d.label}"' for d in Decision))
        raise UsageError(f"the decision must be one of {', '.join(DECISIONS)}, not {decision.strip().lower()!r}")
    decision = chosen.value
    caveat_list = tuple(c.strip() for c in caveats if c.strip())
    if chosen is Decision.CAVEATS and not caveat_list:
        raise UsageError('the Sign-off sheet says "Approve with caveats" but its Caveats cell is empty: write them '
                         "there, one a line" if from_sheet else
                         "a decision to approve with caveats needs at least one caveat (--caveat)")
    if not name.strip() or not role.strip():
        raise UsageError("the name and the role must not be empty")
    pack_sha = sha256_file(pack)
    run = ledger.run_for_pack(pack_sha) or _run_by_content(ledger, pack)
    if run is None and not _is_pack(pack):
        raise UsageError(f"{pack} is not a recon sign-off pack (no Sign-off sheet with a pack fingerprint)",
                         hint="sign the pack recon reconcile --pack wrote")
    if run is None:
        raise UsageError(
            f"{pack} does not match any pack recorded in ledger {ledger.path}",
            hint="it was changed after it was written, or written with another ledger; re-run recon reconcile",
        )
    void = ledger.voids().get(run.run_id)
    if void is not None:
        raise UsageError(f"{pack} was written by run {run.run_id}, which {void['by']} voided at {void['at']} "
                         f"({void['reason']}); a voided run cannot be signed off", hint="re-run recon reconcile")
    warnings = _signoff_warnings(ledger, pack, run, chosen, caveat_list, signed_on, from_sheet)
    inputs = tuple(ledger.run_inputs(run.run_id))
    appended: list[Appended] = []
    try:
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
                "run_digest": run_digest(ledger, run.run_id),
                "signed_on": signed_on.isoformat() if signed_on is not None else None,
            }
            values["hash"] = record_hash(values)
            values["mac"] = record_mac(key, values["hash"]) if key is not None else None
            cols = (*_FIELDS, "run_digest", "signed_on", "hash", "mac")
            c.execute(f"INSERT INTO signoffs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                      [values[k] for k in cols])
            # the anchors outside the ledger, written before the commit and taken back if it fails
            appended.append(append_line(receipt_path(pack.resolve()), values))
            appended.append(append_line(journal_path(ledger.path), _journal_entry(values)))
    except BaseException:
        for a in appended:
            a.undo()
        raise
    return dataclasses.replace(_from_values(values), warnings=warnings)


def _signoff_warnings(ledger: Ledger, pack: Path, run: RunRow, chosen: Decision, caveats: tuple[str, ...],
                      signed_on: dt.date | None, from_sheet: bool) -> tuple[str, ...]:
    """Refuse what a lead cannot mean (a date in the future or before the run; approving a pack that
    says "Fix before submitting" without a caveat); say what they should know (an earlier sign-off)."""
    if signed_on is not None:
        today = now_utc().date()
        ran = dt.date.fromisoformat(run.finished[:10])
        where = "the Date on the Sign-off sheet" if from_sheet else "--date"
        if signed_on > today:
            raise UsageError(f"{where} ({signed_on.isoformat()}) is in the future (today is {today.isoformat()})")
        if signed_on < ran:
            raise UsageError(f"{where} ({signed_on.isoformat()}) is before the run that wrote the pack "
                             f"({ran.isoformat()})")
    warnings: list[str] = []
    if chosen is not Decision.REJECT and _pack_verdict(pack) == _FIX:
        if not caveats:
            how = ('choose "Approve with caveats" and write why in Caveats, or "Reject"' if from_sheet
                   else "give --decision caveats with a --caveat saying why, or --decision reject")
            raise UsageError(f'the pack says "{_FIX}": it can be approved only with a caveat: {how}')
        warnings.append(f'the pack says "{_FIX}"; approved with caveats')
    earlier = [s for s in signoffs(ledger) if s.provider == run.provider and s.month == run.month]
    if earlier:
        last = earlier[-1]
        warnings.append(f"{run.month} already has {len(earlier)} sign-off(s) for {run.provider or 'this provider'}; "
                        f"the latest: #{last.seq} {Decision(last.decision).label} by {last.name} at {last.at}")
    return tuple(warnings)


_FIX = VerdictText.FIX.value


def _pack_verdict(pack: Path) -> str | None:
    """The Overall status on the pack's Cover (its figures were checked by the fingerprint)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(pack, read_only=True)
    except _UNREADABLE:
        return None
    try:
        if "Cover" not in wb.sheetnames:
            return None
        for row in wb["Cover"].iter_rows(max_col=2, values_only=True):
            if row and row[0] == "Overall status":
                return str(row[1]) if len(row) > 1 else None
        return None
    finally:
        wb.close()


def _is_pack(pack: Path) -> bool:
    from recon.pack.fingerprint import stated_fingerprint

    try:
        return stated_fingerprint(pack) is not None
    except _UNREADABLE:
        return False


def list_signoffs(ledger: Ledger, *, month: str | None = None, provider: str | None = None) -> list[SignOff]:
    """The sign-offs of a month (every month when None), oldest first."""
    if month is not None:
        from recon.months import Month

        month = str(Month.parse(month))
    return [s for s in signoffs(ledger) if (month is None or s.month == month)
            and (provider is None or s.provider == provider)]


def _journal_entry(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in ("seq", "hash", "at", "pack_path", "pack_sha256")}


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
    if run is not None:
        from recon.pack.view import view_fingerprint

        recorded = ledger.pack_view(run.run_id)
        if recorded is not None and view_fingerprint(pack) != recorded:
            raise UsageError(f"{pack}: what it shows was changed after recon wrote it (number formats, colours, "
                             "hidden rows, columns or sheets outside the Sign-off sheet); re-run recon reconcile "
                             "and sign the new pack")
    return run


def _from_values(v: dict[str, Any]) -> SignOff:
    return SignOff(
        seq=int(v["seq"]), signoff_id=v["signoff_id"], at=v["at"], provider=v["provider"], month=v["month"],
        run_id=v["run_id"], pack_path=v["pack_path"], pack_sha256=v["pack_sha256"],
        inputs=tuple(InputFile(**d) for d in _loads(v["inputs"], [])), decision=v["decision"], name=v["name"],
        role=v["role"], caveats=tuple(_loads(v["caveats"], [])), os_user=v["os_user"], prev_hash=v["prev_hash"],
        hash=v["hash"], run_digest=v.get("run_digest"), mac=v.get("mac"), signed_on=v.get("signed_on"),
    )


def _loads(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _rows(ledger: Ledger) -> list[dict[str, Any]]:
    cols = (*_FIELDS, "run_digest", "signed_on", "hash", "mac")
    cur = ledger.conn.execute(f"SELECT {', '.join(cols)} FROM signoffs ORDER BY seq")
    return [dict(zip(cols, r, strict=True)) for r in cur]


def signoffs(ledger: Ledger) -> list[SignOff]:
    return [_from_values(r) for r in _rows(ledger)]


def verify(ledger: Ledger, pack: Path | None = None, *, key: bytes | None = None,
           head: str | None = None) -> VerifyReport:
    """Check the whole chain and its anchors outside the ledger, then each sign-off (or those of
    ``pack``): pack unchanged, inputs unchanged, the run's rows unchanged.

    ``key`` checks every record's MAC; ``head`` is a chain head a lead kept (a hash, or its
    first 12+ characters) that must still be in the chain.
    """
    problems: list[Problem] = []
    try:
        ledger.check_integrity(full=True)  # the audit reads indexes too, not only pages
    except LedgerError as exc:
        problems.append(Problem("ledger", str(exc)))
    missing = ledger.check_append_only()
    if missing:
        problems.append(Problem("triggers", f"append-only protection removed from the ledger ({', '.join(missing)})"))
    rows = _rows(ledger)
    problems += _chain_problems(rows)
    problems += _anchor_problems(ledger, rows, pack)
    if key is not None:
        problems += [Problem("mac", f"sign-off #{r['seq']} is not sealed by the sign-off key (edited, re-hashed "
                                    "or recorded without the key)", r["seq"])
                     for r in rows if not (r["mac"] and hmac.compare_digest(r["mac"], record_mac(key, r["hash"])))]
    if head is not None:
        wanted = head.strip().lower()
        if len(wanted) < 12 or not any(r["hash"].startswith(wanted) for r in rows):
            problems.append(Problem("head", f"the chain head {head[:64]!r} you kept is not in the ledger's chain "
                                            "(sign-offs were removed or rewritten)"))
    for r in rows:
        if r["run_digest"] is not None and r["run_id"] and run_digest(ledger, r["run_id"]) != r["run_digest"]:
            problems.append(Problem("run_changed", f"sign-off #{r['seq']}: the ledger rows of run {r['run_id']} "
                                                   "(run, inputs or figures) were changed after sign-off", r["seq"]))
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
    return VerifyReport(ledger=str(ledger.path), checked=tuple(records), chain_length=len(rows), problems=tuple(problems),
                        keyed=key is not None, head=rows[-1]["hash"] if rows else None)


def _chain_problems(rows: list[dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
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
    return problems


def _anchor_problems(ledger: Ledger, rows: list[dict[str, Any]], pack: Path | None) -> list[Problem]:
    """The ledger's sign-offs against the receipts beside the packs and the journal beside the ledger.

    A receipt or journal line the ledger no longer holds means a sign-off was deleted or
    rewritten (re-hashing does not help: the copies keep the original hashes); a sign-off with
    no receipt line means the receipt was removed or the record forged.
    """
    problems: list[Problem] = []
    by_hash = {r["hash"]: r for r in rows}
    packs = {r["pack_path"] for r in rows}
    packs.update(r[0] for r in ledger.conn.execute("SELECT DISTINCT pack_path FROM runs WHERE pack_path IS NOT NULL"))
    journal = read_lines(journal_path(ledger.path))
    for line in journal or ():
        if line.record is not None and isinstance(line.record.get("pack_path"), str):
            packs.add(line.record["pack_path"])
    if pack is not None:
        packs.add(str(Path(pack).resolve()))
    receipted: set[str] = set()
    for path in sorted(packs):
        where = receipt_path(path)
        for line in read_lines(where) or ():
            rec = line.record
            if rec is None or not isinstance(rec.get("hash"), str) or not all(k in rec for k in _FIELDS):
                problems.append(Problem("receipt", f"{where} line {line.number} is not a sign-off record (edited?)"))
                continue
            if record_hash(rec) != rec["hash"]:
                problems.append(Problem("receipt", f"{where} line {line.number} was edited (its hash no longer "
                                                   "matches its content)", rec.get("seq")))
                continue
            receipted.add(rec["hash"])
            held = by_hash.get(rec["hash"])
            if held is None:
                problems.append(Problem("receipt", f"sign-off #{rec.get('seq')} by {rec.get('name')} on "
                                                   f"{str(rec.get('at'))[:10]} is in the receipt {where} but no "
                                                   "longer in the ledger (deleted or rewritten)", rec.get("seq")))
    for r in rows:
        if r["hash"] not in receipted and Path(r["pack_path"]).exists():
            problems.append(Problem("receipt", f"sign-off #{r['seq']} has no matching line in the receipt "
                                               f"{receipt_path(r['pack_path'])} (receipt removed, or the ledger "
                                               "record was rewritten)", r["seq"]))
    if journal is None:
        if rows:
            problems.append(Problem("journal", f"the sign-off journal {journal_path(ledger.path)} is missing"))
        return problems
    seen = 0
    for line in journal:
        rec = line.record or {}
        seq, h = rec.get("seq"), rec.get("hash")
        held = by_hash.get(h) if isinstance(h, str) else None
        if held is None or held["seq"] != seq:
            problems.append(Problem("journal", f"the journal records sign-off #{seq} (line {line.number}) which "
                                               "the ledger no longer holds as recorded (deleted or rewritten)",
                                    seq if isinstance(seq, int) else None))
        elif isinstance(seq, int):
            seen = max(seen, seq)
    if rows and rows[-1]["seq"] > seen:
        problems.append(Problem("journal", f"sign-offs after #{seen} are not in the journal "
                                           f"{journal_path(ledger.path)} (journal cut short, or records forged)"))
    return problems


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
