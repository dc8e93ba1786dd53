"""Completeness the CYP leads sign off (recon's own RECON_ measures, measures.md "Completeness").

Same cohort as MHS110. "Within the referral" = dated from ``ReferralRequestReceivedDate`` to
``ServDischDate`` inclusive; a valid score = numeric and inside the item's range. Pairing is the
outcomes rule (``recon.measures.outcomes``), so RECON_CGAS_PAIRED counts the same referrals as a
clinician-rated CGAS pair in MHS112f.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from recon.codes import Codes
from recon.config import ProviderSettings
from recon.measures.model import MeasureValue
from recon.measures.outcomes import (
    FEWER_THAN_TWO,
    NO_SCORE,
    REASON_PROGRESS,
    SID,
    TEAM,
    OutcomeFrames,
    prepare,
)
from recon.months import Month
from recon.rounding import percent

MEASURES = ("RECON_CGAS_ANY", "RECON_CGAS_PAIRED", "RECON_GBO_ANY", "RECON_GBO_PAIRED", "RECON_CHIESQ_ANY")
_FLAG = {
    "RECON_CGAS_ANY": "cgas_any",
    "RECON_CGAS_PAIRED": "cgas_paired",
    "RECON_GBO_ANY": "gbo_any",
    "RECON_GBO_PAIRED": "gbo_paired",
    "RECON_CHIESQ_ANY": "chiesq_any",
}
_TOOLS = (("CGAS", "is_cgas", "cgas_paired"), ("GBO", "is_gbo", "gbo_paired"))


def referral_flags(frames: OutcomeFrames) -> pl.DataFrame:
    """Per cohort referral: ServiceRequestId, LocalPatientId, team and the five completeness flags."""
    cohort = frames.referrals.filter(pl.col("in_cohort")).select(SID, "LocalPatientId", TEAM, "team")
    a = frames.assessments
    within = (
        pl.col("in_range")
        & (pl.col("AssDate") >= pl.col("ReferralRequestReceivedDate"))
        & (pl.col("AssDate") <= pl.col("ServDischDate"))
    )
    anyf = a.filter(within).group_by(SID).agg(
        pl.col("is_cgas").any().alias("cgas_any"),
        pl.col("is_gbo").any().alias("gbo_any"),
        pl.col("is_chiesq").any().alias("chiesq_any"),
    )
    pairs = frames.items.group_by(SID).agg(
        (pl.col("is_cgas") & pl.col("paired")).any().alias("cgas_paired"),
        (pl.col("is_gbo") & pl.col("paired")).any().alias("gbo_paired"),
    )
    flags = list(_FLAG.values())
    return (
        cohort.join(anyf, on=SID, how="left")
        .join(pairs, on=SID, how="left")
        .with_columns(pl.col(f).fill_null(False) for f in flags)
        .sort(SID)
    )


def unpaired(frames: OutcomeFrames, flags: pl.DataFrame) -> pl.DataFrame:
    """completeness_unpaired: per cohort referral and tool (CGAS, GBO) without a pair, the reason;
    plus referrals kept out of the cohort only by having fewer than two qualifying activities."""
    progress = pl.DataFrame(
        {"reason": list(REASON_PROGRESS), "_progress": list(REASON_PROGRESS.values())},
        schema={"reason": pl.String, "_progress": pl.Int64},
    )
    parts = []
    for tool, is_tool, paired in _TOOLS:
        missing = flags.filter(~pl.col(paired)).select(SID, "LocalPatientId", TEAM)
        best = (
            frames.items.filter(pl.col(is_tool) & pl.col("reason").is_not_null())
            .join(progress, on="reason", how="left")
            .group_by(SID)
            .agg(pl.col("reason").sort_by("_progress").last())
        )
        parts.append(
            missing.join(best, on=SID, how="left").select(
                SID, "LocalPatientId", TEAM, pl.lit(tool).alias("tool"),
                pl.col("reason").fill_null(NO_SCORE),
            )
        )
    out_of_cohort = frames.referrals.filter(pl.col("only_activity_excluded")).select(SID, "LocalPatientId", TEAM)
    for tool, _, _ in _TOOLS:
        parts.append(out_of_cohort.select(SID, "LocalPatientId", TEAM, pl.lit(tool).alias("tool"),
                                          pl.lit(FEWER_THAN_TWO).alias("reason")))
    return pl.concat(parts, how="vertical").sort([SID, "tool"])


def completeness_values(flags: pl.DataFrame) -> list[MeasureValue]:
    """Each RECON_ measure as a percentage of the cohort, at provider level and per team."""
    def values(df: pl.DataFrame, breakdown: str | None, level: str | None) -> list[MeasureValue]:
        n = df.height
        sums = df.select(pl.col(f).cast(pl.Int64).sum() for f in _FLAG.values()).row(0, named=True)
        return [
            MeasureValue(mid, percent(int(sums[f] or 0), n), numerator=int(sums[f] or 0), denominator=n,
                         breakdown=breakdown, level=level)
            for mid, f in _FLAG.items()
        ]

    out = values(flags, None, None)
    for (level,), part in flags.partition_by("team", as_dict=True, maintain_order=True).items():
        out += values(part, "Team", str(level))
    return out


def compute(
    tables: Mapping[str, pl.LazyFrame], month: Month, settings: ProviderSettings, codes: Codes
) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """RECON_CGAS_ANY ... RECON_CHIESQ_ANY for month M, with the referrals lacking a pair."""
    return from_frames(prepare(tables, month, settings, codes))


def from_frames(frames: OutcomeFrames) -> tuple[list[MeasureValue], dict[str, pl.DataFrame]]:
    """``compute`` on frames already prepared by ``recon.measures.outcomes.prepare``."""
    flags = referral_flags(frames)
    return completeness_values(flags), {"completeness_unpaired": unpaired(frames, flags)}
