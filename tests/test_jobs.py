"""Orchestration of recorded runs (recon.jobs): order of safety steps, restore on failure, real end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.errors import LedgerError
from recon.jobs import RunOptions, measures_job, reconcile_job, validate_job
from recon.ledger import Ledger
from recon.pipeline import library_pipeline
from recon.runctl import Steps, progress_enabled
from tests.ledger import standins

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
needs_sample = pytest.mark.skipif(
    not all((SAMPLE / p).exists() for p in ("mhsds", "extract.zip", "published")), reason="sample_data/ not generated"
)


@pytest.fixture
def ledger_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("RECON_LEDGER", str(path))
    return path


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    standins.install(lambda obj, name, value: monkeypatch.setattr(obj, name, value, raising=False))


def cli(*args: Any) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_failed_ledger_write_puts_the_previous_pack_back(tmp_path: Path, ledger_path: Path, fakes: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    epr = standins.write_epr(tmp_path / "epr", values={"MHS95": 1})
    pack = tmp_path / "pack.xlsx"
    first = reconcile_job(RunOptions(month="2024-09", epr=epr, pack=pack), pipeline=standins.pipeline())
    assert first.exit_code == 0 and first.pack.path == pack and first.pack_sha256 is not None
    before = pack.read_bytes()

    def full(self: Ledger, run: Any) -> None:
        raise LedgerError("ledger x: disk full while recording; nothing was recorded")

    monkeypatch.setattr(Ledger, "record_run", full)
    standins.write_epr(epr, values={"MHS95": 2})
    with pytest.raises(LedgerError, match="disk full"):
        reconcile_job(RunOptions(month="2024-09", epr=epr, pack=pack), pipeline=standins.pipeline())
    assert pack.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".pack")) == []
    # a first pack that cannot be recorded is not left behind either
    other = tmp_path / "first.xlsx"
    with pytest.raises(LedgerError):
        reconcile_job(RunOptions(month="2024-09", epr=epr, pack=other), pipeline=standins.pipeline())
    assert not other.exists()


def test_corrupt_ledger_is_found_before_any_work(tmp_path: Path, ledger_path: Path, fakes: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ledger_path.write_bytes(b"garbage" * 100)
    called: list[int] = []
    import recon.cli

    monkeypatch.setattr(recon.cli, "PIPELINE", dataclasses.replace(standins.pipeline(),
                                                                  reconcile=lambda *a, **k: called.append(1)))
    res = cli("reconcile", "--month", "2024-09", "--epr", standins.write_epr(tmp_path / "epr"),
              "--pack", tmp_path / "p.xlsx")
    assert res.exit_code == 2 and "not a SQLite database" in res.stderr
    assert called == [] and not (tmp_path / "p.xlsx").exists()
    assert ledger_path.read_bytes() == b"garbage" * 100


def test_progress_callback_is_handed_to_the_reconciliation(tmp_path: Path, ledger_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's progress steps include the ones run_reconcile reports (load, ...)."""
    seen: list[str] = []

    class Recording(Steps):
        def step(self, name: str) -> None:
            seen.append(name)

    epr = standins.write_epr(tmp_path / "epr")
    outcome = reconcile_job(RunOptions(month="2024-09", epr=epr), steps=Recording(False), pipeline=standins.pipeline())
    assert outcome.exit_code == 0  # the stand-in's default: no discrepancy
    assert seen[:2] == ["reconcile", "load"]
    assert progress_enabled(quiet=False, as_json=False) is False  # pytest is not a terminal


@needs_sample
def test_measures_and_validate_record_lighter_runs(ledger_path: Path) -> None:
    m = measures_job(RunOptions(month="2024-09", epr=SAMPLE / "mhsds"), pipeline=library_pipeline())
    v = validate_job(RunOptions(month="2024-09", epr=SAMPLE / "mhsds"), pipeline=library_pipeline())
    with Ledger.open(ledger_path) as led:
        runs = {r.command: r for r in led.runs()}
        assert set(runs) == {"measures", "validate"}
        assert runs["validate"].exit_code == v.exit_code == v.result.exit_code
        n = led.conn.execute("SELECT COUNT(*) FROM measure_values WHERE run_id = ?", (m.run_id,)).fetchone()[0]
        assert n == len(m.result.values) > 0
        inputs = led.run_inputs(m.run_id)
        assert {Path(f.path).name for f in inputs} == {p.name for p in (SAMPLE / "mhsds").iterdir() if p.is_file()}
        hist = led.latest_values("RXX", measure_ids=["MHS95"])
        assert hist["value"].to_list() == [float(m.result.value("MHS95"))]


