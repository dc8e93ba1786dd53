"""Deliberate data problems and extract differences for the committed demo sample.

Every change is chosen by a fixed rule (first eligible record in key order), not at random, so
the same generated tables always get the same plants, and every plant is written to the
manifest (``sample_data/planted.json``) that the tests hold recon to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from recon.codes import load_codes
from recon.months import Month
from recon.tables import TABLES, key_expr

Tables = dict[str, pl.DataFrame]

NBSP_PERSON_INDEX = 4  # the fifth person's NHS number gets a trailing Windows-1252 no-break space


@dataclass
class Manifest:
    """What was planted, by kind; serialised to planted.json."""

    validation: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    published: dict[str, Any] = field(default_factory=dict)
    encoding: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, rule: str, kind: str, table: str, key: str, column: str | None, note: str) -> None:
        self.validation.append(
            {"rule": rule, "kind": kind, "table": table, "key": key, "column": column, "note": note})

    def record(self, cls: str, table: str, key: str, side: str, columns: list[str], note: str) -> None:
        self.records.append(
            {"class": cls, "table": table, "key": key, "side": side, "columns": columns, "note": note})


def _key(frame: pl.DataFrame, table: str) -> pl.Series:
    return frame.select(key_expr(TABLES[table]).alias("k")).to_series()


def _replace(frame: pl.DataFrame, mask: pl.Expr, **values: Any) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(mask).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
        for c, v in values.items()
    )


def _next_id(frame: pl.DataFrame, column: str, prefix: str, width: int, offset: int = 1) -> str:
    top = frame.get_column(column).str.strip_prefix(prefix).cast(pl.Int64, strict=False).max()
    return f"{prefix}{(top if isinstance(top, int) else 0) + offset:0{width}d}"


def in_month(col: str, month: Month) -> pl.Expr:
    return pl.col(col).is_between(month.start, month.end)


def plant_problems(tables: Tables, month: Month, manifest: Manifest) -> Tables:
    """The validation problems of the local extract (a copy is returned; inputs untouched)."""
    t = dict(tables)
    codes = load_codes()
    mpi, ref = t["MHS001MPI"], t["MHS101Referral"]
    cc, a606, a607 = t["MHS201CareContact"], t["MHS606CodedScoreAssessmentRefer"], t["MHS607CodedScoreAssessmentAct"]

    # 1. Four invalid NHS numbers: two bad check digits, one nine digits long, one eleven.
    people = mpi.get_column("LocalPatientId")
    numbers = mpi.get_column("NHSNumber")
    bad: dict[int, tuple[str, str, Callable[[str], str], str]] = {
        10: ("VAL006", "check_digit", lambda s: s[:9] + str((int(s[9]) + 1) % 10), "check digit altered"),
        20: ("VAL006", "check_digit", lambda s: s[:9] + str((int(s[9]) + 3) % 10), "check digit altered"),
        30: ("VAL005", "length", lambda s: s[:9], "nine digits (last digit lost)"),
        40: ("VAL005", "length", lambda s: s + "1", "eleven digits (digit added)"),
    }
    new_numbers = numbers.to_list()
    for i, (rule, kind, change, note) in bad.items():
        new_numbers[i] = change(new_numbers[i])
        manifest.problem(rule, f"nhs_number_{kind}", "MHS001MPI", people[i], "NHSNumber", note)
    mpi = mpi.with_columns(pl.Series("NHSNumber", new_numbers, dtype=pl.String))

    # 2. A care contact whose referral is not in MHS101Referral (orphan).
    orphan_ref = _next_id(ref, "ServiceRequestId", "SR", 8)
    orphan_id = _next_id(cc, "CareContactId", "CC", 9)
    orphan = pl.DataFrame({
        "CareContactId": [orphan_id], "ServiceRequestId": [orphan_ref], "CareContDate": [month.start.replace(day=12)],
        "CareContTime": [dt.time(10, 30)], "AttendStatus": ["5"], "ConsMechanismMH": ["01"],
        "ClinContDurOfCareCont": [45], "UniqCareProfTeamLocalID": ["T01"],
    }, schema=cc.schema)
    manifest.problem("VAL010", "orphan_contact", "MHS201CareContact", orphan_id, "ServiceRequestId",
                     "care contact whose referral is missing")
    manifest.record("orphan", "MHS201CareContact", orphan_id, "both", [], "its referral is in neither source")

    # 3. A CareContactId given twice (second copy an hour later, cancelled by the patient).
    month_cc = cc.filter(in_month("CareContDate", month) & pl.col("AttendStatus").is_in(list(codes.attended)))
    dup = month_cc.head(1).with_columns(
        (pl.col("CareContTime").cast(pl.Int64) + 3_600_000_000_000).clip(upper_bound=86_399_000_000_000).cast(pl.Time), pl.lit("2").alias("AttendStatus"),
        pl.lit(None, dtype=pl.Int64).alias("ClinContDurOfCareCont"))
    dup_id = dup.item(0, "CareContactId")
    cc = pl.concat([cc, dup, orphan]).sort("CareContactId", maintain_order=True)
    manifest.problem("VAL002", "duplicate_key", "MHS201CareContact", dup_id, "CareContactId",
                     "CareContactId given twice (second copy an hour later, AttendStatus 2)")
    manifest.record("duplicate_key", "MHS201CareContact", dup_id, "both", [], "CareContactId given twice")

    # 4. Discharge before the referral was received, on a referral with no activity.
    active = pl.concat([cc.select("ServiceRequestId"), t["MHS204IndirectActivity"].select("ServiceRequestId")])
    quiet = (
        ref.filter(pl.col("ReferRejectionDate").is_null() & pl.col("ServDischDate").is_not_null())
        .join(active, on="ServiceRequestId", how="anti").sort("ServiceRequestId")
    )
    target = quiet.item(0, "ServiceRequestId")
    ref = ref.with_columns(
        pl.when(pl.col("ServiceRequestId") == target)
        .then(pl.col("ReferralRequestReceivedDate") - pl.duration(days=9))
        .otherwise(pl.col("ServDischDate")).alias("ServDischDate"))
    manifest.problem("VAL015", "discharge_before_referral", "MHS101Referral", target, "ServDischDate",
                     "ServDischDate nine days before ReferralRequestReceivedDate")

    # 5. Scores: out of range (CGAS 101, GBO 12, RCADS -1) and one not a number, on referrals
    #    discharged in the month so they matter to the outcomes measures.
    closing = ref.filter(in_month("ServDischDate", month)).select("ServiceRequestId")
    c607 = (
        a607.join(cc.select("CareContactId", "ServiceRequestId").unique("CareContactId", keep="first"),
                  on="CareContactId").join(closing, on="ServiceRequestId").sort("CareContactId", "CodedAssToolType")
    )
    c606 = a606.join(closing, on="ServiceRequestId").sort("ServiceRequestId", "AssToolCompTimestamp")
    cgas, gbo = codes.cgas[0], list(codes.gbo)
    from recon.sample.generate import tool_groups

    rcads = [c for g in tool_groups() if g.name == "RCADS self" for c in g.codes]
    picks = [
        ("607", c607.filter(pl.col("CodedAssToolType") == cgas), "101", "VAL018", "out_of_range", "CGAS 101 (1-100)"),
        ("606", c606.filter(pl.col("CodedAssToolType").is_in(gbo)), "12", "VAL018", "out_of_range", "GBO 12 (0-10)"),
        ("607", c607.filter(pl.col("CodedAssToolType").is_in(rcads)), "-1", "VAL018", "out_of_range",
         "RCADS subscale -1"),
        ("606", c606.filter(pl.col("CodedAssToolType") == cgas), "N/A", "VAL017", "not_numeric", "CGAS 'N/A'"),
    ]
    used: set[str] = set()
    for which, candidates, score, rule, kind, note in picks:
        table = "MHS607CodedScoreAssessmentAct" if which == "607" else "MHS606CodedScoreAssessmentRefer"
        keys = _key(candidates.select(TABLES[table].names), table)
        key = next(k for k in keys if k not in used)
        used.add(key)
        if which == "607":
            a607 = _replace(a607, key_expr(TABLES[table]) == key, PersScore=score)
        else:
            a606 = _replace(a606, key_expr(TABLES[table]) == key, PersScore=score)
        manifest.problem(rule, f"score_{kind}", table, key, "PersScore", note)

    # 6. A trailing no-break space (Windows-1252 byte A0) after one NHS number: harmless once read.
    manifest.encoding.append({
        "table": "MHS001MPI", "key": people[NBSP_PERSON_INDEX], "column": "NHSNumber",
        "note": "MHS001MPI.csv is Windows-1252: byte A0 (no-break space) follows this NHS number; "
                "the reader strips it (finding SRC021, info)"})

    t.update({"MHS001MPI": mpi, "MHS101Referral": ref, "MHS201CareContact": cc,
              "MHS606CodedScoreAssessmentRefer": a606, "MHS607CodedScoreAssessmentAct": a607})
    return t


def generated_quirks(tables: Tables, manifest: Manifest) -> None:
    """Record the generator's own deliberate quirks: exact duplicate indirect activity rows."""
    ind = tables["MHS204IndirectActivity"]
    keys = _key(ind, "MHS204IndirectActivity")
    for key in sorted(set(keys.filter(keys.is_duplicated()).to_list())):
        manifest.problem("VAL002", "exact_duplicate_row", "MHS204IndirectActivity", key, None,
                         "the same indirect activity row twice (national processing de-duplicates it)")
        manifest.record("duplicate_key", "MHS204IndirectActivity", key, "both", [],
                        "exact duplicate row, same on both sides")


