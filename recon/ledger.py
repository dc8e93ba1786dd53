"""The run ledger: one SQLite file that remembers every run, its inputs, figures and exceptions.

Why SQLite (stdlib): one file an analyst can copy, WAL so readers never block the nightly run,
and transactions so a killed run leaves no half run. The schema is versioned with
``PRAGMA user_version`` and migrated in code on open. A file that is not a SQLite database or
fails ``PRAGMA integrity_check`` is reported (exit 2) and never written to.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from recon.errors import LedgerError, UsageError
from recon.months import Month

LEDGER_ENV = "RECON_LEDGER"
SCHEMA_VERSION = 3
_SQLITE_MAGIC = b"SQLite format 3\x00"

# Each entry migrates from version i to i + 1, in one transaction. Never edit a released entry.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: runs, their inputs, figures and exceptions
    (
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            provider TEXT,
            month TEXT NOT NULL,
            started TEXT NOT NULL,
            finished TEXT NOT NULL,
            exit_code INTEGER NOT NULL,
            recon_version TEXT NOT NULL,
            rules_version TEXT NOT NULL,
            user TEXT
        )""",
        """CREATE TABLE run_inputs (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            role TEXT NOT NULL,
            root TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER,
            sha256 TEXT NOT NULL
        )""",
        """CREATE TABLE measure_values (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            measure_id TEXT NOT NULL,
            source TEXT NOT NULL,
            breakdown TEXT,
            level TEXT,
            value REAL,
            numerator INTEGER,
            denominator INTEGER
        )""",
        """CREATE TABLE exceptions (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            exception_id TEXT NOT NULL,
            source TEXT,
            severity TEXT,
            team TEXT,
            table_name TEXT,
            record_key TEXT,
            problem TEXT,
            status TEXT NOT NULL
        )""",
        "CREATE INDEX runs_provider_month ON runs(provider, month)",
        "CREATE INDEX run_inputs_run ON run_inputs(run_id)",
        "CREATE INDEX measure_values_run ON measure_values(run_id)",
        "CREATE INDEX exceptions_run ON exceptions(run_id)",
    ),
    # 1 -> 2: packs bound to runs, exception status history, hash-chained sign-offs (append-only)
    (
        "ALTER TABLE runs ADD COLUMN pack_path TEXT",
        "ALTER TABLE runs ADD COLUMN pack_sha256 TEXT",
        "CREATE INDEX runs_pack ON runs(pack_sha256)",
        "CREATE INDEX exceptions_id ON exceptions(exception_id)",
        """CREATE TABLE exception_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            exception_id TEXT NOT NULL,
            provider TEXT,
            status TEXT NOT NULL CHECK (status IN ('new', 'recurring', 'accepted')),
            reason TEXT,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            run_id TEXT
        )""",
        "CREATE INDEX exception_events_id ON exception_events(exception_id)",
        """CREATE TABLE signoffs (
            seq INTEGER PRIMARY KEY,
            signoff_id TEXT NOT NULL UNIQUE,
            at TEXT NOT NULL,
            provider TEXT,
            month TEXT,
            run_id TEXT,
            pack_path TEXT NOT NULL,
            pack_sha256 TEXT NOT NULL,
            inputs TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('approve', 'caveats', 'reject')),
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            caveats TEXT NOT NULL,
            os_user TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )""",
        *(
            f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"""
            for table in ("signoffs", "exception_events")
            for op in ("UPDATE", "DELETE")
        ),
    ),
    # 2 -> 3: the pack's content fingerprint, so a pack whose Sign-off sheet was filled in
    # (new file bytes, same figures) is still known as the pack this run wrote
    (
        "ALTER TABLE runs ADD COLUMN pack_fingerprint TEXT",
        "CREATE INDEX runs_pack_fingerprint ON runs(pack_fingerprint)",
    ),
)
APPEND_ONLY_TRIGGERS = frozenset(
    f"{t}_no_{op}" for t in ("signoffs", "exception_events") for op in ("update", "delete")
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class InputFile:
    """One input file as hashed at run time; ``root`` is what the user named (file or folder)."""

    role: str
    root: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ValueRow:
    measure_id: str
    source: str  # "local" | "extract" | "published"
    value: float | int | None
    breakdown: str | None = None
    level: str | None = None
    numerator: int | None = None
    denominator: int | None = None


@dataclass(frozen=True)
class ExceptionRow:
    exception_id: str
    status: str
    source: str | None = None
    severity: str | None = None
    team: str | None = None
    table: str | None = None
    key: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """Everything one run leaves in the ledger, written in a single transaction."""

    run_id: str
    command: str
    provider: str | None
    month: Month
    started: dt.datetime
    finished: dt.datetime
    exit_code: int
    recon_version: str
    rules_version: str
    user: str | None = None
    inputs: tuple[InputFile, ...] = ()
    values: tuple[ValueRow, ...] = ()
    exceptions: tuple[ExceptionRow, ...] = ()
    pack_path: str | None = None
    pack_sha256: str | None = None
    pack_fingerprint: str | None = None


@dataclass(frozen=True)
class RunRow:
    run_id: str
    command: str
    provider: str | None
    month: str
    started: str
    finished: str
    exit_code: int
    recon_version: str
    rules_version: str
    user: str | None
    pack_path: str | None
    pack_sha256: str | None


# --------------------------------------------------------------------------- helpers


def os_user() -> str:
    """Who ran this (for sign-off and status history): the login name, never a patient."""
    try:
        return getpass.getuser()
    except Exception:
        return f"uid{os.getuid()}"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(ts: dt.datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.astimezone()
    return ts.astimezone(dt.UTC).isoformat(timespec="seconds")


def default_ledger_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("recon")) / "ledger.sqlite"


def resolve_ledger_path(flag: Path | str | None = None, configured: Path | str | None = None) -> Path:
    """``--ledger`` beats ``RECON_LEDGER`` beats the configuration file beats the user data folder."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get(LEDGER_ENV)
    if env:
        return Path(env).expanduser()
    if configured:
        return Path(configured).expanduser()
    return default_ledger_path()


@lru_cache(maxsize=1)
def rules_version() -> str:
    """A digest of every file under rules/: two runs with the same value used the same rules."""
    from recon.codes import RULES_DIR

    h = hashlib.sha256()
    if RULES_DIR.is_dir():
        for p in sorted(RULES_DIR.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                h.update(p.relative_to(RULES_DIR).as_posix().encode() + b"\0")
                h.update(p.read_bytes())
    return "rules-" + h.hexdigest()[:12]


_SKIP_NAMES = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


def input_paths(root: Path) -> list[Path]:
    """The files an input consists of: the file itself, or every file under a folder (junk skipped)."""
    root = Path(root).resolve()
    if root.is_file():
        return [root]
    if root.is_dir():
        return sorted(
            p for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") or part in _SKIP_NAMES for part in p.relative_to(root).parts)
        )
    return []


def input_files(role: str, root: Path) -> tuple[InputFile, ...]:
    """Hash an input (a file, or every file under a folder) so a sign-off can later detect changes."""
    from recon.sources.extract import file_sha256

    resolved = Path(root).resolve()
    return tuple(InputFile(role, str(resolved), str(p), p.stat().st_size, file_sha256(p)) for p in input_paths(resolved))


def _ledger_error(exc: BaseException, path: Path, action: str) -> LedgerError:
    text = str(exc).lower()
    if "disk is full" in text or "disk full" in text or getattr(exc, "errno", None) == 28:
        return LedgerError(f"ledger {path}: disk full while {action}; nothing was recorded",
                           hint="free space and run again")
    if "disk i/o error" in text:
        return LedgerError(f"ledger {path}: write failed while {action} (disk full or I/O error); nothing was recorded",
                           hint="check free space and the disk, then run again")
    if "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
        return LedgerError(f"ledger {path} cannot be written ({action}): read-only file or folder",
                           hint="check permissions, or point --ledger / RECON_LEDGER elsewhere")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return LedgerError(f"ledger {path} is corrupted ({action}); it was left unchanged",
                           hint="restore it from a backup or move it aside")
    if "locked" in text or "busy" in text:
        return LedgerError(f"ledger {path} is busy ({action}); another process holds it", hint="try again")
    return LedgerError(f"ledger {path}: {action} failed: {type(exc).__name__}: {str(exc)[:120]}")


# --------------------------------------------------------------------------- the ledger


class Ledger:
    """An open, checked and migrated ledger. Use :meth:`open`; close with ``with`` or :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool) -> None:
        self.path = path
        self.conn = conn
        self.readonly = readonly

    # ---- opening

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Ledger:
        """Open (creating unless ``readonly``), check integrity, then migrate to SCHEMA_VERSION."""
        path = Path(path).expanduser()
        exists = path.exists()
        if readonly and not exists:
            raise LedgerError(f"ledger {path} does not exist yet", hint="run 'recon reconcile' first, or give --ledger")
        if exists:
            _check_header(path)
        elif not readonly:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _ledger_error(exc, path, "creating its folder") from None
        mode = "ro" if readonly else ("rw" if exists else "rwc")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _ledger_error(exc, path, "opening") from None
        ledger = cls(path, conn, readonly)
        try:
            if exists:
                ledger.check_integrity()
            ledger._prepare()
        except LedgerError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise _ledger_error(exc, path, "opening") from None
        return ledger

    def check_integrity(self, *, full: bool = False) -> None:
        """Every open reads every page (``quick_check``: linear in the ledger's size, ~0.2 s
        at 150 MB); ``full`` adds index consistency (``integrity_check``, ~7x slower), which
        the audit (``recon signoff verify``) asks for."""
        try:
            rows = self.conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {self.path} is corrupted ({exc}); it was left unchanged",
                              hint="restore it from a backup or move it aside") from None
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
            raise _ledger_error(exc, self.path, "opening") from None
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
            raise _ledger_error(exc, self.path, f"migrating schema {version} -> {version + 1}") from None

    @property
    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all or nothing; sqlite errors become a clear LedgerError (exit 2)."""
        if self.readonly:
            raise LedgerError(f"ledger {self.path} was opened read-only ({action})")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _ledger_error(exc, self.path, action) from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise _ledger_error(exc, self.path, action) from None
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
        """Write a whole run (and exception status changes) in ONE transaction."""
        user = run.user or os_user()
        at = iso(run.finished)
        with self.transaction(f"recording run {run.run_id}") as c:
            c.execute(
                "INSERT INTO runs (run_id, command, provider, month, started, finished, exit_code, recon_version,"
                " rules_version, user, pack_path, pack_sha256, pack_fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.run_id, run.command, run.provider, str(run.month), iso(run.started), at, run.exit_code,
                 run.recon_version, run.rules_version, user, run.pack_path, run.pack_sha256, run.pack_fingerprint),
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
            c.executemany(
                "INSERT INTO exceptions (run_id, exception_id, source, severity, team, table_name, record_key,"
                " problem, status) VALUES (?,?,?,?,?,?,?,?,?)",
                [(run.run_id, e.exception_id, e.source, e.severity, e.team, e.table, e.key, e.problem, e.status)
                 for e in run.exceptions],
            )
            last = self._last_statuses(run.provider, [e.exception_id for e in run.exceptions])
            c.executemany(
                "INSERT INTO exception_events (exception_id, provider, status, reason, by, at, run_id)"
                " VALUES (?,?,?,?,?,?,?)",
                [(e.exception_id, run.provider, e.status, f"seen by {run.command} run {run.run_id} for {run.month}",
                  user, at, run.run_id)
                 for e in run.exceptions if last.get(e.exception_id) != e.status],
            )

    def set_exception_status(self, exception_id: str, status: str, *, reason: str, by: str | None = None,
                             provider: str | None = None) -> dict[str, Any]:
        """Record a human decision about an exception (e.g. accepted as known); returns the event."""
        if status not in ("new", "recurring", "accepted"):
            raise LedgerError(f"unknown exception status {status!r}")
        providers = [r[0] for r in self.conn.execute(
            "SELECT DISTINCT r.provider FROM exceptions e JOIN runs r USING (run_id) WHERE e.exception_id = ?",
            (exception_id,),
        )]
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

    # ---- reading

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
                f"SELECT DISTINCT e.exception_id FROM exceptions e JOIN runs r USING (run_id)"
                f" WHERE r.provider IS ? AND r.month < ? AND e.exception_id IN ({marks})",
                (provider, str(month), *chunk),
            ))
        return {i: "accepted" if last.get(i) == "accepted" else ("recurring" if i in earlier else "new") for i in ids}

    def exception_history(self, exception_id: str) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT seq, exception_id, provider, status, reason, by, at, run_id FROM exception_events"
            " WHERE exception_id = ? ORDER BY seq", (exception_id,))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur]

    def runs(self, *, provider: str | None = None, month: str | None = None, command: str | None = None) -> list[RunRow]:
        sql = ("SELECT run_id, command, provider, month, started, finished, exit_code, recon_version, rules_version,"
               " user, pack_path, pack_sha256 FROM runs WHERE 1=1")
        args: list[Any] = []
        for col, val in (("provider", provider), ("month", month), ("command", command)):
            if val is not None:
                sql += f" AND {col} = ?"
                args.append(val)
        return [RunRow(*r) for r in self.conn.execute(sql + " ORDER BY finished, rowid", args)]

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

    def check_append_only(self) -> list[str]:
        """Names of missing append-only triggers (someone dropped them to edit history)."""
        have = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return sorted(APPEND_ONLY_TRIGGERS - have)


