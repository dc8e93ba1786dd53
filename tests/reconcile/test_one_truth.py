"""Issue 14 points 1-3: a comparison that did not happen is never 'consistent'; the Summary shows
each difference with its own status; the terminal, the JSON and the pack count alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from recon.cli import app
from tests.reconcile.data import base, write_extract
from tests.reconcile.test_run import published

ROOT = Path(__file__).resolve().parents[2]
MAY = ROOT / ".." / "shared" / "data" / "published" / "MHSDS Data_4WW_MayPerf_2024_v2.csv"
real = pytest.mark.skipif(not MAY.exists(), reason="../shared/data/published is absent")


def run(*args: object) -> object:
    return CliRunner().invoke(app, [*map(str, args)])


def sheet_rows(path: Path, title: str) -> list[tuple[object, ...]]:
    return [r for r in load_workbook(path)[title].iter_rows(values_only=True)]


def row_with(rows: list[tuple[object, ...]], first: str) -> tuple[object, ...]:
    return next(r for r in rows if r and r[0] == first)


@real
@pytest.mark.published
def test_a_real_file_without_the_provider_is_not_compared_anywhere(tmp_path: Path) -> None:
    """Point 1: the real May 2024 file has no rows for ZZZ (not compared, anywhere), and RXX rows for
    the waits measures (MRS*), which recon computes (compared); the EPR has no activity in May."""
    local = write_extract(tmp_path / "local", base())
    zzz = run("reconcile", "--month", "2024-05", "--epr", local, "--published", MAY, "--no-ledger",
              "--provider", "ZZZ", "--json")
    pc = json.loads(zzz.stdout)["published_comparison"]
    assert pc["state"] == "not_compared" and "provider ZZZ has no Provider rows for 2024-05" in pc["reason"]
    assert MAY.name in pc["reason"]
    pack = tmp_path / "pack.xlsx"
    args = ("reconcile", "--month", "2024-05", "--epr", local, "--published", MAY, "--no-ledger", "--provider", "ZZZ")
    res = run(*args, "--json")
    out = json.loads(res.stdout)
    assert out["published_comparison"]["state"] == "not_compared"
    assert not any(c["status"] == "missing_published" for c in out["comparisons"])
    assert "consistent" not in out["summary"]["comparisons"]
    assert any("no care contact or indirect activity is dated in 2024-05" in w for w in out["warnings"])
    res = run(*args, "--pack", pack)
    assert "Published figures: NOT COMPARED: " in res.stdout and "provider ZZZ" in " ".join(res.stdout.split())
    assert "Verdict: consistent" not in res.stdout
    cover = sheet_rows(pack, "Cover")
    shown = str(row_with(cover, "Published figures")[1])
    assert shown.startswith("NOT COMPARED: ") and MAY.name in shown and "provider ZZZ" in shown
    assert row_with(cover, "Overall status")[1] != "Fit to submit"
    # RXX has Provider rows in the real file for the four-week-waits measures, which the waits family
    # computes: that file is compared (measure by measure), never "not compared"
    rxx = json.loads(run("reconcile", "--month", "2024-05", "--epr", local, "--published", MAY, "--no-ledger",
                         "--json").stdout)
    assert rxx["published_comparison"]["state"] == "compared"
    assert any(c["id"].startswith("MRS") for c in rxx["comparisons"])
    assert any("dated in 2024-05" in str(r[1]) for r in cover if r and r[0] == "Warning")


def test_a_month_without_activity_warns_in_every_command(tmp_path: Path) -> None:
    local = write_extract(tmp_path / "local", base())
    for command in ("validate", "measures", "reconcile"):
        res = run(command, "--month", "2024-12", "--epr", local, "--no-ledger")
        assert "no care contact or indirect activity is dated in 2024-12" in " ".join(res.stdout.split()), command


def test_summary_shows_each_difference_with_its_own_status(tmp_path: Path) -> None:
    """Point 2: agreeing with the published file but not with the extract reads as such, and the
    published column says 'Not compared' when the file lacks the provider."""
    local = write_extract(tmp_path / "local", base())
    other = base()
    other["MHS204IndirectActivity"] = []  # the extract lacks the indirect activity: MHS29 etc. differ
    extract = write_extract(tmp_path / "extract", other)
    pub = published(tmp_path / "pub.csv", [("MHS30", "*")])
    pack = tmp_path / "p.xlsx"
    res = run("reconcile", "--month", "2024-09", "--epr", local, "--extract", extract, "--published", pub,
              "--pack", pack, "--no-ledger", "--json")
    out = json.loads(res.stdout)
    differing = [c for c in out["comparisons"] if c["extract_status"] not in ("consistent", "missing_published")]
    assert differing
    rows = sheet_rows(pack, "Summary")
    header = next(r for r in rows if r and r[0] == "ID")
    assert header[4:11] == ("Extract − local", "Extract status", "Published", "Published − local",
                            "Published status", "Tolerance", "Overall status")
    for c in differing:
        r = row_with(rows, c["id"])
        assert r[4] == c["extract_difference"] and r[4] != 0
        assert r[5] == {"discrepancy": "Discrepancy", "within_tolerance": "Within tolerance"}[c["extract_status"]]
        assert r[10] == {"discrepancy": "Discrepancy", "within_tolerance": "Within tolerance",
                         "consistent": "Consistent"}[c["overall_status"]]
    mhs30 = row_with(rows, "MHS30")
    assert mhs30[8] == "Consistent"  # '*' published, local below 5
    assert all("whichever is larger" in str(row_with(rows, c["id"])[9]) for c in out["comparisons"]
               if "%" in c["tolerance"])

    ryy = tmp_path / "ryy.csv"
    ryy.write_text(pub.read_text().replace(",RXX,", ",RYY,"))
    run("reconcile", "--month", "2024-09", "--epr", local, "--extract", extract, "--published", ryy,
        "--pack", pack, "--no-ledger")
    rows = sheet_rows(pack, "Summary")
    assert {row_with(rows, c["id"])[8] for c in out["comparisons"]} == {"Not compared"}


def _counts_line(stdout: str) -> str:
    return re.search(r"Records to fix: [^\n]*", stdout).group(0)  # type: ignore[union-attr]


def test_terminal_json_and_pack_count_alike_and_move_after_accept(tmp_path: Path) -> None:
    """Point 3: one set of counts; outcome gaps apart; `recon accept` moves every view."""
    local = write_extract(tmp_path / "local", base())
    other = base()
    other["MHS201CareContact"] = [r for r in other["MHS201CareContact"] if r["CareContactId"] != "C5"]
    extract = write_extract(tmp_path / "extract", other)
    ledger, pack = tmp_path / "l.sqlite", tmp_path / "p.xlsx"
    args = ("reconcile", "--month", "2024-09", "--epr", local, "--extract", extract, "--ledger", ledger)

    def views() -> tuple[dict[str, int], str, list[tuple[object, ...]]]:
        out = json.loads(run(*args, "--json").stdout)
        text = run(*args, "--pack", pack).stdout
        return out["counts"], text, sheet_rows(pack, "Cover")

    counts, text, cover = views()
    assert counts["records_to_fix"] >= 1
    assert f"Records to fix: {counts['records_to_fix']:,} ({counts['errors']:,} error" in _counts_line(text)
    assert row_with(cover, "Records to fix")[1] == counts["records_to_fix"]
    assert row_with(cover, "  of which errors")[1] == counts["errors"]
    assert row_with(cover, "Outcome pairs missing (not errors)")[1] == counts["outcome_gaps"]
    out = json.loads(run(*args, "--json").stdout)
    first = next(e for e in out["exceptions"] if e["source"] != "outcomes")
    res = run("accept", first["exception_id"], "--reason", "known", "--ledger", ledger)
    assert res.exit_code == 0, res.output
    after, text, cover = views()
    assert after["records_to_fix"] == counts["records_to_fix"] - 1 and after["accepted"] == counts["accepted"] + 1
    assert f"Records to fix: {after['records_to_fix']:,} (" in _counts_line(text)
    assert row_with(cover, "Records to fix")[1] == after["records_to_fix"]
    assert row_with(cover, "Accepted (not to fix)")[1] == after["accepted"]


def test_zip_members_are_hashed_one_by_one(tmp_path: Path) -> None:
    """Point 10: the Cover and the JSON give each table file of a zipped extract its own SHA-256."""
    import hashlib
    import zipfile

    local = write_extract(tmp_path / "local", base())
    folder = write_extract(tmp_path / "extract", base())
    archive = tmp_path / "extract.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    pack = tmp_path / "p.xlsx"
    res = run("reconcile", "--month", "2024-09", "--epr", local, "--extract", archive, "--pack", pack,
              "--no-ledger", "--json")
    inputs = [i for i in json.loads(res.stdout)["inputs"] if i["role"] == "extract"]
    with zipfile.ZipFile(archive) as zf:
        expected = {f"extract.zip:{n}": hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist()}
    assert len(inputs) > 1 and {i["name"]: i["sha256"] for i in inputs} == expected
    shown = " ".join(str(r[1]) for r in sheet_rows(pack, "Cover") if r and len(r) > 1)
    assert all(f"SHA-256 {h}" in shown for h in expected.values())


def test_a_pack_that_is_not_xlsx_is_refused_before_the_run(tmp_path: Path) -> None:
    local = write_extract(tmp_path / "local", base())
    ledger = tmp_path / "l.sqlite"
    res = run("reconcile", "--month", "2024-09", "--epr", local, "--pack", tmp_path / "x.pdf", "--ledger", ledger)
    assert res.exit_code == 2
    assert "x.pdf" in res.stderr and ".xlsx" in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "x.pdf").exists() and not ledger.exists()  # nothing ran, nothing recorded
