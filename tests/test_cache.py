"""The re-run cache (recon.cache): reuse only for the same inputs, rules and code; damage is never trusted."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest

import recon.cache
import recon.measures.engine
from recon.cache import RunCache, cache_folder, cached, run_key
from recon.jobs import RunOptions, measures_job, validate_job
from recon.pipeline import library_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "mhsds"
INPUTS = (("epr", "/x/MHS001MPI.csv", 10, "a" * 64),)


class Box:
    """A picklable result type for the cache's own tests."""

    def __init__(self, value: int) -> None:
        self.value = value


def counting(value: int, calls: list[int]) -> Box:
    calls.append(value)
    return Box(value)


def test_same_key_is_computed_once(tmp_path: Path) -> None:
    cache, calls = RunCache(tmp_path), []
    key = run_key(("measures", "2024-09"), INPUTS, "rules-1")
    assert cached(cache, key, Box, lambda: counting(1, calls)).value == 1
    assert cached(cache, key, Box, lambda: counting(2, calls)).value == 1
    assert calls == [1]


@pytest.mark.parametrize("change", ["input sha", "input size", "input path", "rules", "month", "settings", "code"])
def test_any_change_of_input_rules_parameters_or_code_is_another_key(change: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base = run_key(("measures", "2024-09", "RXX"), INPUTS, "rules-1")
    role, path, size, sha = INPUTS[0]
    parts, inputs, rules = ("measures", "2024-09", "RXX"), INPUTS, "rules-1"
    if change == "input sha":
        inputs = ((role, path, size, "b" + sha[1:]),)
    elif change == "input size":
        inputs = ((role, path, size + 1, sha),)
    elif change == "input path":
        inputs = ((role, "/y/MHS001MPI.csv", size, sha),)
    elif change == "rules":
        rules = "rules-2"
    elif change == "month":
        parts = ("measures", "2024-08", "RXX")
    elif change == "settings":
        parts = ("measures", "2024-09", "RYY")
    else:
        monkeypatch.setattr(recon.cache, "code_digest", lambda: "another recon")
    assert run_key(parts, inputs, rules) != base


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "other key", "not a pickle", "other type"])
def test_a_damaged_entry_is_ignored_and_recomputed(tmp_path: Path, damage: str) -> None:
    cache, calls = RunCache(tmp_path), []
    key = run_key(("measures",), INPUTS, "rules-1")
    cached(cache, key, Box, lambda: counting(1, calls))
    entry = tmp_path / f"{key}.result"
    data = entry.read_bytes()
    if damage == "flipped byte":
        entry.write_bytes(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    elif damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "other key":  # an intact entry copied under another key's name
        other = run_key(("validate",), INPUTS, "rules-1")
        shutil.copy(entry, tmp_path / f"{other}.result")
        key = other
    elif damage == "not a pickle":
        import hashlib

        body = b"garbage, not a pickle"
        entry.write_bytes(recon.cache.MAGIC + f"key {key}\nsha256 {hashlib.sha256(body).hexdigest()}\n\n".encode()
                          + body)
    else:
        cache.put(key, "a string, not a Box")
    assert cached(cache, key, Box, lambda: counting(2, calls)).value == 2
    assert calls == [1, 2]
    assert cached(cache, key, Box, lambda: counting(3, calls)).value == 2  # the fresh entry is trusted


def test_input_digests_are_remembered_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    f = tmp_path / "MHS001MPI.csv"
    f.write_bytes(b"LocalPatientId\n1\n")
    old = time.time() - 60
    os.utime(f, (old, old))
    cache, seen = RunCache(tmp_path / "cache"), []

    def sha(p: Path) -> str:
        seen.append(p)
        return recon.cache._sha256(p)

    first = cache.sha256_files([f], compute=sha)[f]
    assert cache.sha256_files([f], compute=sha)[f] == first and len(seen) == 1  # remembered
    f.write_bytes(b"LocalPatientId\n2\n")  # same size, mtime put back: ctime still moves
    os.utime(f, (old, old))
    second = cache.sha256_files([f], compute=sha)[f]
    assert second != first and len(seen) == 2


def test_a_file_written_just_now_is_not_remembered(tmp_path: Path) -> None:
    f = tmp_path / "MHS001MPI.csv"
    f.write_bytes(b"LocalPatientId\n1\n")
    cache, seen = RunCache(tmp_path / "cache"), []
    for _ in range(2):
        cache.sha256_files([f], compute=lambda p: seen.append(p) or recon.cache._sha256(p))
    assert len(seen) == 2


def test_folder_beside_the_ledger_or_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_CACHE", raising=False)
    assert cache_folder(tmp_path / "ledger.sqlite") == tmp_path.resolve() / "recon-cache"
    assert cache_folder(None) is None
    monkeypatch.setenv("RECON_CACHE", "off")
    assert cache_folder(tmp_path / "ledger.sqlite") is None
    monkeypatch.setenv("RECON_CACHE", str(tmp_path / "elsewhere"))
    assert cache_folder(None) == tmp_path / "elsewhere"


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample_data/ not generated")
def test_jobs_reuse_a_result_until_an_input_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "ledger.sqlite"))
    monkeypatch.delenv("RECON_CACHE", raising=False)
    epr = tmp_path / "mhsds"
    shutil.copytree(SAMPLE, epr)
    old = time.time() - 60
    for p in epr.iterdir():
        os.utime(p, (old, old))
    first = measures_job(RunOptions(month="2024-09", epr=epr), pipeline=library_pipeline())
    report = validate_job(RunOptions(month="2024-09", epr=epr), pipeline=library_pipeline())
    real = recon.measures.engine.run_measures
    calls: list[int] = []

    def spy(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)  # type: ignore[arg-type]

    spy.__module__, spy.__qualname__ = real.__module__, real.__qualname__  # the same function, counted
    counted = dataclasses.replace(library_pipeline(), measures=spy)  # type: ignore[arg-type]
    again = measures_job(RunOptions(month="2024-09", epr=epr), pipeline=counted)
    assert calls == [] and again.result.values == first.result.values
    assert validate_job(RunOptions(month="2024-09", epr=epr),
                        pipeline=library_pipeline()).result.findings == report.result.findings
    assert measures_job(RunOptions(month="2024-08", epr=epr), pipeline=counted).result.month != first.result.month
    assert calls == [1]
    mpi = epr / "MHS001MPI.csv"
    lines = mpi.read_bytes().splitlines(keepends=True)
    mpi.write_bytes(b"".join(lines[:-1]))  # one person fewer
    changed = measures_job(RunOptions(month="2024-09", epr=epr), pipeline=counted)
    assert calls == [1, 1]
    assert changed.run_id != first.run_id
