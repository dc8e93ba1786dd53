"""recon's completeness measures (RECON_CGAS_ANY ... RECON_CHIESQ_ANY), worked by hand.

Every referral: received 2024-01-10, discharged 2024-06-20 (M = June 2024), contacts on
2024-02-01 (Contact1) and 2024-03-01 (Contact2), a boy born 2012-03-15.
"""

from __future__ import annotations

import polars as pl

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.measures import completeness
from tests.measures.outcome_builders import CGAS, CHIESQ_PARENT_1, GBO1, GBO2, JUNE, a606, build, case, row


def scenario() -> dict[str, pl.LazyFrame]:
    return build(
        # RA (team T1): CGAS paired; GBO goal 1 only one score
        case("RA", UniqCareProfTeamLocalID="T1"),
        # RB (team T1): CGAS one score; GBO goal 1 second score before Contact2, goal 2 out of range
        case("RB", UniqCareProfTeamLocalID="T1"),
        # RC (team T2): no CGAS; GBO goal 2 paired; a valid CHI-ESQ item
        case("RC", UniqCareProfTeamLocalID="T2"),
        # RD (team T2): CGAS before referral received only; CHI-ESQ score 4 (range 1-3)
        case("RD", UniqCareProfTeamLocalID="T2"),
        # RE: only one qualifying activity -> not in the cohort, listed
        case("RE", UniqCareProfTeamLocalID="T2", contacts=("2024-02-01",)),
        # RF: aged 18 -> not in the cohort, not listed
        case("RF", birth="2005-01-01"),
        assess_referral=[
            a606("RA", CGAS, "2024-02-10", "40"), a606("RA", CGAS, "2024-04-10", "50"),
            a606("RA", GBO1, "2024-02-10", "3"),
            a606("RB", CGAS, "2024-02-10", "40"),
            a606("RB", GBO1, "2024-02-10", "3"), a606("RB", GBO1, "2024-02-20", "6"),
            a606("RB", GBO2, "2024-02-10", "11"), a606("RB", GBO2, "2024-04-10", "x"),
            a606("RC", GBO2, "2024-02-10", "2"), a606("RC", GBO2, "2024-04-10", "8"),
            a606("RC", CHIESQ_PARENT_1, "2024-06-20", "3"),
            a606("RD", CGAS, "2024-01-05", "40"),
            a606("RD", CHIESQ_PARENT_1, "2024-06-01", "4"),
            a606("RE", CGAS, "2024-02-10", "40"), a606("RE", CGAS, "2024-04-10", "60"),
        ],
    )


def test_provider_and_team_values():
    vals, _ = completeness.compute(scenario(), JUNE, ProviderSettings(), load_codes())
    got = {(v.breakdown, v.level, v.id): (v.value, v.numerator, v.denominator) for v in vals}
    # cohort RA, RB, RC, RD (4). CGAS within referral: RA, RB (RD's predates receipt) -> 2/4
    assert got[(None, None, "RECON_CGAS_ANY")] == (50.0, 2, 4)
    assert got[(None, None, "RECON_CGAS_PAIRED")] == (25.0, 1, 4)  # RA
    assert got[(None, None, "RECON_GBO_ANY")] == (75.0, 3, 4)  # RA, RB (goal 1), RC
    assert got[(None, None, "RECON_GBO_PAIRED")] == (25.0, 1, 4)  # RC
    assert got[(None, None, "RECON_CHIESQ_ANY")] == (25.0, 1, 4)  # RC (on the discharge day)
    # T1 = RA, RB; T2 = RC, RD
    assert got[("Team", "T1", "RECON_CGAS_ANY")] == (100.0, 2, 2)
    assert got[("Team", "T2", "RECON_CGAS_ANY")] == (0.0, 0, 2)
    assert got[("Team", "T1", "RECON_GBO_PAIRED")] == (0.0, 0, 2)
    assert got[("Team", "T2", "RECON_GBO_PAIRED")] == (50.0, 1, 2)
    assert [v.id for v in vals if v.breakdown is None] == list(completeness.MEASURES)


def test_unpaired_reasons():
    _, details = completeness.compute(scenario(), JUNE, ProviderSettings(), load_codes())
    df = details["completeness_unpaired"]
    got = {(r["ServiceRequestId"], r["tool"]): r["reason"] for r in df.iter_rows(named=True)}
    assert got == {
        ("RA", "GBO"): "only one score",
        ("RB", "CGAS"): "only one score",
        # goal 1: second score (02-20) before Contact2 (03-01); goal 2: out of range -> furthest: goal 1
        ("RB", "GBO"): "second score before Contact2",
        ("RC", "CGAS"): "no score",
        ("RD", "CGAS"): "no score on or after Contact1",
        ("RD", "GBO"): "no score",
        ("RE", "CGAS"): "fewer than two qualifying activities",
        ("RE", "GBO"): "fewer than two qualifying activities",
    }
    assert row(df, ServiceRequestId="RC", tool="CGAS")["UniqCareProfTeamLocalID"] == "T2"
    assert not {"PersonBirthDate", "NHSNumber"} & set(df.columns)


def test_empty_cohort_gives_null_percentages():
    vals, details = completeness.compute(build(case("R1", contacts=())), JUNE, ProviderSettings(), load_codes())
    provider = [v for v in vals if v.breakdown is None]
    assert [(v.value, v.numerator, v.denominator) for v in provider] == [(None, 0, 0)] * 5
    assert details["completeness_unpaired"].height == 2  # R1 listed for CGAS and GBO
