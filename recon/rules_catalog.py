"""``recon rules``: one catalogue of every rule recon applies, gathered from the files in ``rules/``.

Sources: rules/validation.toml (validation, reader and mapping rules), rules/measures.toml
(``[[measure]]``: id, name, family, kind, description) and rules/tolerances.toml (any table
carrying an ``id`` and a ``doc``). The last two are optional and read defensively: a missing
file adds nothing; a file that is not valid TOML is a RulesError (exit 2).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from recon.codes import RULES_DIR
from recon.errors import RulesError
from recon.schemas import load_rules


@dataclass(frozen=True)
class RuleDoc:
    """One catalogue entry. ``kind``: validation | reader | mapping | measure | record | tolerance."""

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


def load_catalog(rules_dir: Path | None = None) -> tuple[RuleDoc, ...]:
    """Every rule, in file order: validation.toml, then measures, then tolerances."""
    rules_dir = rules_dir or RULES_DIR
    out = [
        RuleDoc(r.id, r.stage, r.severity.value, r.title,
                r.doc + (" Stops the run (exit 2)." if r.stops else ""),
                ", ".join(r.tables) or None, r.column)
        for r in load_rules(rules_dir / "validation.toml").rules
    ]
    out += _measures(rules_dir / "measures.toml")
    out += _record_classes(rules_dir / "records.toml")
    out += _tolerances(rules_dir / "tolerances.toml")
    seen: set[str] = set()
    unique = []
    for r in out:
        if r.id not in seen:
            seen.add(r.id)
            unique.append(r)
    return tuple(unique)


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"rules/{path.name} cannot be read: {exc}") from None


def _measures(path: Path) -> list[RuleDoc]:
    doc = _read(path)
    if doc is None:
        return []
    out = []
    for m in doc.get("measure", []):
        if not isinstance(m, dict) or "id" not in m:
            continue
        family, kind = m.get("family"), m.get("kind")
        what = ", ".join(str(x) for x in (family, kind) if x)
        text = str(m.get("description", "")).strip()
        out.append(RuleDoc(str(m["id"]), "measure", None, str(m.get("name", m["id"])),
                           f"{text} ({what})" if what else text))
    return out


def _record_classes(path: Path) -> list[RuleDoc]:
    """rules/records.toml: the record classes of ``recon reconcile`` (kind "record")."""
    doc = _read(path)
    if doc is None:
        return []
    return [RuleDoc(str(c["id"]), "record", str(c.get("severity") or "") or None, str(c.get("title", c["id"])),
                    " ".join(str(c.get("doc", "")).split()))
            for c in doc.get("class", []) if isinstance(c, dict) and "id" in c]


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("id"), str) and isinstance(node.get("doc"), str):
            yield path, node
        for k, v in node.items():
            yield from _walk(v, (*path, str(k)))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)


def _tolerances(path: Path) -> list[RuleDoc]:
    doc = _read(path)
    if doc is None:
        return []
    out = []
    for where, entry in _walk(doc, ()):
        measures = entry.get("measures")
        subject = (", ".join(str(m) for m in measures) if isinstance(measures, list) and measures
                   else " ".join(p for p in where if p not in ("tolerance", "measure")))
        limits = []
        if "absolute" in entry:
            limits.append(f"±{entry['absolute']}")
        if entry.get("relative"):
            limits.append(f"{entry['relative']}%")
        title = (f"Tolerance for {subject}" if subject else "Tolerance") + (
            f": {' or '.join(limits)}" if limits else "")
        severity = entry.get("severity")
        out.append(RuleDoc(entry["id"], "tolerance", str(severity) if severity else None, title,
                           " ".join(entry["doc"].split())))
    return out


def render_catalog(catalog: tuple[RuleDoc, ...], console: Console) -> None:
    """A table of every rule; a single rule is shown in full."""
    if len(catalog) == 1:
        r = catalog[0]
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
    table = Table(title=f"{len(catalog)} rules", title_justify="left")
    table.add_column("ID", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Title")
    for r in catalog:
        table.add_row(Text(r.id), Text(r.kind), Text(r.severity or "-"), Text(r.title))
    console.print(table)
    console.print(Text("'recon rules ID' shows one rule in full."))
