"""The repository explains itself, and the docs stay honest: docs/rules.md is what `recon rules`
documents; the paths the architecture and extending pages name exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from recon.measures.catalog import catalog
from recon.rules_catalog import load_catalog, rules_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_rules_doc_is_current() -> None:
    """Regenerate with RECON_UPDATE_DOCS=1 after changing a rules file."""
    expected = rules_markdown(load_catalog())
    path = DOCS / "rules.md"
    if os.environ.get("RECON_UPDATE_DOCS"):
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, "docs/rules.md is stale: RECON_UPDATE_DOCS=1 pytest tests/test_docs.py"


def test_rules_doc_names_every_rule_and_measure() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    for r in load_catalog():
        assert re.search(rf"(### |\| ){re.escape(r.id)}[:| ]", text), r.id
    for m in catalog().measures:
        assert f"| {m.id} |" in text


@pytest.mark.parametrize("page", ["architecture.md", "extending.md"])
def test_paths_named_in_the_docs_exist(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:recon|tests|docs)/[\w./-]+)`", text))
    assert named, "the page names no paths"
    placeholders = ("yourfamily", "<", "NAME", "ID")
    missing = sorted(p for p in named if not any(x in p for x in placeholders) and not (ROOT / p).exists())
    assert missing == []
