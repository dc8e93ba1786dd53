"""waits.md section 14, case 24: SNOMED CT refset membership by regime."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from recon.measures.waits.refsets import windows
from recon.measures.waits.regimes import R1, R2, Regime
from recon.months import Month
from tests.measures.builders import contact, indirect, person, referral
from tests.measures.waits.helpers import ASSESSMENTS, PSYCH, PSYCHOSOCIAL, Run, d, release

REL = release(
    [
        (ASSESSMENTS, "1001", "2023-01-01", 1),
        (ASSESSMENTS, "1002", "2024-07-01", 1),
        (PSYCHOSOCIAL, "1003", "2022-10-01", 1),
        (PSYCHOSOCIAL, "1003", "2023-10-01", 0),
        (PSYCHOSOCIAL, "1003", "2024-04-01", 1),
        (ASSESSMENTS, "1004", "2023-01-01", 1),
        (PSYCH, "1004", "2024-01-01", 1),
        (PSYCH, "1005", "2024-01-01", 1),  # absent from the concept files
    ],
    concepts=[("1001", "2021-04-01", 1), ("1002", "2024-07-01", 1), ("1003", "2002-01-31", 1),
              ("1003", "2020-01-31", 0), ("1004", "2002-01-31", 1)],
)


def member(concept: str, date: str, regime: Regime, month: str = "2024-11") -> set[str]:
    w = windows(REL, Month.parse(month), regime).collect()
    day = dt.date.fromisoformat(date)
    hit = w.filter((pl.col("Concept") == concept) & (pl.col("From") <= day) & (pl.col("To") >= day))
    return set(hit["Refset"])


def test_r2_membership_by_date_windows() -> None:
    assert member("1001", "2022-06-01", R2) == {ASSESSMENTS}  # from the concept's first row
    assert member("1001", "2021-03-31", R2) == set()
    assert member("1002", "2024-06-20", R2) == set()
    assert member("1002", "2024-07-01", R2) == {ASSESSMENTS}
    assert member("1003", "2024-02-01", R2) == {PSYCHOSOCIAL}  # inactive gap between active rows
    assert member("1004", "2024-06-01", R2) == {PSYCH}  # a later row in another refset ends the first
    assert member("1004", "2024-01-01", R2) == {ASSESSMENTS, PSYCH}  # both ends count
    assert member("1005", "2024-06-01", R2) == set()  # no concept row: never a member


def test_r1_any_active_row_ever() -> None:
    for concept, date in (("1001", "2022-06-01"), ("1002", "2024-06-20"), ("1003", "2024-02-01")):
        assert member(concept, date, R1, "2024-09"), concept
    assert member("1004", "2024-06-01", R1, "2024-09") == {ASSESSMENTS, PSYCH}
    assert member("1005", "2024-06-01", R1, "2024-09") == {PSYCH}


def _cmh(month: str) -> Run:
    return Run(month, snomed=REL, people=[person("P", "1980-01-01")],
               referrals=[referral("R", "P", "2024-05-01", ServTeamType="A05")],
               contacts=[contact("C", "R", "2024-05-02")],
               indirect=[indirect("R", "2024-06-01", IndActProcedure="1004")])


def test_end_to_end_categories_by_regime() -> None:
    r2 = _cmh("2024-11").spell()
    assert (r2["CarePlanOrIntervention"], r2["MeaningfulAssessment"]) == (d("2024-06-01"), None)
    r1 = _cmh("2024-09").spell()
    assert (r1["CarePlanOrIntervention"], r1["MeaningfulAssessment"]) == (d("2024-06-01"), d("2024-06-01"))


def test_excluded_concepts_for_cmh_only() -> None:
    rel = release([(PSYCH, "2386021000000108", "2002-01-31", 1)])
    given: dict[str, Any] = dict(referrals=[referral("R", "P", "2024-05-01", ServTeamType="A05")],
                 indirect=[indirect("R", "2024-06-01", IndActProcedure="2386021000000108")])
    assert Run("2024-11", snomed=rel, people=[person("P", "1980-01-01")], **given).spell()["CarePlanOrIntervention"] is None
    assert Run("2024-09", snomed=rel, people=[person("P", "1980-01-01")], **given).spell()["CarePlanOrIntervention"] == d(
        "2024-06-01")
    assert Run("2024-11", snomed=rel, people=[person("P", "2012-01-01")], **given).spell()["CarePlanOrIntervention"] == d(
        "2024-06-01")


def test_cyp_assessments_only_the_two_concepts() -> None:
    rel = release([(ASSESSMENTS, "1085671000000109", "2002-01-31", 1), (ASSESSMENTS, "1001", "2002-01-31", 1)])
    def run(code: str) -> object:
        return Run("2024-11", snomed=rel, people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-05-01")],
                   indirect=[indirect("R", "2024-06-01", IndActProcedure=code)]).spell()["CarePlanOrIntervention"]
    assert run("1085671000000109") == d("2024-06-01")
    assert run("1001") is None


def test_ties_are_a_caveat() -> None:
    rel = release([(PSYCH, "1", "2024-01-01", 1), (PSYCH, "1", "2024-01-01", 0)])
    run = Run("2024-11", snomed=rel, people=[person("P", "2012-01-01")], referrals=[referral("R", "P", "2024-05-01")])
    assert "WAITS_SNOMED_TIES" in run.details["waits_caveats"]["code"].to_list()
