"""CYP outcomes: the MHS110 cohort and MHS111-MHS115f (paired scores and reliable change).

Follows measures.md "Outcomes" (the national method of NHS England's
``menh_bbrb/notebooks/02_Specific_Prepare/05_cyp_outcomes/cyp_outcomes_prep.py`` restated for
one provider). The preparation is a chain of small named lazy steps (``prepare`` wires them and
collects at the few points where a small key set should filter a large table):

``discharged`` -> ``team_rule`` -> ``contacts_1_2`` -> ``flag_cohort`` -> ``assessment_rows`` ->
``score_assessments`` -> ``t_scores`` -> ``rank_after_contact1`` -> ``pair_items`` ->
``rater_flags`` -> ``referral_outcomes``.

Choices where the spec leaves room, all documented here:

- *Item*: assessments are grouped by the item name of ``assessment_tools.csv`` (the national
  ``AssName``), so an item with an old and a new SNOMED code (RCADS, SDQ self-rated) is one item.
- *Order* after the date: MHS606 rows before MHS607 rows, then row order in each file.
- *Assessment id* (shown in details): ``MHS606|ServiceRequestId|code|timestamp`` or
  ``MHS607|CareContactId|code``.
- RCADS T-scores (self- and parent-rated) use sex from MHS001 ``Gender`` (1 = M, 2 = F) and
  age at referral; without a norm the raw score is used, as nationally.
- A digital provider's assessments never reach MHS111-MHS115f nationally (its person id in the
  cohort is not the one on its assessments), so they are published as 0: recon follows that
  and says why in a note; completeness (``RECON_``) uses the assessments as usual.
- The remaining national quirks are switches in ``rules/outcomes.toml`` (on by default).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from recon.codes import RULES_DIR, Codes, assessment_tools, rcads_norms  # noqa: F401 (RULES_DIR: read by tests)
from recon.config import ProviderSettings
from recon.errors import RulesError
from recon.measures.common import age_at, in_submission, qualifying_activities, resident_in_england
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.rounding import percent
from recon.rules_files import RulesSource, rules_file

SID = "ServiceRequestId"
TEAM = "UniqCareProfTeamLocalID"

# Reasons an item (or a tool) has no pair. The first four are measures.md's list; the fifth
# names valid scores that all predate Contact1 (none of the four fits them).
NO_SCORE = "no score"
OUT_OF_RANGE = "score out of range or not numeric"
BEFORE_CONTACT1 = "no score on or after Contact1"
ONLY_ONE = "only one score"
BEFORE_CONTACT2 = "second score before Contact2"
FEWER_THAN_TWO = "fewer than two qualifying activities"
# How far an unpaired item got; a tool (e.g. GBO, several items) reports its furthest item.
REASON_PROGRESS = {NO_SCORE: 0, OUT_OF_RANGE: 1, BEFORE_CONTACT1: 2, ONLY_ONE: 3, BEFORE_CONTACT2: 4}

IMPROVED, DETERIORATED, NO_CHANGE = "improved", "deteriorated", "no change"
FLAGS = ("assessed", "paired", "improved", "deteriorated", "no_change")
# Rater -> (MHS111/MHS112 count and % letters, MHS113-115 family). Fixed by the national
# measure definitions, so not taken from the order of rules/codes.toml [outcomes] raters.
RATER_IDS: dict[str, tuple[tuple[str, str], str]] = {
    "Self": (("b", "c"), "MHS113"),
    "Parent": (("d", "e"), "MHS114"),
    "Clinician": (("f", "g"), "MHS115"),
}
FLAG_COLUMNS = tuple(f"{r.lower()}_{f}" for r in RATER_IDS for f in FLAGS)
DIGITAL_NOTE = (
    "Digital provider: MHS111 to MHS115f are 0, as NHS England publishes them: nationally a "
    "digital provider's assessments are never linked to its referrals (the cohort's person id is "
    "provider code + local id, the assessments' is not). RECON_ completeness uses the assessments."
)


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRules:
    """rules/outcomes.toml: national quirk switches and score parsing."""

    honosca_self_scale1_as_parent: bool
    honosca_self_scale1_codes: tuple[str, ...]
    sdq_prosocial_higher_is_worse: bool
    sdq_prosocial_codes: tuple[str, ...]
    numeric_pattern: str
    unknown_team: str


def load_outcome_rules(path: Path | None = None) -> OutcomeRules:
    """rules/outcomes.toml (or ``path``; a trust's rules_dir may override it) parsed once."""
    return _load_outcome_rules(path or rules_file("outcomes.toml"))


@lru_cache(maxsize=4)
def _load_outcome_rules(path: Path | RulesSource) -> OutcomeRules:
    try:
        d = tomllib.loads(path.read_text(encoding="utf-8"))
        q = d["quirks"]
        rules = OutcomeRules(
            honosca_self_scale1_as_parent=bool(q["honosca_self_scale1_as_parent"]["enabled"]),
            honosca_self_scale1_codes=tuple(str(c) for c in q["honosca_self_scale1_as_parent"]["codes"]),
            sdq_prosocial_higher_is_worse=bool(q["sdq_prosocial_higher_is_worse"]["enabled"]),
            sdq_prosocial_codes=tuple(str(c) for c in q["sdq_prosocial_higher_is_worse"]["codes"]),
            numeric_pattern=str(d["scores"]["numeric_pattern"]),
            unknown_team=str(d["breakdowns"]["unknown_team"]),
        )
        pl.select(pl.lit("1").str.contains(rules.numeric_pattern))  # the pattern must compile
        return rules
    except (OSError, KeyError, ValueError, TypeError, tomllib.TOMLDecodeError, pl.exceptions.ComputeError) as exc:
        raise RulesError(f"rules/outcomes.toml is invalid: {type(exc).__name__}: {exc}") from None


def tool_reference(codes: Codes, rules: OutcomeRules) -> pl.DataFrame:
    """assessment_tools.csv with the quirk switches applied and the flags the measures need.

    Columns: code, tool, item, min_score, max_score, cyp (bool), rater, polarity, threshold
    (float32, as NHS England's column), is_cgas, is_gbo, is_chiesq, t_scored (bool: the item
    has RCADS norms, self- or parent-rated).
    """
    t = assessment_tools()
    rater = pl.col("rater")
    if not rules.honosca_self_scale1_as_parent:
        rater = pl.when(pl.col("snomed_code").is_in(list(rules.honosca_self_scale1_codes))).then(
            pl.lit("Self")
        ).otherwise(rater)
    polarity = pl.col("polarity")
    if not rules.sdq_prosocial_higher_is_worse:
        polarity = pl.when(pl.col("snomed_code").is_in(list(rules.sdq_prosocial_codes))).then(
            pl.lit("Positive")
        ).otherwise(polarity)
    normed = rcads_norms().get_column("subscale_item").unique().to_list()
    return t.select(
        pl.col("snomed_code").alias("code"),
        "tool",
        "item",
        "min_score",
        "max_score",
        (pl.col("cyp_outcomes") == "Y").fill_null(False).alias("cyp"),
        rater.alias("rater"),
        polarity.alias("polarity"),
        pl.col("reliable_change_threshold").cast(pl.Float32).alias("threshold"),
        pl.col("snomed_code").is_in(list(codes.cgas)).alias("is_cgas"),
        pl.col("snomed_code").is_in(list(codes.gbo)).alias("is_gbo"),
        pl.col("tool").str.starts_with(codes.chiesq_tool_prefix).fill_null(False).alias("is_chiesq"),
        pl.col("item").is_in(normed).fill_null(False).alias("t_scored"),
    ).unique(subset=["code"], keep="first", maintain_order=True)


# --------------------------------------------------------------------------------------------
# Record-level preparation: named lazy steps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeFrames:
    """The record-level working of the outcomes family (all small: one month's discharges).

    referrals: every referral discharged in M, cohort flags, Contact1/Contact2, rater flags.
    assessments: every assessment row of a cohort referral whose code is in the tool reference
      (any category, valid or not), with date, parsed score and validity.
    items: per cohort referral and CYP outcomes item with a score dated on or before discharge:
      first/last, paired, change, direction, and why not paired.
    notes: plain-English notes for the result (e.g. the digital provider's zeros).
    """

    referrals: pl.DataFrame
    assessments: pl.DataFrame
    items: pl.DataFrame
    notes: tuple[str, ...] = ()


def _age_band(codes: Codes) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for band in reversed(codes.age_bands):
        expr = pl.when(pl.col("age_at_referral").is_between(band.low, band.high)).then(pl.lit(band.label)).otherwise(expr)
    return expr


def _blank(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


def team_rule(tables: Mapping[str, pl.LazyFrame], referrals: pl.LazyFrame, month: Month, codes: Codes) -> pl.LazyFrame:
    """NHS England's ServiceTeamType rule, per referral: one team row for its MHS101 record and
    one per MHS102OtherServiceType row; a row passes when its team type is blank or not
    excluded and it has no rejection dated on or before M.end. MHS902 is never read.

    Columns: ServiceRequestId, _team_ok (any row passes), _any_accepted, _any_included_type."""
    rows = pl.concat(
        [
            referrals.select(SID, pl.col("ServTeamType").alias("_type"), pl.col("ReferRejectionDate").alias("_rej")),
            tables["MHS102OtherServiceType"]
            .join(referrals.select(SID), on=SID, how="semi")
            .select(SID, pl.col("ServTeamTypeRefToMH").alias("_type"), pl.col("ReferRejectionDate").alias("_rej")),
        ],
        how="vertical",
    )
    included = (_blank("_type") | ~pl.col("_type").str.strip_chars().is_in(list(codes.excluded_team_types))).fill_null(True)
    accepted = (pl.col("_rej").is_null() | (pl.col("_rej") > month.end)).fill_null(True)
    return rows.group_by(SID).agg(
        (included & accepted).any().alias("_team_ok"),
        accepted.any().alias("_any_accepted"),
        included.any().alias("_any_included_type"),
    )


def discharged(tables: Mapping[str, pl.LazyFrame], month: Month, codes: Codes, rules: OutcomeRules) -> pl.LazyFrame:
    """Referrals discharged in M (one row each, the first in file order) with age, sex, team
    type, residence and every cohort test that does not need activity."""
    ref = (
        tables["MHS101Referral"]
        .filter(pl.col("ServDischDate").is_between(month.start, month.end))
        .unique(subset=[SID], keep="first", maintain_order=True)
    )
    people = (
        tables["MHS001MPI"]
        .unique(subset=["LocalPatientId"], keep="first", maintain_order=True)
        .select("LocalPatientId", "PersonBirthDate", "Gender", "LADistrictAuth")
    )
    spells = tables["MHS501HospProvSpell"].select(SID).unique().with_columns(pl.lit(True).alias("_spell"))
    r = (
        ref.join(people, on="LocalPatientId", how="left")
        .join(spells, on=SID, how="left")
        .join(team_rule(tables, ref, month, codes), on=SID, how="left")
        .with_columns(
            age_at(pl.col("PersonBirthDate"), pl.col("ReferralRequestReceivedDate")).alias("age_at_referral"),
            pl.when(pl.col("Gender") == "1").then(pl.lit("M"))
            .when(pl.col("Gender") == "2").then(pl.lit("F"))
            .otherwise(pl.lit(None, dtype=pl.String)).alias("sex"),
            pl.col("ServTeamType").alias("team_type"),
        )
    )
    return r.with_columns(
        _age_band(codes).alias("age_band"),
        pl.col("age_at_referral").is_between(0, codes.cyp_max_age).fill_null(False).alias("_age_ok"),
        (pl.col("ReferralRequestReceivedDate") >= codes.outcomes_referrals_from).fill_null(False).alias("_received_ok"),
        pl.col("_spell").is_null().alias("_no_spell"),
        resident_in_england(codes).alias("_in_england"),
        pl.col("_team_ok").fill_null(False),
        pl.coalesce(pl.col(TEAM), pl.lit(rules.unknown_team)).alias("team"),
    )


def contacts_1_2(
    tables: Mapping[str, pl.LazyFrame],
    contacts: pl.LazyFrame,
    month: Month,
    settings: ProviderSettings,
    codes: Codes,
    ids: pl.LazyFrame,
) -> pl.LazyFrame:
    """Contact1/Contact2: dates of the first two qualifying activities on or before discharge
    and M.end, each in a month whose submission holds the referral (else SDCS rejects it).

    ``contacts`` are the MHS201 rows of the referrals in ``ids`` (already filtered)."""
    acts = qualifying_activities(
        contacts,
        tables["MHS204IndirectActivity"].join(ids.select(SID), on=SID, how="semi"),
        codes,
        settings,
        digital_attended_only=True,
    )
    return (
        acts.join(ids.select(SID, "ReferralRequestReceivedDate", "ServDischDate"), on=SID, how="inner")
        .filter(
            (pl.col("ActDate") <= pl.col("ServDischDate"))
            & (pl.col("ActDate") <= month.end)
            & in_submission(pl.col("ActDate"))
        )
        .group_by(SID)
        .agg(
            pl.col("ActDate").min().alias("Contact1"),
            pl.col("ActDate").sort().get(1, null_on_oob=True).alias("Contact2"),
        )
    )


_TESTS = ("_age_ok", "_received_ok", "_no_spell", "_in_england", "_team_ok")


def flag_cohort(disch: pl.LazyFrame, c12: pl.LazyFrame, codes: Codes) -> pl.LazyFrame:
    """Every discharged referral with ``in_cohort``, ``exclusion_reason`` (all reasons, "; ")
    and ``only_activity_excluded`` (out only for want of a second activity)."""
    team_reason = (
        pl.when(~pl.col("_any_accepted").fill_null(False)).then(pl.lit("rejected"))
        .when(~pl.col("_any_included_type").fill_null(False)).then(pl.lit("excluded team type"))
        .otherwise(pl.lit("no team row both accepted and of an included type"))
    )
    return disch.join(c12, on=SID, how="left").with_columns(
        pl.col("Contact2").is_not_null().alias("_two_acts"),
    ).with_columns(
        pl.all_horizontal(*_TESTS, "_two_acts").alias("in_cohort"),
        pl.concat_list(
            pl.when(~pl.col("_age_ok")).then(
                pl.when(pl.col("age_at_referral").is_null()).then(pl.lit("age at referral unknown")).otherwise(
                    pl.concat_str([pl.lit("aged "), pl.col("age_at_referral").cast(pl.String), pl.lit(" at referral")])
                )
            ),
            pl.when(~pl.col("_received_ok")).then(pl.lit(f"received before {codes.outcomes_referrals_from.isoformat()}")),
            pl.when(~pl.col("_team_ok")).then(team_reason),
            pl.when(~pl.col("_no_spell")).then(pl.lit("hospital spell")),
            pl.when(~pl.col("_in_england")).then(pl.lit("resident outside England")),
            pl.when(~pl.col("_two_acts")).then(pl.lit(FEWER_THAN_TWO)),
        ).list.drop_nulls().list.join("; ").alias("exclusion_reason"),
    ).with_columns(
        pl.when(pl.col("exclusion_reason") == "").then(None).otherwise(pl.col("exclusion_reason")).alias("exclusion_reason"),
        (pl.all_horizontal(*_TESTS) & ~pl.col("_two_acts")).alias("only_activity_excluded"),
    )


def assessment_rows(tables: Mapping[str, pl.LazyFrame], contacts: pl.LazyFrame, ids: pl.LazyFrame) -> pl.LazyFrame:
    """MHS606 and MHS607 rows of the given referrals: ServiceRequestId, code, AssDate,
    PersScore (as written), AssId, source and ``_order`` (0 for MHS606, 1 for MHS607, then the
    row's position in its file): the tie-break after the date.

    ``contacts`` holds (at least) the MHS201 rows of those referrals: they date MHS607 rows."""
    keep = ids.select(SID)
    a606 = (
        tables["MHS606CodedScoreAssessmentRefer"]
        .with_row_index("_row")
        .join(keep, on=SID, how="semi")
        .select(
            pl.col(SID),
            pl.col("CodedAssToolType").alias("code"),
            pl.col("AssToolCompTimestamp").dt.date().alias("AssDate"),
            pl.col("PersScore"),
            pl.concat_str(
                [pl.lit("MHS606"), pl.col(SID), pl.col("CodedAssToolType"),
                 pl.col("AssToolCompTimestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f")],
                separator="|",
                ignore_nulls=True,
            ).alias("AssId"),
            pl.lit("MHS606").alias("source"),
            pl.col("_row").cast(pl.Int64).alias("_order"),
        )
    )
    link = (
        contacts
        .join(keep, on=SID, how="semi")
        .unique(subset=["CareContactId"], keep="first", maintain_order=True)
        .select("CareContactId", SID, "CareContDate")
    )
    a607 = (
        tables["MHS607CodedScoreAssessmentAct"]
        .with_row_index("_row")
        .join(link, on="CareContactId", how="inner")
        .select(
            pl.col(SID),
            pl.col("CodedAssToolType").alias("code"),
            pl.col("CareContDate").alias("AssDate"),
            pl.col("PersScore"),
            pl.concat_str(
                [pl.lit("MHS607"), pl.col("CareContactId"), pl.col("CodedAssToolType")],
                separator="|",
                ignore_nulls=True,
            ).alias("AssId"),
            pl.lit("MHS607").alias("source"),
            (pl.col("_row").cast(pl.Int64) + (1 << 40)).alias("_order"),
        )
    )
    return pl.concat([a606, a607], how="vertical")


def score_assessments(
    rows: pl.LazyFrame, tools: pl.LazyFrame, cohort: pl.LazyFrame, month: Month, rules: OutcomeRules
) -> pl.LazyFrame:
    """Assessment rows of known tools with the parsed score and its validity.

    ``score`` is float32, as NHS England's columns are: a decimal number (sign, exponent such as
    ``1e1``, surrounding spaces allowed; not inf/nan/``1_0``) read straight into single
    precision, so ``10.0000001`` is 10. ``in_range``: inside the item's range; ``in_window``:
    dated on or before discharge and M.end."""
    numeric = pl.col("PersScore").str.contains(rules.numeric_pattern).fill_null(False)
    return (
        rows.join(tools, on="code", how="inner")
        .join(cohort, on=SID, how="inner")
        .with_columns(
            pl.when(numeric).then(pl.col("PersScore").str.strip_chars().cast(pl.Float32, strict=False)).alias("score"),
        )
        .with_columns(
            pl.col("score").cast(pl.Float64).is_between(pl.col("min_score"), pl.col("max_score"))
            .fill_null(False).alias("in_range"),
            ((pl.col("AssDate") <= pl.col("ServDischDate")) & (pl.col("AssDate") <= month.end))
            .fill_null(False).alias("in_window"),
        )
    )


ITEM = [SID, "item"]
ORDER = [SID, "item", "AssDate", "_order"]


def t_scores(valid: pl.LazyFrame) -> pl.LazyFrame:
    """Valid CYP item scores, identical rows (referral, item, date, score as written) once, with
    ``tscore``: RCADS subscales (self and parent) as float32 T-scores -- computed in double from
    the float32 raw score and the decimal norms, then stored in single precision -- when sex and
    age at referral have a norm; every other score stays raw."""
    norms = rcads_norms().lazy().select(
        pl.col("subscale_item").alias("item"), pl.col("gender").alias("sex"),
        pl.col("age").cast(pl.Int32).alias("age_at_referral"), pl.col("mean").alias("_mean"), pl.col("sd").alias("_sd"),
    )
    t = 10 * (pl.col("score").cast(pl.Float64) - pl.col("_mean")) / pl.col("_sd") + 50
    return (
        valid.sort(ORDER)
        .unique(subset=[SID, "item", "AssDate", "PersScore"], keep="first", maintain_order=True)
        .join(norms, on=["item", "sex", "age_at_referral"], how="left")
        .with_columns(
            pl.when(pl.col("_mean").is_not_null() & pl.col("_sd").is_not_null() & (pl.col("_sd") != 0))
            .then(t.cast(pl.Float32))
            .otherwise(pl.col("score")).alias("tscore")
        )
    )


def rank_after_contact1(scored: pl.LazyFrame) -> pl.LazyFrame:
    """Scores dated on or after Contact1, ranked per referral and item (``rn`` from 1 by date,
    source, row), with ``_last_rn``: the latest rank after the first dated on or after Contact2."""
    return (
        scored.filter(pl.col("AssDate") >= pl.col("Contact1"))
        .sort(ORDER)
        .with_columns(pl.int_range(1, pl.len() + 1).over(ITEM).alias("rn"))
        .with_columns(
            pl.when((pl.col("rn") > 1) & (pl.col("AssDate") >= pl.col("Contact2"))).then(pl.col("rn"))
            .max().over(ITEM).alias("_last_rn")
        )
    )


def pair_items(cyp_rows: pl.LazyFrame, ranked: pl.LazyFrame) -> pl.LazyFrame:
    """Per referral and item: first and last, ``paired``, float32 ``change`` (single-precision
    subtraction), ``direction`` against the float32 threshold, and ``reason`` when unpaired."""
    is_first, is_last = pl.col("rn") == 1, pl.col("rn") == pl.col("_last_rn")
    pairs = ranked.group_by(ITEM).agg(
        pl.len().alias("n_after_contact1"),
        pl.col("AssDate").filter(is_first).first().alias("first_date"),
        pl.col("tscore").filter(is_first).first().alias("first_score"),
        pl.col("score").filter(is_first).first().alias("first_raw"),
        pl.col("AssDate").filter(is_last).first().alias("last_date"),
        pl.col("tscore").filter(is_last).first().alias("last_score"),
        pl.col("score").filter(is_last).first().alias("last_raw"),
    )
    stats = cyp_rows.group_by(ITEM).agg(
        pl.col("code").sort_by("_order").first().alias("item_code"),
        pl.col("tool").first(),
        pl.col("rater").first(),
        pl.col("polarity").first(),
        pl.col("threshold").first(),
        pl.col("is_cgas").any(),
        pl.col("is_gbo").any(),
        pl.col("in_range").sum().alias("n_valid"),
        (~pl.col("in_range") & (pl.col("AssDate") >= pl.col("Contact1"))).sum().alias("n_invalid_after_contact1"),
    )
    change = (pl.col("last_score") - pl.col("first_score")).cast(pl.Float32)  # float32 - float32
    good = pl.when(pl.col("polarity") == "Positive").then(pl.col("change")).otherwise(-pl.col("change"))
    reliable = pl.col("change").abs() >= pl.col("threshold")
    return (
        stats.join(pairs, on=ITEM, how="left")
        .with_columns(
            pl.col("n_after_contact1").fill_null(0),
            (pl.col("first_date").is_not_null() & pl.col("last_date").is_not_null()).alias("paired"),
        )
        .with_columns(pl.when(pl.col("paired")).then(change).alias("change"))
        .with_columns(
            pl.when(pl.col("paired") & (good > 0) & reliable).then(pl.lit(IMPROVED))
            .when(pl.col("paired") & (good < 0) & reliable).then(pl.lit(DETERIORATED))
            .when(pl.col("paired") & (pl.col("change").abs() < pl.col("threshold"))).then(pl.lit(NO_CHANGE))
            .otherwise(pl.lit(None, dtype=pl.String)).alias("direction"),
            pl.when(pl.col("paired")).then(pl.lit(None, dtype=pl.String))
            .when(pl.col("n_valid") == 0).then(pl.lit(OUT_OF_RANGE))
            # an invalid score where a second one was needed is the thing to fix
            .when((pl.col("n_after_contact1") <= 1) & (pl.col("n_invalid_after_contact1") > 0)).then(pl.lit(OUT_OF_RANGE))
            .when(pl.col("n_after_contact1") == 0).then(pl.lit(BEFORE_CONTACT1))
            .when(pl.col("n_after_contact1") == 1).then(pl.lit(ONLY_ONE))
            .otherwise(pl.lit(BEFORE_CONTACT2)).alias("reason"),
        )
    )


def rater_flags(items: pl.LazyFrame) -> pl.LazyFrame:
    """Per referral, the five flags of each rater (``self_assessed`` ... ``clinician_no_change``):
    improved if some paired item improved and none deteriorated; deteriorated if any did; no
    change if some paired item did not change and none moved reliably."""
    per_rater = items.group_by([SID, "rater"]).agg(
        pl.col("first_date").is_not_null().any().alias("assessed"),
        pl.col("paired").any().alias("paired"),
        (pl.col("direction") == IMPROVED).any().alias("_imp"),
        (pl.col("direction") == DETERIORATED).any().alias("_det"),
        (pl.col("direction") == NO_CHANGE).any().alias("_nc"),
    ).with_columns(
        (pl.col("_imp") & ~pl.col("_det")).alias("improved"),
        pl.col("_det").alias("deteriorated"),
        (pl.col("_nc") & ~pl.col("_imp") & ~pl.col("_det")).alias("no_change"),
    )
    return per_rater.group_by(SID).agg(
        pl.col(flag).filter(pl.col("rater") == rater).any().alias(f"{rater.lower()}_{flag}")
        for rater in RATER_IDS
        for flag in FLAGS
    )


def referral_outcomes(referrals: pl.LazyFrame, flags: pl.LazyFrame, *, linked: bool) -> pl.LazyFrame:
    """Every discharged referral with its rater flags (false outside the cohort, and everywhere
    when the assessments are not ``linked`` to referrals: a digital provider nationally)."""
    flag_cols = list(FLAG_COLUMNS)
    return (
        referrals.join(flags, on=SID, how="left")
        .with_columns(
            [(pl.col(c).fill_null(False) & pl.col("in_cohort") & pl.lit(linked)).alias(c) for c in flag_cols]
        )
        .with_columns(
            pl.any_horizontal([f"{r.lower()}_assessed" for r in RATER_IDS]).alias("any_assessed"),
            pl.any_horizontal([f"{r.lower()}_paired" for r in RATER_IDS]).alias("any_paired"),
        )
        .select(
            SID, "LocalPatientId", TEAM, "team", "team_type", "age_band", "age_at_referral", "sex",
            "ReferralRequestReceivedDate", "ServDischDate", "Contact1", "Contact2",
            "in_cohort", "exclusion_reason", "only_activity_excluded", *flag_cols, "any_assessed", "any_paired",
        )
        .sort(SID)
    )


def prepare(
    tables: Mapping[str, pl.LazyFrame],
    month: Month,
    settings: ProviderSettings,
    codes: Codes,
    rules: OutcomeRules | None = None,
) -> OutcomeFrames:
    """Cohort, assessments and per-item pairing for month M.

    Collected in stages so that each large table is scanned once, filtered by a small key set:
    referrals discharged in M, then their contacts and activities, then the cohort's assessments.
    """
    rules = rules or load_outcome_rules()
    if set(codes.raters) != set(RATER_IDS):
        raise RulesError("rules/codes.toml [outcomes] raters must be exactly Self, Parent and Clinician")
    tools = tool_reference(codes, rules).lazy()
    disch = discharged(tables, month, codes, rules).collect().lazy()
    contacts = tables["MHS201CareContact"].join(disch.select(SID), on=SID, how="semi").collect().lazy()
    c12 = contacts_1_2(tables, contacts, month, settings, codes, disch).collect().lazy()
    referrals = flag_cohort(disch, c12, codes).collect().lazy()
    cohort = referrals.filter(pl.col("in_cohort")).select(
        SID, "ReferralRequestReceivedDate", "ServDischDate", "Contact1", "Contact2", "age_at_referral", "sex"
    )
    assessments = score_assessments(assessment_rows(tables, contacts, cohort), tools, cohort, month, rules)
    assessments = assessments.collect().lazy()
    cyp_rows = assessments.filter(pl.col("cyp") & pl.col("in_window"))
    items = pair_items(cyp_rows, rank_after_contact1(t_scores(cyp_rows.filter(pl.col("in_range")))))
    referrals_out = referral_outcomes(referrals, rater_flags(items), linked=not settings.digital)
    items_out = items.join(
        referrals.select(SID, "LocalPatientId", TEAM, "team"), on=SID, how="left"
    ).select(
        SID, "LocalPatientId", TEAM, "team", "item_code", "item", "tool", "rater", "polarity", "threshold",
        "is_cgas", "is_gbo", "first_date", "first_raw", "first_score", "last_date", "last_raw", "last_score",
        "paired", "change", "direction", "reason",
    ).sort([SID, "item"])
    ref_df, ass_df, items_df = pl.collect_all(
        [referrals_out, assessments.sort([SID, "AssDate", "_order"]).drop("_order"), items_out]
    )
    notes = (DIGITAL_NOTE,) if settings.digital else ()
    return OutcomeFrames(referrals=ref_df, assessments=ass_df, items=items_df, notes=notes)


# --------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------

def _sums(df: pl.DataFrame) -> dict[str, int]:
    cols = ["in_cohort", "any_assessed", "any_paired", *FLAG_COLUMNS]
    row = df.select([pl.col(c).cast(pl.Int64).sum().alias(c) for c in cols]).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def _values(s: Mapping[str, int], breakdown: str | None, level: str | None) -> list[MeasureValue]:
    def count(mid: str, v: int) -> MeasureValue:
        return MeasureValue(mid, v, breakdown=breakdown, level=level)

    def pct(mid: str, num: int, den: int) -> MeasureValue:
        return MeasureValue(mid, percent(num, den), numerator=num, denominator=den, breakdown=breakdown, level=level)

    n = s["in_cohort"]
    out = [count("MHS110", n), count("MHS111", s["any_assessed"]), pct("MHS111a", s["any_assessed"], n)]
    for r, ((c, p), _) in RATER_IDS.items():
        v = s[f"{r.lower()}_assessed"]
        out += [count(f"MHS111{c}", v), pct(f"MHS111{p}", v, n)]
    out += [count("MHS112", s["any_paired"]), pct("MHS112a", s["any_paired"], n)]
    for r, ((c, p), _) in RATER_IDS.items():
        v = s[f"{r.lower()}_paired"]
        out += [count(f"MHS112{c}", v), pct(f"MHS112{p}", v, n)]
    for r, (_, mid) in RATER_IDS.items():
        paired = s[f"{r.lower()}_paired"]
        for flag, (c, p) in zip(("improved", "deteriorated", "no_change"), (("a", "b"), ("c", "d"), ("e", "f")), strict=True):
            v = s[f"{r.lower()}_{flag}"]
            out += [count(f"{mid}{c}", v), pct(f"{mid}{p}", v, paired)]
    return out


def outcome_values(referrals: pl.DataFrame) -> list[MeasureValue]:
    """MHS110-MHS115f at provider level, then by team and by age band (levels present in the cohort)."""
    cohort = referrals.filter(pl.col("in_cohort"))
    out = _values(_sums(cohort), None, None)
    for breakdown, col in (("Team", "team"), ("Age band", "age_band")):
        for (level,), part in cohort.partition_by(col, as_dict=True, maintain_order=True).items():
            out += _values(_sums(part), breakdown, str(level))
    return out


def referral_details(frames: OutcomeFrames) -> pl.DataFrame:
    """outcomes_referrals: one row per referral discharged in M; no NHS number, no birth date."""
    return frames.referrals.drop("team", "sex", "age_at_referral", "only_activity_excluded")


def item_details(frames: OutcomeFrames) -> pl.DataFrame:
    """outcomes_items: per cohort referral and item with a score on or before discharge."""
    return frames.items.drop("team", "is_cgas", "is_gbo")


def compute(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """MHS110-MHS115f for month M, with the records behind them."""
    return from_frames(prepare(tables, month, settings, codes))


def from_frames(frames: OutcomeFrames) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """``compute`` on frames already prepared (lets an engine share one ``prepare`` with completeness)."""
    details = {"outcomes_referrals": referral_details(frames), "outcomes_items": item_details(frames)}
    return outcome_values(frames.referrals), details
