"""``recon rules``: one catalogue of every rule recon applies, from the typed readers of ``rules/``.

Sources, each read by its own typed reader: rules/validation.toml (validation, reader, mapping,
published-file and reconciliation rules: :func:`recon.schemas.load_rules`), rules/measures.toml
(the measures: :func:`recon.measures.catalog.catalog`) and rules/tolerances.toml
(:func:`recon.reconcile.tolerances.load_tolerances`). A configuration's ``rules_dir`` overrides
them file by file (:mod:`recon.rules_files`). A test checks that every rule id the code can raise
is documented here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.config import load_config
from recon.measures.catalog import catalog
from recon.months import Month
from recon.reconcile.tolerances import Tolerance, load_tolerances
from recon.rules_files import using_rules_dir
from recon.schemas import load_rules

# The kinds of entry, in listing order.
KINDS = ("validation", "reader", "mapping", "published", "reconcile", "national", "measure", "tolerance")


@dataclass(frozen=True)
class RuleDoc:
    """One catalogue entry. ``kind``: one of :data:`KINDS`."""

    id: str
    kind: str
    severity: str | None
    title: str
    doc: str
    table: str | None = None
    column: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "severity": self.severity, "title": self.title,
            "doc": self.doc, "table": self.table, "column": self.column,
        }


def _tolerance_title(t: Tolerance) -> str:
    subject = ", ".join(t.measures) if t.measures else f"default {t.kind}"
    return f"Tolerance for {subject}: {t.text}"


def load_catalog(config: Path | None = None) -> tuple[RuleDoc, ...]:
    """Every rule, in file order: validation.toml, then the measures, then the tolerances; with
    the ``rules_dir`` of the configuration file ``config`` when it names one."""
    folder = load_config(config).rules_dir(Month.of(dt.date.today())) if config is not None else None
    with using_rules_dir(folder):
        return _documented()


def _documented() -> tuple[RuleDoc, ...]:
    out = [
        RuleDoc(r.id, r.stage, r.severity.value, r.title,
                r.doc + (" Stops the run (exit 2)." if r.stops else ""),
                ", ".join(r.tables) or None, r.column)
        for r in load_rules().rules
    ]
    out += national_docs()
    out += [
        RuleDoc(m.id, "measure", None, m.name, f"{m.description} ({m.family}, {m.kind.value})"
                + (f" Method: {m.method}" if m.method else ""))
        for m in catalog().measures
    ]
    out += [
        RuleDoc(t.id, "tolerance", t.severity.value, _tolerance_title(t), " ".join(t.doc.split()))
        for t in load_tolerances().all
    ]
    return tuple(out)


_CLASS_DOC = {
    "exact": "Decided exactly by recon (class A).",
    "assumed_create_date": "Compared with MHS000Header DateTimeDatSetCreate when supplied, else the time of "
                           "the run (class B).",
    "menh_dq_codes": "Fires when the value is in none of NHS England's Valid, Other or Default codes "
                     "(rules/vodim.toml; class B).",
    "code_shape": "Fires when the value holds a character other than A-Z, 0-9 or is longer than the longest "
                  "national code (class B).",
    "integer": "Fires when the value is not a non-negative integer (class B).",
    "postcode_format": "Fires when the upper-cased postcode does not match the UK postcode pattern (class B).",
    "tool_range": "Fires when the score is not a number within the tool's range in "
                  "rules/reference/assessment_tools.csv; other tools are not judged (class B).",
}
_REASON_DOC = {
    "ods": "needs NHS England's organisation tables (ODS)", "snomed": "needs SNOMED CT checks",
    "subset": "needs the ETOS's Mental Health Assessment Scale Observables subset",
    "scheme_format": "needs the finding formats of each scheme",
    "table_absent": "needs a table recon does not read; decided when its file is supplied",
    "no_code_list": "the item has no national code list in rules/",
    "format_unknown": "the item's format is in the ETOS item tabs, not in the rules table",
}


def national_docs() -> list[RuleDoc]:
    """The national MHSDS v6 rules SDCS applies (quality.md 1), kind ``national``: documented from
    rules/reference/mhsds_v6_validation_rules.csv, never raised by an id in code."""
    from recon.quality.national import load_national_rules

    out = []
    for r in load_national_rules().rules:
        how = (_CLASS_DOC.get(r.basis or "", "") if r.reason is None
               else f"Not evaluated (class C): {_REASON_DOC.get(r.reason, r.reason)}.")
        doc = (f"MHSDS v6.0 ETOS {r.vtype} rule, {r.level.lower()} level, {r.error_level}. {r.text} {how}"
               " Predicted by 'recon validate'; read back from SDCS by 'recon submission'.")
        out.append(RuleDoc(r.code, "national", r.error_level, r.message, doc, r.table,
                           r.item if r.level == "Record" else None))
    return out


def render_catalog(rules: tuple[RuleDoc, ...], console: Console) -> None:
    """A table of every rule; a single rule is shown in full."""
    if len(rules) == 1:
        r = rules[0]
        console.print(Text(f"{r.id}  {r.title}", style="bold"))
        facts = [f"kind: {r.kind}"]
        if r.severity:
            facts.append(f"severity: {r.severity}")
        if r.table:
            facts.append(f"table: {r.table}")
        if r.column:
            facts.append(f"column: {r.column}")
        console.print(Text("; ".join(facts)))
        console.print(Text(r.doc))
        return
    table = Table(title=f"{len(rules)} rules", title_justify="left")
    table.add_column("ID", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Title")
    for r in rules:
        table.add_row(Text(r.id), Text(r.kind), Text(r.severity or "-"), Text(r.title))
    console.print(table)
    console.print(Text("'recon rules ID' shows one rule in full."))


_KIND_TITLES = {
    "validation": "Validation rules (record level)",
    "reader": "Reader rules (files that cannot be read as they are)",
    "mapping": "Mapping rules (an EPR mapping that does not fit the export)",
    "published": "Published-file rules",
    "reconcile": "Reconciliation input rules",
    "national": "National MHSDS v6.0 validation rules SDCS applies (rules/reference/mhsds_v6_validation_rules.csv)",
    "measure": "Measures (rules/measures.toml)",
    "tolerance": "Tolerances (rules/tolerances.toml)",
}


def rules_markdown(rules: tuple[RuleDoc, ...]) -> str:
    """docs/rules.md: every rule id ``recon rules`` documents, by kind (kept current by a test)."""
    lines = [
        "# Rules",
        "",
        "Every rule id recon can raise or apply, as `recon rules` documents it. Generated from the rules",
        "files (`recon/rules/`); do not edit by hand: regenerate with",
        "`RECON_UPDATE_DOCS=1 .venv/bin/python -m pytest tests/test_docs.py` after changing a rules file.",
        "",
    ]
    for kind in KINDS:
        of_kind = [r for r in rules if r.kind == kind]
        if not of_kind:
            continue
        lines += [f"## {_KIND_TITLES.get(kind, kind)}", ""]
        if kind == "national":
            lines += _national_table(of_kind)
            continue
        if kind == "measure":
            lines += ["| ID | Measure | Family, kind |", "|---|---|---|"]
            lines += [f"| {r.id} | {_cell(r.title)} | {_cell(r.doc.rsplit('(', 1)[-1].rstrip(')'))} |" for r in of_kind]
            lines.append("")
            continue
        for r in of_kind:
            where = "; ".join(x for x in (r.table, r.column) if x)
            facts = ", ".join(x for x in (r.severity, where) if x)
            lines += [f"### {r.id}: {r.title}", "", f"*{facts}*" if facts else "", "", r.doc, ""]
    return "\n".join(line for i, line in enumerate(lines) if not (line == "" and i and lines[i - 1] == "")) + "\n"


def _national_table(rules: list[RuleDoc]) -> list[str]:
    """One row per national rule: how recon decides it (class A exact, B on a basis, C not, with why)."""
    from recon.quality.national import load_national_rules

    by_code = load_national_rules().by_code
    lines = ["Class A: decided exactly; B: on the stated basis; C: not decidable from one provider's extract "
             "(docs/method/quality.md).", "",
             "| Code | Error level | Table | Item | National message | Class, basis or reason |", "|---|---|---|---|---|---|"]
    for r in rules:
        n = by_code[r.id]
        how = f"{n.klass.value}, {n.basis or n.reason}"
        lines.append(f"| {r.id} | {n.error_level} | {n.short_table} | {n.item if n.level == 'Record' else ''} | "
                     f"{_cell(r.title)} | {how} |")
    return [*lines, ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
