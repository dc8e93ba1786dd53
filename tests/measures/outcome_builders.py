"""Builders for outcomes/completeness tests: assessment rows and a run helper."""

from __future__ import annotations

from typing import Any

import polars as pl

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.measures import completeness, outcomes
from recon.measures.model import MeasureValue
from recon.months import Month
from tests.measures.builders import contact, person, referral, tables

# SNOMED codes used in the tests (rules/reference/assessment_tools.csv)
CGAS = "860591000000104"  # clinician, 1-100, threshold 11, Positive
GBO1 = "1034351000000101"  # self, 0-10, threshold 3, Positive
GBO2 = "1034361000000103"
SDQ_SELF_EMOTIONAL = "718145004"  # self, 0-10, threshold 4, Negative
SDQ_SELF_PROSOCIAL = "718147007"  # self, 0-10, threshold 4, Negative (national quirk)
RCADS_SELF_DEPRESSION = "718655001"  # self, 0-30, threshold 17.73 (T-score), Negative
RCADS_SELF_DEPRESSION_NEW = "958231000000102"  # same item name as 718655001
RCADS_PARENT_DEPRESSION = "718665007"  # parent, 0-30, threshold 22.87, Negative
HONOSCA_SELF_1 = "989621000000101"  # self-rated scale 1: Parent group nationally
HONOSCA_CLIN_1 = "989751000000102"  # clinician, 0-4, threshold 2, Negative
CHIESQ_PARENT_1 = "1035681000000101"  # PREM, 1-3

JUNE = Month(2024, 6)


def a606(sid: str, code: str, when: str, score: str | None) -> dict[str, Any]:
    """An MHS606 row; ``when`` is a date (midday is added) or an ISO timestamp."""
    ts = when if "T" in when else f"{when}T12:00:00"
    return {"ServiceRequestId": sid, "CodedAssToolType": code, "AssToolCompTimestamp": ts, "PersScore": score}


def a607(cid: str, code: str, score: str | None) -> dict[str, Any]:
    return {"CareContactId": cid, "CodedAssToolType": code, "PersScore": score}


def run(t: dict[str, pl.LazyFrame], month: Month = JUNE, rules: outcomes.OutcomeRules | None = None) -> outcomes.OutcomeFrames:
    return outcomes.prepare(t, month, ProviderSettings(), load_codes(), rules)


def measures(t: dict[str, pl.LazyFrame], month: Month = JUNE) -> dict[str, MeasureValue]:
    """Provider-level outcomes and completeness values by id."""
    vals, _ = outcomes.compute(t, month, ProviderSettings(), load_codes())
    cvals, _ = completeness.compute(t, month, ProviderSettings(), load_codes())
    return {v.id: v for v in [*vals, *cvals] if v.breakdown is None}


def row(df: pl.DataFrame, **match: Any) -> dict[str, Any]:
    """The single row of ``df`` matching every column=value given."""
    hit = df.filter(pl.all_horizontal([pl.col(k) == v for k, v in match.items()]))
    assert hit.height == 1, f"{match}: {hit.height} rows"
    return hit.row(0, named=True)


def case(sid: str, pid: str | None = None, *, birth: str = "2012-03-15", gender: str = "1",
         received: str = "2024-01-10", disch: str | None = "2024-06-20",
         contacts: tuple[str, ...] = ("2024-02-01", "2024-03-01"), **ref: Any) -> dict[str, list[dict[str, Any]]]:
    pid = pid or f"P{sid}"
    return {
        "people": [person(pid, birth, Gender=gender)],
        "referrals": [referral(sid, pid, received, disch, **ref)],
        "contacts": [contact(f"{sid}-C{i}", sid, d) for i, d in enumerate(contacts, 1)],
    }


def build(*cases: dict[str, list[dict[str, Any]]], **extra: list[dict[str, Any]]) -> dict[str, pl.LazyFrame]:
    merged: dict[str, list[dict[str, Any]]] = {}
    for c in cases:
        for k, v in c.items():
            merged.setdefault(k, []).extend(v)
    for k, v in extra.items():
        merged.setdefault(k, []).extend(v)
    return tables(**merged)
