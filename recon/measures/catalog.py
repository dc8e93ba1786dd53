"""The measure catalogue: rules/measures.toml parsed once into frozen definitions.

The catalogue is the only list of measures. Each entry names its family (a record of
:mod:`recon.register`); the register's test checks that each family computes exactly the ids the
catalogue gives it. The fields are documented at the top of rules/measures.toml.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar

from recon.errors import RulesError
from recon.measures.common import AGE_BAND, TEAM
from recon.rules_files import RulesSource, rules_file

BREAKDOWNS = (TEAM, AGE_BAND)
E = TypeVar("E", bound=StrEnum)


class Kind(StrEnum):
    """What a measure's value is."""

    COUNT = "count"  # a whole number of people, referrals, spells, contacts
    PERCENTAGE = "percentage"  # numerator / denominator * 100, with both carried
    PERCENTILE = "percentile"  # a median or other percentile of a distribution (a float)


class Period(StrEnum):
    """The span of the published row a measure's value is for, ending with the reporting month."""

    MONTH = "M"
    QUARTER = "Q"
    TWELVE_MONTHS = "12M"

    @property
    def months(self) -> int:
        return {"M": 1, "Q": 3, "12M": 12}[self.value]


@dataclass(frozen=True)
class MeasureDef:
    """One measure of measures.md (or waits.md) as catalogued in rules/measures.toml."""

    id: str
    name: str
    family: str
    kind: Kind
    description: str
    main: bool = False  # headline measure to trend
    period: Period = Period.MONTH
    numerator: str | None = None  # percentages: the count measure on top (None: its own count)
    denominator: str | None = None  # percentages: the measure underneath
    suppression: str | None = None  # the count that decides '*' when published (default: numerator)
    breakdowns: tuple[str, ...] = ()
    detail: str | None = None  # detail frame naming the units it counts (default: its family's)
    label: str | None = None  # short column label in the pack (default: id and name)
    pack: bool = True  # a column on its family's pack sheet
    trend: int | None = None  # position on the pack's Trend sheet (None: after those with one)

    @property
    def is_percentage(self) -> bool:
        return self.kind is Kind.PERCENTAGE

    @property
    def period_months(self) -> int:
        """Months the published row spans (12 for MHS95's rolling year)."""
        return self.period.months


@dataclass(frozen=True)
class Catalog:
    measures: tuple[MeasureDef, ...]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {m.id: i for i, m in enumerate(self.measures)}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.measures)

    @property
    def families(self) -> tuple[str, ...]:
        """Family names in the order they first appear."""
        return tuple(dict.fromkeys(m.family for m in self.measures))

    def get(self, measure_id: str) -> MeasureDef:
        i = self._index.get(measure_id)
        if i is None:
            raise KeyError(measure_id)
        return self.measures[i]

    def find(self, measure_id: str) -> MeasureDef | None:
        i = self._index.get(measure_id)
        return None if i is None else self.measures[i]

    def family(self, family: str) -> tuple[MeasureDef, ...]:
        return tuple(m for m in self.measures if m.family == family)

    def order(self, measure_id: str) -> int:
        """Position in the catalogue (unknown ids sort last)."""
        return self._index.get(measure_id, len(self.measures))

    @property
    def main(self) -> tuple[MeasureDef, ...]:
        return tuple(m for m in self.measures if m.main)


_FIELDS = frozenset({
    "id", "name", "family", "kind", "description", "main", "period", "numerator", "denominator",
    "suppression", "breakdowns", "detail", "label", "pack", "trend",
})


def _measure(entry: Mapping[str, Any], where: str) -> MeasureDef:
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise RulesError(f"{where}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_FIELDS))})")

    def text(key: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise RulesError(f"{where}: '{key}' must be a non-empty string")
        return value

    def optional(key: str) -> str | None:
        return None if entry.get(key) is None else text(key)

    def flag(key: str, default: bool) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise RulesError(f"{where}: '{key}' must be true or false")
        return value

    def choice(key: str, enum: type[E], default: E | None = None) -> E:
        value = entry.get(key)
        if value is None and default is not None:
            return default
        try:
            return enum(str(value))
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise RulesError(f"{where}: {key} {value!r} is not one of {allowed}") from None

    measure_id = text("id")
    where = f"{where} ({measure_id})"
    family = text("family")
    kind = choice("kind", Kind)
    breakdowns = entry.get("breakdowns", [])
    if not isinstance(breakdowns, list) or any(b not in BREAKDOWNS for b in breakdowns):
        raise RulesError(f"{where}: breakdowns must be a list drawn from {', '.join(BREAKDOWNS)}")
    trend = entry.get("trend")
    if trend is not None and (not isinstance(trend, int) or isinstance(trend, bool) or trend < 1):
        raise RulesError(f"{where}: 'trend' must be a positive whole number")
    return MeasureDef(
        id=measure_id, name=text("name"), family=family, kind=kind, description=text("description"),
        main=flag("main", False), period=choice("period", Period, Period.MONTH),
        numerator=optional("numerator"), denominator=optional("denominator"), suppression=optional("suppression"),
        breakdowns=tuple(breakdowns), detail=optional("detail"), label=optional("label"),
        pack=flag("pack", True), trend=trend,
    )


def parse_catalog(text: str, name: str = "measures.toml") -> Catalog:
    """The catalogue in ``text``; a RulesError (exit 2) names the entry and field at fault."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{name} cannot be read: {exc}") from None
    entries = doc.get("measure")
    if not isinstance(entries, list) or not entries:
        raise RulesError(f"{name}: no [[measure]] entries")
    measures = tuple(_measure(e, f"{name} measure {i + 1}") for i, e in enumerate(entries))
    ids = [m.id for m in measures]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RulesError(f"{name}: measure id(s) listed twice: {', '.join(dupes)}")
    for m in measures:
        for ref in (m.numerator, m.denominator, m.suppression):
            if ref is not None and ref not in ids:
                raise RulesError(f"{name}: {m.id} refers to unknown measure {ref}")
        if m.is_percentage and m.denominator is None:
            raise RulesError(f"{name}: percentage {m.id} needs a denominator")
    return Catalog(measures)


def catalog(path: Path | None = None) -> Catalog:
    """rules/measures.toml (or ``path``) parsed once, in the order of the specification."""
    return _catalog(path or rules_file("measures.toml"))


@lru_cache(maxsize=4)
def _catalog(path: Path | RulesSource) -> Catalog:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path.name} cannot be read: {exc}") from None
    return parse_catalog(text, path.name)
