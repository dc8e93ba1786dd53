"""--snomed on measures, validate and reconcile: a missing release is exit 3, a malformed one exit 2
(naming the file, line and column), the sample's synthetic release is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.jobs import RunOptions, _snomed, resolve

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.mark.parametrize("command", ["measures", "validate", "reconcile"])
def test_missing_release_is_exit_3(tmp_path, command):
    res = CliRunner().invoke(app, [command, "--month", "2024-09", "--epr", str(SAMPLE / "mhsds"), "--no-ledger",
                                   "--snomed", str(tmp_path / "nowhere")])
    assert res.exit_code == 3 and "SNOMED CT release" in res.stderr and "Traceback" not in res.output


def test_malformed_release_is_exit_2_naming_file_line_and_column(tmp_path):
    bad = tmp_path / "rel"
    bad.mkdir()
    (bad / "der2_Refset_SimpleFull_X.txt").write_text(
        "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\n"
        "a\t2024-01-01\t1\t1\t1853441000000109\t100000101\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", "--month", "2024-09", "--epr", str(SAMPLE / "mhsds"), "--no-ledger",
                                   "--snomed", str(bad)])
    assert res.exit_code == 2
    assert "SRC030" in res.stderr and "der2_Refset_SimpleFull_X.txt" in res.stderr and "line 2" in res.stderr
    assert "column effectiveTime" in res.stderr


@pytest.mark.skipif(not (SAMPLE / "snomed").is_dir(), reason="sample_data not generated")
def test_sample_release_reaches_the_run(tmp_path):
    run = resolve(RunOptions(month="2024-09", epr=SAMPLE / "mhsds", no_ledger=True, snomed=SAMPLE / "snomed"),
                  "measures")
    release = _snomed(run)
    assert release is not None and release.refset.height == 6 and release.concepts.height == 6
