"""Tolerances: how far a local figure may be from the extract's or the published one
(rules/tolerances.toml, parsed once into typed objects; the file's comments say what each means)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from recon.errors import RulesError
from recon.findings import Severity
from recon.rules_files import RulesSource, read_toml, rules_file

Kind = Literal["count", "percentage"]


@dataclass(frozen=True)
class Tolerance:
    """One rules/tolerances.toml entry: |difference| <= absolute, or <= relative % of the other value."""

    id: str
    absolute: float
    relative: float  # percent of |other value|; 0 = not used
    severity: Severity
    doc: str
    measures: tuple[str, ...] = ()
    kind: str | None = None  # "count" / "percentage" for the defaults

    def allows(self, difference: float, other: float | None) -> bool:
        d = abs(difference)
        if d <= self.absolute + 1e-9:
            return True
        return bool(self.relative > 0 and other is not None and d <= abs(other) * self.relative / 100 + 1e-9)

    @property
    def text(self) -> str:
        a = f"{self.absolute:g}"
        return f"±{a} or {self.relative:g}%" if self.relative > 0 else f"±{a}"


@dataclass(frozen=True)
class Tolerances:
    count: Tolerance
    percentage: Tolerance
    by_measure: Mapping[str, Tolerance]

    def for_measure(self, measure_id: str, kind: Kind) -> Tolerance:
        t = self.by_measure.get(measure_id)
        if t is not None:
            return t
        return self.percentage if kind == "percentage" else self.count

    @property
    def all(self) -> tuple[Tolerance, ...]:
        seen = {t.id: t for t in (self.count, self.percentage, *self.by_measure.values())}
        return tuple(seen.values())


def _tolerance(d: Mapping[str, Any], where: str, kind: str | None = None) -> Tolerance:
    try:
        tid = str(d["id"]).strip()
        absolute = float(d.get("absolute", 0))
        relative = float(d.get("relative", 0))
        severity = Severity(str(d.get("severity", "error")).lower())
        doc = str(d["doc"]).strip()
    except KeyError as exc:
        raise RulesError(f"rules/tolerances.toml: {where} has no {exc.args[0]!r}") from None
    except ValueError as exc:
        raise RulesError(f"rules/tolerances.toml: {where}: {exc}") from None
    if not tid or not doc:
        raise RulesError(f"rules/tolerances.toml: {where} needs a non-empty id and doc")
    if absolute < 0 or relative < 0:
        raise RulesError(f"rules/tolerances.toml: {where} ({tid}) has a negative tolerance")
    measures = tuple(str(m) for m in d.get("measures", ()))
    return Tolerance(tid, absolute, relative, severity, doc, measures, kind)


def load_tolerances(path: Path | None = None) -> Tolerances:
    """rules/tolerances.toml (or ``path``) parsed once (RulesError, exit 2, when it is invalid)."""
    return _load_tolerances(path or rules_file("tolerances.toml"))


@lru_cache(maxsize=4)
def _load_tolerances(path: Path | RulesSource) -> Tolerances:
    data = read_toml(path, "rules/tolerances.toml")
    unknown = sorted(set(data) - {"default", "measure"})
    if unknown:
        raise RulesError(f"rules/tolerances.toml: unknown section(s) {', '.join(unknown)} (known: default, measure)")
    default = data.get("default", {})
    if "count" not in default or "percentage" not in default:
        raise RulesError("rules/tolerances.toml needs [default.count] and [default.percentage]")
    count = _tolerance(default["count"], "[default.count]", "count")
    pct = _tolerance(default["percentage"], "[default.percentage]", "percentage")
    by_measure: dict[str, Tolerance] = {}
    ids = {count.id, pct.id}
    for i, entry in enumerate(data.get("measure", []), start=1):
        t = _tolerance(entry, f"[[measure]] #{i}")
        if t.id in ids:
            raise RulesError(f"rules/tolerances.toml: tolerance id {t.id} is used twice")
        ids.add(t.id)
        if not t.measures:
            raise RulesError(f"rules/tolerances.toml: {t.id} lists no measures")
        for m in t.measures:
            if m in by_measure:
                raise RulesError(f"rules/tolerances.toml: {m} has two tolerances ({by_measure[m].id}, {t.id})")
            by_measure[m] = t
    return Tolerances(count, pct, by_measure)
