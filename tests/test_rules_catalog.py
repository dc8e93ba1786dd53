"""``recon rules``: the catalogue gathers every rule from the typed readers; a rules_dir overrides files."""

from __future__ import annotations

import json

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


def test_measures_and_tolerances_come_from_their_typed_readers():
    by_id = {r.id: r for r in load_catalog()}
    assert by_id["MHS95"].kind == "measure" and by_id["MHS95"].doc.endswith("(access, count)")
    assert by_id["MHS95"].title.startswith("Number of CYP aged under 18")
    assert by_id["TOL001"] == RuleDoc("TOL001", "tolerance", "error", "Tolerance for default count: ±2 or 1%",
                                      by_id["TOL001"].doc)
    assert by_id["TOL101"].title == "Tolerance for MHS95: ±5 or 1%"
    kinds = [r.kind for r in load_catalog()]
    assert kinds.index("measure") > kinds.index("reconcile") and kinds[-1] == "tolerance"
    assert by_id["REC001"].kind == "reconcile" and by_id["PUB002"].kind == "published"


def test_rules_dir_files_replace_the_shipped_ones(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (RULES_DIR / "tolerances.toml").read_text(encoding="utf-8")
    (rules / "tolerances.toml").write_text(text.replace('id = "TOL101"\nmeasures = ["MHS95"]\nabsolute = 5',
                                                        'id = "TOL101"\nmeasures = ["MHS95"]\nabsolute = 9'),
                                           encoding="utf-8")
    cfg = tmp_path / "recon.toml"
    cfg.write_text('[paths]\nrules_dir = "rules"\n', encoding="utf-8")
    with_dir = {r.id: r for r in load_catalog(cfg)}
    assert with_dir["TOL101"].title == "Tolerance for MHS95: ±9 or 1%"
    assert with_dir["VAL006"] == {r.id: r for r in load_catalog()}["VAL006"]  # not overridden: shipped
    assert {r.id: r for r in load_catalog()}["TOL101"].title == "Tolerance for MHS95: ±5 or 1%"  # only inside

    shown = runner.invoke(app, ["rules", "TOL101", "--config", str(cfg)])
    assert shown.exit_code == 0 and "±9" in shown.stdout


def test_broken_override_file_is_exit_2(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "tolerances.toml").write_text("[default\n", encoding="utf-8")
    cfg = tmp_path / "recon.toml"
    cfg.write_text(f'[paths]\nrules_dir = "{rules}"\n', encoding="utf-8")
    result = runner.invoke(app, ["rules", "--config", str(cfg)])
    assert result.exit_code == 2 and "tolerances.toml" in result.stderr
    (rules / "tolerances.toml").unlink()
    (rules / "measures.toml").write_text('[[measure]]\nname = "no id"\n', encoding="utf-8")
    result = runner.invoke(app, ["rules", "--config", str(cfg)])
    assert result.exit_code == 2 and "measures.toml measure 1: 'id' must be a non-empty string" in result.stderr


def test_rules_dir_that_is_not_a_folder_is_exit_2(tmp_path):
    cfg = tmp_path / "recon.toml"
    cfg.write_text('[paths]\nrules_dir = "nowhere"\n', encoding="utf-8")
    result = runner.invoke(app, ["rules", "--config", str(cfg)])
    assert result.exit_code == 2 and "rules_dir" in result.stderr and "not a folder" in result.stderr


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
