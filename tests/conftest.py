"""Suite-wide isolation: no test may touch the user's real ledger, lock files or logs."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "ledger.sqlite"))
    # locks of this test alone (not shared with other test runs), outside the folder tests list
    monkeypatch.setenv("RECON_LOCK_DIR", str(tmp_path.parent / f"{tmp_path.name}-locks"))
