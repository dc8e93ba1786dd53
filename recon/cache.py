"""Re-run cache: what a run derived from inputs whose SHA-256 is known, reused when nothing changed.

The usual re-run (after ``recon accept``, or the daily cron line) reads the same extract with
the same rules and the same recon. Its result is keyed by everything it depends on:

- the command, the month, the provider settings, the mapping and status asked for;
- every input file: role, path, size and SHA-256 (the same hashes the ledger records);
- the rules digest (every file under ``recon/rules``) and recon's version plus a digest of
  recon's own source, so a code change invalidates the cache even without a version bump.

Any change of any of these gives another key, so a stale entry is never found, only left to age
out (the folder keeps the newest ``KEEP`` entries). An entry is stored with the SHA-256 of its
bytes and the key it answers; an entry that is truncated, altered or for another key is ignored
(and removed), never trusted, and the run computes afresh.

Hashing a large extract costs about a second per 450 MB, so the digests of input files are
remembered too, keyed by (device, inode, size, mtime, ctime): ``ctime`` cannot be set back by a
user, so any write to the file makes a new key; a file modified within ``RACY_SECONDS`` of being
hashed is not remembered (its mtime may not have ticked yet).

The folder is ``RECON_CACHE`` when set (``off`` disables the cache), else ``recon-cache`` beside
the ledger; runs without a ledger use no cache. Entries are Python pickles of recon's own result
objects: the folder is trusted as the ledger beside it is (the checksum guards against damage,
not against someone who can write the user's files).
"""

from __future__ import annotations

import contextlib
import copyreg
import hashlib
import io
import json
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from recon import __version__

CACHE_ENV = "RECON_CACHE"
FOLDER_NAME = "recon-cache"
MAGIC = b"recon-cache 1\n"
KEEP = 8  # result entries kept (the newest); each is one month's result for one command
RACY_SECONDS = 2.0
_HASHES = "input-hashes.json"
_OFF = ("off", "0", "no", "false", "none")

T = TypeVar("T")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """recon's version and a digest of its Python source: a changed recon never reuses a result."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode() + b"\0")
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def cache_folder(ledger: Path | None) -> Path | None:
    """``RECON_CACHE`` (``off`` disables), else ``recon-cache`` beside the ledger, else none."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return None if env.lower() in _OFF else Path(env).expanduser()
    return None if ledger is None else Path(ledger).expanduser().resolve().parent / FOLDER_NAME


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _proxy(contents: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(contents)


class _Pickler(pickle.Pickler):
    """Pickles read-only mappings (results hold ``MappingProxyType`` views) as their contents."""

    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = lambda m: (_proxy, (dict(m),))


def _dumps(value: object) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


@dataclass(frozen=True)
class RunCache:
    """One cache folder: remembered input digests and result entries (see the module docstring)."""

    folder: Path

    # ------------------------------------------------------------------ input digests

    def sha256_files(self, paths: Iterable[Path], compute: Callable[[Path], str] | None = None) -> dict[Path, str]:
        """SHA-256 of each file, from the remembered digests where the file is provably unchanged;
        ``compute`` hashes the others (default: read the file)."""
        memo = self._read_hashes()
        out: dict[Path, str] = {}
        changed = False
        now = time.time()
        for path in paths:
            st = path.stat()
            stat_key = _stat_key(st)
            known = memo.get(str(path))
            if isinstance(known, list) and len(known) == 6 and known[:5] == stat_key and isinstance(known[5], str):
                out[path] = known[5]
                continue
            digest = (compute or _sha256)(path)
            out[path] = digest
            if now - st.st_mtime > RACY_SECONDS and path.stat().st_mtime_ns == st.st_mtime_ns:
                memo[str(path)] = [*stat_key, digest]
                changed = True
        if changed:
            self._write(self.folder / _HASHES, json.dumps(memo, sort_keys=True).encode())
        return out

    def _read_hashes(self) -> dict[str, Any]:
        try:
            memo = json.loads((self.folder / _HASHES).read_bytes())
        except (OSError, ValueError):
            return {}
        return memo if isinstance(memo, dict) else {}

    # ------------------------------------------------------------------ results

    def get(self, key: str, kind: type[T]) -> T | None:
        """The stored result for ``key`` when it is intact, for this key and of type ``kind``; else None."""
        path = self._entry(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        cut = data.find(b"\n\n")
        head, body = (data, memoryview(b"")) if cut < 0 else (data[:cut], memoryview(data)[cut + 2:])
        lines = (head + b"\n").split(b"\n")
        ok = (
            data.startswith(MAGIC) and len(lines) >= 3
            and lines[1] == f"key {key}".encode()
            and lines[2] == f"sha256 {hashlib.sha256(body).hexdigest()}".encode()
        )
        value: object = None
        if ok:
            try:
                value = pickle.loads(body)
            except Exception:  # a damaged entry is ignored, whatever unpickling raised
                ok = False
        if not ok or not isinstance(value, kind):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # newest first when pruning
        return value

    def put(self, key: str, value: object) -> None:
        """Store ``value`` for ``key`` (best effort: a cache that cannot be written is skipped)."""
        try:
            body = _dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        head = MAGIC + f"key {key}\nsha256 {hashlib.sha256(body).hexdigest()}\n\n".encode()
        self._write(self._entry(key), head + body)
        self._prune()

    def _entry(self, key: str) -> Path:
        return self.folder / f"{key}.result"

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.result"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            with contextlib.suppress(OSError):
                old.unlink()

    def _write(self, path: Path, data: bytes) -> None:
        """Atomic write (temporary file then rename); any OSError leaves the cache as it was."""
        tmp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def open_cache(ledger: Path | None) -> RunCache | None:
    folder = cache_folder(ledger)
    return None if folder is None else RunCache(folder)


def run_key(parts: Sequence[object], inputs: Iterable[tuple[str, str, int, str]], rules: str) -> str:
    """The key of one run: its parameters, every input (role, path, size, sha256), rules and code."""
    payload = {
        "parts": [repr(p) for p in parts],
        "inputs": sorted([list(i) for i in inputs]),
        "rules": rules,
        "code": code_digest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cached(cache: RunCache | None, key: str | None, kind: type[T], compute: Callable[[], T]) -> T:
    """``compute()``, or the intact stored result for ``key``; stores a computed result."""
    if cache is None or key is None:
        return compute()
    found = cache.get(key, kind)
    if found is not None:
        return found
    value = compute()
    cache.put(key, value)
    return value


def input_files(cache: RunCache, role: str, root: Path) -> tuple[Any, ...]:
    """``recon.ledger.input_files`` with remembered digests: the same ``InputFile`` rows, hashed once."""
    from recon.ledger import InputFile, input_paths
    from recon.sources.extract import file_sha256

    resolved = Path(root).resolve()
    paths = input_paths(resolved)
    memo = cache.sha256_files(paths, compute=file_sha256)
    return tuple(InputFile(role, str(resolved), str(p), p.stat().st_size, memo[p]) for p in paths)
