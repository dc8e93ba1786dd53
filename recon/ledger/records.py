"""What a run leaves in the ledger, as frozen records, and the small helpers that fill them."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from recon.months import Month

LEDGER_ENV = "RECON_LEDGER"



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
    pack_view: str | None = None  # recon.pack.view.view_fingerprint of the written pack


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




def month_number(month: Month | str) -> int:
    """A month as one small integer (year * 12 + month - 1): compact in the ledger, ordered."""
    m = month if isinstance(month, Month) else Month.parse(str(month))
    return m.year * 12 + m.month - 1


def month_text(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"
