"""Spark SQL's exact ``PERCENTILE`` (waits.md section 1), the median and 90th percentile of NHS England.

Sort the n values; pos = (n - 1) * p in double; lo = floor(pos), hi = ceil(pos); v[lo] when lo ==
hi or v[lo] == v[hi], else (hi - pos) * v[lo] + (pos - lo) * v[hi] in exactly that form (numpy's
"linear" method can differ in the last bit: 40.49999999999999 where Spark gives 40.5).
"""

from __future__ import annotations

import math

import polars as pl


def spark_percentile(values: pl.Series, p: float) -> float | None:
    """The exact percentile of ``values`` (blanks ignored; equal values all kept); None for none."""
    v = values.drop_nulls().cast(pl.Float64).sort()
    n = v.len()
    if n == 0:
        return None
    pos = float(n - 1) * p
    lo, hi = math.floor(pos), math.ceil(pos)
    v_lo, v_hi = float(v[lo]), float(v[hi])
    if lo == hi or v_lo == v_hi:
        return v_lo
    return (hi - pos) * v_lo + (pos - lo) * v_hi
