"""recon's waits family against a second implementation (DuckDB SQL written from waits.md) on
generated extracts dense in the section-14 edges: every measure's value, numerator and
denominator, every spell and every first-contact referral must agree exactly."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from recon.config import ProviderSettings
from recon.measures.engine import canonical_tables
from recon.measures.waits import compute
from recon.months import Month
from recon.sources import load_extract
from tests.oracle.waits_gen import batch, release
from tests.oracle.waits_sql import oracle

EXTRACTS_PER_BATCH = 25
# (seed, month, provider, with SNOMED): R1, R2 and R3, before and after April 2024 and October 2021,
# ordinary, excluded and digital providers, with and without the refsets
BATCHES = [
    (1, "2021-11", "RXX", True),
    (2, "2024-05", "RXX", True),
    (3, "2024-09", "RXX", True),
    (4, "2024-10", "S9X2N", False),
    (5, "2024-11", "RXX", True),
    (6, "2025-01", "RXX", False),
    (7, "2025-03", "S9X2N", True),
    (8, "2025-04", "RXX", True),
    (9, "2025-06", "RXX", True),
    (10, "2024-11", "DFC", True),
]
SPELL_COLUMNS = ["Cohort", "PersonKey", "Start", "End", "Open", "IsOpen", "IsClosed", "IsStarted", "W",
                 "FirstContact", "SecondContact", "ClockStop"]
COVERAGE: Counter[str] = Counter()


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.mark.parametrize(("seed", "month", "provider", "with_snomed"), BATCHES)
def test_recon_agrees_with_the_sql_implementation(
    seed: int, month: str, provider: str, with_snomed: bool, con: duckdb.DuckDBPyConnection
) -> None:
    m = Month.parse(month)
    frames = batch(seed, m, EXTRACTS_PER_BATCH)
    snomed = release(random.Random(seed)) if with_snomed else None
    values, details = compute({k: v.lazy() for k, v in frames.items()}, m, ProviderSettings(ods=provider), None, snomed)
    expected, spells, first = oracle(frames, m, provider, snomed, con)

    got_spells = details["waits_spells"].select(SPELL_COLUMNS).with_columns(pl.col("Open").cast(pl.Int8))
    want_spells = spells.with_columns(pl.col("Open").cast(pl.Int8), pl.col("W").cast(pl.Int64))
    assert got_spells.sort("Cohort", "PersonKey", "Start").to_dicts() == want_spells.to_dicts()
    got_first = details["waits_first_contact"].select("ServiceRequestId", "FirstContact", "InMHS130", "InMHS133")
    assert got_first.sort("ServiceRequestId").to_dicts() == first.to_dicts()

    rows = {r["id"]: r for r in details["waits_measures"].iter_rows(named=True)}
    by_id = {v.id: v for v in values}
    assert set(by_id) == set(expected)
    for mid, (value, num, den) in expected.items():
        v = by_id[mid]
        if num is not None:  # a proportion: float32 value, numerator, denominator
            assert (rows[mid]["value"], v.numerator, v.denominator) == (value, num, den), mid
        else:
            assert v.value == value, mid

    COVERAGE["extracts"] += EXTRACTS_PER_BATCH
    COVERAGE["spells"] += got_spells.height
    for flag in ("IsOpen", "IsClosed", "IsStarted"):
        COVERAGE[flag] += int(got_spells[flag].sum())
    COVERAGE["open 1, neither open nor closed"] += got_spells.filter(
        (pl.col("Open") == 1) & ~pl.col("IsOpen") & ~pl.col("IsClosed")).height
    COVERAGE["Open blank"] += got_spells.filter(pl.col("Open").is_null()).height
    COVERAGE["first = second contact"] += got_spells.filter(pl.col("FirstContact") == pl.col("SecondContact")).height
    COVERAGE["clock stop"] += got_spells.filter(pl.col("ClockStop").is_not_null()).height
    COVERAGE["MHS130"] += int(got_first["InMHS130"].sum())
    COVERAGE["MHS133"] += int(got_first["InMHS133"].sum())


def test_the_generated_extracts_reach_the_edges() -> None:
    """Runs after the batches (file order): the comparison above was not vacuous."""
    if COVERAGE["extracts"] < EXTRACTS_PER_BATCH * len(BATCHES):
        pytest.skip("run with the batches")
    print(dict(COVERAGE))
    for key in ("IsOpen", "IsClosed", "IsStarted", "open 1, neither open nor closed", "Open blank",
                "first = second contact", "clock stop", "MHS130", "MHS133"):
        assert COVERAGE[key] > 0, key


SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "mhsds"


@pytest.mark.skipif(not SAMPLE.exists(), reason="no sample_data/mhsds")
@pytest.mark.parametrize("month", ["2024-09", "2024-11"])
def test_recon_agrees_with_the_sql_implementation_on_the_sample(month: str, con: duckdb.DuckDBPyConnection) -> None:
    extract = load_extract(SAMPLE, mapping=None)
    frames = {k: v.collect() for k, v in canonical_tables(extract.tables).items()}
    provider = extract.provider or "RXX"
    m = Month.parse(month)
    values, details = compute({k: v.lazy() for k, v in frames.items()}, m, ProviderSettings(ods=provider), None, None)
    expected, spells, first = oracle(frames, m, provider, None, con)
    got = details["waits_spells"].select(SPELL_COLUMNS).with_columns(pl.col("Open").cast(pl.Int8))
    assert got.height > 100
    assert got.sort("Cohort", "PersonKey", "Start").to_dicts() == spells.with_columns(
        pl.col("Open").cast(pl.Int8), pl.col("W").cast(pl.Int64)).to_dicts()
    got_first = details["waits_first_contact"].select("ServiceRequestId", "FirstContact", "InMHS130", "InMHS133")
    assert got_first.sort("ServiceRequestId").to_dicts() == first.to_dicts()
    by_id = {v.id: v for v in values}
    rows = {r["id"]: r for r in details["waits_measures"].iter_rows(named=True)}
    for mid, (value, num, den) in expected.items():
        if num is not None:
            assert (rows[mid]["value"], by_id[mid].numerator, by_id[mid].denominator) == (value, num, den), mid
        else:
            assert by_id[mid].value == value, mid
