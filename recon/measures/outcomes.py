"""CYP outcomes: the MHS110 cohort and MHS111-MHS115f (paired scores and reliable change).

Follows measures.md "Outcomes" (the national method of NHS England's ``cyp_outcomes_prep.py``
restated for one provider). Choices where the spec leaves room, all documented here:

- *Team type*: the referral's ``ServTeamType``; when null, ``ServTeamTypeMH`` of the MHS902 row
  with the referral's ``UniqCareProfTeamLocalID``; null when neither is known (null is allowed).
- *Item*: assessments are grouped by the item name of ``assessment_tools.csv`` (the national
  ``AssName``), so an item with an old and a new SNOMED code (RCADS, SDQ self-rated) is one item.
- *Assessment id* (the tie-break after the date): ``MHS606|ServiceRequestId|code|timestamp`` or
  ``MHS607|CareContactId|code``.
- Identical rows (referral, item, date, score) count once; the one with the smallest id is kept.
- RCADS T-scores use sex from MHS001 ``Gender`` (1 = M, 2 = F) and age at referral; without a
  norm the raw score is used, as nationally.
- The national quirks are switches in ``rules/outcomes.toml`` (on by default).
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
from recon.measures.common import age_at, qualifying_activities
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


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRules:
    """rules/outcomes.toml: national quirk switches and score parsing."""

    honosca_self_scale1_as_parent: bool
    honosca_self_scale1_codes: tuple[str, ...]
    parent_rcads_not_t_scored: bool
    sdq_prosocial_higher_is_worse: bool
    sdq_prosocial_codes: tuple[str, ...]
    rcads_self_tool: str
    rcads_parent_tool: str
    numeric_pattern: str
    change_decimals: int
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
            parent_rcads_not_t_scored=bool(q["parent_rcads_not_t_scored"]["enabled"]),
            sdq_prosocial_higher_is_worse=bool(q["sdq_prosocial_higher_is_worse"]["enabled"]),
            sdq_prosocial_codes=tuple(str(c) for c in q["sdq_prosocial_higher_is_worse"]["codes"]),
            rcads_self_tool=str(d["rcads"]["self_tool"]),
            rcads_parent_tool=str(d["rcads"]["parent_tool"]),
            numeric_pattern=str(d["scores"]["numeric_pattern"]),
            change_decimals=int(d["scores"]["change_decimals"]),
            unknown_team=str(d["breakdowns"]["unknown_team"]),
        )
        pl.select(pl.lit("1").str.contains(rules.numeric_pattern))  # the pattern must compile
        return rules
    except (OSError, KeyError, ValueError, TypeError, tomllib.TOMLDecodeError, pl.exceptions.ComputeError) as exc:
        raise RulesError(f"rules/outcomes.toml is invalid: {type(exc).__name__}: {exc}") from None


def tool_reference(codes: Codes, rules: OutcomeRules) -> pl.DataFrame:
    """assessment_tools.csv with the quirk switches applied and the flags the measures need.

    Columns: code, tool, item, min_score, max_score, cyp (bool), rater, polarity, threshold,
    is_cgas, is_gbo, is_chiesq, t_scored (bool: joined to the RCADS norms).
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
    t_tools = [rules.rcads_self_tool] + ([] if rules.parent_rcads_not_t_scored else [rules.rcads_parent_tool])
    return t.select(
        pl.col("snomed_code").alias("code"),
        "tool",
        "item",
        "min_score",
        "max_score",
        (pl.col("cyp_outcomes") == "Y").fill_null(False).alias("cyp"),
        rater.alias("rater"),
        polarity.alias("polarity"),
        pl.col("reliable_change_threshold").alias("threshold"),
        pl.col("snomed_code").is_in(list(codes.cgas)).alias("is_cgas"),
        pl.col("snomed_code").is_in(list(codes.gbo)).alias("is_gbo"),
        pl.col("tool").str.starts_with(codes.chiesq_tool_prefix).fill_null(False).alias("is_chiesq"),
        pl.col("tool").is_in(t_tools).fill_null(False).alias("t_scored"),
    ).unique(subset=["code"], keep="first", maintain_order=True)


