"""Comparing waits measures with NHS England's published files (waits.md sections 1 and 12):
per-measure periods, suppression on the suppression numerator (MRS02f's quirk), float32
proportions and percentiles rounded half up, England rows exact, and "not compared" when the
provider has no row. The real 4WW files are read in place from ../shared (skipped when absent)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from recon.measures.model import MeasureValue
from recon.months import Month
from recon.published import select_published
from recon.reconcile.compare import compare_measures, half_up32, published_form
from recon.reconcile.model import ComparisonStatus
from tests.reconcile.waits_data import CATALOG, REAL, waits_result

APR, MAY = Month(2024, 4), Month(2024, 5)
real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/published not present")
C = ComparisonStatus


# ---------------------------------------------------------------- hand-worked rules (edge cases 17, 18)


def test_published_form_of_counts_proportions_and_percentiles():
    assert [published_form(x, "count", None) for x in (0, 4, 7, 8, 12, 13)] == ["*", "*", "5", "10", "10", "15"]
    p = 29 / 200 * 100  # 14.499999999999998 in double, 14.5 as float32
    assert p != 14.5 and float(np.float32(p)) == 14.5
    assert published_form(float(np.float32(p)), "percentage", 29) == "15"
    assert half_up32(14.45) == 14.0  # float32 14.45 is 14.4499998...
    assert published_form(40.5, "percentile", 8) == "41"  # edge case 17's 90th percentile
    assert published_form(81.59999999999994, "percentile", 6) == "82"
    assert published_form(40.5, "percentile", 4) == "*"
    assert published_form(None, "percentile", 0) == "*" and published_form(None, "percentage", 9) is None


def _one(result, text, mid):
    rows = _rows({mid: text}, result.month)
    c = compare_measures(result, published=rows, provider="RX4", catalog=CATALOG).comparisons
    return next(x for x in c if x.id == mid)


def _rows(values: dict[str, str], month: Month, provider: str = "RX4"):
    from recon.published import published_from_text

    head = ("REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,PRIMARY_LEVEL_DESCRIPTION,"
            "SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_NAME,MEASURE_VALUE\n")
    lines = []
    for mid, text in values.items():
        start = month.shift(-2).start if CATALOG.get(mid).period_months == 3 else month.start
        lines.append(f"{start:%d/%m/%Y},{month.end:%d/%m/%Y},Performance,Provider,{provider},X,NONE,NONE,{mid},"
                     f"{CATALOG.get(mid).name},{text}")
    return published_from_text(head + "\n".join(lines) + "\n")


def test_mrs02f_is_suppressed_on_mrs02a_the_national_quirk():
    nov = Month(2024, 11)
    local = waits_result(nov, {"MRS02": 200, "MRS02a": 3, "MRS02e": 40, "MRS02f": 20.0}, dens={"MRS02f": 200})
    assert _one(local, "*", "MRS02f").status is C.CONSISTENT  # locally 20.0, but MRS02a = 3
    assert _one(local, "20", "MRS02f").status is C.DISCREPANCY  # shown although MRS02a < 5
    shown = waits_result(nov, {"MRS02": 200, "MRS02a": 7, "MRS02e": 40, "MRS02f": 20.0}, dens={"MRS02f": 200})
    assert _one(shown, "20", "MRS02f").status is C.CONSISTENT
    assert _one(shown, "*", "MRS02f").status is C.DISCREPANCY


def test_percentile_suppressed_on_its_count_and_null_is_suppressed():
    local = waits_result(APR, {"MRS10": 4, "MRS10a": 40.5, "MRS10b": 58.0})
    assert _one(local, "*", "MRS10b").status is C.CONSISTENT  # MRS10 = 4
    empty = waits_result(APR, {"MRS10": 0, "MRS10a": None, "MRS10b": None})
    assert _one(empty, "*", "MRS10a").status is C.CONSISTENT
    big = waits_result(APR, {"MRS10": 8, "MRS10a": 16.0, "MRS10b": 40.5})
    assert _one(big, "41", "MRS10b").status is C.CONSISTENT
    assert _one(big, "40", "MRS10b").status in (C.WITHIN_TOLERANCE, C.DISCREPANCY)


def test_not_computed_clock_stop_measures_are_missing_local_with_the_reason():
    local = waits_result(APR, {"MRS08": 10})
    local = type(local)(local.provider, local.month, (MeasureValue("MRS08", None, reason="not computed: needs the "
                                                                    "SNOMED CT refsets"),), local.details)
    c = _one(local, "1185", "MRS08")
    assert c.status is C.MISSING_LOCAL and "needs the SNOMED CT refsets" in c.explanation


# ---------------------------------------------------------------- the real 4WW files


@real
def test_real_file_row_selection_and_periods_for_rx4():
    sel = select_published(REAL, provider="RX4", month=APR, status=None)
    assert sel.height == 44 and sel.status == "Performance"
    starts = {r["measure_id"]: r["period_start"] for r in sel.rows.iter_rows(named=True)}
    assert {m for m, s in starts.items() if s == dt.date(2024, 2, 1)} == {
        "MRS01", "MRS01a", "MRS01b", "MRS04", "MRS05", "MRS08", "MRS08a", "MRS08b", "MRS11", "MRS12"}
    assert all(s == dt.date(2024, 4, 1) for m, s in starts.items() if CATALOG.get(m).period_months == 1)
    may = select_published(REAL, provider="RX4", month=MAY, status=None)
    assert {r["period_start"] for r in may.rows.iter_rows(named=True)} == {dt.date(2024, 3, 1), dt.date(2024, 5, 1)}
    assert {r["file"].rsplit("/", 1)[-1] for r in may.rows.iter_rows(named=True)} == {
        "MHSDS Data_4WW_MayPerf_2024_v2.csv"}


def _matching_local(sel, month: Month, provider: str):
    """Local values whose published forms are exactly the provider's published values."""
    pub = {r["measure_id"]: r["value_text"] for r in sel.rows.iter_rows(named=True)}
    values: dict[str, float | int | None] = {}
    for mid, text in pub.items():
        kind = CATALOG.get(mid).kind
        if text == "*":
            values[mid] = 2 if kind == "count" else 33.3
        elif kind == "count":
            values[mid] = int(text) + 1  # 1581 -> published 1580
        else:
            values[mid] = float(text) + 0.3  # 18.3 -> published 18
    return waits_result(month, values, provider=provider)


