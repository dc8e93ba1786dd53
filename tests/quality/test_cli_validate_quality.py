"""``recon validate`` on the sample: the planted national rejection, the DQMI estimate, privacy."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from recon.cli import app

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_sample_predicts_the_planted_rejection_and_estimates_the_dqmi():
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(SAMPLE / "mhsds"), "--no-ledger",
                                 "--json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    planted = json.loads((SAMPLE / "planted.json").read_text())
    national = [p for p in planted["validation"] if p["rule"].startswith("MHS")]
    assert national
    for p in national:
        hit = [f for f in out["sdcs"]["findings"] if f["rule_id"] == p["rule"]]
        assert [f["keys"] for f in hit] == [[["[M902010]CareProfTeamLocalID", p["key"]]]]
        assert hit[0]["error_level"] == "Record rejected" and hit[0]["cause"] is None
    assert out["sdcs"]["cut_to_month"] is True
    mhs902 = next(t for t in out["sdcs"]["tables"] if t["table"] == "MHS902")
    assert (mhs902["rejected"], mhs902["loaded"]) == (1, mhs902["rows"] - 1)
    assert out["dqmi"]["label"] == "DQMI estimate (recon), not NHS England's DQMI"
    assert out["dqmi"]["low"] <= out["dqmi"]["value"] <= out["dqmi"]["high"]
    assert {n["reason"] for n in out["sdcs"]["not_evaluated"]} >= {"ods", "format_unknown", "no_code_list"}
    mpi = pl.read_csv(SAMPLE / "mhsds" / "MHS001MPI.csv", infer_schema=False, encoding="utf8-lossy")
    for number in mpi.get_column("NHSNumber").drop_nulls().head(50):
        assert number.strip().replace("\xa0", "").replace("\ufffd", "") not in result.stdout


def test_console_view_of_the_prediction():
    from rich.console import Console

    from recon.quality.outcome import DataQuality
    from recon.quality.predict import predict
    from recon.quality.vodim import vodim
    from recon.render.validation import render_quality
    from tests.quality.builders import frames, view

    tables = frames()
    tables["MHS902ServiceTeamDetails"] = tables["MHS902ServiceTeamDetails"].with_columns(
        pl.lit(None, dtype=pl.String).alias("ServTeamIntAgeGroup"))
    v = view(tables)
    p = predict(v)
    console = Console(width=160, record=True)
    render_quality(DataQuality(p, vodim(v, p), cut=False), console)
    text = console.export_text()
    flat = " ".join(text.split())
    row = next(line for line in text.splitlines() if "MHS90212" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == [
        "MHS90212", "Record rejected", "MHS902", "1", "Record rejected - ServTeamIntAgeGroup is blank.", "exact"]
    assert "SDCS would drop: MHS902 1 of 1 (0 with their parent)" in flat
    assert "DQMI estimate (recon, not NHS England's DQMI):" in flat and "goal 95 or more" in flat


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_json_names_the_rule_id_one_way_everywhere():
    """Issue 14 point 10: validation findings, their summary and the SDCS predictions all say rule_id."""
    result = runner.invoke(app, ["validate", "--month", "2024-09", "--epr", str(SAMPLE / "mhsds"), "--no-ledger",
                                 "--json"])
    out = json.loads(result.stdout)
    keys = _keys(out)
    assert "rule_id" in keys and out["summary"] and out["sdcs"]["findings"]
    assert not keys & {"rule", "code", "rule_code"}
