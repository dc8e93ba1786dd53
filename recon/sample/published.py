"""A synthetic published MHSMS file in the national 11-column layout (mhsds.md section 5).

Provider rows carry the national suppression (counts 0-4 as ``*``, others rounded to the
nearest 5, halves away from zero; a percentage is ``*`` when its numerator is suppressed, else
a whole number rounded twice as NHS England does: one decimal, then half up, 14.458 -> 14.5 ->
15); England rows are exact. Values come from recon's own measures engine run on the
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
from recon.rounding import published_percent, suppressed_text

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
    kind: str = "count"  # count | percentage | percentile (the catalogue's)


def waits_text(v: MeasureValue, kind: str, stored: float | None, suppression: int | None) -> str:
    """A waits value as the 4WW file prints it below England (waits.md section 1): counts to 5,
    proportions and percentiles '*' on a suppression numerator below 5, else their float32 value
    rounded half up; a measure not computed (no SNOMED CT release) is blank."""
    from recon.reconcile.compare import published_form

    if v.reason is not None:
        return ""
    value = stored if stored is not None else v.value
    text = published_form(value, "percentile" if kind == "percentile" else "percentage" if kind == "percentage"
                          else "count", suppression)
    return text if text is not None else "*"


def suppressed(v: MeasureValue, percentage: bool) -> str:
    """The provider-level published text for one local value."""
    if percentage:
        if v.numerator is None or v.numerator < 5 or v.value is None:
            return "*"
        whole = published_percent(v.numerator, v.denominator or 0, 0)
        return "*" if whole is None else str(int(whole))
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
    from recon.reconcile.compare import waits_publications

    rng = np.random.default_rng(seed)
    month = result.month
    waits = waits_publications(result)
    overrides = overrides or {}
    rows: list[tuple[str, ...]] = []
    national = [v for v in result.provider_level if v.id in info]
    scale = 170 + int(rng.integers(0, 20))
    for level in ("England", provider, OTHER_PROVIDER[0]):
        for v in national:
            mi = info[v.id]
            w = waits.get(v.id)
            start = w.period_start if w is not None and w.period_start else month.shift(-(mi.period_months - 1)).start
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
                w = waits.get(v.id)
                text = overrides.get(v.id, suppressed(v, mi.percentage) if w is None else
                                     waits_text(v, mi.kind, w.value, w.suppression))
            else:
                breakdown, code, desc = "Provider", OTHER_PROVIDER[0], OTHER_PROVIDER[1]
                factor = float(rng.uniform(0.4, 1.6))
                other = MeasureValue(
                    v.id,
                    None if v.value is None else (round(float(v.value) * factor) if not mi.percentage else v.value),
                    None if v.numerator is None else round(v.numerator * factor),
                    v.denominator,
                )
                w = waits.get(v.id)
                text = suppressed(other, mi.percentage) if w is None else waits_text(
                    other, mi.kind, w.value, None if w.suppression is None else round(w.suppression * factor))
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
