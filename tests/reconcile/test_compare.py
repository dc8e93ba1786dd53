"""Every comparison rule of measures.md "Comparing with the published file", by hand-made cases."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from recon.errors import RulesError
from recon.findings import Severity
from recon.measures.catalog import Catalog, Kind, MeasureDef
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.published import published_from_text
from recon.reconcile.compare import (
    Tolerance,
    compare_measures,
    decimals_of,
    judge_extract,
    judge_published,
    load_tolerances,
)
from recon.reconcile.model import ComparisonStatus as S
from recon.rounding import round5, round_half_away, suppressed_text

TOL = Tolerance("T1", absolute=2, relative=10.0, severity=Severity.ERROR, doc="test")
EXACT = Tolerance("T0", absolute=0, relative=0, severity=Severity.ERROR, doc="test")
M = Month(2024, 9)


def count(v):
    return MeasureValue("X", v)


def pct(num, den):
    value = None if not den else round_half_away(num * 100 / den, 1)
    return MeasureValue("P", value, numerator=num, denominator=den)


@pytest.mark.parametrize(("x", "expected"), [(12, 10), (12.5, 15), (17.5, 20), (7, 5), (7.5, 10), (22.4999, 20),
                                             (0, 0), (5, 5), (2.5, 5)])
def test_round5_halves_away_from_zero(x, expected):
    assert round5(x) == expected


def test_round_half_away_and_suppressed_text():
    assert round_half_away(40.5) == 41 and round_half_away(41.25, 1) == 41.3 and round_half_away(-2.5) == -3
    assert [suppressed_text(v) for v in (0, 4, 5, 12, 13)] == ["*", "*", "5", "10", "15"]
    assert decimals_of("41") == 0 and decimals_of("41.3") == 1 and decimals_of("10.64024") == 5


@pytest.mark.parametrize(
    ("local", "text", "value", "status"),
    [
        (3, "*", None, S.CONSISTENT),  # suppressed, local below 5
        (0, "*", None, S.CONSISTENT),
        (7, "*", None, S.DISCREPANCY),  # national is 0-4, local 7
        (5, "*", None, S.DISCREPANCY),
        (12, "10", 10.0, S.CONSISTENT),  # 12 rounds to 10
        (13, "15", 15.0, S.CONSISTENT),  # 13 rounds to 15
        (3, "5", 5.0, S.WITHIN_TOLERANCE),  # local 3 would be '*'; +2 within the absolute 2
        (40, "50", 50.0, S.DISCREPANCY),  # +10 beyond 2 and 10% of 50 (5)
        (100, "110", 110.0, S.WITHIN_TOLERANCE),  # 100 -> 100; +10 within 10% of 110 (11)
    ],
)
def test_counts_against_a_provider_row(local, text, value, status):
    v = judge_published(count(local), text, value, kind="count", tolerance=TOL)
    assert v.status is status, v.explanation
    if status is not S.CONSISTENT and text != "*":
        assert v.difference == value - local


def test_absolute_tolerance_alone():
    # 12 rounds to 10, published 15: +3 beyond +-2, within +-3
    assert judge_published(count(12), "15", 15.0, kind="count",
                           tolerance=Tolerance("T2", 2, 0, Severity.ERROR, "t")).status is S.DISCREPANCY
    assert judge_published(count(12), "15", 15.0, kind="count",
                           tolerance=Tolerance("T3", 3, 0, Severity.ERROR, "t")).status is S.WITHIN_TOLERANCE


def test_rounding_edges_12_5_and_17_5():
    assert judge_published(count(12.5), "15", 15.0, kind="count", tolerance=EXACT).status is S.CONSISTENT
    assert judge_published(count(17.5), "20", 20.0, kind="count", tolerance=EXACT).status is S.CONSISTENT
    assert judge_published(count(12), "10", 10.0, kind="count", tolerance=EXACT).status is S.CONSISTENT
    assert judge_published(count(17.5), "15", 15.0, kind="count", tolerance=EXACT).status is S.DISCREPANCY


def test_england_rows_compare_exactly():
    assert judge_published(count(12), "12", 12.0, kind="count", tolerance=EXACT, exact=True).status is S.CONSISTENT
    v = judge_published(count(12), "10", 10.0, kind="count", tolerance=EXACT, exact=True)
    assert v.status is S.DISCREPANCY and v.difference == -2  # no rounding at England level
    # an England percentage keeps its published precision
    p = pct(1, 3)  # 33.333...%
    assert judge_published(p, "33.33333", 33.33333, kind="percentage", tolerance=EXACT, exact=True).status \
        is S.CONSISTENT
    assert judge_published(p, "33.4", 33.4, kind="percentage", tolerance=EXACT, exact=True).status is S.DISCREPANCY


def test_percentages_star_by_numerator_and_rounding_to_published_precision():
    assert judge_published(pct(4, 10), "*", None, kind="percentage", tolerance=TOL).status is S.CONSISTENT
    assert judge_published(pct(5, 10), "*", None, kind="percentage", tolerance=EXACT).status is S.DISCREPANCY
    assert judge_published(pct(0, 0), "*", None, kind="percentage", tolerance=EXACT).status is S.CONSISTENT
    # 81/200 = 40.5% -> published whole number 41 (halves away from zero)
    assert judge_published(pct(81, 200), "41", 41.0, kind="percentage", tolerance=EXACT).status is S.CONSISTENT
    # 1 decimal published: 41.25 -> 41.3
    assert judge_published(pct(165, 400), "41.3", 41.3, kind="percentage", tolerance=EXACT).status is S.CONSISTENT
    # numerator 4 would have been '*': a published number is not "consistent", only within tolerance
    assert judge_published(pct(4, 10), "40", 40.0, kind="percentage", tolerance=EXACT).status is S.WITHIN_TOLERANCE
    near = judge_published(pct(81, 200), "42", 42.0, kind="percentage",
                           tolerance=Tolerance("TP", 1.5, 0, Severity.ERROR, "t"))
    assert near.status is S.WITHIN_TOLERANCE and near.difference == pytest.approx(1.5)
    far = judge_published(pct(81, 200), "42", 42.0, kind="percentage",
                          tolerance=Tolerance("TP", 1.0, 0, Severity.ERROR, "t"))
    assert far.status is S.DISCREPANCY
    assert judge_published(pct(0, 0), "40", 40.0, kind="percentage", tolerance=TOL).status is S.DISCREPANCY


def test_blank_published_value_is_missing():
    assert judge_published(count(3), "", None, kind="count", tolerance=TOL).status is S.MISSING_PUBLISHED


def test_extract_comparison_is_exact_then_tolerance():
    assert judge_extract(count(10), count(10), tolerance=EXACT).status is S.CONSISTENT
    assert judge_extract(count(10), count(12), tolerance=TOL).status is S.WITHIN_TOLERANCE
    assert judge_extract(count(10), count(13), tolerance=TOL).status is S.DISCREPANCY
    assert judge_extract(count(10), count(11), tolerance=EXACT).difference == 1


# ---- tolerances file ----

def test_project_tolerances_parse_with_stable_ids_and_docs():
    t = load_tolerances()
    assert t.count.id and t.percentage.id
    ids = [x.id for x in t.all]
    assert len(ids) == len(set(ids))
    assert all(x.doc for x in t.all)
    assert t.for_measure("MHS95", "count").id == "TOL101"
    assert t.for_measure("MHS32", "count") is t.count
    assert t.for_measure("MHS111a", "percentage") is t.percentage


def test_bad_tolerances_file_is_a_rules_error(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[default.count]\nid="A"\nabsolute=1\ndoc="x"\n')
    with pytest.raises(RulesError, match=r"default\.percentage"):
        load_tolerances(p)
    p.write_text('[default.count]\nid="A"\nabsolute=-1\ndoc="x"\n[default.percentage]\nid="B"\ndoc="y"\n')
    with pytest.raises(RulesError, match="negative"):
        load_tolerances(p)
    p.write_text('[default.count]\nid="A"\ndoc="x"\n[default.percentage]\nid="B"\ndoc="y"\n'
                 '[[measure]]\nid="A"\nmeasures=["MHS95"]\ndoc="z"\n')
    with pytest.raises(RulesError, match="used twice"):
        load_tolerances(p)


# ---- all measures against a published selection ----

HEADER = ("REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,PRIMARY_LEVEL_DESCRIPTION,"
          "SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_NAME,MEASURE_VALUE\n")


def pub(*rows: tuple[str, str, str]) -> pl.DataFrame:
    text = HEADER + "".join(f"01/09/2024,30/09/2024,Performance,{b},{lvl},X,NONE,NONE,{m},Name of {m},{v}\n"
                            for b, lvl, m, v in [("Provider", "RXX", *r) if len(r) == 2 else r for r in rows])
    return published_from_text(text)


def local(*values: MeasureValue) -> MeasuresResult:
    return MeasuresResult("RXX", M, tuple(values))


def test_compare_measures_statuses_unknown_ids_and_missing_sides():
    res = local(MeasureValue("MHS32", 12), MeasureValue("MHS29", 3), MeasureValue("MHS30", 40),
                MeasureValue("MHS111a", 40.5, 81, 200), MeasureValue("MHS58", 7), MeasureValue("RECON_CGAS_ANY", 50.0, 5, 10))
    rows = pub(("MHS32", "10"), ("MHS29", "*"), ("MHS30", "50"), ("MHS111a", "41"), ("MRS01", "20"),
               ("MHS95", "1765"), ("Provider", "RYY", "MHS58", "5"), ("England", "England", "MHS58", "900"))
    cs = compare_measures(res, published=rows, provider="RXX", catalog=Catalog((_info("MHS95"),)))
    got = {c.id: c.status for c in cs.comparisons}
    assert got == {
        "MHS32": S.CONSISTENT, "MHS29": S.CONSISTENT, "MHS30": S.DISCREPANCY, "MHS111a": S.CONSISTENT,
        "MHS58": S.MISSING_PUBLISHED,  # only another provider's and England's rows
        "MHS95": S.MISSING_LOCAL,
    }  # RECON_ measures are recon's own: never "missing_published"
    assert any("MRS01" in n and "ignored" in n for n in cs.notes)
    c30 = next(c for c in cs.comparisons if c.id == "MHS30")
    assert c30.difference == 10 and c30.published == 50 and c30.local == 40 and "beyond" in c30.explanation
    assert c30.severity is Severity.WARNING and "TOL104" in c30.tolerance  # contacts: per-measure override
    c29 = next(c for c in cs.comparisons if c.id == "MHS29")
    assert c29.published is None and c29.published_text == "*" and c29.severity is Severity.INFO
    d = c30.to_json_dict()
    assert {"id", "local", "published", "status"} <= set(d) and d["status"] == "discrepancy"


def test_compare_with_extract_and_published_status_is_the_published_verdict():
    res = local(MeasureValue("MHS32", 12), MeasureValue("RECON_CGAS_ANY", 50.0, 5, 10))
    ext = MeasuresResult("RXX", M, (MeasureValue("MHS32", 20), MeasureValue("RECON_CGAS_ANY", 50.0, 5, 10)))
    cs = compare_measures(res, published=pub(("MHS32", "10")), provider="RXX", extract=ext, catalog=Catalog(()))
    c = {x.id: x for x in cs.comparisons}
    assert c["MHS32"].published_status is S.CONSISTENT and c["MHS32"].extract_status is S.DISCREPANCY
    assert c["MHS32"].status is S.CONSISTENT and c["MHS32"].extract == 20
    assert c["MHS32"].severity is Severity.ERROR  # the extract discrepancy still fails the run
    assert c["RECON_CGAS_ANY"].status is S.CONSISTENT and c["RECON_CGAS_ANY"].published_status is None
    assert c["MHS32"].to_json_dict()["extract"] == 20


def test_warning_tolerance_does_not_fail(tmp_path: Path):
    p = tmp_path / "t.toml"
    p.write_text('[default.count]\nid="A"\ndoc="x"\nseverity="warning"\n[default.percentage]\nid="B"\ndoc="y"\n')
    cs = compare_measures(local(MeasureValue("MHS32", 40)), published=pub(("MHS32", "50")), provider="RXX",
                          tolerances=load_tolerances(p), catalog=Catalog(()))
    assert cs.comparisons[0].status is S.DISCREPANCY and cs.comparisons[0].severity is Severity.WARNING


def _info(mid: str) -> MeasureDef:
    return MeasureDef(mid, f"Name {mid}", "access", Kind.COUNT, "")
