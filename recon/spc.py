"""Statistical process control in the NHS "Making Data Count" style (XmR charts).

Pure functions over a short series (a trend of monthly values), so the Excel pack and any
other renderer draw the same mean, limits and special-cause flags.

- mean of the points; moving ranges |x[i] - x[i-1]|; process limits = mean ± 2.66 × mean
  moving range; sigma = mean moving range / 1.128.
- Special cause (a point may carry several):
  ``beyond_limit``  a point above the upper or below the lower process limit;
  ``shift``         7 or more consecutive points on the same side of the mean (a point
                    exactly on the mean ends a run);
  ``trend``         7 or more consecutive points each higher (or each lower) than the one
                    before (an equal value ends a trend);
  ``two_of_three``  2 of 3 consecutive points beyond 2 sigma from the mean on the same
                    side (the points beyond 2 sigma are flagged).
- Limits from fewer than 12 points are *provisional*.
- Limits are clamped at the measure's natural bounds (``floor`` 0 for counts and percentages,
  ``ceiling`` 100 for a percentage), as Making Data Count does: a count cannot fall below 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

LIMIT_FACTOR = 2.66
D2 = 1.128  # bias-correction constant for moving ranges of two points
RUN_LENGTH = 7
MIN_POINTS_FOR_FIXED_LIMITS = 12

BEYOND_LIMIT = "beyond_limit"
SHIFT = "shift"
TREND = "trend"
TWO_OF_THREE = "two_of_three"

RULE_TEXT = {
    BEYOND_LIMIT: "a point outside the process limits",
    SHIFT: f"a run of {RUN_LENGTH} or more points on one side of the mean",
    TREND: f"{RUN_LENGTH} or more points rising or falling in a row",
    TWO_OF_THREE: "2 of 3 points close to a process limit (beyond 2 sigma) on the same side",
}
# Short labels for a table column.
RULE_LABEL = {
    BEYOND_LIMIT: "outside limits",
    SHIFT: "run of 7",
    TREND: "trend of 7",
    TWO_OF_THREE: "2 of 3 near limit",
}


@dataclass(frozen=True)
class SpcResult:
    """An XmR analysis of one series; ``flags[i]`` names the special-cause rules point i meets."""

    values: tuple[float, ...]
    mean: float
    mean_moving_range: float
    sigma: float
    upper: float
    lower: float
    provisional: bool
    flags: tuple[tuple[str, ...], ...]

    @property
    def special_cause(self) -> tuple[bool, ...]:
        return tuple(bool(f) for f in self.flags)

    @property
    def rules_met(self) -> tuple[str, ...]:
        """Every rule met anywhere in the series, in a fixed order."""
        met = {r for f in self.flags for r in f}
        return tuple(r for r in (BEYOND_LIMIT, SHIFT, TREND, TWO_OF_THREE) if r in met)

    def describe(self) -> str:
        """One plain-English line for a reader who has never heard of SPC."""
        if not self.values:
            return "No data."
        if not self.rules_met:
            text = "Common-cause variation only: no sign of real change."
        else:
            text = "Special cause: " + "; ".join(RULE_LABEL[r] for r in self.rules_met) + "."
        if self.provisional:
            text += f" Limits provisional ({len(self.values)} points, fewer than {MIN_POINTS_FOR_FIXED_LIMITS})."
        return text


def moving_ranges(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(abs(b - a) for a, b in itertools.pairwise(values))


def analyse(values: Sequence[float], *, floor: float | None = None, ceiling: float | None = None) -> SpcResult:
    """XmR mean, limits and special-cause flags for ``values`` (in time order, no gaps); limits are
    clamped to ``[floor, ceiling]`` where given."""
    xs = tuple(float(v) for v in values)
    n = len(xs)
    if n == 0:
        return SpcResult((), 0.0, 0.0, 0.0, 0.0, 0.0, True, ())
    mean = sum(xs) / n
    mrs = moving_ranges(xs)
    mr_bar = sum(mrs) / len(mrs) if mrs else 0.0
    sigma = mr_bar / D2
    upper = mean + LIMIT_FACTOR * mr_bar
    lower = mean - LIMIT_FACTOR * mr_bar
    if floor is not None:
        lower = max(lower, floor)
    if ceiling is not None:
        upper = min(upper, ceiling)
    flags: list[set[str]] = [set() for _ in xs]

    for i, x in enumerate(xs):
        if x > upper or x < lower:
            flags[i].add(BEYOND_LIMIT)

    sides = [1 if x > mean else -1 if x < mean else 0 for x in xs]
    _flag_runs(sides, RUN_LENGTH, SHIFT, flags)

    steps = [0] + [1 if b > a else -1 if b < a else 0 for a, b in itertools.pairwise(xs)]
    # A trend of k points is k-1 steps in the same direction; the first point joins it.
    i = 1
    while i < n:
        if steps[i] == 0:
            i += 1
            continue
        j = i
        while j + 1 < n and steps[j + 1] == steps[i]:
            j += 1
        if j - i + 2 >= RUN_LENGTH:
            for k in range(i - 1, j + 1):
                flags[k].add(TREND)
        i = j + 1

    if sigma > 0:
        near = [1 if x > mean + 2 * sigma else -1 if x < mean - 2 * sigma else 0 for x in xs]
        for start in range(max(n - 2, 1)):
            window = range(start, min(start + 3, n))
            for side in (1, -1):
                hits = [k for k in window if near[k] == side]
                if len(hits) >= 2:
                    for k in hits:
                        flags[k].add(TWO_OF_THREE)

    order = (BEYOND_LIMIT, SHIFT, TREND, TWO_OF_THREE)
    return SpcResult(
        values=xs,
        mean=mean,
        mean_moving_range=mr_bar,
        sigma=sigma,
        upper=upper,
        lower=lower,
        provisional=n < MIN_POINTS_FOR_FIXED_LIMITS,
        flags=tuple(tuple(r for r in order if r in f) for f in flags),
    )


def _flag_runs(sides: list[int], length: int, rule: str, flags: list[set[str]]) -> None:
    """Flag every point of each run of ``length`` or more equal non-zero ``sides``."""
    n = len(sides)
    i = 0
    while i < n:
        if sides[i] == 0:
            i += 1
            continue
        j = i
        while j + 1 < n and sides[j + 1] == sides[i]:
            j += 1
        if j - i + 1 >= length:
            for k in range(i, j + 1):
                flags[k].add(rule)
        i = j + 1
