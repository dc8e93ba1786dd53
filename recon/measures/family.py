"""What a measure family is: the record the register holds, what it is given and what it returns.

A family is a group of measures computed together from the same records (access, activity,
outcomes, ...). The register (:mod:`recon.register`) lists them; the engine, the explainer, the
pack and the console read it, so adding a family is one entry there plus its own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, TypeVar, cast

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.snomed import SnomedRelease

if TYPE_CHECKING:
    from rich.console import Console

    from recon.measures.catalog import Catalog, MeasureDef
    from recon.pack.layout import Sheet
    from recon.pack.model import PackOptions
    from recon.reconcile.model import ReconcileResult

T = TypeVar("T")


@dataclass(frozen=True)
class FamilyContext:
    """Everything a family may read: one provider's canonical tables for the month, and the rules.

    ``tables`` are lazy frames of every canonical table (absent tables empty, typed), already
    restricted to the provider. ``snomed`` is the provider's SNOMED CT release when one was given
    (``--snomed``); a family that needs it and finds None returns its values with a ``reason``.
    """

    tables: Mapping[str, pl.LazyFrame]
    month: Month
    settings: ProviderSettings
    codes: Codes
    snomed: SnomedRelease | None = None
    _steps: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def once(self, step: Callable[[FamilyContext], T]) -> T:
        """``step(self)``, computed once per run: families that share a preparation (outcomes and
        completeness share the outcomes cohort) each call ``ctx.once(prepare)``."""
        if step not in self._steps:
            self._steps[step] = step(self)
        return cast(T, self._steps[step])


@dataclass(frozen=True)
class FamilyPlan:
    """What a family returns; the engine collects every family's lazy parts in one pass.

    ``counts``: lazy long frames (id, breakdown, level, value) of counts (see
    :func:`recon.measures.common.distinct_counts`). ``values``: values computed already
    (percentages, percentiles, values not computed with their ``reason``). ``details``: frames
    that name the records behind the figures, lazy or collected, by name (``mhs95_people``).
    """

    counts: Sequence[pl.LazyFrame] = ()
    values: Sequence[MeasureValue] = ()
    details: Mapping[str, pl.LazyFrame | pl.DataFrame] = field(default_factory=dict)


class RecordUnit(Enum):
    """What a family counts, by the column that names one in its detail frames."""

    PEOPLE = "LocalPatientId"
    REFERRALS = "ServiceRequestId"

    @property
    def column(self) -> str:
        return self.value

    @property
    def word(self) -> str:
        return "people" if self is RecordUnit.PEOPLE else "referrals"


@dataclass(frozen=True)
class RecordRule:
    """Records of ``table`` that ``where`` selects move a measure; a field difference moves it only
    in one of ``columns`` (None: any). For measures with no detail frame of units (activity)."""

    table: str
    where: pl.Expr
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Family:
    """One entry of the register.

    ``name`` is the catalogue's ``family`` value; ``plan`` computes the family's measures;
    ``unit`` and ``detail`` say how a difference between two runs is traced to records (the units
    of the detail frame counted on one side only; a measure's catalogue ``detail`` overrides the
    family's); ``record_rules`` does it for measures without units (by measure id); ``sheets``
    builds the family's pack sheets from its catalogue entries; ``console`` prints its section of
    ``recon measures``.
    """

    name: str
    title: str
    plan: Callable[[FamilyContext], FamilyPlan]
    sheets: Callable[[ReconcileResult, PackOptions, Catalog], Sequence[Sheet]] | None
    console: Callable[[MeasuresResult, str, Sequence[MeasureDef], Console], None]
    unit: RecordUnit | None = None
    detail: str | None = None
    record_rules: Callable[[Month, Codes], Mapping[str, Sequence[RecordRule]]] | None = None
