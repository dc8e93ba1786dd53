"""Time writing a sign-off pack with 100,000 exception rows (target: under 20 seconds).

    .venv/bin/python bench/pack_bench.py [--rows 100000] [--split] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from recon.findings import Severity
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.pack.fingerprint import verify_pack
from recon.pack.model import PackOptions
from recon.pack.save import write_pack
from recon.reconcile.model import Comparison, ComparisonStatus, ExceptionRecord, ReconcileResult

TARGET_SECONDS = 20.0


def big_result(rows: int, teams: int = 25) -> ReconcileResult:
    """A realistic shape: a few measures, many teams, ``rows`` exceptions of mixed kinds."""
    month = Month(2024, 9)
    values = [MeasureValue("MHS95", 50_000), MeasureValue("MHS32", 4_000), MeasureValue("MHS110", 900)]
    values += [MeasureValue("MHS95", 2_000 + t, breakdown="Team", level=f"TEAM{t:02d}") for t in range(teams)]
    severities = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    statuses = ("new", "recurring", "accepted")
    exceptions = tuple(
        ExceptionRecord(
            exception_id=f"{i:012x}",
            source=("validation", "reconcile", "outcomes")[i % 3],
            severity=severities[i % 3],
            team=f"TEAM{i % teams:02d}",
            table="MHS201CareContact",
            key=f"CC{i:09d}",
            problem=f"AttendStatus '{i % 10}' is not a valid attendance code for a care contact",
            action="Record the attendance outcome (5, 6, 7, 2, 3 or 4) in the EPR",
            status=statuses[(i // 3) % 3],
        )
        for i in range(rows)
    )
    now = dt.datetime(2024, 10, 5, 9, 0)
    return ReconcileResult(
        provider="RXX", month=month, started=now, finished=now,
        local=MeasuresResult("RXX", month, tuple(values)),
        comparisons=(Comparison("MHS95", "People seen", 50_000, ComparisonStatus.CONSISTENT, published=50_000),),
        exceptions=exceptions,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--split", action="store_true", help="one exceptions sheet per team")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = big_result(args.rows)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        info = write_pack(result, folder / "bench_pack.xlsx", PackOptions(split_by_team=args.split))
        t2 = time.perf_counter()
        size = info.path.stat().st_size
        ok = verify_pack(info.path)
        t3 = time.perf_counter()
    seconds = t2 - t1
    print(f"built result with {args.rows:,} exceptions in {t1 - t0:.1f} s")
    print(f"write_pack: {seconds:.1f} s for {info.exception_rows:,} exception rows, {size / 1e6:.1f} MB, "
          f"{len(info.sheets)} sheets (target < {TARGET_SECONDS:.0f} s: {'met' if seconds < TARGET_SECONDS else 'MISSED'})")
    print(f"verify_pack (re-read and re-hash): {t3 - t2:.1f} s, fingerprint {'matches' if ok else 'DIFFERS'}")


if __name__ == "__main__":
    main()
