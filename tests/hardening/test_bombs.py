"""Bounded memory (issue 15 class 4): bombs are refused, under a hard memory limit, before they expand."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from recon.errors import InputError
from recon.sources import load_extract
from recon.sources.limits import Limits, set_limits

ROOT = Path(__file__).resolve().parents[2]
REF = "ServiceRequestId,LocalPatientId,OrgIDProv,ReferralRequestReceivedDate\nR1,P1,RXX,2024-09-03\n"
CON = "CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH\nC1,R1,2024-09-10,5,01\n"
MPI = "LocalPatientId,PersonBirthDate,OrgIDProv\nP1,2010-01-01,RXX\n"


def _folder(path: Path, **override: str) -> Path:
    path.mkdir(parents=True)
    files = {"MHS001MPI.csv": MPI, "MHS101Referral.csv": REF, "MHS201CareContact.csv": CON}
    for name, text in files.items():
        if name not in override.values():
            (path / name).write_text(text, encoding="utf-8")
    return path


def _xlsx_bomb(path: Path) -> None:
    """5 KB on disk; a cell at XFD1048576 makes the reader allocate 17 billion cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "MHS001MPI"
    ws.append(["LocalPatientId", "PersonBirthDate", "OrgIDProv"])
    ws.append(["P1", "2010-01-01", "RXX"])
    ws["XFD1048576"] = "x"
    wb.save(path)


def _zip_bomb(path: Path) -> None:
    """About 40 KB holding a 40 MB member (ratio ~1000)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("MHS001MPI.csv", MPI)
        zf.writestr("MHS101Referral.csv", REF + "," * (40 << 20))
        zf.writestr("MHS201CareContact.csv", CON)


def _in_limited_process(target: Path, limit_mb: int = 1500) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({limit_mb} << 20, {limit_mb} << 20))
        from recon.errors import InputError
        from recon.sources import load_extract
        try:
            load_extract({str(target)!r})
        except InputError as exc:
            print("REFUSED", exc.exit_code, exc)
        else:
            print("READ")
    """)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "POLARS_MAX_THREADS": "1", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("bomb", ["xlsx", "zip"])
def test_bombs_are_refused_under_a_memory_limit(tmp_path: Path, bomb: str) -> None:
    if bomb == "xlsx":
        target = _folder(tmp_path / "ex", skip="MHS001MPI.csv")
        _xlsx_bomb(target / "MHS001MPI.xlsx")
        assert (target / "MHS001MPI.xlsx").stat().st_size < 10_000
        limit = "max_columns"
    else:
        target = tmp_path / "ex.zip"
        _zip_bomb(target)
        assert target.stat().st_size < 100_000
        limit = "max_zip_ratio"
    done = _in_limited_process(target)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("REFUSED 2 ") and limit in done.stdout, done.stdout
    assert "MHS101Referral.csv" in done.stdout or "MHS001MPI.xlsx" in done.stdout


@pytest.fixture
def small_limits() -> object:
    set_limits(Limits(max_cells=1000, max_columns=50, max_findings_per_rule=2))
    yield None
    set_limits(Limits())


def test_a_sparse_csv_and_a_wide_header_are_refused_by_the_configured_limits(tmp_path: Path,
                                                                            small_limits: object) -> None:
    sparse = _folder(tmp_path / "sparse")
    (sparse / "MHS101Referral.csv").write_text(REF + ",,,\n" * 2000, encoding="utf-8")
    with pytest.raises(InputError, match=r"MHS101Referral.csv.*max_cells = 1,000"):
        load_extract(sparse)
    wide = _folder(tmp_path / "wide")
    (wide / "MHS201CareContact.csv").write_text(CON.replace("\n", "," + ",".join(f"X{i}" for i in range(60)) + "\n", 1),
                                                encoding="utf-8")
    with pytest.raises(InputError, match=r"has 65 columns.*max_columns = 50"):
        load_extract(wide)


def test_findings_are_capped_per_rule_with_a_count(tmp_path: Path, small_limits: object) -> None:
    from recon.months import Month
    from recon.validation import validate_extract

    ex = _folder(tmp_path / "ex")
    rows = "".join(f"C{i},R1,2024-09-10,9,01\n" for i in range(2, 8))  # AttendStatus 9 is not a code
    (ex / "MHS201CareContact.csv").write_text(CON + rows, encoding="utf-8")
    from recon.config import ProviderSettings

    report = validate_extract(ex, Month.parse("2024-09"), mapping=None, settings=ProviderSettings())
    mine = [f for f in report.findings if f.column == "AttendStatus" and f.table == "MHS201CareContact"]
    assert len([f for f in mine if f.key is not None]) == 2
    assert any("6 records in all; the first 2 are listed" in f.message for f in mine)
