"""Code lists, limits and the outcome tool reference, parsed once from ``rules/`` into typed objects."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from recon.errors import RulesError
from recon.rules_files import SHIPPED, RulesSource, rules_file

# The shipped rules folder (package data); readers go through recon.rules_files.rules_file, which
# also sees a trust's rules_dir. Kept for the ledger's rules version.
RULES_DIR = Path(str(SHIPPED))


@dataclass(frozen=True)
class AgeBand:
    label: str
    low: int
    high: int


@dataclass(frozen=True)
class Codes:
    attendance_valid: tuple[str, ...]
    attended: tuple[str, ...]
    missed: tuple[str, ...]
    mechanism_valid: tuple[str, ...]
    mechanism_qualifying: tuple[str, ...]
    mechanism_digital: tuple[str, ...]
    excluded_team_types: tuple[str, ...]
    cyp_age_group: str
    cyp_max_age: int
    cyp_inclusive_max_age: int
    age_bands: tuple[AgeBand, ...]
    outcomes_referrals_from: dt.date
    plausible_from: dt.date
    raters: tuple[str, ...]
    cgas: tuple[str, ...]
    gbo: tuple[str, ...]
    chiesq_tool_prefix: str


def load_codes(path: Path | None = None) -> Codes:
    """rules/codes.toml (or ``path``) parsed once into :class:`Codes`."""
    return _load_codes(path or rules_file("codes.toml"))


@lru_cache(maxsize=4)
def _load_codes(path: Path | RulesSource) -> Codes:
    try:
        d = tomllib.loads(path.read_text(encoding="utf-8"))
        return Codes(
            attendance_valid=tuple(d["attendance"]["valid"]),
            attended=tuple(d["attendance"]["attended"]),
            missed=tuple(d["attendance"]["missed"]),
            mechanism_valid=tuple(d["mechanism"]["valid"]),
            mechanism_qualifying=tuple(d["mechanism"]["qualifying"]),
            mechanism_digital=tuple(d["mechanism"]["digital_qualifying"]),
            excluded_team_types=tuple(d["teams"]["excluded_from_cyp_outcomes"]),
            cyp_age_group=str(d["teams"]["cyp_age_group"]),
            cyp_max_age=int(d["ages"]["cyp_max"]),
            cyp_inclusive_max_age=int(d["ages"]["cyp_inclusive_max"]),
            age_bands=tuple(AgeBand(str(a), int(b), int(c)) for a, b, c in d["ages"]["bands"]),
            outcomes_referrals_from=dt.date.fromisoformat(d["dates"]["outcomes_referrals_from"]),
            plausible_from=dt.date.fromisoformat(d["dates"]["plausible_from"]),
            raters=tuple(d["outcomes"]["raters"]),
            cgas=tuple(d["outcomes"]["cgas"]),
            gbo=tuple(d["outcomes"]["gbo"]),
            chiesq_tool_prefix=str(d["outcomes"]["chiesq_tool_prefix"]),
        )
    except (OSError, KeyError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"rules/codes.toml is invalid: {type(exc).__name__}: {exc}") from None


_TOOL_SCHEMA = {
    "snomed_code": pl.String, "tool": pl.String, "item": pl.String, "category": pl.String,
    "min_score": pl.Float64, "max_score": pl.Float64, "cyp_outcomes": pl.String, "rater": pl.String,
    "polarity": pl.String, "reliable_change_threshold": pl.Float64,
}


_NORMS_SCHEMA = {
    "gender": pl.String, "age": pl.Int64, "subscale_item": pl.String, "mean": pl.Float64, "sd": pl.Float64,
}


def assessment_tools() -> pl.DataFrame:
    """rules/reference/assessment_tools.csv with an explicit schema (SNOMED codes stay text)."""
    return _reference_csv(rules_file("reference/assessment_tools.csv"), "assessment_tools")


def rcads_norms() -> pl.DataFrame:
    """rules/reference/rcads_norms.csv: RCADS means and standard deviations by gender and age."""
    return _reference_csv(rules_file("reference/rcads_norms.csv"), "rcads_norms")


@lru_cache(maxsize=4)
def _reference_csv(path: Path | RulesSource, name: str) -> pl.DataFrame:
    schema = _TOOL_SCHEMA if name == "assessment_tools" else _NORMS_SCHEMA
    try:
        return pl.read_csv(io.BytesIO(path.read_bytes()), schema=schema)
    except Exception as exc:
        raise RulesError(f"rules/reference/{name}.csv cannot be read: {exc}") from None
