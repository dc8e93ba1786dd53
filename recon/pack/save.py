"""Save the pack atomically.

The file is written to a temporary file in the destination folder and moved over the
destination with ``os.replace`` only when complete: a failed or interrupted run never leaves
a half-written pack and leaves an earlier pack untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from recon.errors import OutputError
from recon.pack.model import PackInfo, PackOptions
from recon.pack.xlsx import build_workbook
from recon.reconcile.model import ReconcileResult


def _file_mode(path: Path) -> int:
    """An existing pack's mode, else what a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_pack(result: ReconcileResult, path: Path, options: PackOptions | None = None) -> PackInfo:
    """Write the sign-off pack to ``path`` atomically; an earlier pack there is replaced only on success."""
    options = options or PackOptions()
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write the pack {path}: folder {folder} does not exist")
    if path.suffix.lower() != ".xlsx":
        raise OutputError(f"cannot write the pack {path}: the file name must end in .xlsx")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx.tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        os.chmod(tmp, _file_mode(path))  # mkstemp's 0600 would make the pack unreadable to colleagues
        sheets, rows, fingerprint = build_workbook(result, tmp, options)
        digest = hashlib.sha256()
        with tmp.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write the pack {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return PackInfo(path=path, sha256=digest.hexdigest(), sheets=sheets, exception_rows=rows, fingerprint=fingerprint)
