"""Rules files: shipped as package data, overridden file by file by a trust's rules_dir; mappings
by shipped name, by name in the rules_dir, or by path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.codes import RULES_DIR, load_codes
from recon.errors import RulesError
from recon.reconcile.tolerances import load_tolerances
from recon.rules_files import SHIPPED, rules_dir, rules_file, using_rules_dir
from recon.sources.mapping import known_mapping_names, load_mapping

ROOT = Path(__file__).resolve().parents[1]
RIVERSIDE = RULES_DIR / "mappings" / "riverside.toml"


def test_shipped_rules_are_package_data() -> None:
    assert Path(str(SHIPPED)).parent == ROOT / "recon"
    assert rules_file("codes.toml").is_file() and rules_file("codes.toml").folder is None
    assert not rules_file("nothing.toml").is_file()


def test_override_folder_wins_only_for_its_own_files(tmp_path: Path) -> None:
    (tmp_path / "codes.toml").write_text(
        (RULES_DIR / "codes.toml").read_text(encoding="utf-8").replace("cyp_max = 17", "cyp_max = 16"),
        encoding="utf-8")
    assert "cyp_max = 17" in (RULES_DIR / "codes.toml").read_text(encoding="utf-8")
    shipped = load_codes()
    with using_rules_dir(tmp_path):
        assert rules_dir() == tmp_path
        assert load_codes().cyp_max_age == 16 and shipped.cyp_max_age == 17
        assert load_tolerances() is load_tolerances()  # not overridden: the shipped file, parsed once
        assert rules_file("tolerances.toml").folder is None
    assert rules_dir() is None and load_codes() is shipped


def test_a_rules_dir_that_is_not_a_folder_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not a folder"), using_rules_dir(tmp_path / "none"):
        pass


def test_mapping_by_shipped_name_by_rules_dir_name_and_by_path(tmp_path: Path) -> None:
    assert load_mapping("riverside").name == "riverside"
    own = tmp_path / "rules"
    (own / "mappings").mkdir(parents=True)
    shutil.copy(RIVERSIDE, own / "mappings" / "ours.toml")
    with pytest.raises(RulesError, match=r"mapping 'ours' not found \(known mappings: riverside"):
        load_mapping("ours")
    with using_rules_dir(own):
        assert load_mapping("ours").path == own / "mappings" / "ours.toml"
        assert known_mapping_names() == ["ours", "riverside"]
    elsewhere = tmp_path / "their-epr.toml"
    shutil.copy(RIVERSIDE, elsewhere)
    assert load_mapping(str(elsewhere)).path == elsewhere
    with pytest.raises(RulesError, match=r"file .*missing\.toml' not found"):
        load_mapping(str(tmp_path / "missing.toml"))


def test_config_rules_dir_reaches_the_run(tmp_path: Path) -> None:
    """A mapping only in the trust's rules_dir is found by name in a configured run."""
    own = tmp_path / "rules"
    (own / "mappings").mkdir(parents=True)
    shutil.copy(RIVERSIDE, own / "mappings" / "ours.toml")
    cfg = tmp_path / "recon.toml"
    cfg.write_text('[paths]\nrules_dir = "rules"\n', encoding="utf-8")
    args = ["measures", "--month", "2024-09", "--epr", str(ROOT / "sample_data" / "epr"), "--mapping", "ours",
            "--no-ledger", "--json"]
    without = CliRunner().invoke(app, args)
    assert without.exit_code == 2 and "mapping 'ours' not found" in without.stderr
    done = CliRunner().invoke(app, [*args, "--config", str(cfg)])
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["provider"]
    assert rules_dir() is None  # the override ends with the run