def _check_header(path: Path) -> None:
    """Refuse, without writing, any file that is not a SQLite database."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise _ledger_error(exc, path, "reading") from None
    if head and head != _SQLITE_MAGIC:
        raise LedgerError(f"ledger {path} is not a SQLite database (corrupted or the wrong file); it was left unchanged",
                          hint="restore it from a backup, or point --ledger / RECON_LEDGER elsewhere")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --------------------------------------------------------------------------- trend


_STATUS_RANK = {"Final": 0, "Performance": 1, "Provisional": 2, "Adhoc": 3}
TREND_SCHEMA = {"month": pl.String, "measure_id": pl.String, "value": pl.Float64, "source": pl.String}


def trend_frame(
    ledger: Ledger | Path | str | None,
    provider: str | None,
    month: Month,
    measure_ids: Sequence[str],
    months: int = 12,
    *,
    published: Path | str | None = None,
    this_run: Any = None,
) -> pl.DataFrame:
    """The last ``months`` months (ending with ``month``) of the given measures, for the pack's Trend sheet.

    Each month comes from the latest ledger run (source "ledger"); a month the ledger lacks falls back
    to the published file(s) if given (source "published"); ``this_run`` (a MeasuresResult) supplies
    ``month`` itself (source "this run"). Columns: month (YYYY-MM), measure_id, value, source.
    """
    window = [month.shift(-i) for i in range(months - 1, -1, -1)]
    ids = list(dict.fromkeys(measure_ids))
    parts: list[pl.DataFrame] = []
    have: set[tuple[str, str]] = set()
    if this_run is not None:
        rows = [(str(month), i, None if this_run.value(i) is None else float(this_run.value(i)), "this run") for i in ids
                if this_run.get(i) is not None]
        parts.append(pl.DataFrame(rows, schema=TREND_SCHEMA, orient="row"))
        have.update((r[0], r[1]) for r in rows)
    if ledger is not None and ids:
        led = ledger if isinstance(ledger, Ledger) else _open_if_exists(Path(ledger))
        if led is not None:
            try:
                got = led.latest_values(provider, measure_ids=ids, months=window)
            finally:
                if led is not ledger:
                    led.close()
            got = got.select("month", "measure_id", "value", pl.lit("ledger").alias("source"))
            if have:
                got = got.join(_have_frame(have), on=["month", "measure_id"], how="anti")
            parts.append(got)
            have.update(zip(got["month"].to_list(), got["measure_id"].to_list(), strict=True))
    if published is not None and ids:
        parts.append(_published_trend(Path(published), provider, window, ids, have))
    if not parts:
        return pl.DataFrame(schema=TREND_SCHEMA)
    return pl.concat([p.cast(TREND_SCHEMA) for p in parts], how="vertical").sort("month", "measure_id")  # type: ignore[arg-type]


def _open_if_exists(path: Path) -> Ledger | None:
    return Ledger.open(path, readonly=True) if path.exists() else None


def _have_frame(have: set[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(sorted(have), schema={"month": pl.String, "measure_id": pl.String}, orient="row")


def _published_trend(path: Path, provider: str | None, window: list[Month], ids: list[str],
                     have: set[tuple[str, str]]) -> pl.DataFrame:
    """Provider-level published values by reporting month (period end), Final before Performance."""
    from recon.published import select_published

    rows = select_published(path, provider=provider, month=None, status=None).to_json_dict()["rows"]
    if not rows:
        return pl.DataFrame(schema=TREND_SCHEMA)
    frame = pl.DataFrame(
        [{k: r.get(k) for k in ("period_end", "status", "breakdown", "measure_id", "value", "suppressed")} for r in rows],
        schema={"period_end": pl.String, "status": pl.String, "breakdown": pl.String, "measure_id": pl.String,
                "value": pl.Float64, "suppressed": pl.Boolean},
    )
    out = (
        frame.lazy()
        .filter(pl.col("breakdown").str.to_lowercase() == "provider")
        .with_columns(pl.col("period_end").str.slice(0, 7).alias("month"))
        .filter(pl.col("month").is_in([str(m) for m in window]) & pl.col("measure_id").is_in(ids))
        .with_columns(
            pl.col("status").replace_strict(_STATUS_RANK, default=9, return_dtype=pl.Int64).alias("rank"),
            pl.when(pl.col("suppressed").fill_null(False)).then(None).otherwise(pl.col("value")).alias("value"),
        )
        .sort("rank")
        .unique(["month", "measure_id"], keep="first")
        .select("month", "measure_id", "value", pl.lit("published").alias("source"))
        .collect()
    )
    return out.join(_have_frame(have), on=["month", "measure_id"], how="anti") if have else out


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class History:
    """Provider-level figures of the latest run of each month, oldest month first."""

    provider: str | None
    months: tuple[str, ...]
    frame: pl.DataFrame  # month, measure_id, value, numerator, denominator, run_id

    def to_json_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "months": list(self.months), "rows": self.frame.to_dicts()}


def load_history(ledger: Ledger, *, provider: str | None = None, measure_ids: Sequence[str] = (),
                 months: int = 12) -> History:
    """The last ``months`` months up to the newest month recorded for the provider (latest run per month)."""
    if months < 1:
        raise UsageError("the number of months must be at least 1")
    if provider is None:
        known = ledger.providers()
        if len(known) > 1:
            raise UsageError(f"the ledger holds several providers ({', '.join(known)}); give --provider")
        provider = known[0] if known else None
    frame = ledger.latest_values(provider, measure_ids=list(measure_ids) or None)
    if frame.height == 0:
        return History(provider, (), frame)
    last = Month.parse(str(frame["month"].max()))
    window = tuple(str(last.shift(-i)) for i in range(months - 1, -1, -1))
    frame = frame.filter(pl.col("month").is_in(window))
    return History(provider, tuple(m for m in window if m in set(frame["month"].to_list())), frame)


def recent_runs(ledger: Ledger, *, provider: str | None = None, months: int = 12) -> list[RunRow]:
    """Every run (any command, any exit code) of the last ``months`` reporting months, newest first."""
    rows = [r for r in ledger.runs() if provider is None or r.provider == provider]
    if not rows:
        return []
    last = max(Month.parse(r.month) for r in rows)
    first = str(last.shift(-(months - 1)))
    return sorted((r for r in rows if r.month >= first), key=lambda r: r.finished, reverse=True)
