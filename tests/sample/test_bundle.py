"""The committed sample bundle: the manifest describes exactly what differs and what is broken."""

import csv
import io
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from recon.codes import assessment_tools
from recon.config import ProviderSettings
from recon.measures.catalog import catalog
from recon.measures.engine import compute_measures
from recon.months import Month
from recon.rounding import round5
from recon.sample.published import suppressed
from recon.sources import load_extract
from recon.tables import TABLES, key_expr

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
MONTH = Month(2024, 9)


@pytest.fixture(scope="module")
def manifest():
    return json.loads((SAMPLE / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def local():
    return load_extract(SAMPLE / "mhsds")


@pytest.fixture(scope="module")
def extract():
    return load_extract(SAMPLE / "extract.zip")


def keyed(ex, tid):
    return ex.tables[tid].with_columns(key_expr(TABLES[tid]).alias("_k"))


def test_sample_is_small_and_complete():
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 5_000_000
    assert {p.name for p in SAMPLE.iterdir()} >= {"mhsds", "epr", "extract.zip", "published", "planted.json",
                                                   "README.md"}
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "python -m recon.sample --bundle --out sample_data" in readme


def test_windows_1252_byte_is_present_and_harmless(local, manifest):
    raw = (SAMPLE / "mhsds" / "MHS001MPI.csv").read_bytes()
    assert raw.count(b"\xa0") == 1
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert [f.rule_id for f in local.findings] == ["SRC021"]
    person = manifest["encoding"][0]["key"]
    number = local.tables["MHS001MPI"].filter(pl.col("LocalPatientId") == person).item(0, "NHSNumber")
    assert len(number) == 10 and number.isdigit()


def test_planted_validation_problems_are_in_the_data(local, manifest):
    tools = assessment_tools()
    by_kind: dict[str, int] = {}
    for p in manifest["validation"]:
        by_kind[p["kind"]] = by_kind.get(p["kind"], 0) + 1
        rows = keyed(local, p["table"]).filter(pl.col("_k") == p["key"])
        assert rows.height >= 1, p
        if p["kind"].startswith("nhs_number"):
            number = rows.item(0, "NHSNumber")
            assert len(number) != 10 if p["kind"] == "nhs_number_length" else len(number) == 10
        elif p["kind"] == "score_out_of_range":
            tool = tools.filter(pl.col("snomed_code") == rows.item(0, "CodedAssToolType"))
            score = float(rows.item(0, "PersScore"))
            assert not tool.item(0, "min_score") <= score <= tool.item(0, "max_score")
        elif p["kind"] == "score_not_numeric":
            assert rows.select(pl.col("PersScore").cast(pl.Float64, strict=False)).item() is None
        elif p["kind"] in ("duplicate_key", "exact_duplicate_row"):
            assert rows.height == 2
        elif p["kind"] == "orphan_contact":
            assert local.tables["MHS101Referral"].filter(
                pl.col("ServiceRequestId") == rows.item(0, "ServiceRequestId")).height == 0
        elif p["kind"] == "discharge_before_referral":
            assert rows.item(0, "ServDischDate") < rows.item(0, "ReferralRequestReceivedDate")
    assert by_kind == {"nhs_number_check_digit": 2, "nhs_number_length": 2, "orphan_contact": 1,
                       "duplicate_key": 1, "discharge_before_referral": 1, "score_out_of_range": 3,
                       "score_not_numeric": 1, "exact_duplicate_row": 3}


def test_extract_differs_from_local_exactly_as_the_manifest_says(local, extract, manifest):
    """An independent full comparison of every table, keyed as recon keys records."""
    found: set[tuple[str, str, str, tuple[str, ...]]] = set()
    for tid, t in TABLES.items():
        a, b = keyed(local, tid), keyed(extract, tid)
        dup_keys = set(a.filter(pl.col("_k").is_duplicated())["_k"]) | set(b.filter(pl.col("_k").is_duplicated())["_k"])
        a, b = a.filter(~pl.col("_k").is_in(list(dup_keys))), b.filter(~pl.col("_k").is_in(list(dup_keys)))
        for k in a.join(b, on="_k", how="anti")["_k"]:
            found.add(("missing_in_extract", tid, k, ()))
        for k in b.join(a, on="_k", how="anti")["_k"]:
            found.add(("missing_locally", tid, k, ()))
        both = a.join(b, on="_k", suffix="_x")
        for c in t.names:
            if c in t.key:
                continue
            differ = both.filter(pl.col(c).ne_missing(pl.col(f"{c}_x")))
            for k in differ["_k"]:
                found.add(("field_differs", tid, k, (c,)))
    # merge per-column differences into one record with its columns
    merged: dict[tuple[str, str, str], set[str]] = {}
    for cls, tid, k, cols in found:
        merged.setdefault((cls, tid, k), set()).update(cols)
    expected = {(r["class"], r["table"], r["key"]): set(r["columns"]) for r in manifest["records"]
                if r["class"] in ("missing_in_extract", "missing_locally", "field_differs")}
    assert merged == expected
    assert len([r for r in manifest["records"] if r["class"] == "missing_in_extract"]) == 6


def test_barren_and_orphan_records_listed(local, extract, manifest):
    def barren(ex):
        active = pl.concat([ex.tables["MHS201CareContact"].select("ServiceRequestId"),
                            ex.tables["MHS204IndirectActivity"].select("ServiceRequestId")])
        return set(ex.tables["MHS101Referral"].filter(pl.col("ReferRejectionDate").is_null())
                   .join(active, on="ServiceRequestId", how="anti")["ServiceRequestId"])

    listed = {r["key"]: r["side"] for r in manifest["records"] if r["class"] == "barren"}
    lo, ex = barren(local), barren(extract)
    assert set(listed) == lo | ex
    assert {k for k, s in listed.items() if s == "both"} == lo & ex
    orphans = [r for r in manifest["records"] if r["class"] == "orphan"]
    assert len(orphans) == 1 and orphans[0]["side"] == "both"


def read_published(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            (name,) = zf.namelist()
            data = zf.read(name)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_published_layout_periods_and_suppression(manifest):
    sep = read_published(SAMPLE / "published" / "MHSDS Data_SepPrf_2024.csv")
    aug = read_published(SAMPLE / "published" / "MHSDS Data_AugPrf_2024.zip")
    header = (SAMPLE / "published" / "MHSDS Data_SepPrf_2024.csv").read_text().splitlines()[0]
    assert header.split(",") == ["REPORTING_PERIOD_START", "REPORTING_PERIOD_END", "STATUS", "BREAKDOWN",
                                 "PRIMARY_LEVEL", "PRIMARY_LEVEL_DESCRIPTION", "SECONDARY_LEVEL",
                                 "SECONDARY_LEVEL_DESCRIPTION", "MEASURE_ID", "MEASURE_NAME", "MEASURE_VALUE"]
    assert '"RIVERSIDE, MEADOW AND VALE NHS FOUNDATION TRUST"' in (
        SAMPLE / "published" / "MHSDS Data_SepPrf_2024.csv").read_text()
    national = [d.id for d in catalog().measures if not d.id.startswith("RECON_")]
    for rows, end in ((sep, "30/09/2024"), (aug, "31/08/2024")):
        assert {r["REPORTING_PERIOD_END"] for r in rows} == {end}
        assert {r["STATUS"] for r in rows} == {"Performance"}
        for level in ("England", "RXX", "R1A"):
            ids = [r["MEASURE_ID"] for r in rows if r["PRIMARY_LEVEL"] == level]
            assert set(national) <= set(ids)
    mhs95 = {r["REPORTING_PERIOD_START"] for r in sep if r["MEASURE_ID"] == "MHS95"}
    assert mhs95 == {"01/10/2023"}
    assert {r["REPORTING_PERIOD_START"] for r in sep if r["MEASURE_ID"] == "MHS32"} == {"01/09/2024"}
    percentages = {d.id for d in catalog().measures if d.is_percentage}
    for r in sep + aug:
        v = r["MEASURE_VALUE"]
        count = r["MEASURE_ID"] in national and r["MEASURE_ID"] not in percentages
        if r["BREAKDOWN"] == "Provider" and count and v not in ("*", ""):
            assert int(v) % 5 == 0 and int(v) >= 5
    assert [r for r in sep if r["MEASURE_ID"] == "EIP23a" and r["PRIMARY_LEVEL"] == "RXX"]
    assert manifest["published"]["unknown_measures"] == [{"measure_id": "EIP23a", "period_end": "2024-09-30"}]


def test_published_provider_rows_are_recon_measures_of_the_extract_except_planted(extract, manifest):
    """Recomputing from extract.zip gives every unplanted provider value (fails if the engine changed:
    then regenerate the bundle)."""
    info = {d.id: d for d in catalog().measures if not d.id.startswith("RECON_")}
    planted = {d["measure_id"] for d in manifest["published"]["discrepancies"]}
    assert len(planted) == 3
    for month, name in ((MONTH, "MHSDS Data_SepPrf_2024.csv"), (MONTH.shift(-1), "MHSDS Data_AugPrf_2024.zip")):
        result = compute_measures(extract, month, ProviderSettings(ods="RXX"))
        rows = {r["MEASURE_ID"]: r["MEASURE_VALUE"] for r in read_published(SAMPLE / "published" / name)
                if r["PRIMARY_LEVEL"] == "RXX"}
        for mid, d in info.items():
            v = result.get(mid)
            assert v is not None
            if month == MONTH and mid in planted:
                assert rows[mid] != suppressed(v, d.is_percentage)
                if not d.is_percentage:
                    assert abs(int(rows[mid]) - float(v.value or 0)) > max(20, 0.1 * float(v.value or 0))
            else:
                assert rows[mid] == suppressed(v, d.is_percentage), (month, mid)


def test_round5_halves_away_from_zero():
    assert [round5(x) for x in (5, 7, 7.5, 12.5, 13, 2.5, -2.5, 1763)] == [5, 5, 10, 15, 15, 5, -5, 1765]
