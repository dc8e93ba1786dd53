"""``recon submission`` through the CLI: exit codes, JSON, and no identifying value on screen."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from recon.cli import app
from tests.quality.sdcs_zips import august, september, write_zip

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "mhsds"
NHS = "9999999999"


def test_text_and_json(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    write_zip(folder / "202409 Summary Reports.zip", september(NHS))
    write_zip(folder / "202408 Summary Reports.zip", august())
    text = runner.invoke(app, ["submission", str(folder), "--epr", str(SAMPLE), "--month", "2024-09"])
    assert text.exit_code == 1, text.output
    flat = " ".join(text.stdout.split())
    assert "SDCS Summary Reports for September 2024" in flat and "compared with 2024-08" in flat
    assert "Rejections: 5 rows; warnings: 4 rows" in flat
    assert "MHS20143" in text.stdout and "CC000000031" not in text.stdout  # no record keys in text
    for secret in (NHS, "2011-02-03", "ZZ1 1ZZ"):
        assert secret not in text.output
    as_json = runner.invoke(app, ["submission", str(folder), "--json"])
    assert as_json.exit_code == 1
    out = json.loads(as_json.stdout)
    assert out["period"] == "2024-09" and out["previous_period"] == "2024-08"
    assert NHS not in as_json.stdout


def test_exit_codes(tmp_path):
    assert runner.invoke(app, ["submission", str(tmp_path / "none.zip")]).exit_code == 3
    bad = write_zip(tmp_path / "202409 bad.zip", {"data_quality.csv": b"CODE\r\n"})
    result = runner.invoke(app, ["submission", str(bad)])
    assert result.exit_code == 2 and "validations.csv" in result.stderr and "Traceback" not in result.output
    good = write_zip(tmp_path / "202409 Summary Reports.zip", september(NHS))
    assert runner.invoke(app, ["submission", str(good), "--epr", str(SAMPLE)]).exit_code == 2
    assert runner.invoke(app, ["submission", str(good), "--month", "2024-13"]).exit_code == 2
