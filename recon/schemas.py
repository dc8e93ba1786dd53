"""Validation rules (``rules/validation.toml``) and the pandera schemas that apply them per table.

The rules file is parsed once into frozen dataclasses; severities come from it, never from
code. Single-table checks are pandera (polars backend) schemas run on eager frames, so the
data itself is checked (lazy frames would only get schema-level checks by default); each
check is tagged with its rule id through pandera's ``error`` so a failure case maps back to
the rule. Cross-table checks live in :mod:`recon.validation`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import polars as pl

from recon.codes import Codes, assessment_tools, load_codes
from recon.errors import RulesError
from recon.findings import Severity
from recon.hashkeys import surely_distinct
from recon.months import Month
from recon.nhs_number import valid_expr
from recon.rules_files import RulesSource, read_toml, rules_file
from recon.tables import Kind, Table

if TYPE_CHECKING:
    import pandera.polars as pa

STAGES = ("validation", "reader", "mapping", "published", "reconcile")
NUMERIC_SCORE = r"^-?\d+(\.\d+)?$"
NHS_NUMBER_FORMAT = r"^\d{10}$"


@dataclass(frozen=True)
class Rule:
    """One rule: stable id, severity, where it applies and what it means."""

    id: str
    stage: str  # validation | reader | mapping | published | reconcile
    severity: Severity
    tables: tuple[str, ...]  # () = any table
    column: str | None  # None = any item / the whole file
    title: str
    doc: str
    stops: bool = False  # stops the run (exit 2) instead of producing a finding


@dataclass(frozen=True)
class ValidationRules:
    rules: tuple[Rule, ...]
    by_id: MappingProxyType[str, Rule]

    def rule(self, rule_id: str) -> Rule:
        return self.by_id[rule_id]

    def severity(self, rule_id: str) -> Severity:
        return self.by_id[rule_id].severity


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"rules/validation.toml: {where} must be a list of text values")
    return tuple(value)


def load_rules(path: Path | None = None) -> ValidationRules:
    """Parse rules/validation.toml (or ``path``) once; any structural problem is a RulesError (exit 2)."""
    return _load_rules(path or rules_file("validation.toml"))


@lru_cache(maxsize=4)
def _load_rules(path: Path | RulesSource) -> ValidationRules:
    doc = read_toml(path, "rules/validation.toml")
    rules: list[Rule] = []
    for i, r in enumerate(doc.get("rule", [])):
        where = f"rule {r.get('id', f'#{i + 1}')}"
        try:
            rule = Rule(
                id=str(r["id"]),
                stage=str(r["stage"]),
                severity=Severity(r["severity"]),
                tables=_str_tuple(r.get("tables", []), f"{where} tables"),
                column=str(r.get("column") or "") or None,
                title=str(r["title"]),
                doc=" ".join(str(r["doc"]).split()),
                stops=bool(r.get("stops", False)),
            )
        except KeyError as exc:
            raise RulesError(f"rules/validation.toml: {where} lacks {exc.args[0]!r}") from None
        except ValueError:
            raise RulesError(f"rules/validation.toml: {where} severity must be error, warning or info") from None
        if rule.stage not in STAGES:
            raise RulesError(f"rules/validation.toml: {where} stage must be one of {', '.join(STAGES)}")
        rules.append(rule)
    by_id = {r.id: r for r in rules}
    if len(by_id) != len(rules):
        dup = next(r.id for r in rules if sum(x.id == r.id for x in rules) > 1)
        raise RulesError(f"rules/validation.toml: rule id {dup} is used twice")
    return ValidationRules(tuple(rules), MappingProxyType(by_id))


def rule_severity(rule_id: str) -> Severity:
    """Severity of a rule as the rules file says (used by the extract reader's findings)."""
    return load_rules().severity(rule_id)


# ---------------------------------------------------------------- expressions


def nhs_number_check_ok(col: pl.Expr) -> pl.Expr:
    """Modulus-11 check (recon.nhs_number); True for nulls and non-10-digit text (those are the
    format rule's business)."""
    return col.is_null() | ~col.str.contains(NHS_NUMBER_FORMAT) | valid_expr(col)


def date_upper_bound(kind: Kind, month: Month) -> dt.date | dt.datetime:
    """The last plausible instant of the reporting month, in the column's own type."""
    if kind is Kind.DATETIME:
        return dt.datetime.combine(month.end, dt.time.max)
    return month.end


def keys_surely_unique(frame: pl.DataFrame, table: Table) -> bool:
    """True when the record keys are certainly distinct (:func:`recon.hashkeys.surely_distinct`);
    False sends validation to the full (slower) pandera uniqueness check."""
    key = pl.col(table.key[0]) if len(table.key) == 1 else pl.struct(list(table.key))
    return surely_distinct(frame.select(key.alias("k")).to_series())


# ---------------------------------------------------------------- pandera schemas


def _tagged(rules: ValidationRules, table: Table, rule_id: str) -> str:
    """The rule id used as a pandera check's error tag; checks the rule exists and applies here."""
    rule = rules.rule(rule_id)
    if rule.tables and table.id not in rule.tables:
        raise RulesError(f"rules/validation.toml: {rule_id} does not list table {table.id}")
    return rule_id


def table_schema(
    table: Table,
    month: Month,
    *,
    rules: ValidationRules | None = None,
    codes: Codes | None = None,
    check_key_unique: bool = True,
) -> pa.DataFrameSchema:
    """The pandera schema of one MHSDS table for one reporting month.

    Types and nullability come from :mod:`recon.tables`; code lists from rules/codes.toml;
    tool codes from rules/reference/assessment_tools.csv. Every check carries its rule id.
    ``check_key_unique=False`` drops the key uniqueness check, for callers that have already
    proven the keys distinct (see :func:`keys_surely_unique`).
    """
    import pandera.polars as pa

    rules = rules or load_rules()
    codes = codes or load_codes()

    def tag(column: str, rule_id: str) -> str:
        rule = _tagged(rules, table, rule_id)
        if rules.rule(rule).column not in (None, column) and rules.rule(rule).tables:
            raise RulesError(f"rules/validation.toml: {rule} is documented for column "
                             f"{rules.rule(rule).column}, but checks {table.id}.{column}")
        return rule

    columns: dict[str, pa.Column] = {}
    for c in table.columns:
        checks: list[pa.Check] = []
        if c.kind in (Kind.DATE, Kind.DATETIME):
            low: dt.date | dt.datetime = codes.plausible_from
            if c.kind is Kind.DATETIME:
                low = dt.datetime.combine(codes.plausible_from, dt.time())
            checks.append(pa.Check.ge(low, error=tag(c.name, "VAL007")))
            checks.append(pa.Check.le(date_upper_bound(c.kind, month), error=tag(c.name, "VAL008")))
        checks += _item_checks(table, c.name, codes, tag)
        unique = check_key_unique and len(table.key) == 1 and table.key[0] == c.name
        columns[c.name] = pa.Column(c.kind.dtype, checks, nullable=not c.required, unique=unique)
    frame_checks: list[pa.Check] = []
    if table.id == "MHS101Referral":
        frame_checks.append(pa.Check(
            lambda data: data.lazyframe.select(
                pl.col("ServDischDate").is_null()
                | pl.col("ReferralRequestReceivedDate").is_null()
                | (pl.col("ServDischDate") >= pl.col("ReferralRequestReceivedDate"))
            ),
            error=tag("ServDischDate", "VAL015"),
        ))
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        unique=list(table.key) if check_key_unique and len(table.key) > 1 else None,
        name=table.id,
    )


