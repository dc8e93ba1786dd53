"""Is any key repeated? Answered from 64-bit hashes first, because the answer is nearly always no.

Distinct hashes mean distinct keys, so "surely distinct" is exact; equal hashes (a real repeat,
or a collision) only send the caller to its exact, slower test. Sorting the hashes and comparing
neighbours costs about a tenth of grouping millions of text keys.
"""

from __future__ import annotations

import polars as pl


def surely_distinct(keys: pl.Series) -> bool:
    """True when no two values of ``keys`` can be equal (nulls count as one value)."""
    if keys.len() < 2:
        return True
    hashes = keys.hash().sort()
    return not bool((hashes.slice(1) == hashes.slice(0, hashes.len() - 1)).any())
