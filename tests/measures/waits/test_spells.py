"""waits.md section 14, cases 2, 19, 20 and 21: the +1/-1 spell algorithm and its data errors."""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.measures.waits.spells import spells
from tests.measures.builders import person, referral
from tests.measures.waits.helpers import Run, d


def _spells(rows: list[tuple[str, str, str]]) -> list[tuple[dt.date, dt.date]]:
    refs = pl.LazyFrame(
        {
            "Cohort": ["CYP"] * len(rows),
            "PersonKey": ["P"] * len(rows),
            "Recv": [d(r[1]) for r in rows],
            "DerEnd": [d(r[2]) for r in rows],
        }
    )
    out = spells(refs).sort("Start").collect()
    return list(zip(out["Start"], out["End"], strict=True))


def test_a_gap_of_five_days_joins_six_splits() -> None:
    # case 2: A 2024-06-03 to 2024-07-01; B received 2024-07-06 joins, 2024-07-07 splits
    assert _spells([("A", "2024-06-03", "2024-07-01"), ("B", "2024-07-06", "2024-08-31")]) == [
        (d("2024-06-03"), d("2024-08-31"))
    ]
    assert _spells([("A", "2024-06-03", "2024-07-01"), ("B", "2024-07-07", "2024-08-31")]) == [
        (d("2024-06-03"), d("2024-07-01")),
        (d("2024-07-07"), d("2024-08-31")),
    ]


def test_gap_through_the_whole_computation() -> None:
    run = Run("2024-08", people=[person("P", "2012-01-01")],
              referrals=[referral("A", "P", "2024-06-03", "2024-07-01"), referral("B", "P", "2024-07-06")])
    assert run.spell()["Start"] == d("2024-06-03") and run.spell()["Referrals"] == "A, B"
    split = Run("2024-08", people=[person("P", "2012-01-01")],
                referrals=[referral("A", "P", "2024-06-03", "2024-07-01"), referral("B", "P", "2024-07-07")])
    assert split.spells["End"].to_list() == [d("2024-07-01"), d("2024-08-31")]


def test_duplicates_and_touching_referrals_make_one_spell() -> None:
    assert _spells([("A", "2024-06-01", "2024-06-10"), ("B", "2024-06-01", "2024-06-10")]) == [
        (d("2024-06-01"), d("2024-06-10"))
    ]
    # A ends (+5) on the date B starts: the events net on that date and join them
    assert _spells([("A", "2024-06-01", "2024-06-10"), ("B", "2024-06-15", "2024-06-20")]) == [
        (d("2024-06-01"), d("2024-06-20"))
    ]


def test_discharged_before_received() -> None:
    # case 20: received 2024-11-20, discharged 2024-11-10: Start = End = 2024-11-15, Open blank
    assert _spells([("A", "2024-11-20", "2024-11-10")]) == [(d("2024-11-15"), d("2024-11-15"))]
    run = Run("2024-11", people=[person("P", "2012-01-01")], referrals=[referral("A", "P", "2024-11-20", "2024-11-10")])
    s = run.spell()
    assert (s["Start"], s["End"], s["Open"], s["Referrals"]) == (d("2024-11-15"), d("2024-11-15"), None, None)
    assert run.nonzero() == {"MRS11"}
    # discharged 2024-10-30, received 2024-11-05: in no submission, ignored
    none = Run("2024-11", people=[person("P", "2012-01-01")], referrals=[referral("A", "P", "2024-11-05", "2024-10-30")])
    assert none.spells.height == 0 and none["MHS133"] == 0


def test_spells_starting_before_2016_are_dropped_with_later_referrals() -> None:
    # case 19
    run = Run("2024-11", people=[person("P", "2008-01-01")],
              referrals=[referral("A", "P", "2015-12-31"), referral("B", "P", "2024-10-01")])
    assert run.spells.height == 0 and run.nonzero() == set()


def test_a_discharge_after_m_is_blank_as_at_m() -> None:
    # case 21: discharged 2025-01-15, computed for 2024-11: open in November
    run = Run("2024-11", people=[person("P", "2012-01-01")], referrals=[referral("A", "P", "2024-10-01", "2025-01-15")])
    assert run.spell()["End"] == d("2024-11-30") and run["MRS13"] == 1