def derive_extract(local: Tables, month: Month, manifest: Manifest) -> Tables:
    """The pre-deadline extract: the local records as flowed before late corrections."""
    t = dict(local)
    codes = load_codes()
    cc, a606, a607, ref = (t["MHS201CareContact"], t["MHS606CodedScoreAssessmentRefer"],
                           t["MHS607CodedScoreAssessmentAct"], t["MHS101Referral"])
    planted = {p["key"] for p in manifest.validation}
    scored = a607.get_column("CareContactId").unique()
    counts = cc.group_by("CareContactId").len()
    eligible = (
        cc.filter(in_month("CareContDate", month) & pl.col("AttendStatus").is_in(list(codes.attended))
                  & pl.col("ConsMechanismMH").is_in(list(codes.mechanism_qualifying)))
        .filter(~pl.col("CareContactId").is_in(scored.implode()) & ~pl.col("CareContactId").is_in(list(planted)))
        .join(counts.filter(pl.col("len") == 1), on="CareContactId", how="semi")
        .sort("CareContactId")
    )
    ids = eligible.get_column("CareContactId")
    # 1. Three contacts not flowed (entered after the extract was taken).
    gone = [ids[i] for i in (0, 40, 80)]
    for k in gone:
        manifest.record("missing_in_extract", "MHS201CareContact", k, "local", [],
                        "contact entered after the pre-deadline extract was taken")
    # 2. Three contacts flowed with the wrong consultation mechanism (98 "other" for the real one).
    wrong = [ids[i] for i in (20, 60, 100)]
    for k in wrong:
        manifest.record("field_differs", "MHS201CareContact", k, "both", ["ConsMechanismMH"],
                        "extract says 98 (other); the local record was corrected afterwards")
    cc = _replace(cc.filter(~pl.col("CareContactId").is_in(gone)), pl.col("CareContactId").is_in(wrong),
                  ConsMechanismMH="98")

    # 3. CGAS recorded locally but not flowed: two MHS607 rows and one MHS606 row, on referrals
    #    discharged in the month.
    closing = ref.filter(in_month("ServDischDate", month)).select("ServiceRequestId")
    cgas = load_codes().cgas[0]
    c607 = (
        a607.filter(pl.col("CodedAssToolType") == cgas)
        .join(local["MHS201CareContact"].select("CareContactId", "ServiceRequestId").unique("CareContactId"),
              on="CareContactId").join(closing, on="ServiceRequestId")
    )
    k607 = [k for k in _key(c607.select(TABLES["MHS607CodedScoreAssessmentAct"].names),
                            "MHS607CodedScoreAssessmentAct").sort() if k not in planted][:2]
    c606 = a606.filter(pl.col("CodedAssToolType") == cgas).join(closing, on="ServiceRequestId")
    k606 = [k for k in _key(c606, "MHS606CodedScoreAssessmentRefer").sort() if k not in planted][:1]
    for table, keys in (("MHS607CodedScoreAssessmentAct", k607), ("MHS606CodedScoreAssessmentRefer", k606)):
        for k in keys:
            manifest.record("missing_in_extract", table, k, "local", [], "CGAS recorded locally but not flowed")
    a607 = a607.filter(~key_expr(TABLES["MHS607CodedScoreAssessmentAct"]).is_in(k607))
    a606 = a606.filter(~key_expr(TABLES["MHS606CodedScoreAssessmentRefer"]).is_in(k606))

    # 4. A late discharge: discharged in the month locally, still open in the extract.
    late = (
        ref.filter(in_month("ServDischDate", month) & pl.col("ReferRejectionDate").is_null())
        .join(cc.select("ServiceRequestId").unique(), on="ServiceRequestId", how="semi")
        .filter(~pl.col("ServiceRequestId").is_in(list(planted)))
        .sort("ServiceRequestId").item(0, "ServiceRequestId")
    )
    ref = ref.with_columns(
        pl.when(pl.col("ServiceRequestId") == late).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("ServDischDate", "ReferClosReason")
    )
    manifest.record("field_differs", "MHS101Referral", late, "both", ["ReferClosReason", "ServDischDate"],
                    "discharge keyed after the extract was taken: open in the extract")

    # 5. A referral only in the extract (deleted locally as entered in error).
    extra_id = _next_id(local["MHS101Referral"], "ServiceRequestId", "SR", 8, offset=2)
    first = ref.sort("ServiceRequestId").head(1)
    extra = first.with_columns(
        pl.lit(extra_id).alias("ServiceRequestId"),
        pl.lit(month.start.replace(day=3)).alias("ReferralRequestReceivedDate"),
        pl.lit(None, dtype=pl.Date).alias("ServDischDate"), pl.lit(None, dtype=pl.String).alias("ReferClosReason"),
        pl.lit(None, dtype=pl.Date).alias("ReferRejectionDate"),
        pl.lit(None, dtype=pl.String).alias("ReferRejectReason"),
    )
    ref = pl.concat([ref, extra])
    manifest.record("missing_locally", "MHS101Referral", extra_id, "extract", [],
                    "referral entered in error and deleted locally after the extract was taken")

    t.update({"MHS201CareContact": cc, "MHS606CodedScoreAssessmentRefer": a606,
              "MHS607CodedScoreAssessmentAct": a607, "MHS101Referral": ref})
    return t


def barren_referrals(tables: Tables) -> list[str]:
    """Referrals, not rejected, with no care contact and no indirect activity (waiting lists)."""
    active = pl.concat([tables["MHS201CareContact"].select("ServiceRequestId"),
                        tables["MHS204IndirectActivity"].select("ServiceRequestId")])
    return sorted(
        tables["MHS101Referral"].filter(pl.col("ReferRejectionDate").is_null())
        .join(active, on="ServiceRequestId", how="anti").get_column("ServiceRequestId").to_list()
    )
