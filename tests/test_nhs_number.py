import polars as pl
import pytest

from recon.nhs_number import is_valid, valid_expr

# Worked by hand (weights 10..2 on the first nine digits):
# 943 476 5919: 90+36+24+28+42+30+20+27+2 = 299; 299 mod 11 = 2; 11 - 2 = 9 = last digit: valid.
# 401 023 2137: 40+0+8+0+12+15+8+3+6 = 92; 92 mod 11 = 4; 11 - 4 = 7 = last digit: valid.
# 123 456 7890: 10+18+24+28+30+30+28+24+18 = 210; 210 mod 11 = 1; check 10: never valid.
CASES = {
    "9434765919": True,
    "943 476 5919": True,
    "943-476-5919": True,
    "9434765918": False,  # check digit altered
    "4010232137": True,
    "4010232138": False,
    "1234567890": False,
    "943476591": False,  # nine digits
    "94347659190": False,  # eleven digits
    "94347659A9": False,
    "": False,
}


@pytest.mark.parametrize(("text", "valid"), CASES.items())
def test_string_and_column_checks_agree_with_hand_worked_cases(text, valid):
    assert is_valid(text) is valid
    assert pl.select(valid_expr(pl.lit(text))).item() is valid


def test_remainder_one_means_check_ten_and_never_valid():
    # A stem whose weighted sum is 1 mod 11 has check digit 10: no last digit makes it valid.
    stem = next(f"{n:09d}" for n in range(1, 10**4)
                if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1), strict=True)) % 11 == 1)
    for last in "0123456789":
        assert not is_valid(stem + last)
        assert pl.select(valid_expr(pl.lit(stem + last))).item() is False


def test_null_is_not_valid():
    assert pl.select(valid_expr(pl.lit(None, dtype=pl.String))).item() is False
