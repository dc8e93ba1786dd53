"""SPC (Making Data Count XmR) on series worked out by hand."""

from __future__ import annotations

import pytest

from recon.spc import BEYOND_LIMIT, SHIFT, TREND, TWO_OF_THREE, analyse, moving_ranges


def test_rising_series_limits_trend_and_two_of_three() -> None:
    r = analyse([1, 2, 3, 4, 5, 6, 7])
    # mean 4; every moving range 1; limits 4 ± 2.66; sigma = 1 / 1.128
    assert r.mean == 4
    assert r.mean_moving_range == 1
    assert r.upper == pytest.approx(6.66)
    assert r.lower == pytest.approx(1.34)
    assert r.sigma == pytest.approx(0.886525, abs=1e-6)
    assert r.provisional  # 7 points < 12
    # 1 < 1.34 and 7 > 6.66: beyond the limits
    assert [BEYOND_LIMIT in f for f in r.flags] == [True, False, False, False, False, False, True]
    # 7 rising in a row: all seven points are the trend
    assert all(TREND in f for f in r.flags)
    # beyond 2 sigma (4 ± 1.773): 1, 2 below and 6, 7 above; each pair sits in a window of 3
    assert [TWO_OF_THREE in f for f in r.flags] == [True, True, False, False, False, True, True]
    # sides: 3 below, one on the mean, 3 above: no run of 7
    assert not any(SHIFT in f for f in r.flags)
    assert r.rules_met == (BEYOND_LIMIT, TREND, TWO_OF_THREE)


def test_shift_of_seven_and_two_of_three_low() -> None:
    values = [12, 13, 12, 13, 12, 13, 12, 8, 9, 8, 9, 8]
    r = analyse(values)
    assert r.mean == pytest.approx(129 / 12)  # 10.75
    assert moving_ranges(values) == (1, 1, 1, 1, 1, 1, 4, 1, 1, 1, 1)
    assert r.mean_moving_range == pytest.approx(14 / 11)
    assert r.upper == pytest.approx(14.135455, abs=1e-6)  # 10.75 + 2.66 * 14/11
    assert r.lower == pytest.approx(7.364545, abs=1e-6)
    assert not r.provisional  # 12 points
    assert not any(BEYOND_LIMIT in f for f in r.flags)
    # first seven above the mean; the last five below are too short a run
    assert [SHIFT in f for f in r.flags] == [True] * 7 + [False] * 5
    # sigma = (14/11) / 1.128 = 1.1283; 2 sigma band 8.4934 .. 13.0066: the 13s stay inside,
    # the 8s (index 7, 9, 11) are beyond it below the mean
    assert [i for i, f in enumerate(r.flags) if TWO_OF_THREE in f] == [7, 9, 11]
    assert not any(TREND in f for f in r.flags)
    assert "run of 7" in r.describe()


def test_point_on_the_mean_breaks_a_run() -> None:
    r = analyse([3, 3, 3, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1])
    assert r.mean == 2
    assert not any(SHIFT in f for f in r.flags)


def test_equal_value_breaks_a_trend() -> None:
    assert all(TREND in f for f in analyse([10, 9, 8, 7, 6, 5, 4]).flags)
    assert not any(TREND in f for f in analyse([10, 9, 8, 8, 7, 6, 5, 4]).flags)
    # six falling steps after a flat start: points 1..7 form the trend, point 0 does not
    r = analyse([9, 9, 8, 7, 6, 5, 4, 3])
    assert [TREND in f for f in r.flags] == [False, True, True, True, True, True, True, True]


def test_degenerate_series() -> None:
    empty = analyse([])
    assert empty.flags == () and empty.provisional and empty.describe() == "No data."
    one = analyse([5])
    assert (one.mean, one.upper, one.lower, one.flags) == (5, 5, 5, ((),))
    flat = analyse([4.0] * 12)
    assert flat.upper == flat.lower == 4.0
    assert flat.flags == ((),) * 12
    assert flat.describe() == "Common-cause variation only: no sign of real change."


def test_limits_are_clamped_at_the_natural_bounds() -> None:
    """Issue 14 point 5: a count or percentage never gets a limit below 0 (nor a percentage above 100)."""
    wild = [2.0, 30.0, 2.0, 30.0, 2.0]  # mean 13.2, mean moving range 28: lower 13.2 - 74.48 < 0
    assert analyse(wild).lower < 0
    clamped = analyse(wild, floor=0.0)
    assert clamped.lower == 0.0 and clamped.upper == analyse(wild).upper
    pct = analyse([95.0, 60.0, 95.0, 60.0], floor=0.0, ceiling=100.0)  # upper 77.5 + 93.1 = 170.6
    assert pct.upper == 100.0 and pct.lower == 0.0
    assert not any(pct.flags)  # clamping moves no point beyond a limit
