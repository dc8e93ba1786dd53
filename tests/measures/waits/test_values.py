"""waits.md section 14, cases 16-18 and the percentile and proportion rules of section 1."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from recon.measures.waits.definitions import BY_ID, suppression_numerator
from recon.measures.waits.percentile import spark_percentile
from recon.measures.waits.values import proportion32, reported
from tests.measures.builders import person, referral
from tests.measures.waits.helpers import Run

M_END = dt.date(2024, 11, 30)
WAITS = (364, 365, 546, 547, 728, 729)


def _waiting(waits: tuple[int, ...], team: str, birth: str) -> Run:
    people = [person(f"P{i}", birth) for i in range(len(waits))]
    refs = [referral(f"R{i}", f"P{i}", (M_END - dt.timedelta(days=w)).isoformat(), ServTeamType=team)
            for i, w in enumerate(waits)]
    return Run("2024-11", people=people, referrals=refs)


def test_week_thresholds_cyp() -> None:
    # case 16: 364 is not over 52 weeks, 365 is; 546/547 and 728/729 likewise
    run = _waiting(WAITS, "C10", "2015-01-01")
    assert sorted(run.spells["W"].to_list()) == list(WAITS)
    assert (run["MRS10"], run["MRS14e"], run["MRS14c"], run["MRS14a"]) == (6, 5, 3, 1)
    assert (run["MRS09"], run["MRS09e"], run["MRS09c"], run["MRS09a"]) == (6, 5, 3, 1)
    assert (run["MRS14f"], run["MRS14d"], run["MRS14b"]) == (83.3, 50.0, 16.7)
    assert run.by_id["MRS14f"].numerator == 5 and run.by_id["MRS14f"].denominator == 6


def test_week_thresholds_cmh() -> None:
    run = _waiting(WAITS, "A05", "1970-01-01")
    assert (run["MRS03"], run["MRS07e"], run["MRS07c"], run["MRS07a"]) == (6, 5, 3, 1)
    assert (run["MRS02"], run["MRS02e"], run["MRS02c"], run["MRS02a"]) == (6, 5, 3, 1)
    assert run["MRS03a"] == 546.5 and run["MRS03b"] == spark_percentile(pl.Series(WAITS), 0.9)


def test_percentiles() -> None:
    # case 17
    assert spark_percentile(pl.Series([10, 20]), 0.5) == 15.0
    assert spark_percentile(pl.Series([20, 10]), 0.9) == 19.0
    values = [1, 13, 16, 16, 19, 20, 33, 58]
    assert spark_percentile(pl.Series(values), 0.9) == 40.5
    assert float(np.percentile(values, 90)) == 40.49999999999999  # why numpy is not used
    assert spark_percentile(pl.Series([], dtype=pl.Int64), 0.5) is None
    assert spark_percentile(pl.Series([7, None]), 0.9) == 7.0
    assert spark_percentile(pl.Series([-3, 5, 5]), 0.5) == 5.0
    run = _waiting((10, 20), "C10", "2015-01-01")
    assert (run["MRS10a"], run["MRS10b"]) == (15.0, 19.0)


def test_proportions_are_float32() -> None:
    # case 18: 29 / 200 is 14.499999999999998 in double, 14.5 in float32, reported 14.5
    assert 29 / 200 * 100 == 14.499999999999998
    assert proportion32(29, 200) == 14.5 and reported(proportion32(29, 200)) == 14.5
    # float32 14.45 is 14.4499998...: reported from its shortest form, half up
    assert reported(float(np.float32(14.45))) == 14.5
    assert proportion32(2099, 19727) == float(np.float32(2099 / 19727 * 100))
    assert proportion32(1, 0) is None and reported(None) is None


def test_suppression_numerators() -> None:
    assert suppression_numerator(BY_ID["MRS02f"]) == "MRS02a"
    assert suppression_numerator(BY_ID["MRS02d"]) == "MRS02c"
    assert suppression_numerator(BY_ID["MRS03a"]) == "MRS03"
    assert suppression_numerator(BY_ID["MHS135"]) == "MHS133"
    run = _waiting(WAITS, "A05", "1970-01-01")
    rows = {r["id"]: r for r in run.details["waits_measures"].iter_rows(named=True)}
    assert rows["MRS02f"]["suppression_numerator"] == 1 and rows["MRS02f"]["numerator"] == 5
    assert rows["MRS02f"]["value"] == float(np.float32(5 / 6 * 100))
    assert (rows["MRS02f"]["period"], rows["MRS01"]["period"]) == ("M", "Q")
    assert rows["MRS01"]["period_start"] == dt.date(2024, 9, 1)


def test_every_measure_once_with_its_period() -> None:
    run = _waiting((10,), "C10", "2015-01-01")
    ids = [v.id for v in run.values]
    assert len(ids) == len(set(ids)) == 50
    quarterly = {m.id for m in BY_ID.values() if m.period == "Q"}
    assert quarterly == {"MRS01", "MRS01a", "MRS01b", "MRS04", "MRS05", "MRS08", "MRS08a", "MRS08b", "MRS11", "MRS12",
                         "MHS130", "MHS131", "MHS132", "MHS133", "MHS134", "MHS135"}
