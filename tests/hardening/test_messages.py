"""Messages (issue 15 class 9): escapes, newlines and markup from data never reach the terminal or
the log as such; lengths are bounded; odd inputs give a clear exit 2 naming file, column and rule."""

from __future__ import annotations

import datetime as dt
import errno
import os
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.errors import InputError, ReconError
from recon.ledger import Ledger, RunRecord, ValueRow
from recon.months import Month
from recon.safe_text import clean
from recon.sources import load_extract

REF = "ServiceRequestId,LocalPatientId,OrgIDProv,ReferralRequestReceivedDate\nR1,P1,RXX,2024-09-03\n"
CON = "CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH\nC1,R1,2024-09-10,5,01\n"
MPI = "LocalPatientId,PersonBirthDate,OrgIDProv\nP1,2010-01-01,RXX\n"


def _cli(*args: Any) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    for name, text in (("MHS001MPI.csv", MPI), ("MHS101Referral.csv", REF), ("MHS201CareContact.csv", CON)):
        (path / name).write_text(text, encoding="utf-8")
    return path


def test_escapes_and_newlines_in_a_path_are_shown_escaped(tmp_path: Path) -> None:
    evil = tmp_path / "ex\x1b[2J\x1b[31mred\nrecon: INFO: forged line\u202e"
    res = _cli("validate", "--month", "2024-09", "--epr", evil, "--no-ledger")
    assert res.exit_code == 3
    assert "\x1b" not in res.stderr and "\u202e" not in res.stderr
    assert res.stderr.count("\n") == 1 and "\\x1b[2J" in res.stderr and "\\nrecon: INFO" in res.stderr


def test_messages_are_bounded() -> None:
    err = ReconError("x" * 1_000_000, hint="y" * 10_000)
    assert len(str(err)) < 3000 and "more characters" in err.message
    assert clean("a\tb\rc\x00") == "a\\tb\\rc\\x00"


def test_a_header_line_over_64_kb_is_refused_without_echo(tmp_path: Path) -> None:
    ex = _folder(tmp_path / "ex")
    (ex / "MHS101Referral.csv").write_text("Col" * 40_000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"SRC005.*longer than 65,536 bytes") as info:
        load_extract(ex)
    assert len(str(info.value)) < 500


def test_parquet_list_and_duration_columns_name_file_and_column(tmp_path: Path) -> None:
    ex = _folder(tmp_path / "ex")
    (ex / "MHS101Referral.csv").unlink()
    frame = pl.read_csv(REF.encode(), infer_schema=False)
    frame.with_columns(pl.lit([1, 2]).alias("Extra")).write_parquet(ex / "MHS101Referral.parquet")
    with pytest.raises(InputError, match=r"SRC008.*MHS101Referral.parquet, column Extra: holds List"):
        load_extract(ex)
    frame.with_columns(pl.lit(dt.timedelta(days=1)).alias("Wait")).write_parquet(ex / "MHS101Referral.parquet")
    res = _cli("validate", "--month", "2024-09", "--epr", ex, "--no-ledger")
    assert res.exit_code == 2 and "column Wait: holds Duration" in res.stderr and "internal error" not in res.stderr


@pytest.mark.parametrize(("header", "message"), [
    ("CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH,attendstatus",
     "'AttendStatus' and 'attendstatus' differ only in case"),
    ("CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH,AttendOrDNACode",
     "both AttendStatus and its old name AttendOrDNACode are present"),
])
def test_ambiguous_columns_are_refused(tmp_path: Path, header: str, message: str) -> None:
    ex = _folder(tmp_path / "ex")
    (ex / "MHS201CareContact.csv").write_text(header + "\nC1,R1,2024-09-10,5,01,6\n", encoding="utf-8")
    with pytest.raises(InputError, match="SRC012") as info:
        load_extract(ex)
    assert message in str(info.value) and "MHS201CareContact.csv" in str(info.value)


def test_signoff_on_a_bad_file_is_a_clear_exit_2(tmp_path: Path) -> None:
    Ledger.open(tmp_path / "ledger.sqlite").close()
    zipped = tmp_path / "notapack.xlsx"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "hi")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(os.urandom(3000))
    for bad in (zipped, empty, junk, tmp_path):
        for extra in ((), ("--decision", "approve", "--name", "A", "--role", "B")):
            res = _cli("signoff", "--pack", bad, *extra)
            assert res.exit_code == 2, (bad, res.stderr)
            assert "internal error" not in res.stderr and str(bad.name) in res.stderr


def test_a_read_only_output_folder_is_a_clear_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recon.runctl import OutputError, stage_file

    real = os.open

    def refuse(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if ".recon-tmp" in str(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(OutputError, match=r"pack.xlsx: cannot write in .*permission denied"):
        stage_file(tmp_path / "pack.xlsx")


def test_markup_and_escapes_from_the_ledger_do_not_crash_history(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    now = dt.datetime(2024, 10, 5, tzinfo=dt.UTC)
    with Ledger.open(path) as led:
        led.record_run(RunRecord("r1", "measures", "[/]\x1b[31m", Month(2024, 9), now, now, 0, "0", "r",
                                 values=(ValueRow("MHS95", "local", 1.0),)))
    res = _cli("history", "--ledger", path, "--provider", "[/]\x1b[31m")
    assert res.exit_code == 0, res.stderr
    res = _cli("history", "--ledger", path, "--runs")
    assert res.exit_code == 0 and "[/]" in res.stdout and "\x1b" not in res.stdout