# --------------------------------------------------------------------------------------------
# Record-level preparation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeFrames:
    """The record-level working of the outcomes family (all small: one month's discharges).

    referrals: every referral discharged in M, cohort flags, Contact1/Contact2, rater flags.
    assessments: every assessment row of a cohort referral whose code is in the tool reference
      (any category, valid or not), with date, parsed score and validity.
    items: per cohort referral and CYP outcomes item with a score dated on or before discharge:
      first/last, paired, change, direction, and why not paired.
    """

    referrals: pl.DataFrame
    assessments: pl.DataFrame
    items: pl.DataFrame


def _age_band(codes: Codes) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for band in reversed(codes.age_bands):
        expr = pl.when(pl.col("age_at_referral").is_between(band.low, band.high)).then(pl.lit(band.label)).otherwise(expr)
    return expr


def _discharged(tables: Mapping[str, pl.LazyFrame], month: Month, codes: Codes, rules: OutcomeRules) -> pl.LazyFrame:
    """Referrals discharged in M with age, sex, team type and the non-activity cohort tests."""
    ref = (
        tables["MHS101Referral"]
        .filter(pl.col("ServDischDate").is_between(month.start, month.end))
        .unique(subset=[SID], keep="first", maintain_order=True)
    )
    people = (
        tables["MHS001MPI"]
        .unique(subset=["LocalPatientId"], keep="first", maintain_order=True)
        .select("LocalPatientId", "PersonBirthDate", "Gender")
    )
    teams = (
        tables["MHS902ServiceTeamDetails"]
        .unique(subset=[TEAM], keep="first", maintain_order=True)
        .select(TEAM, "ServTeamTypeMH")
    )
    spells = tables["MHS501HospProvSpell"].select(SID).unique().with_columns(pl.lit(True).alias("_spell"))
    r = (
        ref.join(people, on="LocalPatientId", how="left")
        .join(teams, on=TEAM, how="left")
        .join(spells, on=SID, how="left")
        .with_columns(
            age_at(pl.col("PersonBirthDate"), pl.col("ReferralRequestReceivedDate")).alias("age_at_referral"),
            pl.when(pl.col("Gender") == "1").then(pl.lit("M"))
            .when(pl.col("Gender") == "2").then(pl.lit("F"))
            .otherwise(pl.lit(None, dtype=pl.String)).alias("sex"),
            pl.coalesce(pl.col("ServTeamType"), pl.col("ServTeamTypeMH")).alias("team_type"),
        )
    )
    return r.with_columns(
        _age_band(codes).alias("age_band"),
        pl.col("age_at_referral").is_between(0, codes.cyp_max_age).fill_null(False).alias("_age_ok"),
        (pl.col("ReferralRequestReceivedDate") >= codes.outcomes_referrals_from).fill_null(False).alias("_received_ok"),
        pl.col("ReferRejectionDate").is_null().alias("_not_rejected"),
        pl.col("_spell").is_null().alias("_no_spell"),
        (pl.col("team_type").is_null() | ~pl.col("team_type").is_in(list(codes.excluded_team_types))).alias("_team_ok"),
        pl.coalesce(pl.col(TEAM), pl.lit(rules.unknown_team)).alias("team"),
    )


def _contacts_1_2(
    tables: Mapping[str, pl.LazyFrame],
    contacts: pl.LazyFrame,
    month: Month,
    settings: ProviderSettings,
    codes: Codes,
    ids: pl.LazyFrame,
) -> pl.LazyFrame:
    """Contact1/Contact2: dates of the first two qualifying activities on or before discharge and M.end.

    ``contacts`` are the MHS201 rows of the referrals in ``ids`` (already filtered).
    """
    keep = ids.select(SID)
    acts = qualifying_activities(
        contacts,
        tables["MHS204IndirectActivity"].join(keep, on=SID, how="semi"),
        codes,
        settings,
    )
    return (
        acts.join(ids.select(SID, "ServDischDate"), on=SID, how="inner")
        .filter((pl.col("ActDate") <= pl.col("ServDischDate")) & (pl.col("ActDate") <= month.end))
        .group_by(SID)
        .agg(
            pl.col("ActDate").min().alias("Contact1"),
            pl.col("ActDate").sort().get(1, null_on_oob=True).alias("Contact2"),
        )
    )


