"""The national MHSDS v6 validation rules as typed objects, parsed once from ``rules/``.

``rules/reference/mhsds_v6_validation_rules.csv`` holds the rules (quality.md 1.1);
``rules/sdcs.toml`` says which of them one provider's extract can decide and on what basis
(quality.md 1.3). A rule's logic is read from its national message, so the table stays the
only list of rules: a new ETOS version is a new CSV, not new code.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from recon.errors import RulesError
from recon.rules_files import RulesSource, read_toml, rules_file

RULES_CSV = "reference/mhsds_v6_validation_rules.csv"
PLACEHOLDER = re.compile(r"\[(M\d{6})\](\w+)=<(\w+)>")
ITEM_REF = re.compile(r"\[(M\d{6})\](\w+)")
TABLE_REF = re.compile(r"\[(MHS\d{3})\](\w+)")
IDENTIFYING = frozenset({
    "NHSNumber", "PersonBirthDate", "PersDeathDate", "Postcode", "PostcodeMainVisitor",
    "PostcodeDischDestHospProvSpell",
})
HEADER_ITEMS = frozenset({"ReportingPeriodStartDate", "ReportingPeriodEndDate", "OrgIDProvider",
                          "DateTimeDatSetCreate"})
TABLE_NAMES: Mapping[str, str] = MappingProxyType({
    "MHS000": "MHS000Header", "MHS001": "MHS001MPI", "MHS002": "MHS002GP", "MHS008": "MHS008CarePlanType",
    "MHS009": "MHS009CarePlanAgreement", "MHS101": "MHS101Referral", "MHS102": "MHS102OtherServiceType",
    "MHS201": "MHS201CareContact", "MHS202": "MHS202CareActivity", "MHS204": "MHS204IndirectActivity",
    "MHS501": "MHS501HospProvSpell", "MHS606": "MHS606CodedScoreAssessmentRefer",
    "MHS607": "MHS607CodedScoreAssessmentAct", "MHS901": "MHS901StaffDetails",
    "MHS902": "MHS902ServiceTeamDetails",
})
JUDGED = tuple(t for s, t in TABLE_NAMES.items() if s not in ("MHS000", "MHS002", "MHS901"))


class RuleClass(StrEnum):
    EXACT = "A"
    STATED_BASIS = "B"
    NOT_DECIDABLE = "C"


@dataclass(frozen=True)
class Placeholder:
    """One ``[Mtttnnn]Item=<Item>`` of a rule's text: a key SDCS prints for the record."""

    uid: str
    item: str

    @property
    def table(self) -> str:
        return "MHS" + self.uid[1:4]

    @property
    def label(self) -> str:
        return f"[{self.uid}]{self.item}"


@dataclass(frozen=True)
class NationalRule:
    """One national v6 validation rule and how recon decides it.

    ``basis`` is set for classes A and B (``exact`` for A); ``reason`` for class C.
    ``logic`` names the evaluator (blank, format, code, compare, ...), read from the message.
    """

    code: str
    table: str  # full table name, e.g. MHS201CareContact
    uid: str
    item: str
    level: str  # Record | Group
    vtype: str
    error_level: str  # Record rejected | Group rejected | Warning | Severity 1 Warning
    text: str
    placeholders: tuple[Placeholder, ...]
    message: str
    klass: RuleClass
    basis: str | None
    reason: str | None

    @property
    def short_table(self) -> str:
        return self.table[:6]

    @property
    def rejects(self) -> bool:
        return self.error_level.endswith("rejected")

    @property
    def parent(self) -> tuple[str, str] | None:
        """(parent table, key item) of a "No valid [parent] submitted for this [key]" rule."""
        m = re.search(r"No valid \[(MHS\d{3})\]\w+ submitted for this \[M\d{6}\](\w+)", self.text)
        return (TABLE_NAMES.get(m.group(1), m.group(1)), m.group(2)) if m else None

    @property
    def duplicate_keys(self) -> tuple[str, ...] | None:
        """Key items of a "More than one ... submitted for this ..." rule."""
        m = re.search(r"More than one \[MHS\d{3}\]\w+ submitted for this (.*?)(?: combination)?\.", self.text)
        return tuple(i for _, i in ITEM_REF.findall(m.group(1))) if m else None


@dataclass(frozen=True)
class SdcsConfig:
    rules_name: str
    code_list_items: Mapping[str, str]  # "Table.Item" -> VODIM measure id
    joins: Mapping[str, str]  # "Table.OtherTable" -> key item
    key_required: Mapping[str, str]
    aliases: Mapping[str, str]
    postcode_pattern: str


@dataclass(frozen=True)
class NationalRules:
    rules: tuple[NationalRule, ...]
    config: SdcsConfig

    @property
    def by_code(self) -> Mapping[str, NationalRule]:
        return MappingProxyType({r.code: r for r in self.rules})

    def of_table(self, table: str) -> tuple[NationalRule, ...]:
        return tuple(r for r in self.rules if r.table == table)

    def items(self, table: str) -> frozenset[str]:
        """Every v6 item of a table the rules name (judged items and placeholders)."""
        short = table[:6]
        out = {r.item for r in self.rules if r.table == table and r.level == "Record"}
        out |= {p.item for r in self.rules for p in r.placeholders if p.table == short}
        out |= {i for r in self.rules if r.table == table for i in (r.duplicate_keys or ())}
        return frozenset(out)


