from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recon.cli import app
from tests.ledger import standins


@pytest.fixture
def ledger_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ledger; RECON_LEDGER keeps the user's real one out of reach."""
    path = tmp_path / "state" / "ledger.sqlite"
    monkeypatch.setenv("RECON_LEDGER", str(path))
    return path


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    standins.install(lambda obj, name, value: monkeypatch.setattr(obj, name, value, raising=False))


@pytest.fixture
def cli() -> Any:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, [str(a) for a in args])

    return run
