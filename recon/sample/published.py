"""A synthetic published MHSMS file in the national 11-column layout (mhsds.md section 5).

Provider rows carry the national suppression (counts 0-4 as ``*``, others rounded to the
nearest 5, halves away from zero; a percentage is ``*`` when its numerator is suppressed);
England rows are exact. Values come from recon's own measures engine run on the
pre-deadline extract, as NHS England would have computed them from that submission.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.rounding import suppressed_text

COLUMNS = (
    "REPORTING_PERIOD_START", "REPORTING_PERIOD_END", "STATUS", "BREAKDOWN", "PRIMARY_LEVEL",
    "PRIMARY_LEVEL_DESCRIPTION", "SECONDARY_LEVEL", "SECONDARY_LEVEL_DESCRIPTION", "MEASURE_ID",
    "MEASURE_NAME", "MEASURE_VALUE",
)
PROVIDER_NAME = "RIVERSIDE, MEADOW AND VALE NHS FOUNDATION TRUST"
OTHER_PROVIDER = ("R1A", "NORTH ESTUARY CHILDREN'S NHS TRUST")


@dataclass(frozen=True)
class MeasureInfo:
    name: str
    percentage: bool
    period_months: int


def suppressed(v: MeasureValue, percentage: bool) -> str:
    """The provider-level published text for one local value."""
    if percentage:
        if v.numerator is None or v.numerator < 5 or v.value is None:
            return "*"
        return f"{float(v.value):.1f}"
    if v.value is None:
        return ""
    return suppressed_text(float(v.value))


def _day(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def measure_rows(
    result: MeasuresResult,
    info: dict[str, MeasureInfo],
    *,
    provider: str,
    seed: int,
    overrides: dict[str, str] | None = None,
) -> list[tuple[str, ...]]:
    """England, provider and one other provider's rows for every national measure of ``result``."""
    rng = np.random.default_rng(seed)
    month = result.month
    overrides = overrides or {}
    rows: list[tuple[str, ...]] = []
    national = [v for v in result.provider_level if v.id in info]
    scale = 170 + int(rng.integers(0, 20))
    for level in ("England", provider, OTHER_PROVIDER[0]):
        for v in national:
            mi = info[v.id]
            start = month.shift(-(mi.period_months - 1)).start
            if level == "England":
                breakdown, code, desc = "England", "England", "England"
                if mi.percentage:
                    num = (v.numerator or 0) * scale + int(rng.integers(0, 40))
                    den = (v.denominator or 0) * scale + int(rng.integers(40, 80))
                    text = repr(round(100 * num / den, 6)) if den else ""
                else:
                    text = str(int(v.value or 0) * scale + int(rng.integers(0, 200)))
            elif level == provider:
                breakdown, code, desc = "Provider", provider, PROVIDER_NAME
                text = overrides.get(v.id, suppressed(v, mi.percentage))
            else:
                breakdown, code, desc = "Provider", OTHER_PROVIDER[0], OTHER_PROVIDER[1]
                factor = float(rng.uniform(0.4, 1.6))
                other = MeasureValue(
                    v.id,
                    None if v.value is None else (round(float(v.value) * factor) if not mi.percentage else v.value),
                    None if v.numerator is None else round(v.numerator * factor),
                    v.denominator,
                )
                text = suppressed(other, mi.percentage)
            rows.append((_day(start), _day(month.end), "Performance", breakdown, code, desc, "NONE", "NONE",
                         v.id, mi.name, text))
    return rows


def extra_row(month: Month, level: str, measure_id: str, name: str, value: str) -> tuple[str, ...]:
    breakdown, desc = ("England", "England") if level == "England" else ("Provider", PROVIDER_NAME)
    return (_day(month.start), _day(month.end), "Performance", breakdown, level, desc, "NONE", "NONE",
            measure_id, name, value)


def to_csv(rows: Sequence[tuple[str, ...]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
