"""The run ledger: schema and migration, one-transaction runs, exception memory, faults."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from recon.errors import LedgerError, UsageError
from recon.ledger import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ExceptionRow,
    InputFile,
    Ledger,
    RunRecord,
    ValueRow,
    load_history,
    trend_frame,
)
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2024, 10, 5, 6, 0, tzinfo=dt.UTC)


def run(month: str, *, provider: str = "RXX", values: dict[str, float] | None = None, exceptions: tuple[str, ...] = (),
        status: str = "new", finished: dt.datetime = T0, run_id: str | None = None, command: str = "reconcile") -> RunRecord:
    values = values if values is not None else {"MHS95": 100.0}
    return RunRecord(
        run_id=run_id or uuid.uuid4().hex, command=command, provider=provider,
        month=Month.parse(month), started=finished - dt.timedelta(minutes=1), finished=finished, exit_code=0,
        recon_version="0.1.0", rules_version="rules-test", user="tester",
        inputs=(InputFile("epr", "/d/epr", "/d/epr/a.csv", 10, "ab" * 32),),
        values=(*tuple(ValueRow(k, "local", v) for k, v in values.items()), ValueRow("MHS95", "local", 7, "Team", "T01")),
        exceptions=tuple(ExceptionRow(e, status, "reconcile", "error", "T01", "MHS101Referral", "R1", "p") for e in exceptions),
    )


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_new_ledger_is_wal_at_current_schema(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        assert led.user_version == SCHEMA_VERSION == 6
        assert led.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert led.check_append_only() == []


def test_record_run_and_read_back(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-09", values={"MHS95": 120, "MHS32a": 41.5}, exceptions=("E1",)))
        (r,) = led.runs()
        assert (r.command, r.provider, r.month, r.exit_code, r.user) == ("reconcile", "RXX", "2024-09", 0, "tester")
        assert r.finished == "2024-10-05T06:00:00+00:00"
        assert led.run_inputs(r.run_id) == [InputFile("epr", "/d/epr", "/d/epr/a.csv", 10, "ab" * 32)]
        vals = led.latest_values("RXX")
        # only provider level: the team row is kept in the ledger but not in the trend
        assert sorted(zip(vals["measure_id"], vals["value"], strict=True)) == [("MHS32a", 41.5), ("MHS95", 120.0)]
    assert count(ledger_path, "measure_values") == 3
    assert count(ledger_path, "exception_first") == 1


def test_a_failing_run_write_leaves_nothing(ledger_path: Path) -> None:
    bad = run("2024-09", exceptions=("E1",), status="bogus")  # exception_events CHECK fails at the very end
    with Ledger.open(ledger_path) as led, pytest.raises(LedgerError) as info:
        led.record_run(bad)
    assert info.value.exit_code == 2
    for table in ("runs", "run_inputs", "measure_values", "exception_first", "exception_events"):
        assert count(ledger_path, table) == 0, table


def _v1_ledger(path: Path) -> None:
    with sqlite3.connect(path) as c:
        for statement in MIGRATIONS[0]:
            c.execute(statement)
        c.execute("INSERT INTO runs VALUES ('old-run', 'reconcile', 'RXX', '2024-07', '2024-08-05T06:00:00+00:00',"
                  " '2024-08-05T06:01:00+00:00', 0, '0.0.9', 'rules-old', 'someone')")
        c.execute("INSERT INTO measure_values VALUES ('old-run', 'MHS95', 'local', NULL, NULL, 90, NULL, NULL)")
        c.execute("INSERT INTO exceptions VALUES ('old-run', 'E1', 'reconcile', 'error', 'T01', 'MHS101Referral', 'R1',"
                  " 'p', 'new')")
        c.execute("PRAGMA user_version = 1")
    c.close()


def test_v1_ledger_is_migrated_on_open(ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True)
    _v1_ledger(ledger_path)
    with Ledger.open(ledger_path) as led:
        assert led.user_version == SCHEMA_VERSION == 6
        cols = {r[1] for r in led.conn.execute("PRAGMA table_info(runs)")}
        assert {"pack_path", "pack_sha256"} <= cols
        (old,) = led.runs()
        assert (old.run_id, old.pack_sha256, old.recon_version) == ("old-run", None, "0.0.9")
        assert led.check_append_only() == []
        # the migrated ledger works: history from the v1 run and exception memory across months
        led.record_run(run("2024-08", exceptions=("E1", "E2")))
        assert led.exception_statuses("RXX", Month(2024, 8), ["E1", "E2"]) == {"E1": "recurring", "E2": "new"}
        assert load_history(led).frame["value"].to_list() == [90.0, 100.0]


def test_newer_schema_is_refused(ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True)
    with sqlite3.connect(ledger_path) as c:
        c.execute("PRAGMA user_version = 99")
    c.close()
    with pytest.raises(LedgerError, match="schema version 99, newer"):
        Ledger.open(ledger_path)


def test_not_a_sqlite_file_is_detected_and_left_unchanged(ledger_path: Path, cli: Any) -> None:
    ledger_path.parent.mkdir(parents=True)
    junk = b"these are the minutes of the CYP meeting, not a ledger\n" * 40
    ledger_path.write_bytes(junk)
    with pytest.raises(LedgerError, match="not a SQLite database") as info:
        Ledger.open(ledger_path)
    assert info.value.exit_code == 2
    res = cli("history", "--ledger", ledger_path)
    assert res.exit_code == 2 and "not a SQLite database" in res.stderr and "Traceback" not in res.stderr
    assert ledger_path.read_bytes() == junk
    assert sorted(p.name for p in ledger_path.parent.iterdir()) == ["ledger.sqlite"]  # no -wal / -shm


def test_damaged_pages_fail_the_integrity_check_and_are_left_unchanged(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        for i in range(40):
            led.record_run(run("2024-09", finished=T0 + dt.timedelta(minutes=i), exceptions=tuple(f"E{j}" for j in range(20))))
        led.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(ledger_path.read_bytes())
    assert len(data) > 8 * 4096
    data[4096 * 3: 4096 * 6] = b"\xde\xad\xbe\xef" * 3072  # pages 4-6 overwritten, header intact
    ledger_path.write_bytes(bytes(data))
    for name in ("ledger.sqlite-wal", "ledger.sqlite-shm"):
        (ledger_path.parent / name).unlink(missing_ok=True)
    with pytest.raises(LedgerError, match=r"corrupted|integrity check") as info:
        Ledger.open(ledger_path)
    assert info.value.exit_code == 2
    assert ledger_path.read_bytes() == bytes(data)


class _FullDisk:
    """A connection whose writes fail as SQLite does when the disk is full."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_full_disk_is_a_clear_error_and_records_nothing(ledger_path: Path) -> None:
    led = Ledger.open(ledger_path)
    led.conn = _FullDisk(led.conn)  # type: ignore[assignment]
    with pytest.raises(LedgerError, match=r"disk full while recording run .*nothing was recorded") as info:
        led.record_run(run("2024-09"))
    assert info.value.exit_code == 2
    led.close()
    assert count(ledger_path, "runs") == 0


