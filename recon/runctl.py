"""Run control: locks, atomic outputs, logging and terminal behaviour for scheduled runs.

A cron job has no terminal: no colour, no progress bars, no prompts; ``--quiet`` leaves only
warnings and errors; ``--log-file`` keeps an INFO trail. Nothing here ever logs patient data,
and a redacting filter masks anything shaped like an NHS number or a postcode as a second guard.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from recon.errors import LockedError, OutputError, os_reason

LOG = logging.getLogger("recon")
TEST_PAUSE_ENV = "RECON_TEST_PAUSE_BEFORE_RENAME"  # test hook: seconds to sleep with a half-finished output
TEST_PAUSE_AFTER_ENV = "RECON_TEST_PAUSE_AFTER_RENAME"  # test hook: outputs moved, run not yet recorded


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

    def __init__(self, target: Path, recorded: Callable[[str], bool] | None = None) -> None:
        self.target = Path(target)
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot create folder {parent}: {os_reason(exc)}") from None
        for note in recover_outputs(self.target, recorded):
            LOG.warning("%s", note)
        _remove_stale(parent, self.target.name)
        stem = f".{self.target.name}.{os.getpid()}"
        self.tmp = parent / f"{stem}.recon-tmp{self.target.suffix}"
        self.backup = parent / f"{stem}.recon-old{self.target.suffix}"
        self.intent = parent / f"{stem}.recon-intent"
        self.committed = False
        _unlink_quietly(self.tmp)  # never write through whatever sits at our temporary name
        try:
            os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666))
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write in {parent}: {os_reason(exc)}; "
                              "the previous file is left as it was") from None

    def ready(self) -> None:
        """The temporary file is complete (test hook: a run may be killed here)."""
        if not self.tmp.is_file():
            raise OutputError(f"{self.target}: the writer produced no file")
        _test_pause()

    def commit(self, run_id: str | None = None) -> None:
        """Move the output into place, first noting (``run_id``) what to undo if the run dies
        before the ledger records it: the next run then puts the previous file back."""
        try:
            with open(self.tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if run_id is not None:
                _write_intent(self.intent, run_id, self.target, self.backup if self.target.exists() else None)
            if self.target.exists():
                _unlink_quietly(self.backup)
                try:
                    os.link(self.target, self.backup)
                except OSError:  # no hard links here (some shares): a copy does the same job
                    shutil.copy2(self.target, self.backup)
            os.replace(self.tmp, self.target)
            _fsync_dir(self.target.parent)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write: {os_reason(exc)}") from None
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
        _unlink_quietly(self.intent)
        self.committed = False

    def forget_backup(self) -> None:
        """The run is recorded: the previous file and the note of what to undo are no longer needed."""
        _unlink_quietly(self.backup)
        _unlink_quietly(self.intent)

    def discard(self) -> None:
        _unlink_quietly(self.tmp)
        if not self.committed:
            _unlink_quietly(self.backup)
            _unlink_quietly(self.intent)


def stage_file(target: Path, recorded: Callable[[str], bool] | None = None) -> StagedFile:
    return StagedFile(target, recorded)


def _write_intent(path: Path, run_id: str, target: Path, backup: Path | None) -> None:
    _unlink_quietly(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, json.dumps({"run_id": run_id, "target": str(target),
                                 "backup": None if backup is None else str(backup)}).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def recover_outputs(target: Path, recorded: Callable[[str], bool] | None) -> list[str]:
    """Finish or undo what a run that died between moving ``target`` into place and recording
    itself left behind. Recorded (or no ledger to ask): keep the new file. Not recorded: put the
    previous file back (or remove a first file nobody recorded). Returns what was done, in words."""
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.recon-intent$")
    notes: list[str] = []
    with contextlib.suppress(OSError):
        for p in sorted(target.parent.iterdir()):
            m = pattern.match(p.name)
            if not m or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
                continue
            try:
                note = json.loads(p.read_text(encoding="utf-8"))
                run_id, backup = str(note["run_id"]), note.get("backup")
            except (OSError, ValueError, KeyError, TypeError):
                _unlink_quietly(p)
                continue
            if recorded is None or recorded(run_id):
                if backup:
                    _unlink_quietly(Path(backup))
            elif backup and Path(backup).exists():
                os.replace(backup, target)
                notes.append(f"{target}: a run killed before it was recorded (run {run_id}) had replaced this "
                             "file; the previous one was put back")
            else:
                _unlink_quietly(target)
                notes.append(f"{target}: a run killed before it was recorded (run {run_id}) left this file; "
                             "it was removed")
            _unlink_quietly(p)
    return notes


def _remove_stale(folder: Path, name: str) -> None:
    """Temporary files of runs that died (their pid is gone) are removed; live runs' are left alone."""
    # ours, and the pack writer's own temporary file beside ours ("." + our temporary name + ...)
    pattern = re.compile(rf"^\.\.?{re.escape(name)}\.(\d+)\.recon-(tmp|old)")
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


