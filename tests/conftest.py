"""Suite-wide isolation: no test may touch the user's real ledger, lock files or logs."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "ledger.sqlite"))
