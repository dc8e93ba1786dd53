"""Record-level validation: every finding names rule, table, record key, column and team.

Single-table checks run as pandera schemas (:mod:`recon.schemas`) on the eager canonical
frames; cross-table checks (referential integrity, dates against the referral, score ranges)
are polars joins. Both produce the same intermediate, a frame of failing row numbers tagged
with rule and column, which is turned into :class:`Finding` values in one place: keys and
teams are looked up only for failing rows, and identifying values never leave that place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.codes import assessment_tools
from recon.config import ProviderSettings
from recon.findings import Finding, Severity, has_errors
from recon.months import Month
from recon.quality.outcome import DataQuality, assess
from recon.schemas import (
    NUMERIC_SCORE,
    PANDERA_BUILTIN_RULES,
    ValidationRules,
    keys_surely_unique,
    load_rules,
    table_schema,
)
from recon.sources import Extract, SourceFile, load_extract
from recon.sources.limits import limits
from recon.tables import TABLES, Table, key_expr

_FAIL_SCHEMA = {"__idx": pl.Int64, "rule": pl.String, "column": pl.String}
MPI, REF, CON = "MHS001MPI", "MHS101Referral", "MHS201CareContact"
IND, A606, A607, SPELL = (
    "MHS204IndirectActivity", "MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct",
    "MHS501HospProvSpell",
)
OTHER, ACT, PLAN, AGREE = "MHS102OtherServiceType", "MHS202CareActivity", "MHS008CarePlanType", "MHS009CarePlanAgreement"
#: SNOMED CT procedure: a concept id (6-18 digits), optionally ":" and a refinement (waits.md section 2)
SNOMED_PROCEDURE = r"^\d{6,18}(:.*)?$"
#: ONS area code: a letter and eight digits (E08000025); waits.md reads only the first letter
ONS_AREA = r"^[A-Z]\d{8}$"


@dataclass(frozen=True)
class ValidationReport:
    """What ``recon validate`` found in one extract for one month."""

    provider: str | None
    month: Month
    files: tuple[SourceFile, ...]
    rows: AbcMapping[str, int]
    findings: tuple[Finding, ...]
    rules: ValidationRules = field(default_factory=load_rules, repr=False, compare=False)
    # National v6 rules predicted, VODIM and the DQMI estimate (recon.quality, quality.md)
    quality: DataQuality | None = None

    @property
    def exit_code(self) -> int:
        """1 for an error-level finding or a predicted SDCS rejection (quality.md 1.6)."""
        rejected = self.quality is not None and self.quality.has_rejections
        return 1 if has_errors(self.findings) or rejected else 0

    def summary(self) -> list[dict[str, Any]]:
        """One entry per (rule, table): severity, count, title and the first keys, in rule order."""
        counts: Counter[tuple[str, str]] = Counter()
        first: dict[tuple[str, str], list[str]] = {}
        severity: dict[tuple[str, str], Severity] = {}
        columns: dict[tuple[str, str], set[str]] = {}
        for f in self.findings:
            k = (f.rule_id, f.table)
            counts[k] += 1
            severity.setdefault(k, f.severity)
            if f.column:
                columns.setdefault(k, set()).add(f.column)
            keys = first.setdefault(k, [])
            if f.key is not None and len(keys) < 3 and f.key not in keys:
                keys.append(f.key)
        out = []
        for (rule_id, table), n in sorted(counts.items()):
            r = self.rules.by_id.get(rule_id)
            out.append({
                "rule_id": rule_id,
                "severity": severity[(rule_id, table)].value,
                "table": table,
                "columns": sorted(columns.get((rule_id, table), ())),
                "count": n,
                "title": r.title if r else "",
                "first_keys": first[(rule_id, table)],
            })
        return out

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "month": str(self.month),
            "files": [{"name": f.name, "table": f.table, "rows": f.rows} for f in self.files],
            "rows": dict(self.rows),
            "errors": sum(f.severity is Severity.ERROR for f in self.findings),
            "warnings": sum(f.severity is Severity.WARNING for f in self.findings),
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            **(self.quality.to_json_dict() if self.quality is not None else {}),
        }


def validate_extract(
    epr: Path, month: Month, *, mapping: str | None, settings: ProviderSettings
) -> ValidationReport:
    """Load an extract (InputError, exit 2, if unreadable) and validate every record."""
    extract = load_extract(epr, mapping, keep_text=True)
    findings = validate_tables(extract, month, settings)
    return ValidationReport(
        provider=settings.ods or extract.provider,
        month=month,
        files=extract.files,
        rows=MappingProxyType({tid: extract.rows(tid) for tid in TABLES}),
        findings=findings,
        quality=assess(extract, month, provider=settings.ods),
    )


def validate_tables(
    extract: Extract, month: Month, settings: ProviderSettings, *, rules: ValidationRules | None = None
) -> tuple[Finding, ...]:
    """All findings for an already-loaded extract: the reader's, then every validation rule's.

    ``settings`` is accepted for symmetry with the measures (no rule depends on it yet);
    ``rules`` defaults to rules/validation.toml.
    """
    rules = rules or load_rules()
    failures: dict[str, list[pl.DataFrame]] = {tid: [] for tid in TABLES}
    for tid, table in TABLES.items():
        frame = extract.tables[tid]
        if frame.height:
            failures[tid].append(_schema_failures(frame, table, month, rules))
    for tid, fails in _cross_table_failures(extract).items():
        failures[tid].append(fails)
    teams = _TeamLookup(extract)
    found: list[Finding] = [  # the reader's findings, at the severity the rules file gives
        replace(f, severity=rules.severity(f.rule_id)) if f.rule_id in rules.by_id else f
        for f in extract.findings
    ]
    for tid, parts in failures.items():
        parts = [p for p in parts if p.height]
        if parts:
            found += _to_findings(TABLES[tid], extract.tables[tid], pl.concat(parts), rules, teams)
    gap = extract.month_gap(month)
    if gap is not None:
        found.append(Finding("VAL023", rules.severity("VAL023"), "MHS201CareContact", None, "CareContDate", gap))
    unique: dict[tuple[str, str, str | None, str | None, str], Finding] = {}
    for f in found:  # duplicate-key rows would otherwise repeat the same finding
        unique.setdefault((f.rule_id, f.table, f.key, f.column, f.message), f)
    return tuple(sorted(unique.values(), key=_order))


def _order(f: Finding) -> tuple[str, str, str, str]:
    return (f.rule_id, f.table, f.key or "", f.column or "")


# ---------------------------------------------------------------- single-table checks (pandera)


def _schema_failures(frame: pl.DataFrame, table: Table, month: Month, rules: ValidationRules) -> pl.DataFrame:
    """Run the table's pandera schema (data checks included) and tag each failing row with its rule."""
    from pandera.config import ValidationDepth, config_context
    from pandera.errors import SchemaError, SchemaErrors

    schema = table_schema(table, month, rules=rules, check_key_unique=not keys_surely_unique(frame, table))
    try:
        # Data checks always run, whatever PANDERA_VALIDATION_ENABLED / _DEPTH say in the environment.
        with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = pl.DataFrame(exc.failure_cases)
    except SchemaError as exc:  # pragma: no cover - lazy=True collects, but be safe
        cases = pl.DataFrame(
            {"check": [str(exc.check)], "schema_context": [None], "column": [None], "failure_case": [None],
             "index": [None]},
            schema={"check": pl.String, "schema_context": pl.String, "column": pl.String,
                    "failure_case": pl.String, "index": pl.Int32},
        )
    else:
        return pl.DataFrame(schema=_FAIL_SCHEMA)
    known = set(rules.by_id)
    rule = (
        pl.when(pl.col("check").is_in(list(known))).then(pl.col("check"))
        .otherwise(pl.col("check").replace_strict(PANDERA_BUILTIN_RULES, default="VAL000"))
    )
    frame_rule_column = {r.id: r.column for r in rules.rules if r.column}
    column = pl.coalesce(
        pl.when(pl.col("schema_context") == "Column").then(pl.col("column")),
        pl.when(pl.col("__rule") == "VAL000").then(pl.col("failure_case"))
        .otherwise(pl.col("__rule").replace_strict(frame_rule_column, default=None)),
    )
    tagged = cases.with_columns(rule.alias("__rule")).select(
        pl.col("index").cast(pl.Int64).alias("__idx"),
        pl.col("__rule").alias("rule"),
        column.cast(pl.String).alias("column"),
    )
    # A column of the wrong type makes its other checks fail too; report the type only.
    mistyped = tagged.filter(pl.col("rule") == "VAL000").get_column("column").drop_nulls().implode()
    return tagged.filter((pl.col("rule") == "VAL000") | ~pl.col("column").is_in(mistyped).fill_null(False))


