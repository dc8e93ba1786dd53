"""Code lists, limits and the outcome tool reference, parsed once from ``rules/`` into typed objects."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from recon.errors import RulesError

RULES_DIR = Path(str(resources.files("recon") / "rules"))


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


@lru_cache(maxsize=4)
def load_codes(path: Path | None = None) -> Codes:
    path = path or RULES_DIR / "codes.toml"
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


@lru_cache(maxsize=2)
def assessment_tools() -> pl.DataFrame:
    """rules/reference/assessment_tools.csv with an explicit schema (SNOMED codes stay text)."""
    try:
        return pl.read_csv(RULES_DIR / "reference" / "assessment_tools.csv", schema=_TOOL_SCHEMA, glob=False)
    except Exception as exc:
        raise RulesError(f"rules/reference/assessment_tools.csv cannot be read: {exc}") from None


@lru_cache(maxsize=2)
def rcads_norms() -> pl.DataFrame:
    schema = {"gender": pl.String, "age": pl.Int64, "subscale_item": pl.String, "mean": pl.Float64, "sd": pl.Float64}
    try:
        return pl.read_csv(RULES_DIR / "reference" / "rcads_norms.csv", schema=schema, glob=False)
    except Exception as exc:
        raise RulesError(f"rules/reference/rcads_norms.csv cannot be read: {exc}") from None
