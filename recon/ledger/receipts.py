"""Copies of each sign-off kept outside the ledger, so a rewritten ledger no longer agrees with them.

Two append-only JSON-lines files anchor the sign-off chain (threat model: docs/audit-trail.md):

* the **receipt** beside each signed pack (``pack.xlsx.signoff-receipt.jsonl``), where the
  CYP lead's copy of the pack lives, holds every sign-off of that pack in full;
* the **journal** beside the ledger (``ledger.sqlite.signoffs.jsonl``) holds the chain head
  (sequence number, hash, pack) after each sign-off, so a dropped last sign-off shows.

Lines are appended with ``O_APPEND`` and never through a symbolic link; an append that is
part of a sign-off whose ledger commit fails is cut off again (:class:`Appended`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recon.errors import LedgerError, os_reason

RECEIPT_SUFFIX = ".signoff-receipt.jsonl"
JOURNAL_SUFFIX = ".signoffs.jsonl"
_MAX_RECEIPT_BYTES = 64 << 20  # a receipt holds a few KB per sign-off; anything larger is not ours


def receipt_path(pack: Path | str) -> Path:
    pack = Path(pack)
    return pack.with_name(pack.name + RECEIPT_SUFFIX)


def journal_path(ledger: Path | str) -> Path:
    ledger = Path(ledger)
    return ledger.with_name(ledger.name + JOURNAL_SUFFIX)


@dataclass(frozen=True)
class Appended:
    """Where a line was appended, so a failed sign-off can take it back."""

    path: Path
    offset: int

    def undo(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_WRONLY | os.O_NOFOLLOW)
            try:
                os.ftruncate(fd, self.offset)
            finally:
                os.close(fd)


def append_line(path: Path, record: Mapping[str, Any]) -> Appended:
    """Append one JSON line durably; never follows a symbolic link at ``path``."""
    line = (json.dumps(dict(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise LedgerError(f"cannot write the sign-off record {path}: {os_reason(exc)}; nothing was recorded",
                          hint="check the folder's permissions and free space") from None
    try:
        offset = os.fstat(fd).st_size
        try:
            os.write(fd, line)
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
            raise LedgerError(f"cannot write the sign-off record {path}: {os_reason(exc)}; nothing was recorded",
                              hint="check free space") from None
    finally:
        os.close(fd)
    return Appended(path, offset)


@dataclass(frozen=True)
class Line:
    """One line of a receipt or journal: its record, or None when it is not valid JSON."""

    number: int
    record: dict[str, Any] | None


def read_lines(path: Path) -> list[Line] | None:
    """The file's lines, or None when there is no such file (a symbolic link is not read)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_RECEIPT_BYTES + 1)
    except OSError:
        return None
    return list(_parse(data[:_MAX_RECEIPT_BYTES]))


def _parse(data: bytes) -> Iterator[Line]:
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        yield Line(number, value if isinstance(value, dict) else None)