# ---------------------------------------------------------------- cross-table checks (polars)


def _indexed(extract: Extract, tid: str) -> pl.LazyFrame:
    return extract.lazy(tid).with_row_index("__idx").with_columns(pl.col("__idx").cast(pl.Int64))


def _fails(lf: pl.LazyFrame, rule: str, column: str) -> pl.LazyFrame:
    return lf.select("__idx", pl.lit(rule).alias("rule"), pl.lit(column).alias("column"))


def _cross_table_failures(extract: Extract) -> dict[str, pl.DataFrame]:
    """Referential integrity and date order across tables, as one polars plan per table."""
    ref = extract.lazy(REF)
    ref_ids = ref.select("ServiceRequestId").drop_nulls().unique()
    mpi = _indexed(extract, MPI)
    con = _indexed(extract, CON)

    def orphans(tid: str, column: str, parents: pl.LazyFrame, rule: str) -> pl.LazyFrame:
        child = _indexed(extract, tid).filter(pl.col(column).is_not_null())
        return _fails(child.join(parents, on=column, how="anti"), rule, column)

    plans: dict[str, list[pl.LazyFrame]] = {tid: [] for tid in TABLES}
    plans[REF].append(orphans(REF, "LocalPatientId", extract.lazy(MPI).select("LocalPatientId").drop_nulls().unique(),
                              "VAL011"))
    plans[IND].append(orphans(IND, "ServiceRequestId", ref_ids, "VAL012"))
    plans[A606].append(orphans(A606, "ServiceRequestId", ref_ids, "VAL013"))
    plans[A607].append(orphans(A607, "CareContactId", extract.lazy(CON).select("CareContactId").drop_nulls().unique(),
                               "VAL014"))
    plans[SPELL].append(orphans(SPELL, "ServiceRequestId", ref_ids, "VAL022"))
    _waits_input_failures(extract, plans, orphans)

    # Birth date after any of the patient's referrals: one finding per patient.
    earliest = ref.group_by("LocalPatientId").agg(pl.col("ReferralRequestReceivedDate").min().alias("__first"))
    plans[MPI].append(_fails(
        mpi.join(earliest, on="LocalPatientId", how="inner").filter(pl.col("PersonBirthDate") > pl.col("__first")),
        "VAL009", "PersonBirthDate",
    ))

    # Contacts against their referral, in one join over the largest table: no referral at all
    # (orphan), or dated before it was received or after its discharge.
    ref_dates = ref.select(
        "ServiceRequestId", "ReferralRequestReceivedDate", "ServDischDate", pl.lit(True).alias("__ref")
    ).unique("ServiceRequestId", keep="first")
    dated = con.select("__idx", "ServiceRequestId", "CareContDate").join(ref_dates, on="ServiceRequestId", how="left")
    plans[CON].append(_fails(
        dated.filter(pl.col("ServiceRequestId").is_not_null() & pl.col("__ref").is_null()), "VAL010", "ServiceRequestId"))
    plans[CON].append(_fails(dated.filter(pl.col("CareContDate") < pl.col("ReferralRequestReceivedDate")),
                             "VAL016", "CareContDate"))
    plans[CON].append(_fails(dated.filter(pl.col("CareContDate") > pl.col("ServDischDate")), "VAL020", "CareContDate"))

    # Numeric scores outside the tool's range (non-numeric scores are VAL017, unknown tools VAL019).
    tools = assessment_tools().lazy().select(
        pl.col("snomed_code").alias("CodedAssToolType"), "min_score", "max_score"
    ).unique("CodedAssToolType", keep="first")
    for tid in (A606, A607):
        scored = _indexed(extract, tid).filter(pl.col("PersScore").str.contains(NUMERIC_SCORE)).join(
            tools, on="CodedAssToolType", how="inner")
        score = pl.col("PersScore").cast(pl.Float64, strict=False)
        plans[tid].append(_fails(
            scored.filter((score < pl.col("min_score")) | (score > pl.col("max_score"))), "VAL018", "PersScore"))

    flat = [(tid, lf) for tid, lfs in plans.items() for lf in lfs if extract.tables[tid].height]
    results = pl.collect_all([lf for _, lf in flat])
    out: dict[str, list[pl.DataFrame]] = {}
    for (tid, _), df in zip(flat, results, strict=True):
        if df.height:
            out.setdefault(tid, []).append(df.cast(_FAIL_SCHEMA))  # type: ignore[arg-type]
    return {tid: pl.concat(dfs) for tid, dfs in out.items()}


