"""Issue 14 point 9: a new analyst learns from the README and `make demo` how to run recon."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_and_make_demo_say_how_to_run_recon() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/recon" in readme and "source .venv/bin/activate" in readme
    assert "about a minute" not in readme  # `make test` takes longer: the README says how long
    demo = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/recon --help" in demo and "$(BIN)/activate" in demo
