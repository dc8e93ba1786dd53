"""Provider settings and the optional TOML configuration file.

The flags of contract.md always work without a configuration; a file only makes the daily
(cron) command short: ``recon reconcile --config /etc/recon.toml --month previous --quiet``.
Paths are templated by month so one file serves every month; flags override the file.
"""

from __future__ import annotations

import datetime as dt
import os
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recon.choices import PersonKey
from recon.errors import ConfigError
from recon.months import Month


@dataclass(frozen=True)
class ProviderSettings:
    """Switches that change how national measures are computed for one provider."""

    ods: str | None = None  # provider ODS code; None = taken from the data (OrgIDProv)
    digital: bool = False  # digital provider: mechanisms 05, 09, 10, 13 qualify whatever attendance
    person_key: PersonKey = PersonKey.LOCAL  # count people by LocalPatientId or by a valid NHSNumber


# Inputs a run may expect, and the output/state paths a configuration may template.
INPUT_ROLES = ("epr", "mapping", "extract", "published")
# rules_dir: a folder whose files replace the shipped rules of the same name (recon/rules_files.py)
PATH_KEYS = (*INPUT_ROLES, "pack", "ledger", "log_file", "rules_dir")


def month_fields(month: Month) -> dict[str, str]:
    """Placeholders a templated path may use: ``{month}`` = 2024-09, ``{yyyymm}`` = 202409, ..."""
    d = month.start
    return {
        "month": str(month),
        "yyyymm": f"{month.year:04d}{month.month:02d}",
        "yyyy": f"{month.year:04d}",
        "yy": f"{month.year % 100:02d}",
        "mm": f"{month.month:02d}",
        "mon": d.strftime("%b").lower(),  # sep
        "Mon": d.strftime("%b"),  # Sep
        "MON": d.strftime("%b").upper(),  # SEP
        "month_name": d.strftime("%B"),  # September
        "uniq_month_id": str(month.uniq_month_id),
    }


def render_template(template: str, month: Month, *, what: str = "path") -> str:
    """Fill a month template; an unknown placeholder is a configuration error, never a silent blank."""
    values = month_fields(month)
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"{what} template {template!r} is malformed: {exc}") from None
    unknown = sorted({n for n in names if n not in values})
    if unknown:
        raise ConfigError(
            f"{what} template {template!r} uses unknown placeholder(s) {', '.join(unknown)}",
            hint="known: " + ", ".join("{" + k + "}" for k in values),
        )
    return template.format_map(values)


@dataclass(frozen=True)
class DeadlineRule:
    """When the month's submission is due: a fixed table first, else N working days after month end."""

    working_days_after_month_end: int | None = None
    holidays: frozenset[dt.date] = frozenset()
    fixed: Mapping[str, dt.date] = field(default_factory=lambda: MappingProxyType({}))

    def deadline_for(self, month: Month) -> dt.date | None:
        if str(month) in self.fixed:
            return self.fixed[str(month)]
        if self.working_days_after_month_end is None:
            return None
        day, left = month.end, self.working_days_after_month_end
        while left > 0:
            day += dt.timedelta(days=1)
            if day.weekday() < 5 and day not in self.holidays:
                left -= 1
        return day


@dataclass(frozen=True)
class PackSettings:
    identifiable: bool | None = None
    split_by_team: bool | None = None
    suppress_small_counts: bool | None = None


@dataclass(frozen=True)
class ReconConfig:
    """A parsed configuration file. ``None`` everywhere means "not set: use the flag or the default"."""

    source: Path | None = None
    provider: ProviderSettings = ProviderSettings()
    provider_set: frozenset[str] = frozenset()  # which provider keys the file actually set
    paths: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    max_age_days: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    deadline: DeadlineRule = DeadlineRule()
    pack: PackSettings = PackSettings()
    status: str | None = None

    def path(self, key: str, month: Month) -> Path | None:
        """The configured path for ``key`` filled for ``month``; relative paths are taken from the file's folder."""
        template = self.paths.get(key)
        if template is None:
            return None
        p = Path(os.path.expanduser(render_template(template, month, what=f"paths.{key}")))
        if not p.is_absolute() and self.source is not None:
            p = self.source.parent / p
        return p

    def rules_dir(self, month: Month) -> Path | None:
        """The trust's own rules folder (``paths.rules_dir``), checked to be a folder."""
        folder = self.path("rules_dir", month)
        if folder is not None and not folder.is_dir():
            raise ConfigError(f"paths.rules_dir {folder} is not a folder")
        return folder

    def mapping(self, month: Month) -> str | None:
        """A mapping is a name under rules/mappings/ or a path; only paths are resolved."""
        template = self.paths.get("mapping")
        if template is None:
            return None
        text = render_template(template, month, what="paths.mapping")
        if "/" in text or text.endswith(".toml"):
            p = self.path("mapping", month)
            return str(p)
        return text


