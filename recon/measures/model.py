"""Measure results: one frozen object that every renderer (console, JSON, Excel) reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.months import Month


@dataclass(frozen=True)
class MeasureValue:
    """One measure at one level. ``breakdown`` None means provider level.

    Counts carry ``value`` only; percentages carry ``value`` in percent (one decimal),
    ``numerator`` and ``denominator``; ``value`` is None when the denominator is 0.
    """

    id: str
    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None
    breakdown: str | None = None  # None (provider), "Team", "Age band"
    level: str | None = None  # team id or age band label
    # why ``value`` is None when the measure could not be computed at all (e.g. "not computed:
    # needs the SNOMED CT refsets"); None when computed (a null value then means "no rows")
    reason: str | None = None

    @property
    def is_percentage(self) -> bool:
        return self.denominator is not None

    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "value": self.value}
        if self.is_percentage:
            d["numerator"] = self.numerator
            d["denominator"] = self.denominator
        if self.breakdown is not None:
            d["breakdown"] = self.breakdown
            d["level"] = self.level
        if self.reason is not None:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class MeasuresResult:
    """All measures for one provider and month, plus record-level explanations.

    ``details`` holds small frames that name the records behind the figures, e.g.
    ``"mhs95_people"``, ``"outcomes_referrals"`` (cohort, Contact1/Contact2, flags),
    ``"outcomes_items"`` (per referral and item: paired or why not).
    """

    provider: str
    month: Month
    values: tuple[MeasureValue, ...]
    details: Mapping[str, pl.DataFrame] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()  # e.g. no activity dated in the month

    def get(self, measure_id: str, breakdown: str | None = None, level: str | None = None) -> MeasureValue | None:
        for v in self.values:
            if v.id == measure_id and v.breakdown == breakdown and v.level == level:
                return v
        return None

    def value(self, measure_id: str) -> float | int | None:
        v = self.get(measure_id)
        return None if v is None else v.value

    @property
    def provider_level(self) -> tuple[MeasureValue, ...]:
        return tuple(v for v in self.values if v.breakdown is None)

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "provider": self.provider,
            "month": str(self.month),
            "measures": [v.to_json_dict() for v in self.values],
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out
