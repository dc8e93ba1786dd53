"""The published MHSMS reader on hand-made files and on the two real NHS England files."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.errors import InputError, MissingInputError, UsageError
from recon.months import Month
from recon.published import COLUMNS, read_published, select_published

HEADER = ",".join(COLUMNS)
REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "published"
APR = REAL / "MHSDS Data_4WW_AprPerf_2024_v2.csv"
MAY = REAL / "MHSDS Data_4WW_MayPerf_2024_v2.csv"


def row(start: str, end: str, status: str, breakdown: str, level: str, desc: str, measure: str, value: str,
        name: str = "A measure") -> str:
    return ",".join([start, end, status, breakdown, level, desc, "NONE", "NONE", measure, name, value])


SEPT = "\n".join([
    HEADER,
    row("01/09/2024", "30/09/2024", "Performance", "England", "England", "England", "MHS32", "12345"),
    row("01/09/2024", "30/09/2024", "Performance", "Provider", "RXX", '"TRUST, NORTH AND SOUTH"', "MHS32", "15"),
    row("2023-10-01", "2024-09-30", "Performance", "Provider", "RXX", '"TRUST, NORTH AND SOUTH"', "MHS95", "1765"),
    row("01/09/2024", "30/09/2024", "Performance", "Provider", "RXX", '"TRUST, NORTH AND SOUTH"', "MHS29", "*"),
    row("01/09/2024", "30/09/2024", "Performance", "Provider", "RXX", '"TRUST, NORTH AND SOUTH"', "MHS111a", "41"),
    row("01/09/2024", "30/09/2024", "Performance", "Provider", "RXX", '"TRUST, NORTH AND SOUTH"', "MHS30", ""),
    row("01/09/2024", "30/09/2024", "Performance", "Provider", "RYY", "OTHER TRUST", "MHS32", "20"),
]) + "\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_stars_blanks_both_date_forms_and_quoted_names(tmp_path):
    sel = select_published(write(tmp_path / "pub.csv", SEPT), provider="rxx", month=Month(2024, 9), status=None)
    rows = {r["measure_id"]: r for r in sel.rows.iter_rows(named=True)}
    assert set(rows) == {"MHS32", "MHS95", "MHS29", "MHS111a", "MHS30"}
    assert rows["MHS95"]["period_start"] == dt.date(2023, 10, 1)  # YYYY-MM-DD form
    assert rows["MHS32"]["period_start"] == dt.date(2024, 9, 1)  # DD/MM/YYYY form
    assert rows["MHS32"]["level_description"] == "TRUST, NORTH AND SOUTH"
    assert (rows["MHS29"]["value"], rows["MHS29"]["suppressed"]) == (None, True)
    assert (rows["MHS30"]["value"], rows["MHS30"]["suppressed"]) == (None, False)
    assert rows["MHS95"]["value"] == 1765.0
    assert sel.status == "Performance"
    out = sel.to_json_dict()
    assert list(out) == ["rows"]
    first = out["rows"][0]
    assert first == {"period_start": "2024-09-01", "period_end": "2024-09-30", "status": "Performance",
                     "breakdown": "Provider", "level": "RXX", "measure_id": "MHS32", "value": 15,
                     "suppressed": False}
    assert isinstance(first["value"], int)


def test_windows_1252_bytes_and_bom(tmp_path):
    text = SEPT.replace("OTHER TRUST", "ST MARY\u2019S TRUST")
    raw = ("\ufeff" + SEPT).encode("utf-8")
    p = tmp_path / "bom.csv"
    p.write_bytes(raw)
    assert read_published(p)[0].height == 7
    p2 = tmp_path / "cp.csv"
    p2.write_bytes(text.encode("cp1252"))  # \x92 is not UTF-8
    rows, _ = read_published(p2)
    assert "ST MARY\u2019S TRUST" in rows.get_column("level_description").to_list()


def test_zip_and_folder_pick_rows_by_period_not_name(tmp_path):
    oct_text = SEPT.replace("30/09/2024", "31/10/2024").replace("2024-09-30", "2024-10-31") \
        .replace("01/09/2024", "01/10/2024").replace("2023-10-01", "2023-11-01")
    folder = tmp_path / "pubs"
    write(folder / "MHSDS Data_SepPrf_2024.csv", oct_text)  # the name lies: October inside
    with zipfile.ZipFile(folder / "other.zip", "w") as zf:
        zf.writestr("MHSDS Data_OctPrf_2024.csv", SEPT)  # September inside
    sep = select_published(folder, provider="RXX", month=Month(2024, 9), status=None)
    assert set(sep.rows.get_column("period_end").to_list()) == {dt.date(2024, 9, 30)}
    assert sep.rows.get_column("file").unique().to_list() == ["other.zip:MHSDS Data_OctPrf_2024.csv"]
    assert sep.periods == ("2024-09", "2024-10")
    octo = select_published(folder, provider="RXX", month=Month(2024, 10), status=None)
    assert octo.rows.height == 5


def test_month_published_twice_picks_by_status_order_and_says_so(tmp_path):
    prov = SEPT.replace("Performance", "Provisional").replace(",15\n", ",25\n")
    folder = tmp_path / "p"
    write(folder / "a.csv", SEPT)
    write(folder / "b.csv", prov)
    sel = select_published(folder, provider="RXX", month=Month(2024, 9), status=None)
    assert sel.status == "Performance"
    assert set(sel.rows.get_column("status")) == {"Performance"}
    assert any("using Performance" in n for n in sel.notes)
    asked = select_published(folder, provider="RXX", month=Month(2024, 9), status="provisional")
    assert asked.status == "Provisional"
    assert asked.rows.filter(pl.col("measure_id") == "MHS32").item(0, "value") == 25
    final = SEPT.replace("Performance", "Final").replace(",15\n", ",10\n")
    write(folder / "c.csv", final)
    assert select_published(folder, provider="RXX", month=Month(2024, 9), status=None).status == "Final"


def test_missing_inputs_exit_3_and_bad_arguments_exit_2(tmp_path):
    p = write(tmp_path / "pub.csv", SEPT)
    with pytest.raises(MissingInputError) as e:
        select_published(tmp_path / "nope.csv", provider=None, month=None, status=None)
    assert e.value.exit_code == 3
    with pytest.raises(MissingInputError, match=r"no published rows for 2024-08.*carry 2024-09"):
        select_published(p, provider="RXX", month=Month(2024, 8), status=None)
    with pytest.raises(MissingInputError, match="no Final rows"):
        select_published(p, provider="RXX", month=Month(2024, 9), status="Final")
    nobody = select_published(p, provider="RZZ", month=Month(2024, 9), status=None)
    assert nobody.rows.height == 0 and nobody.to_json_dict() == {"rows": []}
    assert any("RZZ has no Provider rows for 2024-09" in n and "ODS code" in n for n in nobody.notes)
    with pytest.raises(UsageError, match="published status must be one of"):
        select_published(p, provider=None, month=None, status="Draft")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A,B,C\n1,2,3\n", "expected the 11 columns"),
        (HEADER.replace("STATUS,BREAKDOWN", "BREAKDOWN,STATUS") + "\n" + SEPT.split("\n", 1)[1], "out of order"),
        (SEPT.replace("30/09/2024,Performance,Provider,RYY", "31/02/2024,Performance,Provider,RYY"),
         r"line 8: '31/02/2024' is not a date"),
        (SEPT.replace(",20\n", ",n/a\n"), "MEASURE_VALUE: line 8: 'n/a' is neither a number"),
    ],
)
def test_malformed_files_are_input_errors_naming_file_and_problem(tmp_path, text, message):
    p = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError, match=message) as e:
        read_published(p)
    assert "bad.csv" in str(e.value)
    assert e.value.exit_code == 2


def test_two_files_disagreeing_on_one_figure_is_an_error_identical_ones_are_kept_once(tmp_path):
    folder = tmp_path / "p"
    write(folder / "v1.csv", SEPT)
    write(folder / "v1 copy.csv", SEPT)
    assert read_published(folder)[0].height == 7
    write(folder / "v2.csv", SEPT.replace(",15\n", ",20\n"))
    with pytest.raises(InputError, match="different values for MHS32 Provider RXX"):
        read_published(folder)


def test_cli_published_json_shape(tmp_path):
    p = write(tmp_path / "pub.csv", SEPT)
    res = CliRunner().invoke(app, ["published", str(p), "--provider", "RXX", "--month", "2024-09", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["rows"]) == 5
    assert all(set(r) == {"period_start", "period_end", "status", "breakdown", "level", "measure_id", "value",
                          "suppressed"} for r in out["rows"])
    star = next(r for r in out["rows"] if r["measure_id"] == "MHS29")
    assert (star["value"], star["suppressed"]) == (None, True)
    res = CliRunner().invoke(app, ["published", str(p), "--month", "2024-08"])
    assert res.exit_code == 3
    assert "no published rows for 2024-08" in res.stderr
    res = CliRunner().invoke(app, ["published", str(p), "--provider", "RXX"])
    assert res.exit_code == 0 and "MHS111a" in res.stdout
    res = CliRunner().invoke(app, ["published", str(p), "--provider", "RZZ"])
    assert res.exit_code == 0 and "RZZ has no Provider rows" in res.stdout and "No published rows" in res.stdout


# ---- the real published files (skipped when ../shared is absent) ----

real = pytest.mark.skipif(not APR.exists() or not MAY.exists(), reason="../shared/data/published is absent")


@real
@pytest.mark.published
def test_real_files_row_counts_and_suppression():
    for path, n, end in ((APR, 19958, dt.date(2024, 4, 30)), (MAY, 19934, dt.date(2024, 5, 31))):
        rows, files = read_published(path)
        assert rows.height == n
        assert files[0].rows == n
        assert set(rows.get_column("period_end")) == {end}
        prov = rows.filter(pl.col("breakdown") == "Provider")
        # counts ("Number of ...") are '*' or multiples of 5; proportions are whole percentages
        counts = prov.filter(pl.col("measure_name").str.starts_with("Number of") & ~pl.col("suppressed"))
        assert counts.height > 1000
        assert counts.filter(pl.col("value") % 5 != 0).height == 0
        assert prov.filter(pl.col("value").is_null() & ~pl.col("suppressed")).height == 0
        props = prov.filter(pl.col("measure_name").str.starts_with("Proportion") & ~pl.col("suppressed"))
        assert props.filter(pl.col("value") != pl.col("value").round(0)).height == 0
        # England rows are exact: unrounded counts and unrounded proportions
        eng = rows.filter(pl.col("breakdown") == "England")
        assert eng.height == 44
        assert eng.get_column("suppressed").sum() == 0
        assert eng.filter(pl.col("value") % 5 != 0).height > 0
        assert eng.filter(pl.col("value") != pl.col("value").round(0)).height > 0


@real
@pytest.mark.published
def test_real_files_select_a_provider_and_month_from_the_folder():
    sel = select_published(REAL, provider="RX4", month=Month(2024, 5), status=None)
    assert sel.status == "Performance"
    assert sel.periods == ("2024-04", "2024-05")
    assert set(sel.rows.get_column("period_end")) == {dt.date(2024, 5, 31)}
    assert set(sel.rows.get_column("period_start")) == {dt.date(2024, 5, 1), dt.date(2024, 3, 1)}
    assert sel.rows.height == sel.rows.get_column("measure_id").n_unique()
    mrs01 = sel.rows.filter(pl.col("measure_id") == "MRS01").row(0, named=True)
    assert mrs01["value"] is not None and mrs01["value"] % 5 == 0
    with pytest.raises(MissingInputError):
        select_published(REAL, provider="RX4", month=Month(2024, 6), status=None)
