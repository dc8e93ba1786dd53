"""The wheel works: built from the project, installed into a fresh environment outside the
checkout, ``recon rules`` and ``recon measures`` run from there on the sample data.

This is what a trust does (``pip install .`` into ``/opt/recon/.venv``, README's cron example):
anything the code reads at run time (the rules are package data) must be in the wheel. Marked
``wheel`` so it can be deselected (``-m "not wheel"``); ``make test`` runs it. It stays offline:
the wheel is built with the project's build backend from this environment (no build isolation),
installed with ``--no-deps --no-index``, and the fresh environment reaches the dependencies
already installed here through a ``.pth`` file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(not (ROOT / "sample_data" / "mhsds").is_dir(), reason="sample_data/ not generated"),
]


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment (outside the checkout) with only the built wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "recon", src / "recon", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    built = _run([sys.executable, "-c", f"from setuptools import build_meta as b; print(b.build_wheel({str(dist)!r}))"],
                 cwd=src)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = dist / built.stdout.strip().splitlines()[-1]
    assert wheel.suffix == ".whl"

    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _run([sys.executable, "-m", "pip", "--isolated", "--python", python, "install", "-q", "--no-deps",
                 "--no-index", wheel], cwd=tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    # the dependencies (polars, typer, ...) already installed here, without recon's own editable install
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    (site / "_recon_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    where = _run([python, "-c", "import recon; print(recon.__file__)"], cwd=tmp)
    assert where.returncode == 0 and Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    return venv


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "PYTHON"))}
    env["HOME"] = str(tmp)  # no user configuration or ledger of the machine's user
    return env


def test_recon_rules_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    done = _run([installed / "bin" / "recon", "rules", "--json"], cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    ids = {r["id"] for r in json.loads(done.stdout)["rules"]}
    assert {"VAL001", "SRC001", "REC001", "MHS95", "TOL001"} <= ids


def test_recon_measures_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    done = _run([installed / "bin" / "recon", "measures", "--month", "2024-09", "--epr", ROOT / "sample_data" / "mhsds",
                 "--json", "--no-ledger"], cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    provider_level = {m["id"]: m["value"] for m in result["measures"] if "breakdown" not in m}
    assert provider_level["MHS95"] > 0 and "RECON_CGAS_PAIRED" in provider_level
    assert not any(tmp_path.iterdir()), "the run wrote into its working folder"
