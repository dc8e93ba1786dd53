"""NHS England's VODIM measures and code lists (rules/vodim.toml), parsed once into typed objects.

The same lists decide the national "invalid national code" rules of class B (quality.md 1.3,
basis ``menh_dq_codes``) and the VODIM categories (quality.md 3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import polars as pl

from recon.errors import RulesError
from recon.rules_files import RulesSource, read_toml, rules_file

CATEGORIES = ("valid", "other", "default", "invalid", "missing")


@dataclass(frozen=True)
class VodimMeasure:
    id: str
    name: str
    table: str
    item: str
    kind: str
    population: str | None
    valid: tuple[str, ...]
    other: tuple[str, ...]
    default: tuple[str, ...]
    valid_pattern: str | None
    other_pattern: str | None
    published: tuple[str, ...]

    def _match(self, value: pl.Expr, codes: tuple[str, ...], pattern: str | None) -> pl.Expr:
        out = value.is_in(list(codes)) if codes else pl.lit(False)
        return out | value.str.contains(pattern) if pattern else out

    def is_valid(self, value: pl.Expr) -> pl.Expr:
        return self._match(value, self.valid, self.valid_pattern)

    def is_other(self, value: pl.Expr) -> pl.Expr:
        return self._match(value, self.other, self.other_pattern)

    def is_default(self, value: pl.Expr) -> pl.Expr:
        return self._match(value, self.default, None)

    def in_list(self, value: pl.Expr) -> pl.Expr:
        """In any of Valid, Other, Default (trimmed, upper-cased value)."""
        return self.is_valid(value) | self.is_other(value) | self.is_default(value)

    @property
    def longest_code(self) -> int:
        codes = self.valid + self.other + self.default
        return max((len(c) for c in codes), default=1) if not self.valid_pattern else 2


@dataclass(frozen=True)
class DqmiSettings:
    target: float
    label: str
    items: tuple[str, ...]
    thresholds: Mapping[str, float]
    not_computed: Mapping[str, str]


@dataclass(frozen=True)
class VodimRules:
    measures: tuple[VodimMeasure, ...]
    dqmi: DqmiSettings
    first_month: str
    last_month: str

    @property
    def by_id(self) -> Mapping[str, VodimMeasure]:
        return MappingProxyType({m.id: m for m in self.measures})


def _strs(d: Mapping[str, object], key: str) -> tuple[str, ...]:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise TypeError(f"{key} must be a list")
    return tuple(str(x) for x in v)


def load_vodim_rules() -> VodimRules:
    """rules/vodim.toml through the rules folder in use (recon.rules_files)."""
    return _load_vodim_rules(rules_file("vodim.toml"))


@lru_cache(maxsize=4)
def _load_vodim_rules(source: RulesSource) -> VodimRules:
    doc = read_toml(source, "rules/vodim.toml")
    try:
        measures = tuple(
            VodimMeasure(
                id=str(m["id"]), name=str(m["name"]), table=str(m["table"]), item=str(m["item"]),
                kind=str(m.get("kind", "codes")), population=m.get("population"),
                valid=_strs(m, "valid"), other=_strs(m, "other"), default=_strs(m, "default"),
                valid_pattern=m.get("valid_pattern"), other_pattern=m.get("other_pattern"),
                published=_strs(m, "published"),
            )
            for m in doc["measure"]
        )
        d = doc["dqmi"]
        dqmi = DqmiSettings(
            target=float(d["target"]), label=str(d["label"]), items=_strs(d, "items"),
            thresholds=MappingProxyType({str(k): float(v) for k, v in d.get("thresholds", {}).items()}),
            not_computed=MappingProxyType({str(k): str(v) for k, v in doc.get("not_computed", {}).items()}),
        )
        return VodimRules(measures, dqmi, str(doc["first_month"]), str(doc["last_month"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise RulesError(f"rules/vodim.toml is invalid: {type(exc).__name__}: {exc}") from None