_TOP = {"provider", "paths", "inputs", "deadline", "pack", "reconcile"}


def _table(doc: Mapping[str, Any], key: str, allowed: set[str], where: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in [{key}]: {', '.join(unknown)}", hint="allowed: " + ", ".join(sorted(allowed)))
    return value


def _typed(value: Any, kind: type | tuple[type, ...], name: str, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{where}: {name} must be a number, not {value!r}")
    if not isinstance(value, kind):
        label = {str: "text", bool: "true or false", int: "whole number"}.get(kind, "number")  # type: ignore[arg-type]
        raise ConfigError(f"{where}: {name} must be {label}, not {value!r}")
    return value


def _date(value: Any, name: str, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: {name} must be a date YYYY-MM-DD, not {value!r}")


def load_config(path: str | Path) -> ReconConfig:
    """Parse and check a configuration file; every mistake is a one-line ConfigError (exit 2)."""
    path = Path(path)
    where = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read configuration: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(unknown)}", hint="allowed: " + ", ".join(sorted(_TOP)))

    prov = _table(doc, "provider", {"ods", "digital", "person_key"}, where)
    person_key_text = _typed(prov.get("person_key"), str, "provider.person_key", where)
    if person_key_text is not None and person_key_text.lower() not in tuple(PersonKey):
        raise ConfigError(f"{where}: provider.person_key must be 'local' or 'nhs', not {person_key_text!r}")
    person_key = PersonKey(person_key_text.lower()) if person_key_text is not None else None
    provider = ProviderSettings(
        ods=_typed(prov.get("ods"), str, "provider.ods", where),
        digital=bool(_typed(prov.get("digital"), bool, "provider.digital", where)),
        person_key=person_key or PersonKey.LOCAL,
    )

    paths_doc = _table(doc, "paths", set(PATH_KEYS), where)
    paths: dict[str, str] = {}
    for key, template in paths_doc.items():
        _typed(template, str, f"paths.{key}", where)
        render_template(template, Month(2024, 9), what=f"{where}: paths.{key}")  # fail now, not at 6am
        paths[key] = template

    inputs = _table(doc, "inputs", {"max_age_days"}, where)
    ages_doc = inputs.get("max_age_days", {})
    if not isinstance(ages_doc, dict):
        raise ConfigError(f"{where}: inputs.max_age_days must be a table, e.g. {{ epr = 2 }}")
    ages: dict[str, float] = {}
    for key, days in ages_doc.items():
        if key not in INPUT_ROLES:
            raise ConfigError(f"{where}: inputs.max_age_days.{key}: unknown input", hint="allowed: " + ", ".join(INPUT_ROLES))
        value = _typed(days, (int, float), f"inputs.max_age_days.{key}", where)
        if value < 0:
            raise ConfigError(f"{where}: inputs.max_age_days.{key} must not be negative")
        ages[key] = float(value)

    dl = _table(doc, "deadline", {"working_days_after_month_end", "holidays", "fixed"}, where)
    wd = _typed(dl.get("working_days_after_month_end"), int, "deadline.working_days_after_month_end", where)
    if wd is not None and not 0 <= wd <= 60:
        raise ConfigError(f"{where}: deadline.working_days_after_month_end must be between 0 and 60")
    holidays = dl.get("holidays", [])
    if not isinstance(holidays, list):
        raise ConfigError(f"{where}: deadline.holidays must be a list of dates")
    fixed_doc = dl.get("fixed", {})
    if not isinstance(fixed_doc, dict):
        raise ConfigError(f"{where}: deadline.fixed must be a table of \"YYYY-MM\" = YYYY-MM-DD")
    fixed: dict[str, dt.date] = {}
    for key, day in fixed_doc.items():
        try:
            month_key = str(Month.parse(key))
        except Exception:
            raise ConfigError(f"{where}: deadline.fixed key {key!r} is not a month YYYY-MM") from None
        fixed[month_key] = _date(day, f"deadline.fixed.{key}", where)
    deadline = DeadlineRule(
        working_days_after_month_end=wd,
        holidays=frozenset(_date(h, "deadline.holidays", where) for h in holidays),
        fixed=MappingProxyType(fixed),
    )

    pk = _table(doc, "pack", {"identifiable", "split_by_team", "suppress_small_counts"}, where)
    pack = PackSettings(**{k: _typed(v, bool, f"pack.{k}", where) for k, v in pk.items()})

    rec = _table(doc, "reconcile", {"status"}, where)
    status = _typed(rec.get("status"), str, "reconcile.status", where)

    return ReconConfig(
        source=path.resolve(),
        provider=provider,
        provider_set=frozenset(prov),
        paths=MappingProxyType(paths),
        max_age_days=MappingProxyType(ages),
        deadline=deadline,
        pack=pack,
        status=status,
    )
