"""The run ledger store: one SQLite file that remembers every run, its inputs, figures and exceptions.

Why SQLite (stdlib): one file an analyst can copy, WAL so readers never block the nightly run,
and transactions so a killed run leaves no half run. A file that is not a SQLite database or
fails ``PRAGMA integrity_check`` is reported (exit 2) and never written to.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from recon.errors import LedgerError, UsageError
from recon.ledger.records import InputFile, RunRecord, RunRow, iso, month_number, month_text, now_utc, os_user
from recon.ledger.schema import (
    APPEND_ONLY_TRIGGERS,
    MIGRATIONS,
    SCHEMA_VERSION,
    STATUSES,
    access_problem,
    check_header,
    ledger_error,
    write_problem,
)
from recon.months import Month


@dataclass(frozen=True)
class PruneReport:
    runs_removed: int
    signed_kept: int  # signed-off runs older than the cutoff, kept
    cutoff: str | None  # runs of months before this one were pruned
    bytes_before: int
    bytes_after: int

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)


class Ledger:
    """An open, checked and migrated ledger. Use :meth:`open`; close with ``with`` or :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool) -> None:
        self.path = path
        self.conn = conn
        self.readonly = readonly
        self._identity = _identity(path)
        self._copy: Path | None = None  # a private copy read instead of a ledger SQLite cannot open in place

    # ---- opening

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Ledger:
        """Open (creating unless ``readonly``), check integrity, then migrate to SCHEMA_VERSION."""
        path = Path(path).expanduser()
        exists = path.exists()
        if readonly and not exists:
            raise LedgerError(f"ledger {path} does not exist yet", hint="run 'recon reconcile' first, or give --ledger")
        if exists:
            check_header(path)
        if readonly:
            try:
                return cls._open(path, readonly=True, exists=True)
            except LedgerError as exc:
                if not access_problem(str(exc)):
                    raise
            return cls._open_copy(path)  # history and verify still run from a read-only place
        problem = write_problem(path)
        if problem is not None:
            raise problem
        return cls._open(path, readonly=False, exists=exists)

    @classmethod
    def _open_copy(cls, path: Path) -> Ledger:
        """Read a ledger SQLite cannot open in place (read-only folder, someone else's WAL files)
        from a private copy of the database and its WAL; the copy goes when the ledger is closed."""
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="recon-ledger-copy-"))
        copy = folder / path.name
        try:
            shutil.copyfile(path, copy)
            wal = Path(f"{path}-wal")
            if wal.is_file():
                shutil.copyfile(wal, Path(f"{copy}-wal"))
            conn = sqlite3.connect(f"{copy.as_uri()}?mode=rw", uri=True, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ledger_error(exc, path, "reading a copy of it") from None
        ledger = cls(path, conn, True)
        ledger._copy = folder
        try:
            ledger.check_integrity()
            ledger._prepare()
        except BaseException:
            ledger.close()
            raise
        return ledger

    @classmethod
    def _open(cls, path: Path, *, readonly: bool, exists: bool) -> Ledger:
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ledger_error(exc, path, "creating its folder") from None
        mode = "ro" if readonly else ("rw" if exists else "rwc")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ledger_error(exc, path, "opening") from None
        ledger = cls(path, conn, readonly)
        try:
            if exists:
                ledger.check_integrity()
            ledger._prepare()
            ledger._identity = _identity(path)
        except LedgerError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise ledger_error(exc, path, "opening") from None
        return ledger

    def check_integrity(self, *, full: bool = False) -> None:
        """Every open reads every page (``quick_check``: linear in the ledger's size, ~0.2 s
        at 150 MB); ``full`` adds index consistency (``integrity_check``, ~7x slower), which
        the audit (``recon signoff verify``) asks for."""
        try:
            rows = self.conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            # read-only, foreign-owned, busy or a full disk are not corruption: each says what it is
            raise ledger_error(exc, self.path, "checking it", default_corrupt=True) from None
        if [tuple(r) for r in rows] != [("ok",)]:
            first = str(rows[0][0])[:100] if rows else "no answer"
            raise LedgerError(f"ledger {self.path} failed its integrity check ({first}); it was left unchanged",
                              hint="restore it from a backup or move it aside")

    def _prepare(self) -> None:
        version = self.user_version
        if version > SCHEMA_VERSION:
            raise LedgerError(f"ledger {self.path} has schema version {version}, newer than this recon "
                              f"understands ({SCHEMA_VERSION})", hint="upgrade recon")
        if self.readonly:
            if version < SCHEMA_VERSION:
                raise LedgerError(f"ledger {self.path} has schema version {version} and needs migrating",
                                  hint="run any recording command (e.g. reconcile) once with write access")
            return
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise ledger_error(exc, self.path, "opening") from None
        while version < SCHEMA_VERSION:
            self._migrate_one(version)
            version += 1

    def _migrate_one(self, version: int) -> None:
        """Apply migration ``version -> version + 1`` and bump user_version in the same transaction."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if self.user_version != version:  # another process migrated meanwhile
                    self.conn.execute("ROLLBACK")
                    return
                for statement in MIGRATIONS[version]:
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise ledger_error(exc, self.path, f"migrating schema {version} -> {version + 1}") from None

    @property
    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()
        if self._copy is not None:
            import shutil

            shutil.rmtree(self._copy, ignore_errors=True)
            self._copy = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all or nothing; sqlite errors become a clear LedgerError (exit 2)."""
        if self.readonly:
            raise LedgerError(f"ledger {self.path} was opened read-only ({action})")
        if _identity(self.path) != self._identity:
            raise LedgerError(f"ledger {self.path} was replaced, moved or deleted while recon had it open "
                              f"({action}); nothing was recorded and the file found there was not touched",
                              hint="run again")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise ledger_error(exc, self.path, action) from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise ledger_error(exc, self.path, action) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # ---- writing

    def record_run(self, run: RunRecord) -> None:
        """Write a whole run in ONE transaction: what history and sign-off need, compactly (the
        exceptions' details live in the pack; the ledger remembers when each was first seen)."""
        bad = sorted({e.status for e in run.exceptions} - set(STATUSES))
        if bad:
            raise LedgerError(f"run {run.run_id}: unknown exception status {bad[0]!r}; nothing was recorded")
        user = run.user or os_user()
        at = iso(run.finished)
        with self.transaction(f"recording run {run.run_id}") as c:
            c.execute(
                "INSERT INTO runs (run_id, command, provider, month, started, finished, exit_code, recon_version,"
                " rules_version, user, pack_path, pack_sha256, pack_fingerprint, pack_view)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.run_id, run.command, run.provider, str(run.month), iso(run.started), at, run.exit_code,
                 run.recon_version, run.rules_version, user, run.pack_path, run.pack_sha256, run.pack_fingerprint,
                 run.pack_view),
            )
            c.executemany(
                "INSERT INTO run_inputs (run_id, role, root, path, size, sha256) VALUES (?,?,?,?,?,?)",
                [(run.run_id, f.role, f.root, f.path, f.size, f.sha256) for f in run.inputs],
            )
            c.executemany(
                "INSERT INTO measure_values (run_id, measure_id, source, breakdown, level, value, numerator,"
                " denominator) VALUES (?,?,?,?,?,?,?,?)",
                [(run.run_id, v.measure_id, v.source, v.breakdown, v.level,
                  None if v.value is None else float(v.value), v.numerator, v.denominator) for v in run.values],
            )
            # compact exception memory: one row per exception per provider, ever (first month seen)
            month_no = month_number(run.month)
            run_no = c.execute("SELECT rowid FROM runs WHERE run_id = ?", (run.run_id,)).fetchone()[0]
            c.executemany(
                "INSERT INTO exception_first (provider, exception_id, month, run) VALUES (?,?,?,?)"
                " ON CONFLICT (provider, exception_id) DO UPDATE SET month = excluded.month, run = excluded.run"
                " WHERE excluded.month < exception_first.month",
                [(run.provider or "", i, month_no, run_no)
                 for i in sorted({e.exception_id for e in run.exceptions})],
            )

    def set_exception_status(self, exception_id: str, status: str, *, reason: str, by: str | None = None,
                             provider: str | None = None) -> dict[str, Any]:
        """Record a human decision about an exception (e.g. accepted as known); returns the event."""
        if status not in STATUSES:
            raise LedgerError(f"unknown exception status {status!r}")
        providers = [r[0] or None for r in self.conn.execute(
            "SELECT DISTINCT provider FROM exception_first WHERE exception_id = ?", (exception_id,))]
        if not providers:
            raise UsageError(f"no exception {exception_id!r} in ledger {self.path}",
                             hint="exception ids are listed in the pack and in 'recon reconcile --json'")
        if provider is None:
            if len(providers) > 1:
                raise UsageError(f"exception {exception_id} appears for several providers "
                                 f"({', '.join(sorted(str(p) for p in providers))}); give --provider")
            provider = providers[0]
        event = {"exception_id": exception_id, "provider": provider, "status": status, "reason": reason,
                 "by": by or os_user(), "at": iso(now_utc())}
        with self.transaction(f"recording status of {exception_id}") as c:
            c.execute("INSERT INTO exception_events (exception_id, provider, status, reason, by, at) VALUES (?,?,?,?,?,?)",
                      (exception_id, provider, status, reason, event["by"], event["at"]))
        return event

    def void_run(self, run_id: str, *, reason: str, by: str | None = None) -> dict[str, Any]:
        """Void a mistaken run: an appended record (who, when, why); the run itself stays.

        A voided run leaves trends and history's figures but is still listed with ``--runs``.
        A signed-off run is a record and cannot be voided; a run is voided at most once."""
        reason = reason.strip()
        if not reason:
            raise UsageError("--reason must not be empty: say why the run is void")
        if not self.has_run(run_id):
            raise UsageError(f"no run {run_id!r} in ledger {self.path}",
                             hint="run ids are listed by 'recon history --runs --json'")
        if self.conn.execute("SELECT 1 FROM signoffs WHERE run_id = ? LIMIT 1", (run_id,)).fetchone():
            raise UsageError(f"run {run_id} has been signed off and cannot be voided",
                             hint="a signed-off run is a record; sign off a corrected run instead")
        earlier = self.voids().get(run_id)
        if earlier is not None:
            raise UsageError(f"run {run_id} was already voided by {earlier['by']} at {earlier['at']}: "
                             f"{earlier['reason']}")
        event = {"run_id": run_id, "reason": reason, "by": by or os_user(), "at": iso(now_utc())}
        with self.transaction(f"voiding run {run_id}") as c:
            c.execute("INSERT INTO run_voids (run_id, reason, by, at) VALUES (?,?,?,?)",
                      (run_id, reason, event["by"], event["at"]))
        return event

    # ---- reading

    def voids(self) -> dict[str, dict[str, Any]]:
        """Every recorded void, by run id: who voided it, when and why."""
        return {r[0]: {"run_id": r[0], "reason": r[1], "by": r[2], "at": r[3]} for r in self.conn.execute(
            "SELECT run_id, reason, by, at FROM run_voids ORDER BY seq")}

    def _last_statuses(self, provider: str | None, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT exception_id, status FROM exception_events WHERE seq IN ("
                f" SELECT MAX(seq) FROM exception_events WHERE provider IS ? AND exception_id IN ({marks})"
                f" GROUP BY exception_id)",
                (provider, *chunk),
            )
            out.update({r[0]: r[1] for r in rows})
        return out

    def exception_statuses(self, provider: str | None, month: Month, ids: Iterable[str]) -> dict[str, str]:
        """new / recurring (seen in an earlier month's run) / accepted (last human decision)."""
        ids = list(dict.fromkeys(ids))
        last = self._last_statuses(provider, ids)
        earlier: set[str] = set()
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            earlier.update(r[0] for r in self.conn.execute(
                f"SELECT exception_id FROM exception_first"
                f" WHERE provider = ? AND month < ? AND exception_id IN ({marks})",
                (provider or "", month_number(month), *chunk),
            ))
        return {i: "accepted" if last.get(i) == "accepted" else ("recurring" if i in earlier else "new") for i in ids}

    def exception_history(self, exception_id: str) -> list[dict[str, Any]]:
        """When it was first seen (from the compact memory), then every recorded decision."""
        cur = self.conn.execute(
            "SELECT seq, exception_id, provider, status, reason, by, at, run_id FROM exception_events"
            " WHERE exception_id = ? ORDER BY seq", (exception_id,))
        cols = [d[0] for d in cur.description]
        events = [dict(zip(cols, r, strict=True)) for r in cur]
        logged = {e["provider"] for e in events if e["status"] == "new"}
        first = [
            {"seq": None, "exception_id": exception_id, "provider": prov or None, "status": "new",
             "reason": f"first seen by {command or 'a'} run {run_id or '(pruned)'} for {month_text(month)}",
             "by": user, "at": finished or month_text(month), "run_id": run_id}
            for prov, month, run_id, command, user, finished in self.conn.execute(
                "SELECT f.provider, f.month, r.run_id, r.command, r.user, r.finished FROM exception_first f"
                " LEFT JOIN runs r ON r.rowid = f.run WHERE f.exception_id = ? ORDER BY f.month", (exception_id,))
            if (prov or None) not in logged
        ]
        return first + events

    def runs(self, *, provider: str | None = None, month: str | None = None, command: str | None = None) -> list[RunRow]:
        sql = ("SELECT run_id, command, provider, month, started, finished, exit_code, recon_version, rules_version,"
               " user, pack_path, pack_sha256 FROM runs WHERE 1=1")
        args: list[Any] = []
        for col, val in (("provider", provider), ("month", month), ("command", command)):
            if val is not None:
                sql += f" AND {col} = ?"
                args.append(val)
        return [RunRow(*r) for r in self.conn.execute(sql + " ORDER BY finished, rowid", args)]

    def pack_view(self, run_id: str) -> str | None:
        row = self.conn.execute("SELECT pack_view FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else row[0]

    def has_run(self, run_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None

    def is_signed_off(self, pack_sha256: str) -> bool:
        """Has a pack with exactly these bytes been signed off?"""
        row = self.conn.execute("SELECT 1 FROM signoffs WHERE pack_sha256 = ? LIMIT 1", (pack_sha256,)).fetchone()
        return row is not None

    def run_for_fingerprint(self, fingerprint: str) -> RunRow | None:
        """The latest run whose pack showed exactly these figures and records."""
        rows = self.conn.execute(
            "SELECT run_id, command, provider, month, started, finished, exit_code, recon_version, rules_version,"
            " user, pack_path, pack_sha256 FROM runs WHERE pack_fingerprint = ? ORDER BY finished DESC LIMIT 1",
            (fingerprint,)).fetchall()
        return RunRow(*rows[0]) if rows else None

    def signed_with_fingerprint(self, fingerprint: str) -> dict[str, Any] | None:
        """The newest sign-off of a pack that showed exactly these figures and records, or None."""
        row = self.conn.execute(
            "SELECT s.seq, s.at, s.decision, s.run_id, s.pack_path FROM signoffs s JOIN runs r USING (run_id)"
            " WHERE r.pack_fingerprint = ? ORDER BY s.seq DESC LIMIT 1", (fingerprint,)).fetchone()
        return None if row is None else dict(zip(("seq", "at", "decision", "run_id", "pack_path"), row, strict=True))

    def run_for_pack(self, pack_sha256: str) -> RunRow | None:
        rows = self.conn.execute(
            "SELECT run_id, command, provider, month, started, finished, exit_code, recon_version, rules_version,"
            " user, pack_path, pack_sha256 FROM runs WHERE pack_sha256 = ? ORDER BY finished DESC LIMIT 1",
            (pack_sha256,)).fetchall()
        return RunRow(*rows[0]) if rows else None

    def run_inputs(self, run_id: str) -> list[InputFile]:
        return [InputFile(*r) for r in self.conn.execute(
            "SELECT role, root, path, size, sha256 FROM run_inputs WHERE run_id = ? ORDER BY rowid", (run_id,))]

    def providers(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT provider FROM runs WHERE provider IS NOT NULL ORDER BY provider")]

    def latest_values(self, provider: str | None, *, measure_ids: Sequence[str] | None = None,
                      months: Sequence[Month] | None = None, source: str = "local") -> pl.DataFrame:
        """Provider-level values of the latest run per month that computed figures (reconcile or measures)."""
        sql = (
            "WITH latest AS (SELECT month, run_id FROM ("
            "  SELECT month, run_id, ROW_NUMBER() OVER (PARTITION BY month ORDER BY finished DESC, rowid DESC) AS n"
            "  FROM runs WHERE provider IS ? AND command IN ('reconcile', 'measures') AND exit_code IN (0, 1)"
            "  AND run_id NOT IN (SELECT run_id FROM run_voids)"
            "  AND EXISTS (SELECT 1 FROM measure_values v WHERE v.run_id = runs.run_id)"
            ") WHERE n = 1)"
            " SELECT l.month, v.measure_id, v.value, v.numerator, v.denominator, l.run_id"
            " FROM latest l JOIN measure_values v ON v.run_id = l.run_id"
            " WHERE v.source = ? AND v.breakdown IS NULL"
        )
        args: list[Any] = [provider, source]
        if measure_ids:
            sql += f" AND v.measure_id IN ({','.join('?' * len(measure_ids))})"
            args.extend(measure_ids)
        if months:
            sql += f" AND l.month IN ({','.join('?' * len(months))})"
            args.extend(str(m) for m in months)
        rows = self.conn.execute(sql + " ORDER BY l.month, v.measure_id", args).fetchall()
        schema = {"month": pl.String, "measure_id": pl.String, "value": pl.Float64, "numerator": pl.Int64,
                  "denominator": pl.Int64, "run_id": pl.String}
        return pl.DataFrame(rows, schema=schema, orient="row")

    def prune(self, keep_months: int) -> PruneReport:
        """Forget unsigned runs older than the last ``keep_months`` reporting months (counted back from
        the newest month recorded), then give the space back. Signed-off runs are records: never
        touched (the triggers would refuse it anyway). Exception memory and decisions are kept."""
        if keep_months < 1:
            raise UsageError("the number of months to keep must be at least 1")
        newest = self.conn.execute("SELECT MAX(month) FROM runs").fetchone()[0]
        before = self._size()
        if newest is None:
            return PruneReport(0, 0, None, before, before)
        cutoff = str(Month.parse(newest).shift(-(keep_months - 1)))
        old = "SELECT run_id FROM runs WHERE month < ? AND run_id NOT IN (SELECT run_id FROM signoffs WHERE run_id IS NOT NULL)"
        with self.transaction("pruning old runs") as c:
            signed = c.execute("SELECT COUNT(*) FROM runs WHERE month < ? AND run_id IN"
                               " (SELECT run_id FROM signoffs)", (cutoff,)).fetchone()[0]
            for table in ("run_inputs", "measure_values"):
                c.execute(f"DELETE FROM {table} WHERE run_id IN ({old})", (cutoff,))
            removed = c.execute(f"DELETE FROM runs WHERE run_id IN ({old})", (cutoff,)).rowcount
        try:
            self.conn.execute("VACUUM")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise ledger_error(exc, self.path, "compacting after the prune (the prune itself is recorded)") from None
        return PruneReport(int(removed), int(signed), cutoff, before, self._size())

    def _size(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def check_append_only(self) -> list[str]:
        """Names of missing append-only triggers (someone dropped them to edit history)."""
        have = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return sorted(APPEND_ONLY_TRIGGERS - have)



def _identity(path: Path) -> tuple[int, int] | None:
    """Which file sits at ``path`` (device, inode): a ledger swapped mid-run must not be written."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]

