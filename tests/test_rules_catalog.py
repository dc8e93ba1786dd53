"""``recon rules``: the catalogue gathers validation, reader, mapping, measure and tolerance rules."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from recon.cli import app
from recon.codes import RULES_DIR
from recon.rules_catalog import RuleDoc, load_catalog

runner = CliRunner()


def test_catalog_holds_every_validation_and_reader_rule():
    catalog = load_catalog()
    ids = [r.id for r in catalog]
    assert len(ids) == len(set(ids))
    for rid in ("VAL001", "VAL022", "SRC001", "SRC011", "SRC020", "SRC021", "MAP001", "MAP003"):
        assert rid in ids
    val6 = next(r for r in catalog if r.id == "VAL006")
    assert val6 == RuleDoc("VAL006", "validation", "error", "NHS number fails the modulus-11 check", val6.doc,
                           "MHS001MPI", "NHSNumber")
    assert "11 - (sum mod 11)" in val6.doc
    src10 = next(r for r in catalog if r.id == "SRC010")
    assert src10.kind == "reader" and src10.doc.endswith("Stops the run (exit 2).")


def test_measures_and_tolerances_are_read_defensively(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES_DIR / "validation.toml", rules / "validation.toml")
    assert {r.kind for r in load_catalog(rules)} == {"validation", "reader", "mapping"}  # no optional files

    (rules / "measures.toml").write_text(
        '[[measure]]\nid = "MHS95"\nname = "CYP with one contact"\nfamily = "access"\nkind = "count"\n'
        'description = "Seen at least once in 12 months."\n[[measure]]\nname = "no id: skipped"\n',
        encoding="utf-8",
    )
    (rules / "tolerances.toml").write_text(
        '[default.count]\nid = "TOL001"\nabsolute = 2\nrelative = 1.0\nseverity = "error"\ndoc = "Counts."\n'
        '[[tolerance]]\nid = "TOL900"\ndoc = "Listed form."\n'
        '[measures.MHS95]\nid = "TOL901"\nabsolute = 5\ndoc = "Keyed form."\n'
        '[[measure]]\nid = "TOL101"\nmeasures = ["MHS95", "MHS69"]\nabsolute = 5\nseverity = "warning"\n'
        'doc = "Per measure."\n[other]\nnote = "no id: ignored"\n',
        encoding="utf-8",
    )
    by_id = {r.id: r for r in load_catalog(rules)}
    assert by_id["MHS95"] == RuleDoc("MHS95", "measure", None, "CYP with one contact",
                                     "Seen at least once in 12 months. (access, count)")
    assert by_id["TOL001"] == RuleDoc("TOL001", "tolerance", "error", "Tolerance for default count: ±2 or 1.0%",
                                      "Counts.")
    assert by_id["TOL900"].title == "Tolerance"
    assert by_id["TOL901"].title == "Tolerance for measures MHS95: ±5"
    assert by_id["TOL101"] == RuleDoc("TOL101", "tolerance", "warning", "Tolerance for MHS95, MHS69: ±5",
                                      "Per measure.")
    assert [r.kind for r in load_catalog(rules)][-5:] == ["measure", "tolerance", "tolerance", "tolerance",
                                                         "tolerance"]


def test_broken_optional_file_is_exit_2(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES_DIR / "validation.toml", rules / "validation.toml")
    (rules / "tolerances.toml").write_text("[default\n", encoding="utf-8")
    from recon.errors import RulesError

    try:
        load_catalog(rules)
    except RulesError as exc:
        assert "tolerances.toml" in str(exc) and exc.exit_code == 2
    else:
        raise AssertionError("a broken tolerances.toml must be a RulesError")


def test_cli_rules_list_one_and_json():
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0
    assert "VAL003" in result.stdout and "SRC004" in result.stdout

    one = runner.invoke(app, ["rules", "val006"])
    assert one.exit_code == 0
    assert one.stdout.splitlines()[0] == "VAL006  NHS number fails the modulus-11 check"
    assert "severity: error" in one.stdout

    as_json = runner.invoke(app, ["rules", "VAL018", "--json"])
    assert json.loads(as_json.stdout) == {"rules": [{
        "id": "VAL018", "kind": "validation", "severity": "warning",
        "title": "Assessment score outside the tool's range", "doc": load_catalog()[18].doc,
        "table": "MHS606CodedScoreAssessmentRefer, MHS607CodedScoreAssessmentAct", "column": "PersScore",
    }]}

    missing = runner.invoke(app, ["rules", "VAL999"])
    assert missing.exit_code == 2
    assert "no rule 'VAL999'" in missing.stderr


def test_every_national_code_recon_can_raise_is_documented():
    from recon.quality.national import load_national_rules

    by_id = {r.id: r for r in load_catalog()}
    for rule in load_national_rules().rules:
        doc = by_id[rule.code]
        assert (doc.kind, doc.severity, doc.title, doc.table) == ("national", rule.error_level, rule.message,
                                                                   rule.table)
    assert "Not evaluated (class C): needs NHS England's organisation tables" in by_id["MHS20147"].doc
    assert "class B" in by_id["MHS10131"].doc and "class A" in by_id["MHS20168"].doc
    for rid in ("SUB001", "SUB002", "SUB003"):
        assert by_id[rid].kind == "reader"
