import datetime as dt

import pytest

from recon.errors import UsageError
from recon.months import Month


def test_uniq_month_id_matches_the_national_numbering():
    assert Month(2021, 10).uniq_month_id == 1459
    assert Month(2024, 4).uniq_month_id == 1489
    assert Month.from_uniq_month_id(1489) == Month(2024, 4)
    assert Month.from_uniq_month_id(1459) == Month(2021, 10)


def test_boundaries_and_shift():
    m = Month.parse("2024-02")
    assert m.start == dt.date(2024, 2, 1)
    assert m.end == dt.date(2024, 2, 29)
    assert m.shift(-11) == Month(2023, 3)
    assert Month(2024, 1).shift(1) == Month(2024, 2)
    assert Month(2024, 1).financial_year_start == Month(2023, 4)
    assert Month(2024, 4).financial_year_start == Month(2024, 4)


def test_previous_is_relative_to_today():
    assert Month.parse("previous", today=dt.date(2025, 1, 15)) == Month(2024, 12)


@pytest.mark.parametrize("bad", ["2024-13", "2024-9", "Sept", ""])
def test_bad_months_are_usage_errors(bad):
    with pytest.raises(UsageError):
        Month.parse(bad)
