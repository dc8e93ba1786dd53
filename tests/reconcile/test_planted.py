"""recon finds exactly the differences planted in sample_data/ (planted.json), and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recon.config import ProviderSettings
from recon.months import Month
from recon.reconcile.model import ReconcileResult
from recon.reconcile.run import reconcile_json, run_reconcile

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
pytestmark = pytest.mark.skipif(not (SAMPLE / "planted.json").exists(), reason="sample_data/ not generated")


@pytest.fixture(scope="module")
def planted() -> dict:
    return json.loads((SAMPLE / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result() -> ReconcileResult:
    return run_reconcile(Month(2024, 9), SAMPLE / "mhsds", extract=SAMPLE / "extract.zip",
                         published=SAMPLE / "published", mapping=None, status=None, settings=ProviderSettings())


def test_record_differences_are_exactly_the_planted_ones(result, planted):
    got = {(r.record_class.value, r.table, r.key): sorted(f.column for f in r.fields) for r in result.records}
    expected = {(r["class"], r["table"], r["key"]): sorted(r["columns"]) for r in planted["records"]}
    assert got == expected


def test_every_published_comparison_has_the_planted_status(result, planted):
    comps = {c.id: c for c in result.comparisons}
    wrong = []
    for v in planted["published"]["values"]:
        c = comps[v["measure_id"]]
        if (c.status.value, c.local, c.extract, c.published_text) != (
            v["expected_status"], v["local"], v["extract"], v["published"]
        ):
            wrong.append((v["measure_id"], v["expected_status"], c.status.value, c.explanation))
    assert wrong == []
    for d in planted["published"]["discrepancies"]:
        assert comps[d["measure_id"]].status.value == "discrepancy"
    unknown = [u["measure_id"] for u in planted["published"]["unknown_measures"]]
    assert unknown and all(any(u in n and "ignored" in n for n in result.notes) for u in unknown)
    assert result.published_status == planted["published"]["status"]


def test_differences_that_move_measures_say_so(result):
    moved = {(r.table, r.key): r.measures for r in result.records}
    # a discharge keyed after the extract: the referral is discharged locally, open in the extract
    assert "MHS57a" in moved[("MHS101Referral", "SR00000064")]
    # contacts entered after the extract are September contacts (MHS29 counts them)
    assert any("MHS29" in moved[("MHS201CareContact", k)] for k in ("CC000000052", "CC000000487", "CC000001040"))


def test_json_holds_the_contract_keys_and_no_identifiers(result):
    out = reconcile_json(result)
    assert out["exit_code"] == 1
    assert all({"id", "local", "published", "status", "extract"} <= set(c) for c in out["comparisons"])
    assert all({"table", "key", "class"} <= set(r) for r in out["records"])
    text = json.dumps(out, default=str)
    mpi = (SAMPLE / "mhsds" / "MHS001MPI.csv").read_bytes().decode("cp1252").splitlines()
    header = mpi[0].split(",")
    nhs, birth = header.index("NHSNumber"), header.index("PersonBirthDate")
    people = [line.split(",") for line in mpi[1:]]
    for cells in people:  # every NHS number: ten digits cannot collide with a legitimate value
        if cells[nhs].strip():
            assert cells[nhs].strip() not in text
    for cells in people[:200]:  # a birth date may equal an activity date, so only a sample
        assert f'"{cells[birth]}"' not in text


def test_the_epr_layout_through_its_mapping_gives_the_same_differences(result):
    epr = run_reconcile(Month(2024, 9), SAMPLE / "epr", extract=SAMPLE / "extract.zip", published=None,
                        mapping="riverside", status=None, settings=ProviderSettings())
    assert {(r.record_class, r.table, r.key, r.fields) for r in epr.records} == \
        {(r.record_class, r.table, r.key, r.fields) for r in result.records}
    assert [(c.id, c.local, c.extract) for c in epr.comparisons] == \
        [(c.id, c.local, c.extract) for c in result.comparisons]
