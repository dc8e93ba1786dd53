"""SNOMED CT RF2 reference data for the waits family (shared/spec/waits.md section 2).

recon ships no SNOMED CT content (the UK edition is licensed); a provider gives its release with
``--snomed PATH``. The reader pools Full, Snapshot and Delta rows of the four MHSDS refsets and the
concept rows of their members; refset membership on a date (the regime rules of waits.md
section 8) is the waits family's business, not the reader's.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# The four refsets waits.md reads (refset id -> name).
REFSETS: dict[str, str] = {
    "1853441000000109": "MHSDS assessment procedures",
    "1853461000000105": "psychological therapies",
    "1853481000000101": "psychosocial interventions",
    "1853451000000107": "medication and physical therapy interventions",
}

# Column schemas of the two frames (identifiers are text: SNOMED ids exceed 2**53 in places).
REFSET_SCHEMA = pl.Schema(
    {"refsetId": pl.String(), "referencedComponentId": pl.String(), "effectiveTime": pl.Date(), "active": pl.Int8()}
)
CONCEPT_SCHEMA = pl.Schema({"id": pl.String(), "effectiveTime": pl.Date(), "active": pl.Int8()})


@dataclass(frozen=True)
class SnomedRelease:
    """Rows of the four refsets (identical rows once) and the concept-file rows of their members.

    ``refset``: REFSET_SCHEMA, rows of the four REFSETS only. ``concepts``: CONCEPT_SCHEMA, rows of
    concepts that appear in ``refset`` only. ``source`` names what was read (for messages and the
    ledger), never a patient value.
    """

    refset: pl.DataFrame
    concepts: pl.DataFrame
    source: str = ""
