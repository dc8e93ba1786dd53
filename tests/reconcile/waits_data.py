"""Local waits results built by hand, in the shape of the waits family's output: provider-level
MeasureValues plus the ``waits_measures`` detail frame (period start, stored value, numerator,
denominator, suppression numerator)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import MappingProxyType

import numpy as np
import polars as pl

from recon.measures.catalog import parse_catalog
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month

CATALOG = parse_catalog(Path(__file__).with_name("waits_catalog.toml").read_text(encoding="utf-8"))
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "published"


def suppression_of(mid: str) -> str:
    """The count a waits measure is suppressed on (waits.md section 10), MRS02f's quirk included."""
    info = CATALOG.get(mid)
    return info.suppression or info.numerator or mid


def waits_result(month: Month, values: dict[str, float | int | None], *, provider: str = "RX4",
                 dens: dict[str, int] | None = None, starts: dict[str, dt.date] | None = None) -> MeasuresResult:
    """A MeasuresResult holding the given waits values: counts as ints, proportions and
    percentiles as the stored (unrounded) value; ``dens`` gives proportions their denominators."""
    dens = dens or {}
    q_start = month.shift(-2).start
    out: list[MeasureValue] = []
    rows = []
    for mid, v in values.items():
        info = CATALOG.get(mid)
        start = (starts or {}).get(mid) or (q_start if info.period_months == 3 else month.start)
        supp_id = suppression_of(mid)
        supp = values.get(supp_id)
        num = den = None
        stored = None if v is None else float(v)
        if info.kind == "percentage":
            num, den = int(values.get(info.numerator or "") or 0), dens.get(mid, 100)
            stored = None if v is None else float(np.float32(v))
        out.append(MeasureValue(mid, v, numerator=num, denominator=den if info.kind == "percentage" else None))
        rows.append({"id": mid, "period_start": start, "value": stored, "numerator": num, "denominator": den,
                     "suppression_numerator": None if supp is None else int(supp)})
    frame = pl.DataFrame(rows, schema={"id": pl.String, "period_start": pl.Date, "value": pl.Float64,
                                       "numerator": pl.Int64, "denominator": pl.Int64,
                                       "suppression_numerator": pl.Int64})
    return MeasuresResult(provider, month, tuple(out), MappingProxyType({"waits_measures": frame}))
