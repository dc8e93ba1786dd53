"""Running the waits family on hand-made records (tests/measures/builders.py frames)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from recon.config import ProviderSettings
from recon.measures.model import MeasureValue
from recon.measures.waits import compute
from recon.months import Month
from recon.snomed import CONCEPT_SCHEMA, REFSET_SCHEMA, SnomedRelease
from tests.measures.builders import tables

ASSESSMENTS = "1853441000000109"
PSYCH = "1853461000000105"
PSYCHOSOCIAL = "1853481000000101"
MEDICATION = "1853451000000107"
INTERVENTION = "900000000000001"  # made-up concept ids (not real SNOMED content)
CGAS = "860591000000104"


def release(refset: list[tuple[str, str, str, int]], concepts: list[tuple[str, str, int]] | None = None) -> SnomedRelease:
    """A SnomedRelease from (refsetId, concept, YYYY-MM-DD, active) and (concept, date, active) rows;
    without ``concepts`` every refset concept gets a concept row dated 2002-01-31."""
    if concepts is None:
        concepts = [(c, "2002-01-31", 1) for c in sorted({r[1] for r in refset})]
    ref = pl.DataFrame(
        {
            "refsetId": [r[0] for r in refset],
            "referencedComponentId": [r[1] for r in refset],
            "effectiveTime": [dt.date.fromisoformat(r[2]) for r in refset],
            "active": [r[3] for r in refset],
        },
        schema=REFSET_SCHEMA,
    )
    con = pl.DataFrame(
        {
            "id": [c[0] for c in concepts],
            "effectiveTime": [dt.date.fromisoformat(c[1]) for c in concepts],
            "active": [c[2] for c in concepts],
        },
        schema=CONCEPT_SCHEMA,
    )
    return SnomedRelease(ref, con, "test")


STANDARD = release([(PSYCH, INTERVENTION, "2002-01-31", 1)])


class Run:
    """One waits computation: values by id and the detail frames."""

    def __init__(self, month: str, snomed: SnomedRelease | None = STANDARD, ods: str = "RXX", **given: Any) -> None:
        given.setdefault("people", [])
        self.values, self.details = compute(tables(**given), Month.parse(month), ProviderSettings(ods=ods), None, snomed)
        self.by_id: dict[str, MeasureValue] = {v.id: v for v in self.values}

    def __getitem__(self, measure_id: str) -> float | int | None:
        return self.by_id[measure_id].value

    @property
    def spells(self) -> pl.DataFrame:
        return self.details["waits_spells"]

    def spell(self, cohort: str | None = None) -> dict[str, Any]:
        df = self.spells if cohort is None else self.spells.filter(pl.col("Cohort") == cohort)
        assert df.height == 1, df
        return df.row(0, named=True)

    def nonzero(self, prefix: str = "MRS") -> set[str]:
        return {v.id for v in self.values if v.id.startswith(prefix) and isinstance(v.value, int) and v.value > 0}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