def national_message(text: str) -> str:
    """The DESCRIPTION SDCS prints: text before the first placeholder, normalised (quality.md 1.2)."""
    m = PLACEHOLDER.search(text)
    head = (text[: m.start()] if m else text).strip()
    if head.startswith("Severity 1 Warning - "):
        head = "Warning - " + head[len("Severity 1 Warning - "):]
    return head.replace("Rejected", "rejected")


def _error_level(raw: str) -> str:
    low = raw.strip().lower()
    for level in ("Record rejected", "Group rejected", "Severity 1 Warning", "Warning"):
        if low == level.lower():
            return level
    raise RulesError(f"rules/{RULES_CSV}: unknown Error Level {raw!r}")


def _classify(code: str, table: str, item: str, vtype: str, doc: Mapping[str, object]
              ) -> tuple[RuleClass, str | None, str | None]:
    nd = doc.get("not_decidable", {})
    absent = doc.get("table_absent", {})
    basis = doc.get("basis", {})
    items = doc.get("code_list_items", {})
    assert isinstance(nd, dict) and isinstance(absent, dict) and isinstance(basis, dict) and isinstance(items, dict)
    for reason, codes in nd.items():
        if code in codes:
            return RuleClass.NOT_DECIDABLE, None, str(reason)
    if code in absent:
        return RuleClass.NOT_DECIDABLE, None, "table_absent"
    for name in ("assumed_create_date", "integer", "postcode_format", "tool_range"):
        if code in basis.get(name, []):
            return RuleClass.STATED_BASIS, name, None
    coded = f"{table}.{item}" in items
    if vtype == "National Code":
        return (RuleClass.STATED_BASIS, "menh_dq_codes", None) if coded else (RuleClass.NOT_DECIDABLE, None,
                                                                             "no_code_list")
    if vtype == "Format":
        if coded:
            return RuleClass.STATED_BASIS, "code_shape", None
        if not (item.endswith(("Date", "Time", "Timestamp")) or item == "NHSNumber"):
            return RuleClass.NOT_DECIDABLE, None, "format_unknown"
    return RuleClass.EXACT, "exact", None


def load_national_rules() -> NationalRules:
    """The national rules and rules/sdcs.toml, through the rules folder in use (recon.rules_files)."""
    return _load_national_rules(rules_file("sdcs.toml"), rules_file(RULES_CSV))


@lru_cache(maxsize=4)
def _load_national_rules(sdcs: RulesSource, source: RulesSource) -> NationalRules:
    """Parse the rules CSV and rules/sdcs.toml once; a malformed file is a RulesError (exit 2)."""
    doc = read_toml(sdcs, "rules/sdcs.toml")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"rules/{RULES_CSV} cannot be read: {exc}") from None
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# Source:"):
        raise RulesError(f"rules/{RULES_CSV}: the first line must state the provenance ('# Source: ...')")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    out: list[NationalRule] = []
    try:
        for row in rows:
            code, raw_text = row["Error Code"].strip(), row["Validation Text with Action"].strip()
            table = row["Table"].strip()
            item = row["XML ELEMENT NAME"].strip()
            vtype = row["Validation Type"].strip()
            klass, basis, reason = _classify(code, table, item, vtype, doc)
            out.append(NationalRule(
                code=code, table=table, uid=row["UID / Table ID"].strip(), item=item,
                level=row["Validation Level (File, Group, Record)"].strip(), vtype=vtype,
                error_level=_error_level(row["Error Level"]), text=raw_text,
                placeholders=tuple(Placeholder(u, i) for u, i, _ in PLACEHOLDER.findall(raw_text)),
                message=national_message(raw_text), klass=klass, basis=basis, reason=reason,
            ))
        basis_doc = doc.get("basis", {})
        config = SdcsConfig(
            rules_name=str(doc.get("rules_name", "MHSDS v6.0 ETOS")),
            code_list_items=MappingProxyType({str(k): str(v) for k, v in doc.get("code_list_items", {}).items()}),
            joins=MappingProxyType({str(k): str(v) for k, v in doc.get("joins", {}).items()}),
            key_required=MappingProxyType({str(k): str(v) for k, v in doc.get("key_required", {}).items()}),
            aliases=MappingProxyType({str(k): str(v) for k, v in doc.get("aliases", {}).items()}),
            postcode_pattern=str(basis_doc["postcode_pattern"]),
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise RulesError(f"national validation rules are malformed: {type(exc).__name__}: {exc}") from None
    codes = [r.code for r in out]
    if len(codes) != len(set(codes)):
        raise RulesError(f"rules/{RULES_CSV}: an Error Code appears twice")
    return NationalRules(tuple(out), config)
