"""The same records give the same record-level frames, row for row: the pack's fingerprint is
computed from them, so a re-run of unchanged inputs must show the same rows in the same order."""

from __future__ import annotations

from pathlib import Path

from recon.config import ProviderSettings
from recon.measures.engine import run_measures
from recon.months import Month
from recon.snomed import load_snomed

SAMPLE = Path(__file__).resolve().parents[3] / "sample_data"


def test_waits_details_come_in_one_order_every_run() -> None:
    snomed = load_snomed(SAMPLE / "snomed")
    runs = [run_measures(SAMPLE / "mhsds", Month(2024, 9), mapping=None, settings=ProviderSettings(), snomed=snomed)
            for _ in range(4)]
    first = runs[0].details
    assert first["waits_waiting"].height and first["waits_first_contact"].height
    for other in runs[1:]:
        for name, frame in first.items():
            assert other.details[name].equals(frame), name
