"""Record-level comparison of the local EPR extract with the pre-deadline MHSDS extract.

Table by table, on each table's record key (:mod:`recon.tables`), with vectorised joins:

- ``missing_in_extract`` / ``missing_locally``: a key on one side only;
- ``field_differs``: same key, some non-key item differs (identifying items are reported as
  differing but their values are masked);
- ``duplicate_key``: a key given more than once within one source;
- ``orphan``: a child record whose parent is absent from the same source (contact without
  referral, referral without person, assessment without contact, ...);
- ``barren``: a referral, not rejected, with no care contact and no indirect activity, that is
  either closed (discharged) or open for more than ``barren_after_days`` (default 728, 104
  weeks) at the month end with no waits event either (no referral-level assessment, no care
  plan of the person). A child simply waiting for a first contact is NOT barren: waiting is
  the waiting list's business (recon/waits_list.py), not a record to fix. See ``recon rules barren``.

Structural classes (duplicate, orphan, barren) are reported once per record whichever source
holds them, the message naming the source ("the local EPR extract", "the pre-deadline
extract" or "both extracts"): they are records to fix before the deadline either way. The owning team is the referral's ``UniqCareProfTeamLocalID``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from recon.hashkeys import surely_distinct
from recon.reconcile.model import FieldChange, RecordClass, RecordDifference
from recon.tables import TABLES, Table, key_expr

MASK = "(masked)"

#: child table -> (child column, parent table, parent key column)
PARENTS: dict[str, tuple[str, str, str]] = {
    "MHS101Referral": ("LocalPatientId", "MHS001MPI", "LocalPatientId"),
    "MHS201CareContact": ("ServiceRequestId", "MHS101Referral", "ServiceRequestId"),
    "MHS204IndirectActivity": ("ServiceRequestId", "MHS101Referral", "ServiceRequestId"),
    "MHS606CodedScoreAssessmentRefer": ("ServiceRequestId", "MHS101Referral", "ServiceRequestId"),
    "MHS607CodedScoreAssessmentAct": ("CareContactId", "MHS201CareContact", "CareContactId"),
    "MHS501HospProvSpell": ("ServiceRequestId", "MHS101Referral", "ServiceRequestId"),
    "MHS102OtherServiceType": ("ServiceRequestId", "MHS101Referral", "ServiceRequestId"),
    "MHS202CareActivity": ("CareContactId", "MHS201CareContact", "CareContactId"),
    "MHS008CarePlanType": ("LocalPatientId", "MHS001MPI", "LocalPatientId"),
    "MHS009CarePlanAgreement": ("CarePlanID", "MHS008CarePlanType", "CarePlanID"),
}

SIDE_NAMES = {"local": "the local EPR extract", "extract": "the pre-deadline extract",
              "both": "both extracts"}

MESSAGES: dict[RecordClass, str] = {
    RecordClass.MISSING_IN_EXTRACT: "in the local EPR extract but not in the pre-deadline extract",
    RecordClass.MISSING_LOCALLY: "in the pre-deadline extract but not in the local EPR extract",
    RecordClass.FIELD_DIFFERS: "differs between the local EPR extract and the pre-deadline extract",
    RecordClass.DUPLICATE_KEY: "the record key is given more than once",
    RecordClass.ORPHAN: "its parent record is missing",
    RecordClass.BARREN: "referral closed, or open for a long time, with no activity at all",
}

ACTIONS: dict[RecordClass, str] = {
    RecordClass.MISSING_IN_EXTRACT: "Check the record reached the submission; resubmit it before the deadline.",
    RecordClass.MISSING_LOCALLY: "Check whether it was deleted or merged in the EPR; correct the EPR or the submission.",
    RecordClass.FIELD_DIFFERS: "Confirm which value is right, correct the EPR and resubmit.",
    RecordClass.DUPLICATE_KEY: "Remove or merge the duplicate so each key is given once.",
    RecordClass.ORPHAN: "Add the missing parent record or remove this one.",
    RecordClass.BARREN: "Record the activity that took place, or close or reject the referral.",
}
BARREN_ACTIONS = {
    "closed": "Record the contacts or indirect activity that took place before discharge, or record the referral "
              "as rejected if it was never accepted.",
    "open": "Check whether the child is still waiting: book a first contact, or close the referral if it is no "
            "longer needed.",
}
BARREN_AFTER_DAYS = 728  # default of [waits] barren_after_days
BARREN_RULE = "REC010"  # documents the class in `recon rules`

_FIELDS = pl.List(pl.Struct({"column": pl.String, "local": pl.String, "extract": pl.String}))
_ROWS = pl.Schema({  # type: ignore[arg-type]
    "class": pl.String, "table": pl.String, "key": pl.String, "side": pl.String,
    "ServiceRequestId": pl.String, "CareContactId": pl.String, "LocalPatientId": pl.String,
    "count": pl.Int64, "parent": pl.String, "fields": _FIELDS, "detail": pl.String,
})


@dataclass(frozen=True)
class RecordComparison:
    """Record differences plus, per difference, the referral and person it belongs to.

    ``links`` columns: exception_id, class, table, key, ServiceRequestId, LocalPatientId, team.
    """

    differences: tuple[RecordDifference, ...]
    links: pl.DataFrame

    def by_class(self) -> dict[RecordClass, int]:
        out: dict[RecordClass, int] = {}
        for d in self.differences:
            out[d.record_class] = out.get(d.record_class, 0) + 1
        return out


def exception_id(record_class: str, table: str, key: str, columns: Iterable[str] = ()) -> str:
    """Stable id: the first 12 hex digits of sha256(class|table|key|sorted columns)."""
    text = "|".join([record_class, table, key, ",".join(sorted(columns))])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _text(col: str, dtype: pl.DataType) -> pl.Expr:
    c = pl.col(col)
    if dtype == pl.Date:
        return c.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return c.dt.to_string("%Y-%m-%d %H:%M:%S")
    if dtype == pl.Time:
        return c.dt.to_string("%H:%M:%S")
    return c.cast(pl.String)


def _links(t: Table) -> list[pl.Expr]:
    return [
        (pl.col(c).cast(pl.String) if c in t.names else pl.lit(None, pl.String)).alias(c)
        for c in ("ServiceRequestId", "CareContactId", "LocalPatientId")
    ]


def _rows(frame: pl.LazyFrame, t: Table, cls: RecordClass, side: str, **extra: pl.Expr) -> pl.LazyFrame:
    """Difference rows in the common _ROWS layout."""
    cols = {
        "class": pl.lit(cls.value), "table": pl.lit(t.id), "key": pl.col("_key"), "side": pl.lit(side),
        "count": pl.lit(None, pl.Int64), "parent": pl.lit(None, pl.String),
        "fields": pl.lit(None, _FIELDS), "detail": pl.lit(None, pl.String),
    }
    cols.update(extra)
    link = {e.meta.output_name(): e for e in _links(t)}
    return frame.select(*[(link[n] if n in link else cols[n]).alias(n) for n in _ROWS.names()]).cast(
        dict(_ROWS)  # type: ignore[arg-type]
    )


def _frame(tables: Mapping[str, pl.DataFrame], t: Table) -> pl.LazyFrame:
    f = tables.get(t.id)
    if f is None:
        f = t.empty()
    missing = [c for c in t.names if c not in f.columns]
    lf = f.lazy()
    if missing:
        lf = lf.with_columns(pl.lit(None, t.schema[c]).alias(c) for c in missing)
    return lf.select(t.names).with_columns(key_expr(t).alias("_key"))


def barren(src: Mapping[str, pl.DataFrame], referrals: pl.LazyFrame, as_at: dt.date | None,
           after_days: int) -> pl.LazyFrame:
    """Barren referrals of one source, with ``detail`` "closed" or "open" (module docstring).

    Without ``as_at`` only closed referrals can be barren."""
    active = pl.concat([
        _frame(src, TABLES["MHS201CareContact"]).select("ServiceRequestId"),
        _frame(src, TABLES["MHS204IndirectActivity"]).select("ServiceRequestId"),
    ]).unique()
    quiet = referrals.filter(pl.col("ReferRejectionDate").is_null()).join(active, on="ServiceRequestId", how="anti")
    closed = quiet.filter(pl.col("ServDischDate").is_not_null()).with_columns(pl.lit("closed").alias("_detail"))
    if as_at is None:
        return closed
    assessed = _frame(src, TABLES["MHS606CodedScoreAssessmentRefer"]).select("ServiceRequestId").unique()
    planned = _frame(src, TABLES["MHS008CarePlanType"]).select("LocalPatientId").unique()
    stale = (
        quiet.filter(pl.col("ServDischDate").is_null()
                     & (pl.col("ReferralRequestReceivedDate") < pl.lit(as_at) - pl.duration(days=after_days)))
        .join(assessed, on="ServiceRequestId", how="anti")
        .join(planned, on="LocalPatientId", how="anti")
        .with_columns(pl.lit("open").alias("_detail"))
    )
    return pl.concat([closed, stale])


def _table_rows(t: Table, local: Mapping[str, pl.DataFrame], extract: Mapping[str, pl.DataFrame],
                parents: Mapping[str, tuple[pl.DataFrame, pl.DataFrame]], as_at: dt.date | None = None,
                barren_after_days: int = BARREN_AFTER_DAYS) -> list[pl.DataFrame]:
    """Every difference row of one table (small frames: only the records that differ)."""
    lo, ex = _frame(local, t).collect(), _frame(extract, t).collect()
    out: list[pl.LazyFrame] = []
    firsts: list[pl.LazyFrame] = []
    for side, full in (("local", lo), ("extract", ex)):
        if surely_distinct(full.get_column("_key")):  # the usual case: no need to group millions of rows
            firsts.append(full.lazy())
            continue
        n = full.group_by("_key").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1)
        if n.height == 0:  # a hash collision, not a repeated key
            firsts.append(full.lazy())
            continue
        dup = full.lazy().join(n.lazy(), on="_key", how="inner").unique("_key", keep="first")
        out.append(_rows(dup, t, RecordClass.DUPLICATE_KEY, side, count=pl.col("_n").cast(pl.Int64)))
        firsts.append(full.unique("_key", keep="first").lazy())
    lo1, ex1 = firsts
    out.append(_rows(lo1.join(ex1, on="_key", how="anti"), t, RecordClass.MISSING_IN_EXTRACT, "local"))
    out.append(_rows(ex1.join(lo1, on="_key", how="anti"), t, RecordClass.MISSING_LOCALLY, "extract"))
    compared = [c for c in t.names if c not in t.key]
    if compared:
        # one hash anti-join on every item finds the (few) records whose values differ
        changed = lo1.join(ex1, on=["_key", *compared], how="anti", nulls_equal=True)
        both = changed.join(ex1, on="_key", how="inner", suffix="_ext").collect().lazy()
        schema = t.schema
        changes = [
            both.filter(~pl.col(c).eq_missing(pl.col(f"{c}_ext"))).select(
                pl.col("_key"),
                pl.struct(
                    pl.lit(c).alias("column"),
                    (pl.when(pl.col(c).is_null()).then(None).otherwise(pl.lit(MASK)) if t.column(c).identifying
                     else _text(c, schema[c])).alias("local"),
                    (pl.when(pl.col(f"{c}_ext").is_null()).then(None).otherwise(pl.lit(MASK))
                     if t.column(c).identifying else _text(f"{c}_ext", schema[c])).alias("extract"),
                ).alias("change"),
            )
            for c in compared
        ]
        per_key = pl.concat(changes, how="vertical").group_by("_key", maintain_order=True).agg(
            pl.col("change").alias("fields")
        )
        differing = both.join(per_key, on="_key", how="inner")
        out.append(_rows(differing, t, RecordClass.FIELD_DIFFERS, "both", fields=pl.col("fields")))
    if t.id in PARENTS:
        child_col, parent_id, _ = PARENTS[t.id]
        for (side, f), keys in zip((("local", lo1), ("extract", ex1)), parents[parent_id], strict=True):
            orphans = f.filter(pl.col(child_col).is_not_null()).join(
                keys.lazy().rename({"_parent": child_col}), on=child_col, how="anti")
            out.append(_rows(orphans, t, RecordClass.ORPHAN, side, parent=pl.lit(parent_id)))
    if t.id == "MHS101Referral":
        for side, src, f in (("local", local, lo1), ("extract", extract, ex1)):
            out.append(_rows(barren(src, f, as_at, barren_after_days), t, RecordClass.BARREN, side,
                             detail=pl.col("_detail")))
    return pl.collect_all(out)


def _parent_keys(tables: Mapping[str, pl.DataFrame], parent_id: str, column: str) -> pl.DataFrame:
    return _frame(tables, TABLES[parent_id]).select(pl.col(column).alias("_parent")).unique().collect()


def _message(cls: RecordClass, table: str, side: str, count: int | None, parent: str | None,
             fields: tuple[FieldChange, ...], detail: str | None = None,
             after_days: int = BARREN_AFTER_DAYS) -> str:
    where = SIDE_NAMES.get(side, side)
    if cls is RecordClass.FIELD_DIFFERS:
        return f"{', '.join(f.column for f in fields)} differ{'s' if len(fields) == 1 else ''} between the local EPR extract and the pre-deadline extract"
    if cls is RecordClass.DUPLICATE_KEY:
        return f"the key is given {count} times in {where}"
    if cls is RecordClass.ORPHAN:
        return f"its {parent} record is missing from {where}"
    if cls is RecordClass.BARREN:
        if detail == "open":
            return (f"referral open for more than {after_days} days with no contact, indirect activity, assessment "
                    f"or care plan in {where} ({BARREN_RULE})")
        return f"referral discharged with no care contact and no indirect activity in {where} ({BARREN_RULE})"
    return MESSAGES[cls]


def compare_records(local: Mapping[str, pl.DataFrame], extract: Mapping[str, pl.DataFrame], *,
                    as_at: dt.date | None = None, barren_after_days: int = BARREN_AFTER_DAYS) -> RecordComparison:
    """Every record difference between two sets of canonical MHSDS tables (``Extract.tables``).

    ``as_at`` (the reporting month's end) lets a long-open referral with nothing recorded be
    barren; without it only discharged referrals with no activity are."""
    parents = {
        pid: (_parent_keys(local, pid, col), _parent_keys(extract, pid, col))
        for pid, col in {(p, c) for _, p, c in PARENTS.values()}
    }
    found_rows: list[pl.DataFrame] = []
    for t in TABLES.values():
        lo, ex = local.get(t.id), extract.get(t.id)
        if (lo is None or lo.height == 0) and (ex is None or ex.height == 0):
            continue
        found_rows += _table_rows(t, local, extract, parents, as_at, barren_after_days)
    if not found_rows:
        return RecordComparison((), pl.DataFrame(schema=_LINKS))
    rows = pl.concat(found_rows, how="vertical").lazy()
    # Structural classes found on both sides become one row naming "both".
    rows = rows.group_by(["class", "table", "key"], maintain_order=True).agg(
        pl.when(pl.col("side").n_unique() > 1).then(pl.lit("both")).otherwise(pl.col("side").first()).first()
        .alias("side"),
        pl.col("ServiceRequestId").drop_nulls().first(),
        pl.col("CareContactId").drop_nulls().first(),
        pl.col("LocalPatientId").drop_nulls().first(),
        pl.col("count").max(),
        pl.col("parent").first(),
        pl.col("fields").first(),
        pl.col("detail").drop_nulls().first(),
    )
    found = _attach_team(rows, local, extract).collect()
    order = {tid: i for i, tid in enumerate(TABLES)}
    cls_order = {c.value: i for i, c in enumerate(RecordClass)}
    found = found.with_columns(
        pl.col("table").replace_strict(order, default=99).alias("_t"),
        pl.col("class").replace_strict(cls_order, default=99).alias("_c"),
    ).sort(["_t", "_c", "key"]).drop("_t", "_c")
    diffs: list[RecordDifference] = []
    ids: list[str] = []
    for r in found.iter_rows(named=True):  # building the result objects only
        cls = RecordClass(r["class"])
        fields = tuple(FieldChange(f["column"], f["local"], f["extract"]) for f in (r["fields"] or ()))
        eid = exception_id(cls.value, r["table"], r["key"], (f.column for f in fields))
        ids.append(eid)
        diffs.append(RecordDifference(
            exception_id=eid, table=r["table"], key=r["key"], record_class=cls, team=r["team"], fields=fields,
            message=_message(cls, r["table"], r["side"], r["count"], r["parent"], fields, r["detail"],
                             barren_after_days),
            action=BARREN_ACTIONS.get(r["detail"] or "", ACTIONS[cls]) if cls is RecordClass.BARREN else ACTIONS[cls],
        ))
    links = found.select(
        pl.Series("exception_id", ids, dtype=pl.String), "class", "table", "key", "side", "ServiceRequestId",
        "LocalPatientId", "team",
    )
    return RecordComparison(tuple(diffs), links)


_LINKS = pl.Schema({
    "exception_id": pl.String, "class": pl.String, "table": pl.String, "key": pl.String, "side": pl.String,
    "ServiceRequestId": pl.String, "LocalPatientId": pl.String, "team": pl.String,
})


def _attach_team(rows: pl.LazyFrame, local: Mapping[str, pl.DataFrame],
                 extract: Mapping[str, pl.DataFrame]) -> pl.LazyFrame:
    """Fill ServiceRequestId (via the contact), LocalPatientId and team from the referral; local first.

    Only the contacts, referrals and people the differences name are looked up."""
    small = rows.collect()
    wanted_cc = small.get_column("CareContactId").drop_nulls().unique()
    contacts = pl.concat([
        _frame(local, TABLES["MHS201CareContact"]).select("CareContactId", "ServiceRequestId"),
        _frame(extract, TABLES["MHS201CareContact"]).select("CareContactId", "ServiceRequestId"),
    ]).filter(pl.col("CareContactId").is_in(wanted_cc.implode())).unique(
        "CareContactId", keep="first", maintain_order=True
    ).rename({"ServiceRequestId": "_sr_c"}).collect()
    wanted_sr = pl.concat([small.get_column("ServiceRequestId"), contacts.get_column("_sr_c")]).drop_nulls().unique()
    wanted_p = small.get_column("LocalPatientId").drop_nulls().unique()
    referrals = pl.concat([
        _frame(local, TABLES["MHS101Referral"]).select("ServiceRequestId", "LocalPatientId", "UniqCareProfTeamLocalID",
                                                       "ReferralRequestReceivedDate"),
        _frame(extract, TABLES["MHS101Referral"]).select("ServiceRequestId", "LocalPatientId",
                                                         "UniqCareProfTeamLocalID", "ReferralRequestReceivedDate"),
    ]).filter(
        pl.col("ServiceRequestId").is_in(wanted_sr.implode()) | pl.col("LocalPatientId").is_in(wanted_p.implode())
    ).unique("ServiceRequestId", keep="first", maintain_order=True)
    rows = small.lazy()
    contacts_lf = contacts.lazy()
    by_referral = referrals.select(
        "ServiceRequestId", pl.col("LocalPatientId").alias("_p_r"), pl.col("UniqCareProfTeamLocalID").alias("_team_r")
    )
    by_person = (
        referrals.filter(pl.col("UniqCareProfTeamLocalID").is_not_null())
        .sort(["LocalPatientId", "ReferralRequestReceivedDate", "ServiceRequestId"], descending=[False, True, False])
        .group_by("LocalPatientId").agg(pl.col("UniqCareProfTeamLocalID").first().alias("_team_p"))
    )
    out = (
        rows.join(contacts_lf, on="CareContactId", how="left")
        .with_columns(pl.coalesce("ServiceRequestId", "_sr_c").alias("ServiceRequestId"))
        .join(by_referral, on="ServiceRequestId", how="left")
        .with_columns(pl.coalesce("LocalPatientId", "_p_r").alias("LocalPatientId"))
        .join(by_person, on="LocalPatientId", how="left")
        .with_columns(
            pl.when(pl.col("table") == "MHS902ServiceTeamDetails").then(pl.col("key"))
            .when(pl.col("table") == "MHS001MPI").then(pl.col("_team_p"))
            .otherwise(pl.col("_team_r")).alias("team")
        )
        .drop("_sr_c", "_p_r", "_team_r", "_team_p")
    )
    return out


__all__ = ["ACTIONS", "MASK", "PARENTS", "RecordComparison", "compare_records", "exception_id"]
