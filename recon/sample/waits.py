"""The waits inputs of the fictional provider (waits.md section 2) and its synthetic SNOMED CT release.

Added after the rest of the sample is generated, from a random stream of their own, so the
older tables keep their exact bytes: residence (``LADistrictAuth``), other-team rows (MHS102),
care activities with SNOMED CT procedures (MHS202, ``IndActProcedure``, MHS607 ``CareActId``),
care plans and agreements (MHS008/MHS009), and a handful of children referred long ago and
never seen (waits of more than 52 and 104 weeks).

THE SNOMED CT CONTENT HERE IS MADE UP. The concept ids below follow the SCTID shape but name
nothing in SNOMED CT (their namespace ``9990001`` is not a real one) except the two concept
ids waits.md names (1085671000000109, 1914891000000100), which are listed in the synthetic
Assessments refset only so the sample exercises the CYP rule for them; the refset rows, dates
and modules are invented. Real runs need the licensed UK Edition (``--snomed``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from recon.months import Month
from recon.snomed import REFSETS

ASSESSMENTS, PSYCH, PSYCHOSOCIAL, MEDICATION = tuple(REFSETS)
MODULE = "999000011000000103"  # made up
# Made-up concepts: (id, refset, first concept row, refset row date)
CONCEPTS: tuple[tuple[str, str, str, str], ...] = (
    ("1085671000000109", ASSESSMENTS, "20190401", "20210401"),  # named in waits.md: counts for CYP
    ("99900011000001101", ASSESSMENTS, "20190401", "20210401"),  # assessment: CMH only
    ("99900021000001106", PSYCH, "20190401", "20210401"),  # "psychological therapy"
    ("99900031000001108", PSYCHOSOCIAL, "20190401", "20210401"),  # "psychosocial intervention"
    ("99900041000001104", MEDICATION, "20200101", "20230101"),  # "medication review"
    ("99900051000001103", PSYCHOSOCIAL, "20220101", "20240601"),  # joins in June 2024
)
NOT_IN_REFSETS = "99900061000001105"  # recorded, in no refset: never stops a clock
PROCEDURES = (*(c[0] for c in CONCEPTS), NOT_IN_REFSETS)
PROCEDURE_WEIGHTS = (0.25, 0.1, 0.2, 0.15, 0.05, 0.05, 0.2)
ENGLAND, WALES = "E08000035", "W06000015"
LONG_WAITERS = 8  # children referred 200 to 900 days before the month end, never seen


def waits_tables(frames: dict[str, pl.DataFrame], end_month: Month, seed: int) -> dict[str, pl.DataFrame]:
    """The frames with the waits inputs added (a copy; the frames given are not changed)."""
    rng = np.random.default_rng(seed + 1_000)
    out = dict(frames)
    mpi, ref = frames["MHS001MPI"], frames["MHS101Referral"]
    n = mpi.height
    la = rng.choice(3, size=n, p=[0.93, 0.05, 0.02])
    out["MHS001MPI"] = mpi.with_columns(
        pl.Series("LADistrictAuth", np.array([ENGLAND, "", WALES])[la]).replace("", None))

    # Long waiters: young people referred long ago to community CAMHS, open, never seen.
    end = end_month.end
    young = mpi.filter(pl.col("PersonBirthDate") > end - dt.timedelta(days=365 * 15)).head(LONG_WAITERS)
    waited = [200, 300, 380, 420, 560, 600, 760, 900][: young.height]
    top = ref.get_column("ServiceRequestId").str.strip_prefix("SR").cast(pl.Int64).max()
    top = top if isinstance(top, int) else 0
    long = pl.DataFrame({
        "ServiceRequestId": [f"SR{top + 1 + i:08d}" for i in range(young.height)],
        "LocalPatientId": young.get_column("LocalPatientId"),
        "OrgIDProv": young.get_column("OrgIDProv"),
        "ReferralRequestReceivedDate": [end - dt.timedelta(days=d) for d in waited],
        "SourceOfReferralMH": ["A1"] * young.height,
        "PrimReasonReferralMH": ["10"] * young.height,
        "ClinRespPriorityType": ["3"] * young.height,
        "UniqCareProfTeamLocalID": ["T01", "T03"] * (young.height // 2) + ["T01"] * (young.height % 2),
        "ServTeamType": ["A06", "C10"] * (young.height // 2) + ["A06"] * (young.height % 2),
    })
    out["MHS101Referral"] = pl.concat([ref, long.select(
        pl.col(c) if c in long.columns else pl.lit(None, dtype=ref.schema[c]).alias(c) for c in ref.columns
    ).cast(dict(ref.schema))])  # type: ignore[arg-type]

    # Other teams: a third of the single point of access referrals are passed on to a CAMHS team.
    spa = ref.filter(pl.col("ServTeamType") == "A18")
    passed = spa.filter(pl.Series(rng.random(spa.height) < 0.33))
    closed = pl.Series(rng.random(passed.height) < 0.2)
    out["MHS102OtherServiceType"] = passed.select(
        "ServiceRequestId",
        pl.lit("T01").alias("UniqOtherCareProfTeamLocalID"),
        pl.lit("A06").alias("ServTeamTypeRefToMH"),
        pl.when(pl.lit(closed)).then(pl.col("ServDischDate")).alias("ReferClosureDate"),
        pl.when(pl.lit(closed) & pl.col("ServDischDate").is_not_null()).then(pl.lit("01")).alias("ReferClosReason"),
        pl.lit(None, dtype=pl.Date).alias("ReferRejectionDate"),
        pl.lit(None, dtype=pl.String).alias("ReferRejectReason"),
    )

    # Care activities: a procedure on 10% of attended contacts and on a third of scored contacts.
    cc = frames["MHS201CareContact"]
    scored = frames["MHS607CodedScoreAssessmentAct"].get_column("CareContactId").unique()
    attended = cc.filter(pl.col("AttendStatus").is_in(["5", "6"]))
    draw = pl.Series(rng.random(attended.height))
    pick = attended.filter((draw < 0.1) | ((draw > 0.7) & pl.col("CareContactId").is_in(scored.implode())))
    procs = pl.Series(PROCEDURES, dtype=pl.String).gather(
        rng.choice(len(PROCEDURES), size=pick.height, p=np.array(PROCEDURE_WEIGHTS) / sum(PROCEDURE_WEIGHTS)))
    acts = pick.select("CareContactId").with_columns(
        pl.concat_str(pl.lit("CA"), pl.int_range(1, pick.height + 1).cast(pl.String).str.zfill(6)).alias("CareActId"),
        procs.alias("Procedure"),
    ).select("CareActId", "CareContactId", "Procedure")
    out["MHS202CareActivity"] = acts
    first_act = acts.unique("CareContactId", keep="first", maintain_order=True).select("CareContactId", "CareActId")
    a607 = frames["MHS607CodedScoreAssessmentAct"]
    out["MHS607CodedScoreAssessmentAct"] = a607.drop("CareActId", strict=False).join(
        first_act, on="CareContactId", how="left", maintain_order="left")
    ind = frames["MHS204IndirectActivity"]
    keys = ["ServiceRequestId", "IndirectActDate", "IndirectActTime"]
    distinct = ind.select(keys).unique(maintain_order=True)  # exact duplicate rows stay exact
    coded = pl.Series(rng.random(distinct.height) < 0.3)
    ind_procs = pl.Series(PROCEDURES, dtype=pl.String).gather(rng.integers(0, len(PROCEDURES), distinct.height))
    distinct = distinct.with_columns(pl.when(pl.lit(coded)).then(pl.lit(ind_procs)).alias("IndActProcedure"))
    out["MHS204IndirectActivity"] = ind.drop("IndActProcedure", strict=False).join(
        distinct, on=keys, how="left", maintain_order="left", nulls_equal=True)

    # Care plans: half the people with two attended contacts on a referral get one plan, created
    # at the second contact and updated up to two months later; 85% of plans are agreed.
    second = (
        attended.sort("ServiceRequestId", "CareContDate").group_by("ServiceRequestId", maintain_order=True)
        .agg(pl.col("CareContDate").get(1, null_on_oob=True).alias("created"))
        .drop_nulls("created")
        .join(ref.select("ServiceRequestId", "LocalPatientId"), on="ServiceRequestId")
        .unique("LocalPatientId", keep="first", maintain_order=True)
    )
    planned = second.filter(pl.Series(rng.random(second.height) < 0.5))
    k = planned.height
    update = pl.Series(rng.integers(0, 61, k)).cast(pl.Int64)
    plans = planned.select(
        pl.concat_str(pl.lit("CP"), pl.int_range(1, k + 1).cast(pl.String).str.zfill(7)).alias("CarePlanID"),
        "LocalPatientId",
        pl.col("created").alias("CarePlanCreatDate"),
        pl.min_horizontal(pl.col("created") + pl.duration(days=pl.lit(update)), pl.lit(end)).alias(
            "CarePlanLastUpdateDate"),
    )
    out["MHS008CarePlanType"] = plans
    agreed = plans.filter(pl.Series(rng.random(k) < 0.85))
    out["MHS009CarePlanAgreement"] = agreed.select("CarePlanID", pl.col("CarePlanCreatDate").alias("CarePlanAgreedDate"))
    return out


def write_snomed(out: Path) -> Path:
    """A tiny synthetic RF2 release (Full refset and concept files) for ``--snomed``; see the module doc."""
    out.mkdir(parents=True, exist_ok=True)
    refset = ["id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId"]
    concepts = ["id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId"]
    for i, (cid, rid, first, joined) in enumerate(CONCEPTS, start=1):
        refset.append(f"99900{i:03d}-0000-0000-0000-000000000000\t{joined}\t1\t{MODULE}\t{rid}\t{cid}")
        concepts.append(f"{cid}\t{first}\t1\t{MODULE}\t900000000000074008")
    concepts.append(f"{NOT_IN_REFSETS}\t20190401\t1\t{MODULE}\t900000000000074008")
    (out / "der2_Refset_SimpleSYNTHETICFull_GB9990001_20240901.txt").write_text("\n".join(refset) + "\n")
    (out / "sct2_Concept_SYNTHETICFull_GB9990001_20240901.txt").write_text("\n".join(concepts) + "\n")
    (out / "README.md").write_text(
        "# NOT REAL SNOMED CT CONTENT\n\n"
        "A made-up RF2 release in the shape recon reads with `--snomed` (waits.md section 2): one simple\n"
        "refset file and one concept file, tab-separated, Full release naming. The concept ids are\n"
        "invented (namespace 9990001 is not real) except 1085671000000109, which waits.md names; the\n"
        "refset ids are the four real MHSDS refset ids; every row, date and membership is made up.\n"
        "Written by `recon/sample/waits.py` (`make sample`). Real runs need the licensed UK Edition.\n",
        encoding="utf-8",
    )
    return out