@needs_sample
def test_contract_commands_work_without_config(ledger_path: Path) -> None:
    res = cli("measures", "--month", "2024-09", "--epr", SAMPLE / "mhsds", "--json", "--digital")
    assert res.exit_code == 0, res.stderr
    assert {"provider", "month", "measures"} <= set(json.loads(res.stdout))
    assert res.stderr == ""  # no progress bar, no colour off a terminal
    res = cli("validate", "--month", "2024-09", "--epr", SAMPLE / "mhsds")
    assert res.exit_code == 1 and "\x1b[" not in res.stdout + res.stderr  # planted errors
    res = cli("validate", "--month", "2024-09", "--epr", SAMPLE / "mhsds", "--quiet")
    assert res.stdout == ""


@needs_sample
def test_real_run_sign_off_and_verify(tmp_path: Path, ledger_path: Path) -> None:
    """The README flow with the real reconciliation and pack writer."""
    epr = tmp_path / "mhsds"
    shutil.copytree(SAMPLE / "mhsds", epr)
    pack = tmp_path / "packs" / "recon-2024-09.xlsx"
    args = ["reconcile", "--month", "2024-09", "--epr", epr, "--extract", SAMPLE / "extract.zip",
            "--published", SAMPLE / "published", "--pack", pack, "--quiet", "--log-file", tmp_path / "run.log"]
    res = cli(*args)
    assert res.exit_code == 1, res.stderr  # the sample data has planted discrepancies
    assert pack.is_file()
    log = (tmp_path / "run.log").read_text()
    assert "reconcile 2024-09 finished" in log and f"pack {pack} sha256" in log
    assert re.search(r"(?<![0-9A-Za-z])\d{10}(?![0-9A-Za-z])", log) is None  # no NHS-number-shaped value
    who = ("--name", "Dr Ada Lead", "--role", "CYP lead")
    # issue 14 point 8: the pack says "Fix before submitting": approving it needs a caveat
    res = cli("signoff", "--pack", pack, "--decision", "approve", *who)
    assert res.exit_code == 2 and 'the pack says "Fix before submitting"' in res.stderr
    assert "--decision caveats with a --caveat" in res.stderr
    # the date the lead wrote is validated: a real date, not in the future, not before the run
    today = dt.datetime.now(dt.UTC).date()
    for bad, words in (("2024-13-01", "is not a date"), (str(today + dt.timedelta(days=1)), "is in the future"),
                       ("2020-01-01", "is before the run that wrote the pack")):
        res = cli("signoff", "--pack", pack, "--decision", "caveats", "--caveat", "x", *who, "--date", bad)
        assert res.exit_code == 2 and words in res.stderr, (bad, res.stderr)
    res = cli("signoff", "--pack", pack, "--decision", "approve", "--caveat", "planted discrepancies", *who,
              "--date", str(today), "--json")
    assert res.exit_code == 0, res.stderr
    record = json.loads(res.stdout)
    assert record["signed_on"] == str(today)
    assert record["warnings"] == ['the pack says "Fix before submitting"; approved with caveats']
    assert cli("signoff", "verify", "--pack", pack).exit_code == 0  # the date is inside the record's hash
    # a second sign-off of the month is recorded with a warning; a recorded reject exits 1
    res = cli("signoff", "--pack", pack, "--decision", "reject", *who)
    assert res.exit_code == 1 and "2024-09 already has 1 sign-off(s)" in res.stdout
    assert "#1 Approve by Dr Ada Lead" in res.stdout and "rejected (exit 1)" in res.stdout
    listed = json.loads(cli("signoff", "list", "--month", "2024-09", "--json").stdout)["signoffs"]
    assert [(s["seq"], s["decision"], s["signed_on"]) for s in listed] == [(1, "approve", str(today)), (2, "reject", None)]
    assert json.loads(cli("signoff", "list", "--month", "2024-08", "--json").stdout)["signoffs"] == []
    assert "Approve" in cli("signoff", "list").stdout
    # The daily re-run must not replace the signed-off pack: its pack goes beside it.
    signed = pack.read_bytes()
    assert cli(*args).exit_code == 1
    assert pack.read_bytes() == signed
    reruns = sorted(pack.parent.glob("recon-2024-09.rerun-*.xlsx"))
    assert len(reruns) == 1
    assert cli("signoff", "verify", "--pack", pack).exit_code == 0
    with (epr / "MHS101Referral.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    res = cli("signoff", "verify", "--pack", pack)
    assert res.exit_code == 1 and "[input_changed]" in res.stdout and "MHS101Referral.csv" in res.stdout


def test_log_redaction_guard() -> None:
    from recon.runctl import redact

    assert redact("patient 943 476 5919 at LS1 4AP") == "patient [nhs-number] at [postcode]"
    assert redact("sha256 ab9434765919cd and run 2024-09") == "sha256 ab9434765919cd and run 2024-09"


def test_a_lead_signs_in_excel_and_the_filled_pack_is_recorded(tmp_path: Path, ledger_path: Path) -> None:
    """The CYP lead fills the Sign-off sheet (new file bytes, same figures); `recon signoff
    --pack` reads the decision from it; a pack whose figures were edited is refused."""
    from openpyxl import load_workbook

    pack = tmp_path / "recon-2024-09.xlsx"
    res = cli("reconcile", "--month", "2024-09", "--epr", SAMPLE / "mhsds", "--extract", SAMPLE / "extract.zip",
              "--pack", pack, "--quiet")
    assert res.exit_code == 1, res.stderr

    def fill(target: Path, edit_figure: bool = False, caveat: str | None = "MHS32a low: EPR outage 3-5 Sept",
             decision: str = "Approve with caveats") -> Path:
        wb = load_workbook(pack)
        ws = wb["Sign-off"]
        for row in ws.iter_rows():
            label = row[0].value
            if label == "Decision":
                row[1].value = decision
            elif label == "Name":
                row[1].value = "Dr Ada Lead"
            elif label == "Role":
                row[1].value = "CYP lead"
            elif isinstance(label, str) and label.startswith("Caveats"):
                row[1].value = caveat
        if edit_figure:
            summary = wb["Summary"]
            for row in summary.iter_rows():
                if row[0].value == "MHS95":
                    row[2].value = 1  # the local figure, edited by hand
        wb.save(target)
        return target

    edited = fill(tmp_path / "edited.xlsx", edit_figure=True)
    res = cli("signoff", "--pack", edited)
    assert res.exit_code == 2 and "figures or records were changed" in res.stderr

    # the sheet's own words, not CLI flags
    bare = fill(tmp_path / "bare.xlsx", caveat=None)
    res = cli("signoff", "--pack", bare)
    assert res.exit_code == 2 and 'the Sign-off sheet says "Approve with caveats" but its Caveats cell is empty' in res.stderr
    plain = fill(tmp_path / "plain.xlsx", caveat=None, decision="Approve")
    res = cli("signoff", "--pack", plain)
    assert res.exit_code == 2 and 'choose "Approve with caveats" and write why in Caveats, or "Reject"' in res.stderr
    assert "--" not in res.stderr
    res = cli("signoff", "--pack", fill(tmp_path / "odd.xlsx", decision="Maybe"))
    assert res.exit_code == 2 and "reads 'Maybe': choose \"Approve\", \"Approve with caveats\", \"Reject\"" in res.stderr
    from openpyxl import Workbook

    Workbook().save(tmp_path / "budget.xlsx")
    res = cli("signoff", "--pack", tmp_path / "budget.xlsx", "--decision", "approve", "--name", "A", "--role", "B")
    assert res.exit_code == 2 and "is not a recon sign-off pack" in res.stderr

    filled = fill(tmp_path / "signed.xlsx")
    res = cli("signoff", "--pack", filled, "--json")
    assert res.exit_code == 0, res.stderr
    record = json.loads(res.stdout)
    assert (record["decision"], record["name"], record["role"]) == ("caveats", "Dr Ada Lead", "CYP lead")
    assert record["caveats"] == ["MHS32a low: EPR outage 3-5 Sept"]
    assert cli("signoff", "verify", "--pack", filled).exit_code == 0
