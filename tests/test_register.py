"""The register of measure families drives every layer; the catalogue is the only list of measures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.errors import RulesError
from recon.measures.catalog import Kind, Period, catalog, parse_catalog
from recon.measures.common import count_values, long_frame
from recon.measures.engine import canonical_tables
from recon.measures.family import FamilyContext
from recon.months import Month
from recon.register import FAMILIES, check_catalog, family

ROOT = Path(__file__).resolve().parents[1]


def _provider_ids(ctx: FamilyContext, name: str) -> list[str]:
    p = family(name).plan(ctx)
    values = list(p.values)
    if p.counts:
        values += count_values(long_frame(list(p.counts)).collect())
    return [v.id for v in values if v.breakdown is None]


@pytest.mark.parametrize("name", [f.name for f in FAMILIES])
def test_each_family_computes_exactly_its_catalogue_ids(name: str) -> None:
    ctx = FamilyContext(canonical_tables({}), Month.parse("2024-09"), ProviderSettings(), load_codes())
    ids = _provider_ids(ctx, name)
    assert sorted(ids) == sorted(m.id for m in catalog().family(name))
    assert len(ids) == len(set(ids))


def test_register_and_catalogue_name_the_same_families() -> None:
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names))
    assert set(catalog().families) == set(names)
    assert check_catalog(catalog()) is catalog()


def test_a_measure_of_an_unregistered_family_is_a_rules_error() -> None:
    cat = parse_catalog("[[measure]]\nid='X'\nname='x'\nfamily='waits'\nkind='count'\ndescription='d'\n")
    with pytest.raises(RulesError, match=r"family 'waits'.*recon/register\.py"):
        check_catalog(cat)


def test_catalogue_kinds_periods_and_fields() -> None:
    cat = parse_catalog(
        "[[measure]]\nid='N'\nname='n'\nfamily='f'\nkind='count'\nperiod='Q'\ndescription='d'\n"
        "[[measure]]\nid='P'\nname='p'\nfamily='f'\nkind='percentile'\nperiod='12M'\nsuppression='N'\n"
        "label='Median'\npack=false\ntrend=2\ndescription='d'\n"
    )
    n, p = cat.get("N"), cat.get("P")
    assert (n.kind, n.period, n.period_months, n.pack, n.trend) == (Kind.COUNT, Period.QUARTER, 3, True, None)
    assert (p.kind, p.period.months, p.suppression, p.label, p.pack, p.trend) == (
        Kind.PERCENTILE, 12, "N", "Median", False, 2)
    assert not p.is_percentage and cat.families == ("f",)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("perod='Q'\n", "unknown field(s) perod"),
        ("period='W'\n", "period 'W' is not one of M, Q, 12M"),
        ("suppression='Z'\n", "refers to unknown measure Z"),
        ("trend=0\n", "'trend' must be a positive whole number"),
        ("pack='no'\n", "'pack' must be true or false"),
    ],
)
def test_catalogue_field_errors_name_the_field(extra: str, message: str) -> None:
    with pytest.raises(RulesError, match=re.escape(message)):
        parse_catalog(f"[[measure]]\nid='N'\nname='n'\nfamily='f'\nkind='count'\ndescription='d'\n{extra}")


def test_main_catalogue_values_are_typed() -> None:
    cat = catalog()
    assert cat.get("MHS95").period is Period.TWELVE_MONTHS and cat.get("MHS95").detail == "mhs95_people"
    assert all(isinstance(m.kind, Kind) for m in cat.measures)


def test_every_layer_imports_first_without_a_cycle() -> None:
    """The register imports the families' modules, sheets and console sections; the engine,
    explainer, pack and console import the register. Each must import first in a fresh process."""
    modules = ["recon.register", "recon.measures.engine", "recon.reconcile.explain", "recon.pack.book",
               "recon.render.measures", "recon.pack.sheets.breakdown", "recon.measures.activity"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    for k in [k for k in sys.modules if k == 'recon' or k.startswith('recon.')]:\n"
        "        del sys.modules[k]\n"
        "    importlib.import_module(m)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_console_prints_each_family_section() -> None:
    from rich.console import Console

    from recon.measures.engine import compute_measures
    from recon.render.measures import render_measures

    console = Console(record=True, width=200)
    render_measures(compute_measures({}, Month.parse("2024-09")), console)
    out = console.export_text()
    for f in FAMILIES:
        assert f.title in out
    assert "MHS95" in out and "RECON_CHIESQ_ANY" in out


def test_pack_sheets_follow_the_register() -> None:
    from recon.pack.book import build_sheets
    from recon.pack.model import PackOptions
    from tests.pack.fixtures import make_result

    sheets, _ = build_sheets(make_result(), PackOptions())
    titles = [s.title for s in sheets]
    assert titles[:5] == ["Cover", "Summary", "Access", "Activity", "Outcomes"]
    assert pl.Series(titles).is_unique().all()
