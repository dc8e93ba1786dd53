"""The NHS number's modulus-11 check (mhsds.md section 2), once, for columns and for strings.

Weights 10..2 on the first nine digits; check = 11 - (sum mod 11); 11 means 0; 10 means the
number is invalid. Spaces and hyphens ("943 476 5919") are ignored.
"""

from __future__ import annotations

import polars as pl

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# Ten digits, optionally 3-3-4 with spaces or hyphens: text that may hold an NHS number (a
# superset of what the masks accept), in syntax both Python's and polars' regexes read.
NHS_NUMBER_IN_TEXT = r"\d{3}[ -]?\d{3}[ -]?\d{4}"


def is_valid(text: str) -> bool:
    """One NHS number (for text found in a pack cell)."""
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = (11 - sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=False)) % 11) % 11
    return check != 10 and check == int(digits[9])


def valid_expr(col: pl.Expr) -> pl.Expr:
    """A whole column at once; False for null or malformed values (no Python per row)."""
    s = col.str.replace_all(r"[\s-]", "")
    digit = [s.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
    total = pl.sum_horizontal([d * w for d, w in zip(digit, WEIGHTS, strict=False)])
    check = (11 - total % 11) % 11  # 11 -> 0; 10 stays 10 and matches no digit
    return (s.str.contains(r"^\d{10}$") & (check == digit[9])).fill_null(False)