def pause_after_rename() -> None:
    """Test hook: a run may be killed here, between moving its outputs and recording itself."""
    _test_pause(TEST_PAUSE_AFTER_ENV)


def _test_pause(env: str = TEST_PAUSE_ENV) -> None:
    delay = os.environ.get(env)
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


# --------------------------------------------------------------------------- locks


LOCK_DIR_ENV = "RECON_LOCK_DIR"


def lock_dir() -> Path:
    """One place for every run's locks, whatever ledger or pack it uses (``$RECON_LOCK_DIR``, else
    ``recon-locks`` in the temporary folder, shared by the users of this machine, sticky)."""
    configured = os.environ.get(LOCK_DIR_ENV)
    if configured:
        return Path(configured)
    import tempfile

    return Path(tempfile.gettempdir()) / "recon-locks"


def lock_path(provider: str | None, month: object) -> Path:
    """The lock of one provider and month, as resolved from the data (``ANY``: not known)."""
    key = re.sub(r"[^A-Za-z0-9_-]", "_", (provider or "ANY").upper())
    return lock_dir() / f"recon-{key}-{month}.lock"


class MonthLocks:
    """The locks a run holds: its provider and month, taken as soon as the provider is known (from
    the flags, else from the data) so two runs for one month exclude each other however started."""

    def __init__(self, month: object) -> None:
        self.month = month
        self._held: dict[str, RunLock] = {}

    def hold(self, provider: str | None) -> None:
        if not provider:
            return
        key = provider.upper()
        if key not in self._held:
            self._held[key] = RunLock(lock_path(key, self.month), f"{key} {self.month}").acquire()

    def release(self) -> None:
        for lock in self._held.values():
            lock.release()
        self._held.clear()

    def __enter__(self) -> MonthLocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _shared_dir(path: Path) -> None:
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o1777)  # every user's runs lock here; the sticky bit keeps their files theirs


def _open_lock(path: Path) -> IO[str]:
    """Open (creating) the lock file, never through a symbolic link: a planted link must not let
    the lock truncate a signed pack."""
    flags = os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, os.O_RDWR | flags, 0o644)
        mode = "r+"
    except PermissionError:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        mode = "r"
    import stat

    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(21, "not a regular file")
    return open(fd, mode, encoding="utf-8")


class RunLock:
    """An exclusive, non-blocking ``fcntl.flock`` held for the whole run; released on exit or death."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        self._fh: IO[str] | None = None

    def acquire(self) -> RunLock:
        try:
            _shared_dir(self.path.parent)
            fh = _open_lock(self.path)
        except OSError as exc:
            raise LockedError(f"cannot create lock file {self.path}: {os_reason(exc)}") from None
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
            raise LockedError(f"cannot lock {self.path}: {os_reason(exc)}") from None
        with contextlib.suppress(OSError):  # opened read-only when another user created it
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
        from recon.safe_text import clean

        record.msg = clean(redact(record.getMessage()), 4000)  # one record, one line: no forged lines
        record.args = None
        return True


class _QuietFileHandler(logging.FileHandler):
    """A log file that cannot be written (disk full, file too large) warns once, without a traceback."""

    _warned = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._warned:
            self._warned = True
            with contextlib.suppress(Exception):
                sys.stderr.write(f"recon: warning: cannot write the log file {self.baseFilename} "
                                 "(disk full?); the run goes on without it\n")


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
            fh = _QuietFileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{log_file}: cannot open log file: {os_reason(exc)}") from None
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


# --------------------------------------------------------------------------- signals and temporary files


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def handle_termination_signals() -> None:
    """SIGTERM (a scheduler's stop, ``kill``) and SIGHUP (the terminal closed) end a run the way
    Ctrl-C does: outputs are put back, temporary files removed, exit 130."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, _interrupt)


_TEMP_PREFIX = "recon-run-"


@contextlib.contextmanager
def private_tempdir() -> Iterator[Path]:
    """Every temporary file of this run (openpyxl, polars spills, ...) goes in one folder of ours,
    removed at the end; folders of runs that died (their pid is gone) are removed at the start."""
    import tempfile

    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for p in base.iterdir():
            if p.name.startswith(_TEMP_PREFIX) and p.is_dir() and not p.is_symlink():
                pid = p.name[len(_TEMP_PREFIX):]
                if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                    shutil.rmtree(p, ignore_errors=True)
    own = base / f"{_TEMP_PREFIX}{os.getpid()}"
    shutil.rmtree(own, ignore_errors=True)
    try:
        own.mkdir(mode=0o700)
    except OSError:
        yield base  # no private folder possible: leave the defaults alone
        return
    saved, saved_env = tempfile.tempdir, os.environ.get("POLARS_TEMP_DIR")
    tempfile.tempdir = str(own)
    os.environ["POLARS_TEMP_DIR"] = str(own)
    try:
        yield own
    finally:
        tempfile.tempdir = saved
        if saved_env is None:
            os.environ.pop("POLARS_TEMP_DIR", None)
        else:
            os.environ["POLARS_TEMP_DIR"] = saved_env
        shutil.rmtree(own, ignore_errors=True)