def _waits_input_failures(
    extract: Extract, plans: dict[str, list[pl.LazyFrame]],
    orphans: Callable[[str, str, pl.LazyFrame, str], pl.LazyFrame],
) -> None:
    """Parents and dates of the waits inputs (waits.md section 2): team rows, care activities,
    care plans and agreements, activity-level scores linked by CareActId, SNOMED CT codes."""
    ref = extract.lazy(REF)
    ids = {
        "ServiceRequestId": ref.select("ServiceRequestId").drop_nulls().unique(),
        "CareContactId": extract.lazy(CON).select("CareContactId").drop_nulls().unique(),
        "CareActId": extract.lazy(ACT).select("CareActId").drop_nulls().unique(),
        "LocalPatientId": extract.lazy(MPI).select("LocalPatientId").drop_nulls().unique(),
        "CarePlanID": extract.lazy(PLAN).select("CarePlanID").drop_nulls().unique(),
    }
    plans[OTHER].append(orphans(OTHER, "ServiceRequestId", ids["ServiceRequestId"], "VAL030"))
    plans[ACT].append(orphans(ACT, "CareContactId", ids["CareContactId"], "VAL031"))
    if extract.tables[ACT].height:  # scores by activity only where the extract gives activities
        plans[A607].append(orphans(A607, "CareActId", ids["CareActId"], "VAL032"))
    via = extract.lazy(ACT).select("CareActId", pl.col("CareContactId").alias("__via")).unique("CareActId", keep="first")
    plans[A607].append(_fails(
        _indexed(extract, A607).join(via, on="CareActId", how="inner")
        .filter(pl.col("__via").is_not_null() & (pl.col("CareContactId") != pl.col("__via"))),
        "VAL033", "CareActId"))
    plans[PLAN].append(orphans(PLAN, "LocalPatientId", ids["LocalPatientId"], "VAL034"))
    plans[AGREE].append(orphans(AGREE, "CarePlanID", ids["CarePlanID"], "VAL035"))
    received = ref.select("ServiceRequestId", "ReferralRequestReceivedDate").unique("ServiceRequestId", keep="first")
    other = _indexed(extract, OTHER).join(received, on="ServiceRequestId", how="inner")
    for column in ("ReferClosureDate", "ReferRejectionDate"):
        plans[OTHER].append(_fails(other.filter(pl.col(column) < pl.col("ReferralRequestReceivedDate")),
                                   "VAL036", column))
    plans[PLAN].append(_fails(_indexed(extract, PLAN).filter(
        pl.col("CarePlanLastUpdateDate") < pl.col("CarePlanCreatDate")), "VAL037", "CarePlanLastUpdateDate"))
    created = extract.lazy(PLAN).select("CarePlanID", "CarePlanCreatDate").unique("CarePlanID", keep="first")
    plans[AGREE].append(_fails(_indexed(extract, AGREE).join(created, on="CarePlanID", how="inner").filter(
        pl.col("CarePlanAgreedDate") < pl.col("CarePlanCreatDate")), "VAL038", "CarePlanAgreedDate"))
    for tid, column in ((ACT, "Procedure"), (IND, "IndActProcedure")):
        plans[tid].append(_fails(_indexed(extract, tid).filter(
            pl.col(column).is_not_null() & ~pl.col(column).str.strip_chars().str.contains(SNOMED_PROCEDURE)),
            "VAL039", column))
    plans[MPI].append(_fails(_indexed(extract, MPI).filter(
        pl.col("LADistrictAuth").is_not_null() & ~pl.col("LADistrictAuth").str.strip_chars().str.contains(ONS_AREA)),
        "VAL040", "LADistrictAuth"))


