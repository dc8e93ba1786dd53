"""Invariants of the outcomes and completeness measures on random small extracts.

The exact identity tested: for each rater, improved + deteriorated + no change == paired.
It holds because every CYP outcomes item has a positive reliable-change threshold
(assessment_tools.csv), so each paired item is exactly one of improved (good direction,
|change| >= threshold), deteriorated (bad direction, |change| >= threshold) or no change
(|change| < threshold); and the referral-level rules (deteriorated if any deteriorated; else
improved if any improved; else no change) put each paired referral in exactly one class.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.measures import completeness, outcomes
from recon.rounding import percent
from tests.measures.builders import contact, person, referral, tables
from tests.measures.outcome_builders import (
    CGAS,
    GBO1,
    HONOSCA_CLIN_1,
    HONOSCA_SELF_1,
    JUNE,
    RCADS_PARENT_DEPRESSION,
    RCADS_SELF_DEPRESSION,
    SDQ_SELF_EMOTIONAL,
    a606,
    a607,
)

BASE = dt.date(2024, 1, 1)
CODES = [CGAS, GBO1, HONOSCA_CLIN_1, HONOSCA_SELF_1, RCADS_SELF_DEPRESSION, RCADS_PARENT_DEPRESSION, SDQ_SELF_EMOTIONAL]
SCORES = st.one_of(st.integers(min_value=-1, max_value=101).map(str), st.sampled_from(["", "x", "2.5", " 7 "]))


def day(offset: int) -> str:
    return (BASE + dt.timedelta(days=offset)).isoformat()


referral_st = st.fixed_dictionaries(
    {
        "age": st.integers(min_value=6, max_value=19),
        "gender": st.sampled_from(["1", "2", "9"]),
        "team": st.sampled_from(["T1", "T2", None]),
        "disch": st.integers(min_value=150, max_value=185),  # 2024-05-30 .. 2024-07-04
        "contacts": st.lists(st.integers(min_value=0, max_value=190), max_size=4),
        "scores": st.lists(
            st.tuples(st.sampled_from(CODES), st.integers(min_value=0, max_value=190), SCORES, st.booleans()),
            max_size=8,
        ),
    }
)


def extract(refs: list[dict[str, Any]]) -> dict[str, pl.LazyFrame]:
    people, referrals, contacts, a606s, a607s = [], [], [], [], []
    for i, r in enumerate(refs):
        sid, pid = f"R{i}", f"P{i}"
        people.append(person(pid, f"{2024 - r['age'] - 1}-06-15", Gender=r["gender"]))
        referrals.append(referral(sid, pid, "2024-01-01", day(r["disch"]), UniqCareProfTeamLocalID=r["team"]))
        contacts += [contact(f"{sid}-C{j}", sid, day(d)) for j, d in enumerate(r["contacts"])]
        for j, (code, d, score, via_contact) in enumerate(r["scores"]):
            if via_contact:  # an MHS607 row on its own (missed) contact
                contacts.append(contact(f"{sid}-A{j}", sid, day(d), attend="3"))
                a607s.append(a607(f"{sid}-A{j}", code, score))
            else:
                a606s.append(a606(sid, code, f"{day(d)}T{j % 24:02d}:00:00", score))
    return tables(people=people, referrals=referrals, contacts=contacts,
                  assess_referral=a606s, assess_activity=a607s)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(referral_st, min_size=1, max_size=6))
def test_outcome_invariants(refs: list[dict[str, Any]]) -> None:
    t = extract(refs)
    codes = load_codes()
    frames = outcomes.prepare(t, JUNE, ProviderSettings(), codes)
    vals, details = outcomes.from_frames(frames)
    m = {v.id: v for v in vals if v.breakdown is None}
    n = m["MHS110"].value
    assert m["MHS112"].value <= m["MHS111"].value <= n
    for assessed, paired in (("MHS111b", "MHS112b"), ("MHS111d", "MHS112d"), ("MHS111f", "MHS112f")):
        assert m[paired].value <= m[assessed].value <= m["MHS111"].value
    for paired, out in (("MHS112b", "MHS113"), ("MHS112d", "MHS114"), ("MHS112f", "MHS115")):
        assert m[f"{out}a"].value + m[f"{out}c"].value + m[f"{out}e"].value == m[paired].value
        assert m[f"{out}b"].denominator == m[paired].value
    for v in m.values():
        if v.denominator is not None:
            assert v.value == percent(v.numerator or 0, v.denominator)
    # each paired referral is in exactly one class for each rater
    refs_df = details["outcomes_referrals"]
    for rater in ("self", "parent", "clinician"):
        classes = refs_df.select(
            pl.col(f"{rater}_improved").cast(pl.Int8) + pl.col(f"{rater}_deteriorated").cast(pl.Int8)
            + pl.col(f"{rater}_no_change").cast(pl.Int8)
        ).to_series()
        assert (classes == refs_df.get_column(f"{rater}_paired").cast(pl.Int8)).all()
    # breakdowns add up to the provider figure
    for breakdown in ("Team", "Age band"):
        assert sum(v.value for v in vals if v.breakdown == breakdown and v.id == "MHS110") == n
    # the item detail agrees with the referral flags
    items = details["outcomes_items"]
    assert set(items.filter(pl.col("paired")).get_column("ServiceRequestId")) == set(
        refs_df.filter(pl.col("any_paired")).get_column("ServiceRequestId"))
    assert items.filter(pl.col("paired")).get_column("reason").null_count() == items.filter(pl.col("paired")).height
    assert items.filter(~pl.col("paired")).get_column("reason").null_count() == 0

    cvals, cdetails = completeness.from_frames(frames)
    c = {v.id: v for v in cvals if v.breakdown is None}
    assert all(v.denominator == n for v in c.values())
    assert c["RECON_CGAS_PAIRED"].numerator <= m["MHS112f"].value
    assert c["RECON_GBO_PAIRED"].numerator <= m["MHS112b"].value
    unpaired = cdetails["completeness_unpaired"]
    in_cohort_unpaired = unpaired.filter(pl.col("reason") != "fewer than two qualifying activities")
    assert in_cohort_unpaired.filter(pl.col("tool") == "CGAS").height == n - c["RECON_CGAS_PAIRED"].numerator
    assert in_cohort_unpaired.filter(pl.col("tool") == "GBO").height == n - c["RECON_GBO_PAIRED"].numerator
