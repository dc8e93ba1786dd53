"""Every reconcile test writes its ledger (and run lock) under its own temporary folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "ledger" / "ledger.sqlite"))