# ---------------------------------------------------------------- failures to findings


class _TeamLookup:
    """The team of a record: its referral's UniqCareProfTeamLocalID, computed only for failing rows.

    Contacts fall back to their own team; assessments on activity go through their contact;
    people take the team of their most recently received referral.
    """

    def __init__(self, extract: Extract) -> None:
        self.extract = extract
        ref = extract.frame(REF)
        self.ref_team = ref.select("ServiceRequestId", pl.col("UniqCareProfTeamLocalID").alias("__team")).filter(
            pl.col("ServiceRequestId").is_not_null()).unique("ServiceRequestId", keep="first")

    def attach(self, tid: str, rows: pl.DataFrame) -> pl.DataFrame:
        if tid == REF or tid == "MHS902ServiceTeamDetails":
            return rows.with_columns(pl.col("UniqCareProfTeamLocalID").alias("__team"))
        if tid == CON:
            return rows.join(self.ref_team, on="ServiceRequestId", how="left").with_columns(
                pl.coalesce("__team", "UniqCareProfTeamLocalID").alias("__team"))
        if tid in (IND, A606, SPELL, OTHER):
            return rows.join(self.ref_team, on="ServiceRequestId", how="left")
        if tid in (A607, ACT):
            contacts = self.extract.frame(CON).select(
                "CareContactId", "ServiceRequestId", pl.col("UniqCareProfTeamLocalID").alias("__own")
            ).filter(pl.col("CareContactId").is_in(rows.get_column("CareContactId").drop_nulls().implode()))
            contacts = contacts.unique("CareContactId", keep="first").join(self.ref_team, on="ServiceRequestId", how="left")
            return rows.join(
                contacts.select("CareContactId", pl.coalesce("__team", "__own").alias("__team")),
                on="CareContactId", how="left",
            )
        if tid in (MPI, PLAN):
            latest = (
                self.extract.frame(REF)
                .filter(pl.col("LocalPatientId").is_in(rows.get_column("LocalPatientId").drop_nulls().implode()))
                .sort("ReferralRequestReceivedDate", "ServiceRequestId", nulls_last=False)
                .group_by("LocalPatientId").agg(pl.col("UniqCareProfTeamLocalID").drop_nulls().last().alias("__team"))
            )
            return rows.join(latest, on="LocalPatientId", how="left")
        return rows.with_columns(pl.lit(None, dtype=pl.String).alias("__team"))


