"""CYP outcomes (MHS110-MHS115f): hand-made records, answers worked out by hand.

Unless a test says otherwise a referral is received 2024-01-10 and discharged 2024-06-20
(M = June 2024) and has attended face-to-face contacts on 2024-02-01 (Contact1) and
2024-03-01 (Contact2); the person is a boy born 2012-03-15 (11 at referral).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.measures import outcomes
from tests.measures.builders import contact, indirect
from tests.measures.outcome_builders import (
    CGAS,
    HONOSCA_CLIN_1,
    HONOSCA_SELF_1,
    JUNE,
    RCADS_PARENT_DEPRESSION,
    RCADS_SELF_DEPRESSION,
    RCADS_SELF_DEPRESSION_NEW,
    SDQ_SELF_EMOTIONAL,
    SDQ_SELF_PROSOCIAL,
    a606,
    a607,
    build,
    case,
    measures,
    row,
    run,
)

D = dt.date


# ---------------------------------------------------------------------------------------------
# Cohort
# ---------------------------------------------------------------------------------------------


def test_age_17_in_cohort_age_18_excluded():
    # born 2006-06-16: on 2024-06-15 the 18th birthday is one day away -> 17
    # born 2006-06-15: 18th birthday on the day of referral -> 18
    t = build(
        case("R17", birth="2006-06-16", received="2024-06-15", contacts=("2024-06-16", "2024-06-17")),
        case("R18", birth="2006-06-15", received="2024-06-15", contacts=("2024-06-16", "2024-06-17")),
    )
    refs = run(t).referrals
    r17 = row(refs, ServiceRequestId="R17")
    assert (r17["in_cohort"], r17["exclusion_reason"], r17["age_band"]) == (True, None, "17")
    r18 = row(refs, ServiceRequestId="R18")
    assert r18["in_cohort"] is False
    assert r18["exclusion_reason"] == "aged 18 at referral"
    assert measures(t)["MHS110"].value == 1


def test_discharge_last_day_of_month_in_first_day_of_next_month_out():
    t = build(case("RIN", disch="2024-06-30"), case("ROUT", disch="2024-07-01"))
    refs = run(t).referrals
    assert refs.get_column("ServiceRequestId").to_list() == ["RIN"]  # July discharge is not M's
    assert refs.row(0, named=True)["in_cohort"] is True


def test_second_activity_after_discharge_is_not_counted():
    # second contact the day after discharge; a second one ON the discharge day counts
    t = build(
        case("RLATE", disch="2024-06-20", contacts=("2024-06-01", "2024-06-21")),
        case("RSAME", disch="2024-06-20", contacts=("2024-06-01", "2024-06-20")),
    )
    refs = run(t).referrals
    late = row(refs, ServiceRequestId="RLATE")
    assert (late["in_cohort"], late["exclusion_reason"]) == (False, "fewer than two qualifying activities")
    assert (late["Contact1"], late["Contact2"]) == (D(2024, 6, 1), None)
    same = row(refs, ServiceRequestId="RSAME")
    assert (same["in_cohort"], same["Contact2"]) == (True, D(2024, 6, 20))


def test_activity_kinds_missed_contacts_do_not_qualify_indirect_activity_does():
    # R1: one attended contact + one DNA (3) + one email (05, not a digital provider): 1 activity
    # R2: one attended contact + one indirect activity: 2 activities
    t = build(
        case("R1", contacts=("2024-02-01",)),
        case("R2", contacts=("2024-02-01",)),
        contacts=[contact("R1-X", "R1", "2024-03-01", attend="3"), contact("R1-Y", "R1", "2024-03-02", mech="05")],
        indirect=[indirect("R2", "2024-02-15")],
    )
    refs = run(t).referrals
    assert row(refs, ServiceRequestId="R1")["in_cohort"] is False
    r2 = row(refs, ServiceRequestId="R2")
    assert (r2["in_cohort"], r2["Contact2"]) == (True, D(2024, 2, 15))


def test_rejected_hospital_spell_old_referral_are_excluded_with_reasons():
    t = build(
        case("RREJ", ReferRejectionDate="2024-01-11"),
        case("RHOS"),
        case("ROLD", received="2015-12-31"),
        spells=[{"HospProvSpellID": "S1", "ServiceRequestId": "RHOS"}],
    )
    refs = run(t).referrals
    assert row(refs, ServiceRequestId="RREJ")["exclusion_reason"] == "rejected"
    assert row(refs, ServiceRequestId="RHOS")["exclusion_reason"] == "hospital spell"
    assert row(refs, ServiceRequestId="ROLD")["exclusion_reason"] == "received before 2016-01-01"
    assert refs.get_column("in_cohort").to_list() == [False, False, False]


def test_team_type_from_referral_else_from_mhs902():
    t = build(
        case("RE01", ServTeamType="E01", UniqCareProfTeamLocalID="TA"),  # referral says E01: out
        case("RB02", UniqCareProfTeamLocalID="TB"),  # null on referral, MHS902 says B02: out
        case("RC01", ServTeamType="C01", UniqCareProfTeamLocalID="TB"),  # referral's C01 wins over MHS902
        case("RNUL", UniqCareProfTeamLocalID="TZ"),  # unknown everywhere: null allowed
        teams=[{"UniqCareProfTeamLocalID": "TB", "ServTeamTypeMH": "B02"}],
    )
    refs = run(t).referrals
    assert row(refs, ServiceRequestId="RE01")["exclusion_reason"] == "excluded team type"
    assert row(refs, ServiceRequestId="RB02")["exclusion_reason"] == "excluded team type"
    assert row(refs, ServiceRequestId="RC01")["in_cohort"] is True
    assert row(refs, ServiceRequestId="RNUL")["in_cohort"] is True
    assert row(refs, ServiceRequestId="RNUL")["team_type"] is None


def test_several_reasons_are_all_named():
    t = build(case("RX", birth="2000-01-01", ReferRejectionDate="2024-01-11", contacts=("2024-02-01",)))
    r = row(run(t).referrals, ServiceRequestId="RX")
    assert r["exclusion_reason"] == "aged 24 at referral; rejected; fewer than two qualifying activities"


def test_details_carry_no_birth_date_or_nhs_number():
    t = build(case("R1"))
    _, details = outcomes.compute(t, JUNE, ProviderSettings(), load_codes())
    for df in details.values():
        assert not {"PersonBirthDate", "NHSNumber", "Postcode"} & set(df.columns)


# ---------------------------------------------------------------------------------------------
# First / last / pairing
# ---------------------------------------------------------------------------------------------


def test_second_score_on_contact2_day_counts_as_last_day_before_does_not():
    t = build(
        case("RSAME"), case("RBEFORE"),
        assess_referral=[
            a606("RSAME", CGAS, "2024-02-01", "40"), a606("RSAME", CGAS, "2024-03-01", "45"),
            a606("RBEFORE", CGAS, "2024-02-01", "40"), a606("RBEFORE", CGAS, "2024-02-29", "45"),
        ],
    )
    items = run(t).items
    same = row(items, ServiceRequestId="RSAME")
    assert (same["paired"], same["last_date"], same["change"]) == (True, D(2024, 3, 1), 5.0)
    assert same["direction"] == "no change"  # |5| < 11
    before = row(items, ServiceRequestId="RBEFORE")
    assert (before["paired"], before["reason"], before["last_date"]) == (False, "second score before Contact2", None)


def test_scores_before_contact1_are_not_first():
    # 2024-01-20 predates Contact1 (2024-02-01): first is 2024-02-10, last 2024-04-01
    t = build(case("R1"), assess_referral=[
        a606("R1", CGAS, "2024-01-20", "10"), a606("R1", CGAS, "2024-02-10", "30"), a606("R1", CGAS, "2024-04-01", "41"),
    ])
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["first_date"], it["first_score"], it["last_score"], it["change"]) == (D(2024, 2, 10), 30.0, 41.0, 11.0)
    assert it["direction"] == "improved"


def test_last_is_the_latest_score():
    t = build(case("R1"), assess_referral=[
        a606("R1", CGAS, "2024-02-10", "30"), a606("R1", CGAS, "2024-03-10", "60"), a606("R1", CGAS, "2024-05-10", "35"),
    ])
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["last_date"], it["change"], it["direction"]) == (D(2024, 5, 10), 5.0, "no change")


def test_scores_after_discharge_or_month_end_are_ignored():
    # discharge 2024-06-20: the 2024-06-21 score is not a last
    t = build(case("R1"), assess_referral=[a606("R1", CGAS, "2024-02-10", "30"), a606("R1", CGAS, "2024-06-21", "60")])
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["paired"], it["reason"]) == (False, "only one score")


def test_cgas_range_limits_and_non_numeric_scores():
    t = build(
        case("RLIM"), case("RBAD"), case("RTXT"),
        assess_referral=[
            a606("RLIM", CGAS, "2024-02-10", "1"), a606("RLIM", CGAS, "2024-04-10", "100"),
            a606("RBAD", CGAS, "2024-02-10", "0"), a606("RBAD", CGAS, "2024-04-10", "101"),
            a606("RTXT", CGAS, "2024-02-10", "abc"), a606("RTXT", CGAS, "2024-04-10", "12a"),
            a606("RTXT", CGAS, "2024-04-11", ""),
        ],
    )
    f = run(t)
    lim = row(f.items, ServiceRequestId="RLIM")
    assert (lim["paired"], lim["change"], lim["direction"]) == (True, 99.0, "improved")
    assert row(f.items, ServiceRequestId="RBAD")["reason"] == "score out of range or not numeric"
    assert row(f.items, ServiceRequestId="RTXT")["reason"] == "score out of range or not numeric"
    assert row(f.referrals, ServiceRequestId="RBAD")["clinician_assessed"] is False
    m = measures(t)
    assert (m["MHS110"].value, m["MHS111f"].value, m["MHS112f"].value) == (3, 1, 1)


def test_one_valid_and_one_invalid_score_names_the_invalid_one():
    t = build(case("R1"), assess_referral=[a606("R1", CGAS, "2024-02-10", "40"), a606("R1", CGAS, "2024-04-10", "400")])
    assert row(run(t).items, ServiceRequestId="R1")["reason"] == "score out of range or not numeric"


def test_decimal_and_padded_scores_are_numeric():
    t = build(case("R1"), assess_referral=[a606("R1", CGAS, "2024-02-10", " 40.5 "), a606("R1", CGAS, "2024-04-10", "51.5")])
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["first_score"], it["change"], it["direction"]) == (40.5, 11.0, "improved")


def test_identical_rows_count_once():
    # R1: two MHS606 rows on 2024-03-05 (10:00 and 11:00), both 50: one assessment -> only one score.
    #     (Counted twice they would pair with change 0.)
    # R2: an MHS606 row and an MHS607 row for the same day and score: also one assessment.
    t = build(
        case("R1"), case("R2"),
        assess_referral=[
            a606("R1", CGAS, "2024-03-05T10:00:00", "50"), a606("R1", CGAS, "2024-03-05T11:00:00", "50"),
            a606("R2", CGAS, "2024-03-05", "50"),
        ],
        contacts=[contact("R2-C9", "R2", "2024-03-05")],
        assess_activity=[a607("R2-C9", CGAS, "50.0")],
    )
    items = run(t).items
    assert row(items, ServiceRequestId="R1")["reason"] == "only one score"
    assert row(items, ServiceRequestId="R2")["reason"] == "only one score"


def test_same_day_different_scores_both_count():
    # 2024-03-05 twice with different scores: first = the smaller id (10:00), last = 11:00 row
    t = build(case("R1"), assess_referral=[
        a606("R1", CGAS, "2024-03-05T11:00:00", "61"), a606("R1", CGAS, "2024-03-05T10:00:00", "50"),
    ])
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["first_score"], it["last_score"], it["change"], it["direction"]) == (50.0, 61.0, 11.0, "improved")


def test_mhs607_date_is_its_contacts_date():
    # the contact R1-C9 on 2024-04-15 carries the second CGAS; its referral comes via MHS201
    t = build(
        case("R1"),
        contacts=[contact("R1-C9", "R1", "2024-04-15", attend="3")],  # even a missed contact dates its score
        assess_referral=[a606("R1", CGAS, "2024-02-10", "40")],
        assess_activity=[a607("R1-C9", CGAS, "52")],
    )
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["last_date"], it["last_score"], it["change"]) == (D(2024, 4, 15), 52.0, 12.0)


def test_reliable_change_exactly_at_threshold():
    # CGAS threshold 11, higher is better: +11 improved, +10 no change, -11 deteriorated, -10 no change
    t = build(
        case("RP11"), case("RP10"), case("RM11"), case("RM10"),
        assess_referral=[
            a606("RP11", CGAS, "2024-02-10", "40"), a606("RP11", CGAS, "2024-04-10", "51"),
            a606("RP10", CGAS, "2024-02-10", "40"), a606("RP10", CGAS, "2024-04-10", "50"),
            a606("RM11", CGAS, "2024-02-10", "40"), a606("RM11", CGAS, "2024-04-10", "29"),
            a606("RM10", CGAS, "2024-02-10", "40"), a606("RM10", CGAS, "2024-04-10", "30"),
        ],
    )
    items = run(t).items
    got = {r["ServiceRequestId"]: r["direction"] for r in items.iter_rows(named=True)}
    assert got == {"RP11": "improved", "RP10": "no change", "RM11": "deteriorated", "RM10": "no change"}
    m = measures(t)
    # clinician paired 4: improved 1 (25.0%), deteriorated 1 (25.0%), no change 2 (50.0%)
    assert (m["MHS115a"].value, m["MHS115b"].value) == (1, 25.0)
    assert (m["MHS115c"].value, m["MHS115d"].value) == (1, 25.0)
    assert (m["MHS115e"].value, m["MHS115f"].value, m["MHS115f"].denominator) == (2, 50.0, 4)


def test_negative_polarity_tool():
    # SDQ self-rated emotional symptoms: threshold 4, higher = worse
    t = build(
        case("RDOWN"), case("RUP"),
        assess_referral=[
            a606("RDOWN", SDQ_SELF_EMOTIONAL, "2024-02-10", "8"), a606("RDOWN", SDQ_SELF_EMOTIONAL, "2024-04-10", "4"),
            a606("RUP", SDQ_SELF_EMOTIONAL, "2024-02-10", "4"), a606("RUP", SDQ_SELF_EMOTIONAL, "2024-04-10", "8"),
        ],
    )
    f = run(t)
    assert row(f.items, ServiceRequestId="RDOWN")["direction"] == "improved"
    assert row(f.items, ServiceRequestId="RUP")["direction"] == "deteriorated"
    assert row(f.referrals, ServiceRequestId="RDOWN")["self_improved"] is True
    assert row(f.referrals, ServiceRequestId="RUP")["self_deteriorated"] is True


def test_sdq_prosocial_quirk_and_its_switch():
    # prosocial 5 -> 9 (+4 = threshold). Nationally higher = worse: deteriorated.
    t = build(case("R1"), assess_referral=[
        a606("R1", SDQ_SELF_PROSOCIAL, "2024-02-10", "5"), a606("R1", SDQ_SELF_PROSOCIAL, "2024-04-10", "9"),
    ])
    assert row(run(t).items, ServiceRequestId="R1")["direction"] == "deteriorated"
    fixed = dataclasses.replace(outcomes.load_outcome_rules(), sdq_prosocial_higher_is_worse=False)
    assert row(run(t, rules=fixed).items, ServiceRequestId="R1")["direction"] == "improved"


def test_rcads_self_rated_t_scores():
    # Boy born 2012-03-15, referral 2024-01-10 -> 11 at referral; norms M, 11, Depression:
    # mean 7.07, sd 3.64.
    #   first raw 20 -> T = 10 * (20 - 7.07) / 3.64 + 50 = 10 * 12.93 / 3.64 + 50 = 85.521978...
    #   last  raw 10 -> T = 10 * ( 2.93) / 3.64 + 50 = 58.049451...
    #   change = -27.472527 (|.| >= 17.73, lower = better) -> improved.
    # On raw scores the change would be -10: no change. The old and the new SNOMED code are the
    # same item (same name), so the pair crosses codes.
    t = build(case("R1"), assess_referral=[
        a606("R1", RCADS_SELF_DEPRESSION, "2024-02-10", "20"), a606("R1", RCADS_SELF_DEPRESSION_NEW, "2024-04-10", "10"),
    ])
    it = row(run(t).items, ServiceRequestId="R1")
    assert it["first_score"] == pytest.approx(85.521978, abs=1e-6)
    assert it["last_score"] == pytest.approx(58.049451, abs=1e-6)
    assert (it["first_raw"], it["last_raw"]) == (20.0, 10.0)
    assert it["change"] == pytest.approx(-27.472527, abs=1e-6)
    assert it["direction"] == "improved"


def test_rcads_without_known_sex_or_age_in_norms_stays_raw():
    # Gender 9 (not stated): no norm, raw change -10 < 17.73 -> no change.
    # A 7-year-old girl (norms start at 8): raw too.
    t = build(
        case("RSEX", gender="9"),
        case("RAGE", birth="2016-06-01", gender="2"),
        assess_referral=[
            a606("RSEX", RCADS_SELF_DEPRESSION, "2024-02-10", "20"), a606("RSEX", RCADS_SELF_DEPRESSION, "2024-04-10", "10"),
            a606("RAGE", RCADS_SELF_DEPRESSION, "2024-02-10", "20"), a606("RAGE", RCADS_SELF_DEPRESSION, "2024-04-10", "10"),
        ],
    )
    items = run(t).items
    for sid in ("RSEX", "RAGE"):
        it = row(items, ServiceRequestId=sid)
        assert (it["first_score"], it["change"], it["direction"]) == (20.0, -10.0, "no change")


def test_parent_rcads_not_t_scored_quirk_and_its_switch():
    # Parent depression 25 -> 5: raw change -20, |20| < 22.87 -> no change (national quirk).
    # T-scored with the parent norms (M, 11, Parent version Depression: mean 3.62, sd 2.87) the
    # change is 10 * -20 / 2.87 = -69.686411, beyond 22.87 -> improved.
    t = build(case("R1"), assess_referral=[
        a606("R1", RCADS_PARENT_DEPRESSION, "2024-02-10", "25"), a606("R1", RCADS_PARENT_DEPRESSION, "2024-04-10", "5"),
    ])
    it = row(run(t).items, ServiceRequestId="R1")
    assert (it["rater"], it["change"], it["direction"]) == ("Parent", -20.0, "no change")
    fixed = dataclasses.replace(outcomes.load_outcome_rules(), parent_rcads_not_t_scored=False)
    it = row(run(t, rules=fixed).items, ServiceRequestId="R1")
    assert it["direction"] == "improved"
    assert it["change"] == pytest.approx(-69.686411, abs=1e-6)


def test_honosca_self_rated_scale_1_counts_as_parent():
    # scale 1, 4 -> 1 (-3, threshold 2, lower = better): improved, in the Parent group
    t = build(case("R1"), assess_referral=[
        a606("R1", HONOSCA_SELF_1, "2024-02-10", "4"), a606("R1", HONOSCA_SELF_1, "2024-04-10", "1"),
    ])
    r = row(run(t).referrals, ServiceRequestId="R1")
    assert (r["parent_assessed"], r["parent_improved"], r["self_assessed"]) == (True, True, False)
    m = measures(t)
    assert (m["MHS111d"].value, m["MHS112d"].value, m["MHS114a"].value, m["MHS111b"].value) == (1, 1, 1, 0)
    fixed = dataclasses.replace(outcomes.load_outcome_rules(), honosca_self_scale1_as_parent=False)
    r = row(run(t, rules=fixed).referrals, ServiceRequestId="R1")
    assert (r["parent_assessed"], r["self_assessed"], r["self_improved"]) == (False, True, True)


def test_rater_aggregation():
    # RMIX: CGAS +11 (improved) and HoNOSCA-CR scale 1 0 -> 3 (+3, higher = worse: deteriorated)
    #       -> clinician deteriorated, NOT improved.
    # RIMP: CGAS +11 (improved) and HoNOSCA-CR 2 -> 3 (+1: no change) -> improved.
    # RONE: CGAS paired no change, HoNOSCA-CR single score -> assessed, paired, no change.
    t = build(
        case("RMIX"), case("RIMP"), case("RONE"),
        assess_referral=[
            a606("RMIX", CGAS, "2024-02-10", "40"), a606("RMIX", CGAS, "2024-04-10", "51"),
            a606("RMIX", HONOSCA_CLIN_1, "2024-02-10", "0"), a606("RMIX", HONOSCA_CLIN_1, "2024-04-10", "3"),
            a606("RIMP", CGAS, "2024-02-10", "40"), a606("RIMP", CGAS, "2024-04-10", "51"),
            a606("RIMP", HONOSCA_CLIN_1, "2024-02-10", "2"), a606("RIMP", HONOSCA_CLIN_1, "2024-04-10", "3"),
            a606("RONE", CGAS, "2024-02-10", "40"), a606("RONE", CGAS, "2024-04-10", "45"),
            a606("RONE", HONOSCA_CLIN_1, "2024-02-10", "2"),
        ],
    )
    refs = run(t).referrals
    flags = ("clinician_improved", "clinician_deteriorated", "clinician_no_change")
    assert tuple(row(refs, ServiceRequestId="RMIX")[f] for f in flags) == (False, True, False)
    assert tuple(row(refs, ServiceRequestId="RIMP")[f] for f in flags) == (True, False, False)
    assert tuple(row(refs, ServiceRequestId="RONE")[f] for f in flags) == (False, False, True)
    m = measures(t)
    assert [m[i].value for i in ("MHS115a", "MHS115c", "MHS115e", "MHS112f")] == [1, 1, 1, 3]
    # 1/3 -> 33.3 for each
    assert [m[i].value for i in ("MHS115b", "MHS115d", "MHS115f")] == [33.3, 33.3, 33.3]


def test_percentages_rounded_to_one_decimal():
    # 3 cohort referrals: two with a CGAS score (one of them paired), one with none.
    # MHS111a = 2/3 = 66.7, MHS112a = 1/3 = 33.3, MHS111b (self) = 0/3 = 0.0, MHS113b = 0/0 -> null
    t = build(
        case("R1"), case("R2"), case("R3"),
        assess_referral=[
            a606("R1", CGAS, "2024-02-10", "40"), a606("R1", CGAS, "2024-04-10", "45"),
            a606("R2", CGAS, "2024-02-10", "40"),
        ],
    )
    m = measures(t)
    assert (m["MHS110"].value, m["MHS111"].value, m["MHS112"].value) == (3, 2, 1)
    assert (m["MHS111a"].value, m["MHS111a"].numerator, m["MHS111a"].denominator) == (66.7, 2, 3)
    assert (m["MHS112a"].value, m["MHS112a"].numerator, m["MHS112a"].denominator) == (33.3, 1, 3)
    assert m["MHS111c"].value == 0.0
    assert (m["MHS113b"].value, m["MHS113b"].denominator) == (None, 0)


def test_one_in_eight_is_12_5():
    sids = [f"R{i}" for i in range(8)]
    t = build(*[case(s) for s in sids], assess_referral=[
        a606("R0", CGAS, "2024-02-10", "40"), a606("R0", CGAS, "2024-04-10", "45"),
    ])
    m = measures(t)
    assert (m["MHS112a"].value, m["MHS112a"].numerator, m["MHS112a"].denominator) == (12.5, 1, 8)


def test_every_measure_once_at_provider_level_and_breakdowns():
    t = build(
        case("R1", UniqCareProfTeamLocalID="TA"),
        case("R2", UniqCareProfTeamLocalID="TA", birth="2008-01-01"),
        case("R3"),
        assess_referral=[a606("R1", CGAS, "2024-02-10", "40"), a606("R1", CGAS, "2024-04-10", "45")],
    )
    vals, _ = outcomes.compute(t, JUNE, ProviderSettings(), load_codes())
    provider = [v.id for v in vals if v.breakdown is None]
    expected = (["MHS110", "MHS111", "MHS111a"] + [f"MHS111{c}" for c in "bcdefg"] + ["MHS112", "MHS112a"]
                + [f"MHS112{c}" for c in "bcdefg"] + [f"MHS11{n}{c}" for n in "345" for c in "abcdef"])
    assert provider == expected
    team = {(v.level, v.id): v.value for v in vals if v.breakdown == "Team"}
    assert (team[("TA", "MHS110")], team[("UNKNOWN", "MHS110")], team[("TA", "MHS112")]) == (2, 1, 1)
    assert team[("TA", "MHS112a")] == 50.0
    band = {(v.level, v.id): v.value for v in vals if v.breakdown == "Age band"}
    # R1, R3 born 2012-03-15 -> 11 ("11 to 14"); R2 born 2008-01-01 -> 16
    assert (band[("11 to 14", "MHS110")], band[("16", "MHS110")]) == (2, 1)


def test_outcomes_items_detail_columns():
    t = build(case("R1"), assess_referral=[a606("R1", CGAS, "2024-02-10", "40")])
    _, details = outcomes.compute(t, JUNE, ProviderSettings(), load_codes())
    it = details["outcomes_items"].row(0, named=True)
    assert it["item_code"] == CGAS
    assert it["tool"] == "Childrens Global Assessment Scale (CGAS)"
    assert (it["rater"], it["first_date"], it["first_score"], it["paired"], it["reason"]) == (
        "Clinician", D(2024, 2, 10), 40.0, False, "only one score")
    refs = details["outcomes_referrals"]
    assert {"ServiceRequestId", "LocalPatientId", "age_band", "Contact1", "Contact2", "in_cohort",
            "exclusion_reason", "self_assessed", "parent_no_change", "clinician_paired"} <= set(refs.columns)


def test_empty_extract_gives_zero_cohort_and_null_percentages():
    vals, details = outcomes.compute(build(), JUNE, ProviderSettings(), load_codes())
    m = {v.id: v for v in vals}
    assert all(v.breakdown is None for v in vals)  # no team or age band levels without a cohort
    assert (m["MHS110"].value, m["MHS111a"].value, m["MHS111a"].denominator, m["MHS113b"].value) == (0, None, 0, None)
    assert details["outcomes_referrals"].height == 0
    assert details["outcomes_items"].height == 0


def test_digital_provider_counts_text_message_contacts():
    # contacts by 09 (text message), not attended: qualify only for a digital provider
    t = build(case("R1", contacts=()), contacts=[contact("R1-T1", "R1", "2024-02-01", attend="3", mech="09"),
                                               contact("R1-T2", "R1", "2024-03-01", attend="3", mech="09")])
    plain = outcomes.prepare(t, JUNE, ProviderSettings(), load_codes()).referrals
    digital = outcomes.prepare(t, JUNE, ProviderSettings(digital=True), load_codes()).referrals
    assert row(plain, ServiceRequestId="R1")["in_cohort"] is False
    assert row(digital, ServiceRequestId="R1")["in_cohort"] is True


def test_outcome_rules_load_and_bad_rules_exit_2(tmp_path):
    from recon.codes import RULES_DIR
    from recon.errors import RulesError

    rules = outcomes.load_outcome_rules()
    assert rules.honosca_self_scale1_as_parent and rules.parent_rcads_not_t_scored
    assert rules.sdq_prosocial_higher_is_worse and SDQ_SELF_PROSOCIAL in rules.sdq_prosocial_codes
    bad = tmp_path / "outcomes.toml"
    bad.write_text("[quirks]\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules/outcomes.toml is invalid: KeyError"):
        outcomes.load_outcome_rules(bad)
    text = (RULES_DIR / "outcomes.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace("numeric_pattern = '", "numeric_pattern = '(("), encoding="utf-8")
    with pytest.raises(RulesError) as exc:
        outcomes.load_outcome_rules(bad)
    assert exc.value.exit_code == 2


def test_reference_csv_encodes_the_quirks():
    # the national quirks live in assessment_tools.csv itself; the switches undo them
    ref = outcomes.tool_reference(load_codes(), outcomes.load_outcome_rules())
    by_code = {r["code"]: r for r in ref.iter_rows(named=True)}
    assert by_code[HONOSCA_SELF_1]["rater"] == "Parent"
    assert by_code[SDQ_SELF_PROSOCIAL]["polarity"] == "Negative"
    assert (by_code[RCADS_SELF_DEPRESSION]["t_scored"], by_code[RCADS_PARENT_DEPRESSION]["t_scored"]) == (True, False)
    assert by_code[CGAS]["is_cgas"] and not by_code[CGAS]["is_gbo"]
    assert sum(r["is_chiesq"] for r in by_code.values()) == 36
