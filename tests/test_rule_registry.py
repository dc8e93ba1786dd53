"""The rule registry: every rule id the code can raise is documented by ``recon rules``, and
every documented rule of the code's stages is raised somewhere (no drift either way)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from recon.rules_catalog import load_catalog

PACKAGE = Path(__file__).resolve().parents[1] / "recon"
RULE_ID = re.compile(r"[A-Z]{3}\d{3}")
# Three capitals and three digits that are not rule ids: MHSDS table and measure ids (MHS606...).
NOT_RULES = ("MHS", "MRS")
# Kinds documented from data, not raised by an id literal in code.
DATA_KINDS = {"measure", "tolerance"}


def raised_ids(root: Path = PACKAGE) -> dict[str, list[str]]:
    """Rule-id string literals in the package source (the sample generator, which plants problems
    on purpose, excluded), by id -> files. Found by parsing, so comments and docstrings that merely
    mention an id do not count."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if "sample" in path.relative_to(root).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and RULE_ID.fullmatch(node.value) and not node.value.startswith(NOT_RULES)):
                found.setdefault(node.value, []).append(str(path.relative_to(root)))
    return found


def test_every_raised_rule_id_is_documented_and_every_documented_one_is_raised() -> None:
    raised = raised_ids()
    documented = {r.id for r in load_catalog() if r.kind not in DATA_KINDS}
    undocumented = {i: raised[i] for i in sorted(set(raised) - documented)}
    assert not undocumented, f"raised in code but not in rules/validation.toml: {undocumented}"
    assert sorted(documented - set(raised)) == [], "documented but raised nowhere in the code"
    assert {"REC001", "REC002", "PUB001", "PUB004", "VAL000", "SRC001", "MAP003"} <= set(raised)


def test_the_scan_finds_literals_only(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        '"""Mentions VAL999."""\n'
        'def f():\n    """And VAL997."""\n    raise E("x", rule="VAL998")  # VAL996\n'
        'TABLE = "MHS606"\n', encoding="utf-8")
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "plant.py").write_text('PLANTED = "VAL995"\n', encoding="utf-8")
    assert raised_ids(tmp_path) == {"VAL998": ["a.py"]}


def test_every_rule_id_is_unique_and_well_formed() -> None:
    ids = [r.id for r in load_catalog()]
    assert len(ids) == len(set(ids))
    assert all(r.title and r.doc for r in load_catalog())
