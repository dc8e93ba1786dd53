"""Configuration file: parsing, month templates, deadlines and flags-over-file resolution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from recon.config import DeadlineRule, load_config, month_fields, render_template
from recon.errors import ConfigError, UsageError
from recon.jobs import RunOptions, resolve
from recon.months import Month

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "recon.toml"


def test_example_config_parses_and_fills_templates() -> None:
    cfg = load_config(EXAMPLE)
    m = Month(2024, 9)
    assert cfg.provider.ods == "RXX" and cfg.provider.person_key == "local" and cfg.provider.digital is False
    assert cfg.path("epr", m) == Path("/data/recon/epr/202409")
    assert cfg.path("pack", m) == Path("/data/recon/packs/2024/recon-pack-2024-09.xlsx")
    assert cfg.path("log_file", m) == Path("/var/log/recon/recon-2024-09.log")
    assert cfg.mapping(m) == "riverside"  # a name, not a path
    assert cfg.max_age_days == {"epr": 2.0, "extract": 7.0}
    assert cfg.pack.split_by_team is True and cfg.pack.identifiable is False
    assert cfg.status == "Performance"
    # fixed table wins for December 2024
    assert cfg.deadline.deadline_for(Month(2024, 12)) == dt.date(2025, 1, 23)


def test_month_placeholders() -> None:
    f = month_fields(Month(2024, 9))
    assert (f["month"], f["yyyymm"], f["mon"], f["Mon"], f["MON"], f["month_name"], f["yy"], f["mm"]) == (
        "2024-09", "202409", "sep", "Sep", "SEP", "September", "24", "09")
    assert f["uniq_month_id"] == "1494"  # April 2024 = 1489, so September = 1494
    assert render_template("MHSDS_{Mon}Prf_{yyyy}.csv", Month(2024, 9)) == "MHSDS_SepPrf_2024.csv"


def test_unknown_placeholder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown placeholder\(s\) monht"):
        render_template("/x/{monht}", Month(2024, 9))


def test_working_day_deadline_skips_weekends_and_holidays() -> None:
    # September 2024 ends on Monday 30th. 1st working day after: Tue 1 Oct; 5th: Mon 7 Oct.
    rule = DeadlineRule(working_days_after_month_end=5)
    assert rule.deadline_for(Month(2024, 9)) == dt.date(2024, 10, 7)
    # With Thu 3 Oct a holiday the 5th working day moves to Tue 8 Oct.
    rule = DeadlineRule(working_days_after_month_end=5, holidays=frozenset({dt.date(2024, 10, 3)}))
    assert rule.deadline_for(Month(2024, 9)) == dt.date(2024, 10, 8)
    # December 2024: 27th is Fri; Sat 28, Sun 29 skipped; 25/26 already past month end -> not relevant.
    # Month ends Tue 31 Dec; Wed 1 Jan holiday; 1st working day Thu 2 Jan.
    rule = DeadlineRule(working_days_after_month_end=1, holidays=frozenset({dt.date(2025, 1, 1)}))
    assert rule.deadline_for(Month(2024, 12)) == dt.date(2025, 1, 2)
    assert DeadlineRule().deadline_for(Month(2024, 9)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[provider]\nods = 5\n", "provider.ods must be text"),
        ("[provider]\nperson_key = 'x'\n", "person_key must be 'local' or 'nhs'"),
        ("[paths]\nepr = '/x/{nope}'\n", "unknown placeholder"),
        ("[paths]\nfoo = '/x'\n", r"unknown key\(s\) in \[paths\]: foo"),
        ("[surprise]\n", r"unknown section\(s\) surprise"),
        ("[inputs.max_age_days]\nepr = -1\n", "must not be negative"),
        ("[inputs.max_age_days]\nfoo = 1\n", "unknown input"),
        ("[deadline]\nworking_days_after_month_end = 'five'\n", "must be whole number"),
        ("[deadline.fixed]\n'2024-13' = 2024-10-01\n", "is not a month"),
        ("[pack]\nidentifiable = 'yes'\n", "pack.identifiable must be true or false"),
        ("not toml = = =\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "recon.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(p)
    assert info.value.exit_code == 2
    assert str(p) in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.toml")


def _cfg(tmp_path: Path) -> Path:
    p = tmp_path / "recon.toml"
    p.write_text(
        "[provider]\nods = 'RAA'\ndigital = true\nperson_key = 'nhs'\n"
        "[paths]\nepr = 'epr/{yyyymm}'\npack = 'packs/{month}.xlsx'\nledger = 'state/ledger.sqlite'\n"
        "mapping = 'maps/{mon}.toml'\n"
        "[pack]\nidentifiable = true\n",
        encoding="utf-8",
    )
    return p


def test_flags_override_config_and_relative_paths_follow_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_LEDGER", raising=False)
    cfg = _cfg(tmp_path)
    r = resolve(RunOptions(month="2024-09", config=cfg), "reconcile")
    assert r.epr == tmp_path / "epr" / "202409"
    assert r.pack == tmp_path / "packs" / "2024-09.xlsx"
    assert r.ledger == tmp_path / "state" / "ledger.sqlite"
    assert r.mapping == str(tmp_path / "maps" / "sep.toml")
    assert (r.settings.ods, r.settings.digital, r.settings.person_key, r.identifiable) == ("RAA", True, "nhs", True)
    r = resolve(RunOptions(month="2024-09", config=cfg, epr=Path("/flag/epr"), provider="RBB", digital=False,
                           person_key="local", identifiable=False, ledger=Path("/flag/l.sqlite")), "reconcile")
    assert r.epr == Path("/flag/epr") and r.ledger == Path("/flag/l.sqlite")
    assert (r.settings.ods, r.settings.digital, r.settings.person_key, r.identifiable) == ("RBB", False, "local", False)


def test_previous_month_and_env_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_LEDGER", str(tmp_path / "env.sqlite"))
    r = resolve(RunOptions(month="previous", config=_cfg(tmp_path), today=dt.date(2025, 1, 6)), "reconcile")
    assert r.month == Month(2024, 12)
    assert r.epr == tmp_path / "epr" / "202412"
    assert r.ledger == tmp_path / "env.sqlite"  # env beats the file, a flag beats env


def test_without_config_defaults_and_epr_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_LEDGER", raising=False)
    r = resolve(RunOptions(month="2024-09", epr=Path("x")), "reconcile")
    assert (r.settings.ods, r.settings.digital, r.settings.person_key, r.identifiable) == (None, False, "local", False)
    assert r.ledger is not None and r.ledger.name == "ledger.sqlite" and "recon" in str(r.ledger)
    assert resolve(RunOptions(month="2024-09", epr=Path("x"), no_ledger=True), "reconcile").ledger is None
    with pytest.raises(UsageError, match=r"local extract \(epr\) is required"):
        resolve(RunOptions(month="2024-09"), "reconcile")
