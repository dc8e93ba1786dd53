"""Run control: locks, atomic outputs, logging and terminal behaviour for scheduled runs.

A cron job has no terminal: no colour, no progress bars, no prompts; ``--quiet`` leaves only
warnings and errors; ``--log-file`` keeps an INFO trail. Nothing here ever logs patient data,
and a redacting filter masks anything shaped like an NHS number or a postcode as a second guard.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from recon.errors import LockedError, OutputError

LOG = logging.getLogger("recon")
TEST_PAUSE_ENV = "RECON_TEST_PAUSE_BEFORE_RENAME"  # test hook: seconds to sleep with a half-finished output


# --------------------------------------------------------------------------- terminal


def is_terminal(stream: IO[str] | None = None) -> bool:
    """True only for an interactive terminal (cron, pipes and CI are not)."""
    stream = stream or sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------- atomic outputs


class StagedFile:
    """An output written beside its target under a temporary name, moved into place only on commit.

    ``commit`` keeps a hard link to the previous file so ``restore`` can put it back if what
    follows (recording the run) fails; ``discard`` removes whatever is left of the temporary file.
    """

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot create folder {parent}: {_os_reason(exc)}") from None
        _remove_stale(parent, self.target.name)
        stem = f".{self.target.name}.{os.getpid()}"
        self.tmp = parent / f"{stem}.recon-tmp{self.target.suffix}"
        self.backup = parent / f"{stem}.recon-old{self.target.suffix}"
        self.committed = False

    def ready(self) -> None:
        """The temporary file is complete (test hook: a run may be killed here)."""
        if not self.tmp.is_file():
            raise OutputError(f"{self.target}: the writer produced no file")
        _test_pause()

    def commit(self) -> None:
        try:
            with open(self.tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if self.target.exists():
                _unlink_quietly(self.backup)
                try:
                    os.link(self.target, self.backup)
                except OSError:  # no hard links here (some shares): a copy does the same job
                    shutil.copy2(self.target, self.backup)
            os.replace(self.tmp, self.target)
            _fsync_dir(self.target.parent)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write: {_os_reason(exc)}") from None
        self.committed = True

    def restore(self) -> None:
        """Undo ``commit``: the previous file (or none) is back at the target."""
        if not self.committed:
            return
        with contextlib.suppress(OSError):
            if self.backup.exists():
                os.replace(self.backup, self.target)
            else:
                self.target.unlink()
        self.committed = False

    def forget_backup(self) -> None:
        _unlink_quietly(self.backup)

    def discard(self) -> None:
        _unlink_quietly(self.tmp)
        if not self.committed:
            _unlink_quietly(self.backup)


def stage_file(target: Path) -> StagedFile:
    return StagedFile(target)


def _remove_stale(folder: Path, name: str) -> None:
    """Temporary files of runs that died (their pid is gone) are removed; live runs' are left alone."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.recon-(tmp|old)")
    with contextlib.suppress(OSError):
        for p in folder.iterdir():
            m = pattern.match(p.name)
            if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
                _unlink_quietly(p)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _test_pause() -> None:
    delay = os.environ.get(TEST_PAUSE_ENV)
    if delay:
        time.sleep(float(delay))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disk full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only?)"
    return exc.strerror or type(exc).__name__


# --------------------------------------------------------------------------- locks


def lock_path(ledger_path: Path, provider: str | None, month: object) -> Path:
    """The lock file sits beside the ledger, one per provider and month.

    With no provider known before the data is read, the key is ``ANY``: such runs exclude each
    other for the month (conservative rather than racy).
    """
    key = re.sub(r"[^A-Za-z0-9_-]", "_", (provider or "ANY").upper())
    return Path(ledger_path).parent / f".recon-{key}-{month}.lock"


class RunLock:
    """An exclusive, non-blocking ``fcntl.flock`` held for the whole run; released on exit or death."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        self._fh: IO[str] | None = None

    def acquire(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open while locked
        except OSError as exc:
            raise LockedError(f"cannot create lock file {self.path}: {_os_reason(exc)}") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.seek(0)
            holder = fh.read().strip()[:80]
            fh.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise LockedError(
                    f"another recon run for {self.what} is in progress"
                    + (f" ({holder})" if holder else ""),
                    hint=f"lock file {self.path}; try again when it has finished",
                ) from None
            raise LockedError(f"cannot lock {self.path}: {_os_reason(exc)}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.seek(0)
                self._fh.truncate()
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# --------------------------------------------------------------------------- logging

_NHS_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{3}[ -]?\d{3}[ -]?\d{4}(?![0-9A-Za-z])")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE)


def redact(text: str) -> str:
    """Second guard for logs: mask anything shaped like an NHS number or a UK postcode."""
    return _POSTCODE.sub("[postcode]", _NHS_NUMBER.sub("[nhs-number]", text))


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_HANDLER_MARK = "_recon_handler"


def configure_logging(*, quiet: bool = False, log_file: Path | None = None, verbose: bool = False) -> None:
    """(Re)configure the ``recon`` logger: stderr gets warnings (INFO too with ``verbose``), the file INFO+.

    Called once per command; earlier recon handlers are removed so repeated in-process runs
    (tests) do not stack handlers.
    """
    for h in list(LOG.handlers):
        if getattr(h, _HANDLER_MARK, False):
            LOG.removeHandler(h)
            h.close()
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    stderr = logging.StreamHandler(_StderrProxy())
    stderr.setLevel(logging.WARNING if quiet or not verbose else logging.INFO)
    stderr.setFormatter(logging.Formatter("recon: %(levelname)s: %(message)s"))
    stderr.addFilter(_RedactFilter())
    setattr(stderr, _HANDLER_MARK, True)
    LOG.addHandler(stderr)
    if log_file is not None:
        try:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            fh = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{log_file}: cannot open log file: {_os_reason(exc)}") from None
        fh.setLevel(logging.INFO)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s pid=%(process)d %(message)s"))
        fh.addFilter(_RedactFilter())
        setattr(fh, _HANDLER_MARK, True)
        LOG.addHandler(fh)


class _StderrProxy:
    """Writes to whatever ``sys.stderr`` is now (CliRunner swaps it per invocation)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        with contextlib.suppress(Exception):
            sys.stderr.flush()


# --------------------------------------------------------------------------- progress


class Steps:
    """Named steps shown as a Rich progress display only on a terminal; always logged at INFO.

    ``callback`` can be handed to library functions that report their own steps.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Steps:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
            self._progress = None

    def step(self, name: str) -> None:
        LOG.info("step: %s", name)
        if self._progress is not None:
            self._progress.update(self._task, description=name)

    @property
    def callback(self) -> Callable[[str], None]:
        return self.step


def progress_enabled(*, quiet: bool, as_json: bool) -> bool:
    return is_terminal() and not quiet and not as_json and not os.environ.get("CI")


def log_to_file_only(level: int, message: str) -> None:
    """Errors already printed on stderr still belong in the log file of a scheduled run."""
    for h in LOG.handlers:
        if isinstance(h, logging.FileHandler) and getattr(h, _HANDLER_MARK, False):
            h.handle(LOG.makeRecord(LOG.name, level, __file__, 0, message, (), None))
