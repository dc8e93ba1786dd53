"""A fictional CYP mental health provider in MHSDS layout, generated with numpy and polars.

Everything is vectorised (no Python loop over people, referrals or contacts) so the same code
writes the 2,000-person demo sample in a second and the issue-7 benchmark profile
(400,000 people, ~6 million care contacts) in well under a minute. A fixed seed gives the same
bytes on every machine: the committed ``sample_data/`` is reproducible from its command line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, cast

import numpy as np
import polars as pl

from recon.codes import assessment_tools, load_codes
from recon.months import Month
from recon.tables import TABLES

EPOCH = dt.date(1970, 1, 1)

# Provider profile. These are the generator's own assumptions about a typical CYP service,
# not rules recon applies: recon reads its code lists from rules/.
TEAMS: tuple[tuple[str, str, str, float], ...] = (
    # local id, ServTeamTypeMH, ServTeamIntAgeGroup, share of referrals
    ("T01", "A06", "02", 0.30),  # community CAMHS
    ("T02", "A18", "02", 0.20),  # single point of access
    ("T03", "C10", "02", 0.15),  # community eating disorders
    ("T04", "C04", "02", 0.15),  # neurodevelopment
    ("T05", "A02", "02", 0.10),  # crisis
    ("T06", "E01", "02", 0.10),  # learning disability: excluded from the CYP outcomes cohort
)
ATTEND = (("5", 0.78), ("6", 0.04), ("7", 0.015), ("2", 0.055), ("3", 0.075), ("4", 0.045))
MECHANISM = (
    ("01", 0.60), ("02", 0.15), ("11", 0.15), ("04", 0.005), ("05", 0.015), ("09", 0.015),
    ("10", 0.015), ("12", 0.01), ("13", 0.01), ("98", 0.03),
)
SOURCES = (("A1", 0.35), ("B1", 0.1), ("B2", 0.05), ("E1", 0.2), ("D1", 0.05), ("H1", 0.1),
           ("G3", 0.05), ("M6", 0.05), ("N3", 0.05))
REASONS = (("04", 0.08), ("08", 0.05), ("10", 0.25), ("11", 0.2), ("12", 0.08), ("13", 0.06),
           ("15", 0.1), ("16", 0.06), ("17", 0.04), ("24", 0.08))
PRIORITY = (("1", 0.03), ("2", 0.1), ("3", 0.87))
CLOSE_REASON = (("01", 0.55), ("02", 0.1), ("03", 0.15), ("04", 0.1), ("05", 0.05), ("08", 0.05))
REJECT_REASON = (("01", 0.5), ("02", 0.3), ("03", 0.2))
GENDER = (("1", 0.45), ("2", 0.52), ("9", 0.03))
ETHNIC = (("A", 0.68), ("B", 0.02), ("C", 0.05), ("D", 0.02), ("E", 0.01), ("F", 0.02), ("G", 0.01),
          ("H", 0.03), ("J", 0.03), ("K", 0.01), ("L", 0.01), ("M", 0.01), ("N", 0.02), ("P", 0.01),
          ("R", 0.01), ("S", 0.02), ("Z", 0.04))
# Weights for age at the end of the data window, 0..25: mostly 4-17, some 18s, few young adults.
AGE_WEIGHTS = (0.2, 0.3, 0.4, 0.6, 1.2, 1.6, 2.0, 2.4, 2.8, 3.2, 3.8, 4.4, 5.2, 6.0, 6.6, 6.8, 6.6, 6.0,
               3.0, 1.2, 0.5, 0.3, 0.2, 0.15, 0.1, 0.1)
REFERRALS_PER_PERSON_EXTRA = 0.5  # 1 + Poisson(0.5): ~1.5 referrals per person
CONTACTS_PER_REFERRAL = 13.0  # negative binomial mean before capping by the referral's length
INDIRECT_PER_REFERRAL = 0.6
REJECTED_SHARE = 0.06
SPELL_SHARE = 0.005


@dataclass(frozen=True)
class ToolGroup:
    """Outcome measures completed together (one form) and how often a referral has one."""

    name: str
    codes: tuple[str, ...]
    share: float
    repeated: bool = True  # False: completed once, at the end (experience questionnaires)
    goals: bool = False  # True: one to three of the codes (GBO goals)


def tool_groups() -> tuple[ToolGroup, ...]:
    """Tool groups built from rules/ (codes.toml and the tool reference), not typed in here."""
    codes = load_codes()
    tools = assessment_tools()

    def of(tool: str, cyp_only: bool = True) -> tuple[str, ...]:
        f = tools.filter(pl.col("tool") == tool)
        if cyp_only:
            f = f.filter(pl.col("cyp_outcomes") == "Y")
        return tuple(f.get_column("snomed_code").to_list())

    chiesq = tools.filter(pl.col("tool").str.starts_with(codes.chiesq_tool_prefix))
    versions = sorted(set(chiesq.get_column("tool").to_list()))
    rcads = "RCADS (Revised Childrens Anxiety and Depression Scale) - "
    sdq = "Strengths and Difficulties Questionnaire (SDQ) - "
    groups = [
        ToolGroup("CGAS", codes.cgas, 0.28),
        ToolGroup("GBO", tuple(codes.gbo[:3]), 0.16, goals=True),
        ToolGroup("RCADS self", of(rcads + "Self rated"), 0.025),
        ToolGroup("RCADS parent", of(rcads + "Parent rated"), 0.025),
        ToolGroup("SDQ parent", of(sdq + "Parent rated 4 to 17 yrs"), 0.03),
        ToolGroup("SDQ self", of(sdq + "Self rated 11 to 17 yrs"), 0.015),
        ToolGroup("HoNOSCA clinician", of("HoNOS-CA (Child and Adolescent) - Clinician rated"), 0.004),
        ToolGroup("YP-CORE", of("YP-CORE", cyp_only=False)[:1], 0.015),
    ]
    groups += [
        ToolGroup(f"CHI-ESQ {v.rsplit(' - ', 1)[-1]}", of(v, cyp_only=False), 0.009, repeated=False)
        for v in versions
    ]
    return tuple(g for g in groups if g.codes)


def _pick(rng: np.random.Generator, options: Sequence[tuple[str, float]], n: int) -> pl.Series:
    values = pl.Series([o[0] for o in options], dtype=pl.String)
    p = np.array([o[1] for o in options], dtype=float)
    return values.gather(rng.choice(len(options), size=n, p=p / p.sum()))


def _where(mask: np.ndarray, then: pl.Series | None, otherwise: pl.Series | None) -> pl.Series:
    """Elementwise choice between two String series (None: null)."""
    none = pl.lit(None, dtype=pl.String)
    return pl.select(
        pl.when(pl.lit(pl.Series(mask, dtype=pl.Boolean)))
        .then(none if then is None else pl.lit(then))
        .otherwise(none if otherwise is None else pl.lit(otherwise))
    ).to_series()


def _days(day: dt.date) -> int:
    return (day - EPOCH).days


def _date(arr: np.ndarray | pl.Series) -> pl.Series:
    return pl.Series(arr).cast(pl.Int32).cast(pl.Date)


def _id_series(prefix: str, n: int, width: int) -> pl.Series:
    return pl.select(
        pl.concat_str(pl.lit(prefix), pl.int_range(1, n + 1, dtype=pl.Int64).cast(pl.String).str.zfill(width))
    ).to_series()


@lru_cache(maxsize=1)
def _valid_test_numbers() -> np.ndarray:
    """Every valid NHS number of the 999 test range, in order (modulus 11, weights 10..2)."""
    base = np.arange(999_000_000, 1_000_000_000, dtype=np.int64)
    digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    total = (digits * np.arange(10, 1, -1)).sum(axis=1)
    check = 11 - total % 11
    check[check == 11] = 0
    valid = check != 10
    numbers = base[valid] * 10 + check[valid]
    numbers.setflags(write=False)
    return cast(np.ndarray, numbers)


def _nhs_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """Distinct valid NHS numbers from the 999 test range."""
    numbers = _valid_test_numbers()
    if n > numbers.size:
        raise ValueError(f"at most {numbers.size} people (distinct test NHS numbers)")
    chosen = rng.permutation(numbers.size)[:n]
    return pl.Series(numbers[chosen]).cast(pl.String)


def _times(rng: np.random.Generator, n: int, first_hour: int, slots: int, step_minutes: int) -> pl.Series:
    minutes = first_hour * 60 + rng.integers(0, slots, n) * step_minutes
    return pl.Series(minutes.astype(np.int64) * 60_000_000_000).cast(pl.Time)


def build_tables(
    *,
    people: int = 2000,
    end_month: Month = Month(2024, 9),
    months: int = 13,
    seed: int = 7,
    provider: str = "RXX",
) -> dict[str, pl.DataFrame]:
    """Every MHSDS table for ``people`` fictional people, canonical column order and types."""
    rng = np.random.default_rng(seed)
    start = end_month.shift(-(months - 1)).start
    ws, we = _days(start), _days(end_month.end)

    # People -------------------------------------------------------------------------------
    n = people
    ages = rng.choice(len(AGE_WEIGHTS), size=n, p=np.array(AGE_WEIGHTS) / sum(AGE_WEIGHTS))
    birth = we - np.floor(ages * 365.25).astype(np.int64) - rng.integers(30, 395, n)
    gender = _pick(rng, GENDER, n)
    gender_id = _where(rng.random(n) < 0.03, _pick(rng, (("3", 0.6), ("4", 0.2), ("X", 0.2)), n), gender)
    gender_id = gender_id.replace("9", "X")
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    postcode = (
        pl.select(pl.concat_str(
            pl.lit("RV"), pl.Series(rng.integers(1, 10, n)).cast(pl.String), pl.lit(" "),
            pl.Series(rng.integers(1, 10, n)).cast(pl.String),
            pl.Series(letters[rng.integers(0, letters.size, n)]), pl.Series(letters[rng.integers(0, letters.size, n)]),
        )).to_series()
    )
    person_id = _id_series("P", n, 7)
    mpi = pl.DataFrame({
        "LocalPatientId": person_id,
        "NHSNumber": _nhs_numbers(rng, n),
        "PersonBirthDate": _date(birth),
        "Gender": gender,
        "GenderIDCode": gender_id,
        "EthnicCategory": _pick(rng, ETHNIC, n),
        "Postcode": postcode,
        "OrgIDProv": pl.Series([provider] * n, dtype=pl.String),
    })

    # Referrals ----------------------------------------------------------------------------
    per_person = 1 + rng.poisson(REFERRALS_PER_PERSON_EXTRA, n)
    m = int(per_person.sum())
    owner = np.repeat(np.arange(n), per_person)
    received = rng.integers(ws - 150, we + 1, m)
    length = 7 + np.floor(rng.gamma(1.5, 120.0, m)).astype(np.int64)
    edge = rng.random(m)
    received_d = _date(received)
    received_d = (
        pl.select(
            pl.when(pl.lit(edge < 0.03)).then(received_d.dt.month_start())
            .when(pl.lit(edge > 0.97)).then(received_d.dt.month_end())
            .otherwise(received_d)
        ).to_series()
    )
    received = received_d.cast(pl.Int32).to_numpy().astype(np.int64)
    rejected = rng.random(m) < REJECTED_SHARE
    late = received + np.where(rejected, 14, length) < ws  # closed before the window: move it in
    received[late] = rng.integers(ws, we + 1, int(late.sum()))
    received = np.maximum(received, birth[owner] + 14)  # nobody is referred before birth
    disch = received + length
    reject_day = np.minimum(received + rng.integers(0, 15, m), we)
    disch = np.where(rejected, reject_day, disch)
    month_end_snap = rng.random(m) < 0.08
    disch_d = _date(disch)
    disch_d = pl.select(
        pl.when(pl.lit(month_end_snap & ~rejected)).then(disch_d.dt.month_end()).otherwise(disch_d)
    ).to_series()
    disch = disch_d.cast(pl.Int32).to_numpy().astype(np.int64)
    is_open = disch > we
    team_idx = rng.choice(len(TEAMS), size=m, p=np.array([t[3] for t in TEAMS]) / sum(t[3] for t in TEAMS))
    team_ids = pl.Series([t[0] for t in TEAMS], dtype=pl.String).gather(team_idx)
    team_types = pl.Series([t[1] for t in TEAMS], dtype=pl.String).gather(team_idx)
    disch_null = pl.Series(np.where(is_open, 0, disch)).cast(pl.Int32).cast(pl.Date)
    disch_null = pl.select(pl.when(pl.lit(is_open)).then(None).otherwise(disch_null)).to_series()
    ref_id = _id_series("SR", m, 8)
    referral = pl.DataFrame({
        "ServiceRequestId": ref_id,
        "LocalPatientId": person_id.gather(owner),
        "OrgIDProv": pl.Series([provider] * m, dtype=pl.String),
        "ReferralRequestReceivedDate": _date(received),
        "SourceOfReferralMH": _pick(rng, SOURCES, m),
        "PrimReasonReferralMH": _pick(rng, REASONS, m),
        "ClinRespPriorityType": _pick(rng, PRIORITY, m),
        "ServDischDate": disch_null,
        "ReferClosReason": _where(is_open, None, _pick(rng, CLOSE_REASON, m)),
        "ReferRejectionDate": pl.select(pl.when(pl.lit(rejected)).then(pl.lit(_date(reject_day)))).to_series(),
        "ReferRejectReason": _where(rejected, _pick(rng, REJECT_REASON, m), None),
        "UniqCareProfTeamLocalID": team_ids,
        "ServTeamType": team_types,
    })
    referral = referral.with_columns(
        pl.when(pl.col("ReferRejectionDate").is_not_null()).then(pl.lit("07"))
        .otherwise(pl.col("ReferClosReason")).alias("ReferClosReason")
    )

    # Some people turn 18 within days of a referral (edge of the 0-17 / 0-18 age rules).
    first_ref = referral.group_by("LocalPatientId", maintain_order=True).agg(
        pl.col("ReferralRequestReceivedDate").first().alias("first_received"))
    near18 = rng.random(n) < 0.006
    shift_days = rng.integers(-10, 11, n)
    mpi = mpi.with_columns(
        pl.when(pl.lit(near18))
        .then(first_ref.get_column("first_received").dt.offset_by("-18y") + pl.duration(days=pl.lit(shift_days)))
        .otherwise(pl.col("PersonBirthDate")).alias("PersonBirthDate")
    )

    # Care contacts ------------------------------------------------------------------------
    lo = np.maximum(received, ws)
    hi = np.minimum(disch, we)
    span = np.maximum(hi - lo, 0)
    nb_p = 2.0 / (2.0 + CONTACTS_PER_REFERRAL)
    count = rng.negative_binomial(2, nb_p, m)
    count = np.minimum(count, span // 4 + 1)
    count[rejected] = 0
    c_ref = np.repeat(np.arange(m), count)
    c = c_ref.size
    c_date = lo[c_ref] + np.floor(rng.random(c) * (span[c_ref] + 1)).astype(np.int64)
    contacts = pl.DataFrame({
        "_ref": pl.Series(c_ref, dtype=pl.Int64),
        "CareContDate": _date(c_date),
        "CareContTime": _times(rng, c, 8, 40, 15),
        "AttendStatus": _pick(rng, ATTEND, c),
        "ConsMechanismMH": _pick(rng, MECHANISM, c),
        "ClinContDurOfCareCont": pl.Series(rng.integers(2, 7, c) * 15, dtype=pl.Int64),
    }).sort("_ref", "CareContDate", "CareContTime", maintain_order=True)
    contacts = contacts.with_columns(
        _id_series("CC", c, 9).alias("CareContactId"),
        ref_id.gather(contacts.get_column("_ref")).alias("ServiceRequestId"),
        team_ids.gather(contacts.get_column("_ref")).alias("UniqCareProfTeamLocalID"),
        pl.when(pl.col("AttendStatus").is_in(["5", "6"])).then(pl.col("ClinContDurOfCareCont"))
        .alias("ClinContDurOfCareCont"),
    )

    # Indirect activity (with a few exact duplicate rows, as real extracts have) -------------
    i_count = rng.poisson(INDIRECT_PER_REFERRAL, m)
    i_count[rejected] = 0
    i_ref = np.repeat(np.arange(m), i_count)
    k = i_ref.size
    indirect = pl.DataFrame({
        "ServiceRequestId": ref_id.gather(i_ref),
        "IndirectActDate": _date(lo[i_ref] + np.floor(rng.random(k) * (span[i_ref] + 1)).astype(np.int64)),
        "IndirectActTime": _times(rng, k, 9, 32, 15),
        "DurationIndirectAct": pl.Series(rng.integers(1, 7, k) * 10, dtype=pl.Int64),
    }).unique(subset=["ServiceRequestId", "IndirectActDate", "IndirectActTime"], keep="first", maintain_order=True)
    dup_n = max(3, round(indirect.height * 0.0015)) if indirect.height else 0
    dup_rows = indirect.gather(rng.choice(indirect.height, size=dup_n, replace=False)) if dup_n else indirect.clear()
    indirect = pl.concat([indirect, dup_rows]).sort("ServiceRequestId", "IndirectActDate", "IndirectActTime",
                                                   maintain_order=True)

    # Coded scored assessments -----------------------------------------------------------
    ass_ref, ass_act = _assessments(rng, contacts)

    # Hospital spells and teams ----------------------------------------------------------
    spell_refs = np.flatnonzero((rng.random(m) < SPELL_SHARE) & ~rejected)
    spells = pl.DataFrame({
        "HospProvSpellID": _id_series("HS", spell_refs.size, 6),
        "ServiceRequestId": ref_id.gather(spell_refs),
    })
    teams = pl.DataFrame({
        "UniqCareProfTeamLocalID": [t[0] for t in TEAMS],
        "ServTeamTypeMH": [t[1] for t in TEAMS],
        "ServTeamIntAgeGroup": [t[2] for t in TEAMS],
    })
    frames = {
        "MHS001MPI": mpi,
        "MHS101Referral": referral,
        "MHS201CareContact": contacts,
        "MHS204IndirectActivity": indirect,
        "MHS606CodedScoreAssessmentRefer": ass_ref,
        "MHS607CodedScoreAssessmentAct": ass_act,
        "MHS501HospProvSpell": spells,
        "MHS902ServiceTeamDetails": teams,
    }
    # Every canonical table and column: a table or optional column the generator does not make
    # is written empty (header only) or blank, as a provider's extract without it would be.
    return {tid: frames[tid].select(pl.col(c.name).cast(c.kind.dtype) if c.name in frames[tid].columns
                                    else pl.lit(None, dtype=c.kind.dtype).alias(c.name) for c in t.columns)
            if tid in frames else t.empty()
            for tid, t in TABLES.items()}


def _assessments(
    rng: np.random.Generator, contacts: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Outcome scores with the gaps real services have.

    For each referral with an attended contact, each tool group is used with its share. A used
    group is recorded at the first attended contact and, for 60% of them, again at the last
    attended contact (paired); 15% of the repeats are instead taken soon after the first, before
    the second contact (not paired). 55% of forms are linked to the contact (MHS607), the rest to
    the referral with a completion timestamp (MHS606).
    """
    attended = contacts.filter(pl.col("AttendStatus").is_in(["5", "6"]))
    bounds = attended.group_by("ServiceRequestId", maintain_order=True).agg(
        pl.col("CareContactId").first().alias("first_id"),
        pl.col("CareContDate").first().alias("first_date"),
        pl.col("CareContactId").last().alias("last_id"),
        pl.col("CareContDate").last().alias("last_date"),
        pl.len().alias("n_att"),
    ).sort("ServiceRequestId")
    r = bounds.height
    groups = tool_groups()
    tools = assessment_tools().select("snomed_code", "min_score", "max_score", "polarity")
    # one row per (referral, group) used
    g_share = np.array([g.share for g in groups])
    used = rng.random((r, len(groups))) < g_share[None, :]
    ri, gi = np.nonzero(used)
    u = ri.size
    repeated = np.array([g.repeated for g in groups])[gi]
    two = repeated & (rng.random(u) < 0.6) & (bounds.get_column("n_att").to_numpy()[ri] >= 2)
    early = two & (rng.random(u) < 0.15)
    at_contact = (rng.random(u) < 0.55) & ~early
    n_goals = np.where(np.array([g.goals for g in groups])[gi], rng.integers(1, 4, u), 0)
    # expand each used group to its items
    items_per = np.array([len(g.codes) for g in groups])[gi]
    items_per = np.where(n_goals > 0, n_goals, items_per)
    form = np.repeat(np.arange(u), items_per)
    item_pos = np.arange(form.size) - np.repeat(np.cumsum(items_per) - items_per, items_per)
    width = max(len(g.codes) for g in groups)
    flat = pl.Series([c for g in groups for c in (*g.codes, *[""] * (width - len(g.codes)))], dtype=pl.String)
    codes = flat.gather(gi[form] * width + item_pos)
    badness = np.clip(rng.normal(0.55, 0.15, form.size), 0.05, 0.95)
    change = rng.normal(0.15, 0.17, form.size)
    items = pl.DataFrame({
        "_form": pl.Series(form, dtype=pl.Int64),
        "_b": pl.Series(ri[form], dtype=pl.Int64),
        "CodedAssToolType": codes,
        "_bad1": badness,
        "_bad2": np.clip(badness - change, 0.0, 1.0),
        "_two": two[form],
        "_early": early[form],
        "_at_contact": at_contact[form],
        "_prem": ~repeated[form],
    }).join(tools, left_on="CodedAssToolType", right_on="snomed_code", how="left")
    b = bounds.with_row_index("_b").with_columns(pl.col("_b").cast(pl.Int64))
    items = items.join(b, on="_b", how="left")

    def score(bad: str) -> pl.Expr:
        frac = pl.when(pl.col("polarity") == "Positive").then(1 - pl.col(bad)).otherwise(pl.col(bad))
        raw = pl.col("min_score") + frac * (pl.col("max_score") - pl.col("min_score"))
        return raw.round(0).clip(pl.col("min_score"), pl.col("max_score")).cast(pl.Int64).cast(pl.String)

    prem_score = pl.lit(_pick(rng, (("1", 0.6), ("2", 0.3), ("3", 0.1)), items.height))
    minutes1 = pl.Series(rng.integers(9 * 60, 17 * 60, items.height) // 5 * 5, dtype=pl.Int64)
    minutes2 = pl.Series(rng.integers(9 * 60, 17 * 60, items.height) // 5 * 5, dtype=pl.Int64)
    items = items.with_columns(
        minutes1.alias("_m1"), minutes2.alias("_m2"),
        pl.when(pl.col("_prem")).then(prem_score).otherwise(score("_bad1")).alias("_s1"),
        score("_bad2").alias("_s2"),
    )
    # PREMs are completed once, at the last attended contact.
    first = items.select(
        "ServiceRequestId", "CodedAssToolType", "_at_contact", "_form",
        pl.when(pl.col("_prem")).then(pl.col("last_id")).otherwise(pl.col("first_id")).alias("CareContactId"),
        pl.when(pl.col("_prem")).then(pl.col("last_date")).otherwise(pl.col("first_date")).alias("_date"),
        pl.col("_m1").alias("_min"),
        pl.col("_s1").alias("PersScore"),
    )
    second = items.filter(pl.col("_two")).select(
        "ServiceRequestId", "CodedAssToolType", "_at_contact", "_form",
        pl.col("last_id").alias("CareContactId"),
        pl.when(pl.col("_early"))
        .then(pl.min_horizontal(pl.col("first_date") + pl.duration(days=1), pl.col("last_date")))
        .otherwise(pl.col("last_date"))
        .alias("_date"),
        pl.when(pl.col("_early")).then(pl.col("_m1") + 30).otherwise(pl.col("_m2")).alias("_min"),
        pl.col("_s2").alias("PersScore"),
    )
    # "early" second scores sit the day after the first contact (never after the last one), so
    # before the second contact unless that came the same or the next day; they are MHS606 rows.
    scores = pl.concat([first, second])
    act = (
        scores.filter(pl.col("_at_contact"))
        .select("CareContactId", "CodedAssToolType", "PersScore")
        .unique(subset=["CareContactId", "CodedAssToolType"], keep="first", maintain_order=True)
        .sort("CareContactId", "CodedAssToolType", maintain_order=True)
    )
    ref = (
        scores.filter(~pl.col("_at_contact"))
        .select(
            "ServiceRequestId", "CodedAssToolType",
            (pl.col("_date").cast(pl.Datetime("us")) + pl.duration(minutes=pl.col("_min"))).alias("AssToolCompTimestamp"),
            "PersScore",
        )
        .unique(subset=["ServiceRequestId", "CodedAssToolType", "AssToolCompTimestamp"], keep="first",
                maintain_order=True)
        .sort("ServiceRequestId", "AssToolCompTimestamp", "CodedAssToolType", maintain_order=True)
    )
    return ref, act


def write_csv(frame: pl.DataFrame, target: Path | IO[bytes]) -> None:
    """CSV as MHSDS extracts look: ISO dates, HH:MM:SS times, blank for null."""
    frame.write_csv(target, date_format="%Y-%m-%d", time_format="%H:%M:%S", datetime_format="%Y-%m-%d %H:%M:%S")


def write_tables(tables: dict[str, pl.DataFrame], out: Path, formats: Sequence[str] = ("csv",)) -> Path:
    """One file per table named by table id, as a provider's extract (CSV and/or Parquet)."""
    out.mkdir(parents=True, exist_ok=True)
    for tid, frame in tables.items():
        if "csv" in formats:
            write_csv(frame, out / f"{tid}.csv")
        if "parquet" in formats:
            frame.write_parquet(out / f"{tid}.parquet", statistics=False)
    return out


def generate(
    out: Path,
    *,
    people: int = 2000,
    end_month: Month = Month(2024, 9),
    months: int = 13,
    seed: int = 7,
    provider: str = "RXX",
    formats: tuple[str, ...] = ("csv",),
) -> Path:
    """Write a fictional provider's MHSDS-layout extract to ``out`` and return the folder."""
    unknown = [f for f in formats if f not in ("csv", "parquet")]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r} (csv or parquet)")
    tables = build_tables(people=people, end_month=end_month, months=months, seed=seed, provider=provider)
    return write_tables(tables, Path(out), formats)
