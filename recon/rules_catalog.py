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
KINDS = ("validation", "reader", "mapping", "published", "reconcile", "measure", "tolerance")


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
    out += [
        RuleDoc(m.id, "measure", None, m.name, f"{m.description} ({m.family}, {m.kind.value})")
        for m in catalog().measures
    ]
    out += [
        RuleDoc(t.id, "tolerance", t.severity.value, _tolerance_title(t), " ".join(t.doc.split()))
        for t in load_tolerances().all
    ]
    return tuple(out)


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


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
