"""The method documentation covers the whole catalogue (docs/method/*.md)."""

from __future__ import annotations

import re
from pathlib import Path

from recon.measures.catalog import catalog
from recon.rules_catalog import load_catalog

DOCS = Path(__file__).resolve().parents[1] / "docs" / "method"


def test_every_catalogue_id_is_documented_in_docs_method() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))
    words = set(re.findall(r"[A-Za-z0-9_]+", text))
    # MHS111b-g and MHS113a-f ranges name their members: expand "IDx-y" letter ranges
    for stem, a, b in re.findall(r"\b(MHS\d+)([a-g])-([a-g])\b", text):
        words |= {f"{stem}{chr(c)}" for c in range(ord(a), ord(b) + 1)}
    missing = [m.id for m in catalog().measures if m.id not in words]
    assert missing == []


def test_recon_rules_shows_each_documented_method() -> None:
    docs = {r.id: r.doc for r in load_catalog()}
    for m in catalog().measures:
        if m.method:
            assert m.method in docs[m.id]
    assert "last day of its month" in docs["MHS95"]
    assert "route B" in docs["MHS69"]