def test_file_size_limit_in_a_real_process_is_a_clear_error(ledger_path: Path) -> None:
    """RLIMIT_FSIZE makes the kernel refuse to grow the file, as a full disk would."""
    with Ledger.open(ledger_path):
        pass
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        sys.path.insert(0, {str(ROOT)!r})
        from tests.ledger.test_ledger import run
        from recon.ledger import Ledger
        from recon.errors import LedgerError
        led = Ledger.open({str(ledger_path)!r})
        try:
            led.record_run(run("2024-09", values={{f"M{{i}}": float(i) for i in range(20000)}}))
        except LedgerError as exc:
            print("LEDGER-ERROR", exc.exit_code, exc)
            sys.exit(exc.exit_code)
        print("NO ERROR")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "LEDGER-ERROR 2 ledger" in proc.stdout
    assert "disk full" in proc.stdout and "nothing was recorded" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert count(ledger_path, "runs") == 0


def test_read_only_connection_is_a_clear_error(ledger_path: Path) -> None:
    with Ledger.open(ledger_path):
        pass
    with Ledger.open(ledger_path, readonly=True) as led, pytest.raises(LedgerError, match="read-only"):
        led.record_run(run("2024-09"))
    # the same through SQLite itself: a connection SQLite opened read-only refuses the write
    with Ledger.open(ledger_path) as led:
        led.conn.close()
        led.conn = sqlite3.connect(f"{ledger_path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        with pytest.raises(LedgerError, match=r"cannot be written .*read-only") as info:
            led.record_run(run("2024-09"))
        assert info.value.exit_code == 2


def _read_only_script(path: Path) -> str:
    return textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.ledger.test_ledger import run
        from recon.ledger import Ledger
        from recon.errors import LedgerError
        try:
            with Ledger.open({str(path)!r}) as led:
                led.record_run(run("2024-09"))
        except LedgerError as exc:
            print("LEDGER-ERROR", exc.exit_code, exc)
            sys.exit(exc.exit_code)
        print("NO ERROR")
    """)


def test_read_only_file_and_folder(tmp_path: Path) -> None:
    """chmod does not bind root, so as root the writer drops to 'nobody' (skipped if it cannot)."""
    folder = Path(tempfile.mkdtemp(prefix="recon-ro-"))  # /tmp, reachable by another user
    try:
        path = folder / "ledger.sqlite"
        with Ledger.open(path) as led:
            led.record_run(run("2024-08"))
            led.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.read_bytes()
        path.chmod(0o444)
        folder.chmod(0o555)
        kwargs: dict[str, Any] = {}
        if os.geteuid() == 0:
            def drop() -> None:
                os.setgid(65534)
                os.setuid(65534)
            kwargs["preexec_fn"] = drop
            if not os.access(sys.executable, os.X_OK) or not os.access(ROOT, os.R_OK | os.X_OK):
                pytest.skip("cannot run the interpreter as another user here")
        try:
            proc = subprocess.run([sys.executable, "-c", _read_only_script(path)], capture_output=True, text=True,
                                  timeout=60, **kwargs)
        except PermissionError:
            pytest.skip("the interpreter is not reachable by an unprivileged user here (root-only install)")
        if "Permission denied" in proc.stderr and "LEDGER-ERROR" not in proc.stdout:
            pytest.skip("the unprivileged user cannot read the project here")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "read-only" in proc.stdout, proc.stdout
        assert path.read_bytes() == before
    finally:
        folder.chmod(0o755)
        for p in folder.iterdir():
            p.chmod(0o644)
            p.unlink()
        folder.rmdir()


def test_exception_memory_new_recurring_accepted(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-08", exceptions=("A",), finished=T0))
        st = led.exception_statuses("RXX", Month(2024, 9), ["A", "B"])
        assert st == {"A": "recurring", "B": "new"}
        # another provider's history does not count
        assert led.exception_statuses("RYY", Month(2024, 9), ["A"]) == {"A": "new"}
        # a re-run of the same month is not "an earlier month"
        assert led.exception_statuses("RXX", Month(2024, 8), ["A"]) == {"A": "new"}
        led.record_run(run("2024-09", exceptions=("A", "B"), finished=T0 + dt.timedelta(days=30)))
        with pytest.raises(UsageError, match="no exception 'Z'"):
            led.set_exception_status("Z", "accepted", reason="x", by="me")
        event = led.set_exception_status("B", "accepted", reason="known EPR migration gap", by="Dr A Lead")
        assert (event["provider"], event["by"], event["status"]) == ("RXX", "Dr A Lead", "accepted")
        assert led.exception_statuses("RXX", Month(2024, 10), ["A", "B"]) == {"A": "recurring", "B": "accepted"}
        hist = led.exception_history("B")
        assert [(h["status"], h["by"]) for h in hist] == [("new", "tester"), ("accepted", "Dr A Lead")]
        assert all(h["at"] for h in hist)


def test_status_history_is_append_only(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-08", exceptions=("A",)))
        led.set_exception_status("A", "accepted", reason="r", by="me")
        for sql in ("UPDATE exception_events SET by = 'x'", "DELETE FROM exception_events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                led.conn.execute(sql)


def test_history_latest_run_per_month(ledger_path: Path, cli: Any) -> None:
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-07", values={"MHS95": 90, "MHS32a": 30}, finished=T0))
        led.record_run(run("2024-08", values={"MHS95": 95, "MHS32a": 31}, finished=T0 + dt.timedelta(days=1)))
        led.record_run(run("2024-08", values={"MHS95": 97, "MHS32a": 32}, finished=T0 + dt.timedelta(days=2)))  # re-run wins
        led.record_run(run("2024-09", values={"MHS95": 99, "MHS32a": 33}, finished=T0 + dt.timedelta(days=3),
                           command="measures"))
        h = load_history(led, measure_ids=["MHS95"], months=2)
        assert h.months == ("2024-08", "2024-09")
        assert h.frame["value"].to_list() == [97.0, 99.0]
    res = cli("history", "--json", "--measure", "MHS95", "--months", "3")
    assert res.exit_code == 0, res.stderr
    import json

    doc = json.loads(res.stdout)
    assert doc["provider"] == "RXX" and doc["months"] == ["2024-07", "2024-08", "2024-09"]
    assert [(r["month"], r["value"]) for r in doc["rows"]] == [("2024-07", 90.0), ("2024-08", 97.0), ("2024-09", 99.0)]
    res = cli("history", "--measure", "MHS95")
    assert res.exit_code == 0 and "2024-08" in res.stdout and "+7" in res.stdout and "+2" in res.stdout  # 90 -> 97 -> 99
    res = cli("history")
    assert res.exit_code == 0 and "MHS32a" in res.stdout and "33" in res.stdout
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-09", provider="RYY"))
    res = cli("history")
    assert res.exit_code == 2 and "several providers (RXX, RYY)" in res.stderr
    assert cli("history", "--provider", "RYY", "--json").exit_code == 0


PUBLISHED_HEADER = ("REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,"
                    "PRIMARY_LEVEL_DESCRIPTION,SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_NAME,"
                    "MEASURE_VALUE\n")


def test_trend_frame_ledger_then_published_then_this_run(ledger_path: Path, tmp_path: Path) -> None:
    with Ledger.open(ledger_path) as led:
        led.record_run(run("2024-07", values={"MHS95": 90}))
        led.record_run(run("2024-09", values={"MHS95": 111}))  # an earlier run of the month being re-run
    pub = tmp_path / "published.csv"
    pub.write_text(
        PUBLISHED_HEADER
        + "01/06/2024,30/06/2024,Performance,Provider,RXX,Trust,NONE,NONE,MHS95,CYP,85\n"
        + "01/06/2024,30/06/2024,Final,Provider,RXX,Trust,NONE,NONE,MHS95,CYP,86\n"
        + "01/07/2024,31/07/2024,Final,Provider,RXX,Trust,NONE,NONE,MHS95,CYP,70\n"  # ledger wins for July
        + "01/08/2024,31/08/2024,Performance,Provider,RXX,Trust,NONE,NONE,MHS95,CYP,*\n"
        + "01/08/2024,31/08/2024,Performance,Provider,RZZ,Other,NONE,NONE,MHS95,CYP,500\n",
        encoding="utf-8",
    )
    this = MeasuresResult("RXX", Month(2024, 9), (MeasureValue("MHS95", 120),))
    t = trend_frame(ledger_path, "RXX", Month(2024, 9), ["MHS95"], months=4, published=pub, this_run=this)
    assert t.columns == ["month", "measure_id", "value", "source"]
    assert t.rows() == [
        ("2024-06", "MHS95", 86.0, "published"),  # Final preferred to Performance
        ("2024-07", "MHS95", 90.0, "ledger"),
        ("2024-08", "MHS95", None, "published"),  # suppressed '*'
        ("2024-09", "MHS95", 120.0, "this run"),
    ]
    only_ledger = trend_frame(ledger_path, "RXX", Month(2024, 9), ["MHS95"], months=12)
    assert only_ledger.select("month", "source").rows() == [("2024-07", "ledger"), ("2024-09", "ledger")]
    empty = trend_frame(None, "RXX", Month(2024, 9), ["MHS95"])
    assert empty.height == 0 and empty.schema == pl.Schema(
        {"month": pl.String, "measure_id": pl.String, "value": pl.Float64, "source": pl.String})
