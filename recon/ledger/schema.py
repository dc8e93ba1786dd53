"""Ledger schema: versioned with ``PRAGMA user_version``, migrated in code, one transaction per step.

A file that is not a SQLite database is refused before SQLite ever writes to it.
"""

from __future__ import annotations

from pathlib import Path

from recon.errors import LedgerError

SCHEMA_VERSION = 6
_SQLITE_MAGIC = b"SQLite format 3\x00"
# The tables whose rows a sign-off depends on: frozen once their run is signed off.
SIGNED_TABLES = ("runs", "run_inputs", "measure_values")
STATUSES = ("new", "recurring", "accepted")

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
    # 3 -> 4: a sign-off seals what it depends on: a digest of its run's rows (run, inputs,
    # figures) inside its hash, an optional keyed MAC, and those rows frozen once signed
    (
        "ALTER TABLE signoffs ADD COLUMN run_digest TEXT",
        "ALTER TABLE signoffs ADD COLUMN mac TEXT",
        "CREATE INDEX signoffs_run ON signoffs(run_id)",
        *(
            f"""CREATE TRIGGER {table}_signed_no_{op.lower()} BEFORE {op} ON {table}
                WHEN EXISTS (SELECT 1 FROM signoffs s WHERE s.run_id = OLD.run_id)
                BEGIN SELECT RAISE(ABORT, 'rows of a signed-off run are read-only'); END"""
            for table in SIGNED_TABLES
            for op in ("UPDATE", "DELETE")
        ),
    ),
    # 4 -> 5: compact exception memory. A 400,000-person run wrote ~50,000 exception rows and as
    # many "seen" events (19.5 MB); the details are in the pack, and history needs only when each
    # exception was first seen: one row per provider and exception, ever (month as an integer).
    (
        """CREATE TABLE exception_first (
            provider TEXT NOT NULL,
            exception_id TEXT NOT NULL,
            month INTEGER NOT NULL,
            run INTEGER,
            PRIMARY KEY (provider, exception_id)
        ) WITHOUT ROWID""",
        """INSERT INTO exception_first (provider, exception_id, month, run)
            SELECT COALESCE(r.provider, ''), e.exception_id,
                   MIN(CAST(substr(r.month, 1, 4) AS INTEGER) * 12 + CAST(substr(r.month, 6, 2) AS INTEGER) - 1),
                   MIN(r.rowid)
            FROM exceptions e JOIN runs r USING (run_id) GROUP BY 1, 2""",
        "DROP TABLE exceptions",
        # what the pack shows beyond its values (formats, colours, hidden rows and sheets)
        "ALTER TABLE runs ADD COLUMN pack_view TEXT",
    ),
    # 5 -> 6: voids. A mistaken run is voided, never deleted: an appended row (who, when, why),
    # append-only like sign-offs; a signed-off run cannot be voided (the trigger refuses it too).
    # No foreign key: pruning an old unsigned run leaves its void on record.
    (
        """CREATE TABLE run_voids (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL UNIQUE,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            by TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        *(
            f"""CREATE TRIGGER run_voids_no_{op.lower()} BEFORE {op} ON run_voids
                BEGIN SELECT RAISE(ABORT, 'run_voids are append-only'); END"""
            for op in ("UPDATE", "DELETE")
        ),
        # the date the lead wrote on the sign-off (inside the record's hash when present)
        "ALTER TABLE signoffs ADD COLUMN signed_on TEXT",
        """CREATE TRIGGER run_voids_not_signed BEFORE INSERT ON run_voids
            WHEN EXISTS (SELECT 1 FROM signoffs s WHERE s.run_id = NEW.run_id)
            BEGIN SELECT RAISE(ABORT, 'a signed-off run cannot be voided'); END""",
    ),
)
APPEND_ONLY_TRIGGERS = frozenset(
    [f"{t}_no_{op}" for t in ("signoffs", "exception_events") for op in ("update", "delete")]
    + [f"{t}_signed_no_{op}" for t in SIGNED_TABLES for op in ("update", "delete")]
    + ["run_voids_no_update", "run_voids_no_delete", "run_voids_not_signed"]
)




def check_header(path: Path) -> None:
    """Refuse, without writing, any file that is not a SQLite database."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ledger_error(exc, path, "reading") from None
    if head and head != _SQLITE_MAGIC:
        raise LedgerError(f"ledger {path} is not a SQLite database (corrupted or the wrong file); it was left unchanged",
                          hint="restore it from a backup, or point --ledger / RECON_LEDGER elsewhere")



def ledger_error(exc: BaseException, path: Path, action: str, *, default_corrupt: bool = False) -> LedgerError:
    """One message per condition: a full disk, a read-only or foreign-owned file or folder, a busy
    ledger and real corruption are different problems with different remedies."""
    text = str(exc).lower()
    if "disk is full" in text or "disk full" in text or getattr(exc, "errno", None) == 28:
        return LedgerError(f"ledger {path}: disk full while {action}; nothing was recorded",
                           hint="free space and run again")
    if "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
        return write_problem(path) or LedgerError(
            f"ledger {path} cannot be written ({action}): read-only file, folder or disk",
            hint="check permissions, or point --ledger / RECON_LEDGER elsewhere")
    if "disk i/o error" in text:
        return LedgerError(f"ledger {path}: write failed while {action} (disk full or I/O error); nothing was recorded",
                           hint="check free space and the disk, then run again")
    if "locked" in text or "busy" in text:
        return LedgerError(f"ledger {path} is busy ({action}); another process holds it", hint="try again")
    if default_corrupt or "not a database" in text or "malformed" in text or "corrupt" in text:
        return LedgerError(f"ledger {path} is corrupted ({action}: {str(exc)[:120]}); it was left unchanged",
                           hint="restore it from a backup or move it aside")
    return LedgerError(f"ledger {path}: {action} failed: {type(exc).__name__}: {str(exc)[:120]}")


_ACCESS_WORDS = ("read-only", "belongs to user", "folder", "cannot be written")


def access_problem(message: str) -> bool:
    """Is this a message about access (so a private copy can still be read), not corruption?"""
    return any(w in message for w in _ACCESS_WORDS) and "corrupted" not in message


def write_problem(path: Path) -> LedgerError | None:
    """Why recon cannot write the ledger at ``path`` (each condition its own words), or None."""
    import os
    import pwd

    def owner(uid: int) -> str:
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"uid {uid}"

    folder = path.parent
    if path.exists():
        st = path.stat()
        if not os.access(path, os.W_OK):
            if st.st_uid != os.geteuid():
                return LedgerError(f"ledger {path} belongs to user {owner(st.st_uid)} and you "
                                   f"({owner(os.geteuid())}) may not write it; it was left unchanged",
                                   hint="run as that user, or point --ledger / RECON_LEDGER at your own ledger")
            return LedgerError(f"ledger {path} is a read-only file (mode {st.st_mode & 0o777:o}); it was left unchanged",
                               hint="make it writable (chmod u+w), or point --ledger / RECON_LEDGER elsewhere")
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return LedgerError(f"the folder of ledger {path} is read-only (SQLite keeps its journal files beside the "
                           "ledger); nothing was recorded", hint="make the folder writable, or move the ledger")
    return None