def _assessment_rows(tables: Mapping[str, pl.LazyFrame], contacts: pl.LazyFrame, ids: pl.LazyFrame) -> pl.LazyFrame:
    """MHS606 and MHS607 rows of the given referrals: ServiceRequestId, code, AssDate, PersScore, AssId.

    ``contacts`` holds (at least) the MHS201 rows of those referrals: they date MHS607 rows.
    """
    keep = ids.select(SID)
    a606 = (
        tables["MHS606CodedScoreAssessmentRefer"]
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
        )
    )
    return pl.concat([a606, a607], how="vertical")


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
    disch = _discharged(tables, month, codes, rules).collect().lazy()
    contacts = tables["MHS201CareContact"].join(disch.select(SID), on=SID, how="semi").collect().lazy()
    c12 = _contacts_1_2(tables, contacts, month, settings, codes, disch).collect().lazy()
    referrals = disch.join(c12, on=SID, how="left").with_columns(
        pl.col("Contact2").is_not_null().alias("_two_acts"),
    ).with_columns(
        pl.all_horizontal("_age_ok", "_received_ok", "_not_rejected", "_no_spell", "_team_ok", "_two_acts").alias("in_cohort"),
        pl.concat_list(
            pl.when(~pl.col("_age_ok")).then(
                pl.when(pl.col("age_at_referral").is_null()).then(pl.lit("age at referral unknown")).otherwise(
                    pl.concat_str([pl.lit("aged "), pl.col("age_at_referral").cast(pl.String), pl.lit(" at referral")])
                )
            ),
            pl.when(~pl.col("_received_ok")).then(pl.lit(f"received before {codes.outcomes_referrals_from.isoformat()}")),
            pl.when(~pl.col("_not_rejected")).then(pl.lit("rejected")),
            pl.when(~pl.col("_no_spell")).then(pl.lit("hospital spell")),
            pl.when(~pl.col("_team_ok")).then(pl.lit("excluded team type")),
            pl.when(~pl.col("_two_acts")).then(pl.lit(FEWER_THAN_TWO)),
        ).list.drop_nulls().list.join("; ").alias("exclusion_reason"),
    ).with_columns(
        pl.when(pl.col("exclusion_reason") == "").then(None).otherwise(pl.col("exclusion_reason")).alias("exclusion_reason"),
        # only fewer than two activities keeps this referral out (completeness lists it)
        (pl.all_horizontal("_age_ok", "_received_ok", "_not_rejected", "_no_spell", "_team_ok") & ~pl.col("_two_acts"))
        .alias("only_activity_excluded"),
    ).collect().lazy()
    cohort = referrals.filter(pl.col("in_cohort")).select(
        SID, "ReferralRequestReceivedDate", "ServDischDate", "Contact1", "Contact2", "age_at_referral", "sex"
    ).collect().lazy()

    numeric = pl.col("PersScore").str.contains(rules.numeric_pattern).fill_null(False)
    assessments = (
        _assessment_rows(tables, contacts, cohort)
        .join(tools, on="code", how="inner")
        .join(cohort, on=SID, how="inner")
        .with_columns(
            pl.when(numeric).then(pl.col("PersScore").str.strip_chars().cast(pl.Float64, strict=False)).alias("score"),
        )
        .with_columns(
            pl.col("score").is_between(pl.col("min_score"), pl.col("max_score")).fill_null(False).alias("in_range"),
            ((pl.col("AssDate") <= pl.col("ServDischDate")) & (pl.col("AssDate") <= month.end))
            .fill_null(False).alias("in_window"),
        )
        .collect()
        .lazy()
    )

    keys = [SID, "item"]
    cyp_rows = assessments.filter(pl.col("cyp") & pl.col("in_window"))
    norms = rcads_norms().lazy().select(
        pl.col("subscale_item").alias("_norm_item"), pl.col("gender").alias("sex"),
        pl.col("age").cast(pl.Int32).alias("age_at_referral"), pl.col("mean").alias("_mean"), pl.col("sd").alias("_sd"),
    )
    ranked = (
        cyp_rows.filter(pl.col("in_range"))
        .sort([SID, "item", "AssDate", "AssId"])
        .unique(subset=[SID, "item", "AssDate", "score"], keep="first", maintain_order=True)
        .with_columns(pl.when(pl.col("t_scored")).then(pl.col("item")).alias("_norm_item"))
        .join(norms, on=["_norm_item", "sex", "age_at_referral"], how="left")
        .with_columns(
            pl.when(pl.col("_mean").is_not_null() & pl.col("_sd").is_not_null() & (pl.col("_sd") != 0))
            .then(10 * (pl.col("score") - pl.col("_mean")) / pl.col("_sd") + 50)
            .otherwise(pl.col("score")).alias("tscore")
        )
        .filter(pl.col("AssDate") >= pl.col("Contact1"))
        .sort([SID, "item", "AssDate", "AssId"])
        .with_columns(pl.int_range(1, pl.len() + 1).over(keys).alias("rn"))
        .with_columns(
            pl.when((pl.col("rn") > 1) & (pl.col("AssDate") >= pl.col("Contact2"))).then(pl.col("rn"))
            .max().over(keys).alias("_last_rn")
        )
    )
    is_first, is_last = pl.col("rn") == 1, pl.col("rn") == pl.col("_last_rn")
    pairs = ranked.group_by(keys).agg(
        pl.len().alias("n_after_contact1"),
        pl.col("AssDate").filter(is_first).first().alias("first_date"),
        pl.col("tscore").filter(is_first).first().alias("first_score"),
        pl.col("score").filter(is_first).first().alias("first_raw"),
        pl.col("AssDate").filter(is_last).first().alias("last_date"),
        pl.col("tscore").filter(is_last).first().alias("last_score"),
        pl.col("score").filter(is_last).first().alias("last_raw"),
    )
    stats = cyp_rows.group_by(keys).agg(
        pl.col("code").sort_by("AssId").first().alias("item_code"),
        pl.col("tool").first(),
        pl.col("rater").first(),
        pl.col("polarity").first(),
        pl.col("threshold").first(),
        pl.col("is_cgas").any(),
        pl.col("is_gbo").any(),
        pl.col("in_range").sum().alias("n_valid"),
        (~pl.col("in_range") & (pl.col("AssDate") >= pl.col("Contact1"))).sum().alias("n_invalid_after_contact1"),
    )
    change = (pl.col("last_score") - pl.col("first_score")).round(rules.change_decimals)
    good = pl.when(pl.col("polarity") == "Positive").then(pl.col("change")).otherwise(-pl.col("change"))
    reliable = pl.col("change").abs() >= pl.col("threshold")
    items = (
        stats.join(pairs, on=keys, how="left")
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

    rater_flags = items.group_by([SID, "rater"]).agg(
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
    wide = rater_flags.group_by(SID).agg(
        pl.col(flag).filter(pl.col("rater") == rater).any().alias(f"{rater.lower()}_{flag}")
        for rater in RATER_IDS
        for flag in FLAGS
    )
    flag_cols = list(FLAG_COLUMNS)
    referrals_out = (
        referrals.join(wide, on=SID, how="left")
        .with_columns(
            [pl.col(c).fill_null(False) & pl.col("in_cohort") for c in flag_cols]
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
    items_out = items.join(
        referrals.select(SID, "LocalPatientId", TEAM, "team"), on=SID, how="left"
    ).select(
        SID, "LocalPatientId", TEAM, "team", "item_code", "item", "tool", "rater", "polarity", "threshold",
        "is_cgas", "is_gbo", "first_date", "first_raw", "first_score", "last_date", "last_raw", "last_score",
        "paired", "change", "direction", "reason",
    ).sort([SID, "item"])
    ref_df, ass_df, items_df = pl.collect_all([referrals_out, assessments.sort([SID, "AssDate", "AssId"]), items_out])
    return OutcomeFrames(referrals=ref_df, assessments=ass_df, items=items_df)


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