@real
@pytest.mark.parametrize(("provider", "month"), [("RX4", APR), ("RX4", MAY), ("RHA", APR), ("8F237", APR)])
def test_real_file_reconciles_row_for_row(provider, month):
    sel = select_published(REAL, provider=None, month=month, status=None)
    mine = select_published(REAL, provider=provider, month=month, status=None)
    local = _matching_local(mine, month, provider)
    cs = compare_measures(local, published=sel.rows, provider=provider, catalog=CATALOG)
    assert len(cs.comparisons) == mine.height == 44
    assert [c.id for c in cs.comparisons if c.status is not C.CONSISTENT] == []


@real
def test_real_file_quirk_provider_8f237_mrs02f_suppressed_with_mrs02e_shown():
    sel = select_published(REAL, provider="8F237", month=APR, status=None)
    pub = {r["measure_id"]: r["value_text"] for r in sel.rows.iter_rows(named=True)}
    assert (pub["MRS02"], pub["MRS02a"], pub["MRS02e"], pub["MRS02f"]) == ("95", "*", "15", "*")
    local = waits_result(APR, {"MRS02": 96, "MRS02a": 3, "MRS02e": 14, "MRS02f": float(np.float32(14 / 96 * 100))},
                         provider="8F237", dens={"MRS02f": 96})
    cs = compare_measures(local, published=sel.rows, provider="8F237", catalog=CATALOG)
    assert {c.id: c.status for c in cs.comparisons if c.id in ("MRS02", "MRS02a", "MRS02e", "MRS02f")} == {
        "MRS02": C.CONSISTENT, "MRS02a": C.CONSISTENT, "MRS02e": C.CONSISTENT, "MRS02f": C.CONSISTENT}


@real
def test_real_file_discrepancies_are_found():
    sel = select_published(REAL, provider="RX4", month=APR, status=None)
    local = _matching_local(sel, APR, "RX4")
    values = {v.id: v.value for v in local.values}
    values["MRS09"] = 11_200  # published 11055
    values["MRS10a"] = 201.0  # published 198
    values["MRS14a"] = 3  # published 550: would be *
    moved = waits_result(APR, values, provider="RX4")
    cs = {c.id: c for c in compare_measures(moved, published=sel.rows, provider="RX4", catalog=CATALOG).comparisons}
    assert cs["MRS09"].status is C.DISCREPANCY and cs["MRS10a"].status is not C.CONSISTENT
    assert cs["MRS14a"].status is C.DISCREPANCY and "published as *" in cs["MRS14a"].explanation


@real
def test_real_file_with_no_row_for_the_provider_is_not_compared():
    sel = select_published(REAL, provider=None, month=APR, status=None)
    local = waits_result(APR, {"MRS08": 10, "MRS08a": 3, "MRS10": 7, "MRS10a": 12.0}, provider="RZZ")
    cs = compare_measures(local, published=sel.rows, provider="RZZ", catalog=CATALOG)
    assert {c.status for c in cs.comparisons} == {C.NOT_COMPARED}
    assert any("RZZ" in n and "MHSDS Data_4WW_AprPerf_2024_v2.csv" in n and "not compared" in n for n in cs.notes)


@real
def test_real_file_row_with_another_start_is_not_the_measure_s_row():
    sel = select_published(REAL, provider="RX4", month=APR, status=None)
    local = waits_result(APR, {"MRS08": 1186}, starts={"MRS08": APR.start})  # claims period M
    cs = compare_measures(local, published=sel.rows, provider="RX4", catalog=CATALOG)
    assert cs.comparisons[0].status is C.MISSING_PUBLISHED
    assert any("MRS08" in n and "starts 2024-02-01, not 2024-04-01" in n for n in cs.notes)


@real
def test_real_england_rows_are_exact_float32():
    sel = select_published(REAL, provider=None, month=APR, status=None)
    eng = {r["measure_id"]: r for r in sel.rows.iter_rows(named=True) if r["breakdown"] == "England"}
    assert (eng["MRS01"]["value_text"], eng["MRS01a"]["value_text"], eng["MRS01b"]["value_text"]) == (
        "19727", "2099", "10.64024")
    assert np.float32(eng["MRS01b"]["value"]) == np.float32(2099 / 19727 * 100)
    assert str(np.float32(2099 / 19727 * 100)) == "10.64024"