def _item_checks(table: Table, column: str, codes: Codes, tag: Any) -> list[pa.Check]:
    import pandera.polars as pa

    checks: list[pa.Check] = []
    if table.id == "MHS201CareContact":
        if column == "AttendStatus":
            checks.append(pa.Check.isin(list(codes.attendance_valid), error=tag(column, "VAL003")))
        elif column == "ConsMechanismMH":
            checks.append(pa.Check.isin(list(codes.mechanism_valid), error=tag(column, "VAL004")))
        elif column == "ClinContDurOfCareCont":
            checks.append(pa.Check.ge(0, error=tag(column, "VAL021")))
    elif table.id == "MHS204IndirectActivity" and column == "DurationIndirectAct":
        checks.append(pa.Check.ge(0, error=tag(column, "VAL021")))
    elif table.id == "MHS001MPI" and column == "NHSNumber":
        checks.append(pa.Check.str_matches(NHS_NUMBER_FORMAT, error=tag(column, "VAL005")))
        checks.append(pa.Check(
            lambda data: data.lazyframe.select(nhs_number_check_ok(pl.col(data.key))),
            error=tag(column, "VAL006"),
        ))
    elif table.id in ("MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct"):
        if column == "PersScore":
            checks.append(pa.Check.str_matches(NUMERIC_SCORE, error=tag(column, "VAL017")))
        elif column == "CodedAssToolType":
            known = assessment_tools().get_column("snomed_code").drop_nulls().unique().to_list()
            checks.append(pa.Check.isin(known, error=tag(column, "VAL019")))
    return checks


# pandera's own check names for the checks that are not tagged with a rule id.
PANDERA_BUILTIN_RULES = {
    "not_nullable": "VAL001",
    "field_uniqueness": "VAL002",
    "multiple_fields_uniqueness": "VAL002",
}