def _to_findings(
    table: Table, frame: pl.DataFrame, fails: pl.DataFrame, rules: ValidationRules, teams: _TeamLookup
) -> list[Finding]:
    """One finding per failing (row, rule, column); values only for non-identifying columns."""
    out: list[Finding] = []
    table_level = fails.filter(pl.col("__idx").is_null())
    for rule_id, column in table_level.select("rule", "column").unique().iter_rows():
        r = rules.rule(rule_id)
        out.append(Finding(rule_id, r.severity, table.id, None, column,
                           f"{r.title}: expected {table.column(column).kind.value}"
                           if rule_id == "VAL000" and column in table.names else r.title))
    fails = fails.filter(pl.col("__idx").is_not_null()).unique(maintain_order=True)
    if not fails.height:
        return out
    rows = teams.attach(table.id, frame.with_row_index("__idx").with_columns(pl.col("__idx").cast(pl.Int64))
                        .join(fails.select("__idx").unique(), on="__idx", how="semi"))
    rows = rows.select("__idx", key_expr(table).alias("__key"), pl.col("__team").cast(pl.String), *table.names)
    for (rule_id, column), group in fails.group_by("rule", "column", maintain_order=True):
        r = rules.rule(str(rule_id))
        col = table.column(str(column)) if column in table.names else None
        value = (
            pl.col(col.name).cast(pl.String) if col is not None and not col.identifying
            else pl.lit(None, dtype=pl.String)
        )
        cap = limits().max_findings_per_rule
        if group.height > cap:  # bounded memory: the first records are listed, the rest counted
            out.append(Finding(r.id, r.severity, table.id, None, str(column) if column is not None else None,
                               f"{r.title}: {group.height:,} records in all; the first {cap:,} are listed "
                               "(limits.max_findings_per_rule)"))
            group = group.head(cap)
        picked = group.join(rows, on="__idx", how="left").select(
            "__idx", "__key", "__team", value.alias("__value")
        )
        for idx, key, team, val in picked.iter_rows():
            has_key = key is not None and key.strip("|") != ""
            message = r.title if has_key else f"{r.title} (record number {idx + 1} of the table)"
            out.append(Finding(r.id, r.severity, table.id, key if has_key else None,
                               str(column) if column is not None else None, message, val, team))
    return out
