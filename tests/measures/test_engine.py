"""The engine: every measure once, in order; provider restriction; catalogue; percentages;
and properties that hold on any extract."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.codes import load_codes
from recon.config import ProviderSettings
from recon.errors import RulesError
from recon.measures.catalog import catalog
from recon.measures.engine import canonical_tables, compute_measures, run_measures
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.register import check_catalog
from recon.rounding import percent
from recon.tables import TABLES
from tests.measures.builders import contact, frames, person, referral

SEP = Month(2024, 9)
SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "measures.md"

EXPECTED_IDS = [
    "MHS95", "MHS69", "MHS32", "MHS32a", "MHS29", "MHS30", "MHS58", "MHS57a", "MHS01", "MHS23", "MHS61a",
    "MHS110", "MHS111", "MHS111a", *[f"MHS111{c}" for c in "bcdefg"],
    "MHS112", "MHS112a", *[f"MHS112{c}" for c in "bcdefg"],
    *[f"MHS11{n}{c}" for n in (3, 4, 5) for c in "abcdef"],
    "RECON_CGAS_ANY", "RECON_CGAS_PAIRED", "RECON_GBO_ANY", "RECON_GBO_PAIRED", "RECON_CHIESQ_ANY",
]


def small_extract() -> dict[str, pl.DataFrame]:
    return frames(
        people=[person("P1", "2012-01-01", OrgIDProv="RXX"), person("P2", "2010-05-05", OrgIDProv="RYY")],
        referrals=[
            referral("R1", "P1", "2024-09-02", OrgIDProv="RXX", UniqCareProfTeamLocalID="T1"),
            referral("R2", "P2", "2024-09-03", OrgIDProv="RYY"),
        ],
        contacts=[contact("C1", "R1", "2024-09-05"), contact("C2", "R2", "2024-09-06"), contact("C3", "R2", "2024-09-07")],
    )


# ---------------------------------------------------------------------------------------------
# Catalogue


def spec_ids(text: str) -> list[str]:
    """IDs in the first column of measures.md's tables, ranges like MHS111b-g expanded."""
    ids: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^\|\s*((?:MHS|RECON_)[^|]*?)\s*\|", line)
        if not m:
            continue
        for part in (p.strip() for p in m.group(1).split("/")):
            r = re.fullmatch(r"(MHS\d+)([a-z])-([a-z])", part)
            if r:
                ids += [r.group(1) + chr(c) for c in range(ord(r.group(2)), ord(r.group(3)) + 1)]
            else:
                ids.append(part)
    return ids


def test_catalogue_lists_every_measure_in_spec_order():
    assert list(catalog().ids) == EXPECTED_IDS
    if SPEC.exists():
        assert spec_ids(SPEC.read_text(encoding="utf-8")) == EXPECTED_IDS


def test_catalogue_entries_are_complete():
    cat = catalog()
    assert {m.family for m in cat.measures} == {"access", "activity", "outcomes", "completeness"}
    for m in cat.measures:
        assert m.name and m.description
        if m.is_percentage:
            assert m.denominator in cat.ids
    assert cat.get("MHS95").period_months == 12 and cat.get("MHS95").name.startswith("Number of CYP aged under 18")
    assert cat.get("MHS112a").kind == "percentage" and cat.get("MHS112a").numerator == "MHS112"
    assert cat.get("RECON_GBO_PAIRED").kind == "percentage" and cat.get("RECON_GBO_PAIRED").denominator == "MHS110"
    assert {m.id for m in cat.main} >= {
        "MHS95", "MHS69", "MHS32a", "MHS30", "MHS110", "MHS112a", "RECON_CGAS_PAIRED", "RECON_GBO_PAIRED"
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[measure]]\nid = 'X'\nname = 'x'\nfamily = 'nope'\nkind = 'count'\ndescription = 'd'\n", "family"),
        ("[[measure]]\nid = 'X'\nname = 'x'\nfamily = 'access'\nkind = 'count'\n", "description"),
        ("[[measure]]\nid = 'X'\nname = 'x'\nfamily = 'access'\nkind = 'percentage'\ndescription = 'd'\n", "denominator"),
        ("[[measure]]\nid = 'X'\nname = 'x'\nfamily = 'access'\nkind = 'count'\ndescription = 'd'\n" * 2, "twice"),
        ("[[measure]\n", "cannot be read"),
        ("", "no [[measure]]"),
    ],
)
def test_bad_catalogue_is_a_rules_error(tmp_path, text, message):
    p = tmp_path / "measures.toml"
    p.write_text(text)
    with pytest.raises(RulesError, match=re.escape(message)):
        check_catalog(catalog(p))  # the family against the register, the rest on reading


# ---------------------------------------------------------------------------------------------
# Engine


def test_every_id_once_at_provider_level_in_order_then_breakdowns():
    result = compute_measures(small_extract(), SEP)
    assert isinstance(result, MeasuresResult)
    provider = [v.id for v in result.values if v.breakdown is None]
    assert provider == EXPECTED_IDS
    # provider-level block first, then breakdown entries (measure order, Team before Age band)
    first_breakdown = next(i for i, v in enumerate(result.values) if v.breakdown is not None)
    assert all(v.breakdown is not None for v in result.values[first_breakdown:])
    order = [(EXPECTED_IDS.index(v.id), v.breakdown) for v in result.values[first_breakdown:]]
    assert [o[0] for o in order] == sorted(o[0] for o in order)
    for v in result.values:
        if catalog().get(v.id).is_percentage and v.breakdown is None:
            assert v.denominator is not None and v.numerator is not None
            assert v.value == percent(v.numerator, v.denominator)
        elif v.breakdown is None:
            assert v.denominator is None


def test_provider_from_data_and_restriction_to_ods():
    everyone = compute_measures(small_extract(), SEP)
    # most frequent OrgIDProv on referrals: a tie RXX/RYY resolves to the first in sort order
    assert everyone.provider == "RXX"
    assert (everyone.value("MHS32"), everyone.value("MHS29")) == (2, 3)
    rxx = compute_measures(small_extract(), SEP, ProviderSettings(ods="rxx"))
    assert rxx.provider == "rxx"
    # R2 (RYY) and its two contacts drop out
    assert (rxx.value("MHS32"), rxx.value("MHS29"), rxx.value("MHS30")) == (1, 1, 1)
    ryy = compute_measures(small_extract(), SEP, ProviderSettings(ods="RYY"))
    assert (ryy.value("MHS32"), ryy.value("MHS29")) == (1, 2)


def test_blank_org_is_kept_and_no_org_gives_unknown_provider():
    f = small_extract()
    f["MHS101Referral"] = f["MHS101Referral"].with_columns(pl.lit(None, dtype=pl.String).alias("OrgIDProv"))
    f["MHS001MPI"] = f["MHS001MPI"].with_columns(pl.lit(None, dtype=pl.String).alias("OrgIDProv"))
    assert compute_measures(f, SEP).provider == "UNKNOWN"
    assert compute_measures(f, SEP, ProviderSettings(ods="RXX")).value("MHS32") == 2


def test_accepts_lazy_frames_missing_tables_and_columns():
    # Only three tables, referrals without team/discharge columns, contacts as LazyFrames.
    src = {
        "MHS001MPI": pl.DataFrame({"LocalPatientId": ["P1"], "PersonBirthDate": [dt.date(2012, 1, 1)]}).lazy(),
        "MHS101Referral": pl.DataFrame(
            {"ServiceRequestId": ["R1"], "LocalPatientId": ["P1"], "ReferralRequestReceivedDate": [dt.date(2024, 9, 1)]}
        ),
        "MHS201CareContact": pl.DataFrame(
            {
                "CareContactId": ["C1"], "ServiceRequestId": ["R1"], "CareContDate": [dt.date(2024, 9, 2)],
                "AttendStatus": ["5"], "ConsMechanismMH": ["01"],
            }
        ).lazy(),
    }
    result = compute_measures(src, SEP)
    assert (result.value("MHS32a"), result.value("MHS30"), result.value("MHS95"), result.value("MHS23")) == (1, 1, 1, 1)
    canon = canonical_tables(src)
    assert set(canon) == set(TABLES)
    for tid, t in TABLES.items():
        assert canon[tid].collect_schema() == t.schema


def test_details_name_records_without_identifiers():
    result = compute_measures(small_extract(), SEP)
    assert {"mhs95_people", "mhs69_people"} <= set(result.details)
    identifying = {c.name for t in TABLES.values() for c in t.columns if c.identifying}
    for name in ("mhs95_people", "mhs69_people"):
        assert not identifying & set(result.details[name].columns)
    assert result.details["mhs95_people"].get_column("LocalPatientId").to_list() == ["P1", "P2"]


def test_json_shape():
    d = compute_measures(small_extract(), SEP).to_json_dict()
    assert set(d) == {"provider", "month", "measures"} and d["month"] == "2024-09"
    for m in d["measures"]:
        keys = set(m)
        if "breakdown" in m:
            assert {"breakdown", "level"} <= keys and m["breakdown"] in ("Team", "Age band")
        else:
            assert keys in ({"id", "value"}, {"id", "value", "numerator", "denominator"})


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (1, 8, 12.5), (1, 3, 33.3), (2, 3, 66.7), (1, 16, 6.3),  # 6.25 rounds half up
        (1, 40, 2.5), (1, 2000, 0.1),  # 0.05 -> 0.1 (no binary-float 0.0499...)
        (0, 5, 0.0), (5, 5, 100.0), (3, 0, None), (0, 0, None),
    ],
)
def test_percent_rounding(num, den, expected):
    assert percent(num, den) == expected


def test_run_measures_reads_an_extract_folder(tmp_path):
    (tmp_path / "MHS001MPI.csv").write_text("LocalPatientId,PersonBirthDate,OrgIDProv\nP1,2012-01-01,RXX\n")
    (tmp_path / "MHS101Referral.csv").write_text(
        "ServiceRequestId,LocalPatientId,ReferralRequestReceivedDate,OrgIDProv\nR1,P1,2024-09-03,RXX\n"
    )
    (tmp_path / "MHS201CareContact.csv").write_text(
        "CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH\nC1,R1,2024-09-04,5,01\n"
    )
    result = run_measures(tmp_path, SEP, mapping=None, settings=ProviderSettings())
    assert (result.provider, result.value("MHS32"), result.value("MHS95")) == ("RXX", 1, 1)


# ---------------------------------------------------------------------------------------------
# Properties on random small extracts

DAYS = st.dates(dt.date(2023, 6, 1), dt.date(2024, 12, 31))


@st.composite
def random_extract(draw) -> dict[str, pl.DataFrame]:
    n_people = draw(st.integers(0, 4))
    people = [
        person(f"P{i}", draw(st.dates(dt.date(2000, 1, 1), dt.date(2020, 12, 31))).isoformat())
        for i in range(n_people)
    ]
    refs = []
    for _ in range(draw(st.integers(0, 6))):
        received = draw(DAYS)
        disch = draw(st.none() | st.dates(received, dt.date(2025, 3, 31)))
        # ServiceRequestId drawn from a small pool: duplicates (bad data) happen
        refs.append(
            referral(
                f"R{draw(st.integers(0, 4))}", f"P{draw(st.integers(0, 4))}", received.isoformat(),
                disch.isoformat() if disch else None,
            )
        )
    cons = [
        contact(
            f"C{draw(st.integers(0, 8))}", f"R{draw(st.integers(0, 4))}", draw(DAYS).isoformat(),
            attend=draw(st.sampled_from(["2", "3", "4", "5", "6", "7", "9"])),
            mech=draw(st.sampled_from(["01", "02", "05", "11", "98"])),
        )
        for _ in range(draw(st.integers(0, 10)))
    ]
    return frames(people=people, referrals=refs, contacts=cons)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extract=random_extract(), month=st.sampled_from([Month(2024, 3), Month(2024, 9)]))
def test_properties_on_random_extracts(extract, month):
    r = compute_measures(extract, month, codes=load_codes())
    v = {x.id: x.value for x in r.provider_level}
    assert v["MHS30"] + v["MHS58"] <= v["MHS29"]
    assert v["MHS23"] >= v["MHS01"]
    assert v["MHS32"] >= v["MHS32a"]
    assert [x.id for x in r.provider_level] == EXPECTED_IDS


@pytest.mark.parametrize("ods", [None, "RXX"])
@pytest.mark.parametrize("digital", [False, True])
@pytest.mark.parametrize("person_key", ["local", "nhs"])
def test_engine_equals_each_family_alone_under_every_setting(ods, digital, person_key):
    # The engine collects access and activity in one plan; each family alone must agree.
    from recon.measures import access, activity
    from recon.measures.engine import restrict_to_provider

    s = ProviderSettings(ods=ods, digital=digital, person_key=person_key)  # type: ignore[arg-type]
    f = small_extract()
    result = compute_measures(f, SEP, s)
    tables = restrict_to_provider(canonical_tables(f), ods)
    alone = [*access.compute(tables, SEP, s, load_codes())[0], *activity.compute(tables, SEP, s, load_codes())[0]]
    assert {(v.id, v.breakdown, v.level): v.value for v in alone} == {
        (v.id, v.breakdown, v.level): v.value for v in result.values if v.id in {a.id for a in alone}
    }


def test_breakdowns_produced_are_those_the_catalogue_declares():
    # small_extract plus a closed referral with two contacts (an outcomes cohort of one)
    f = small_extract()
    extra = frames(
        people=[person("P3", "2012-01-01", OrgIDProv="RXX")],
        referrals=[referral("R3", "P3", "2024-05-01", "2024-09-20", OrgIDProv="RXX", UniqCareProfTeamLocalID="T3")],
        contacts=[contact("C31", "R3", "2024-06-01"), contact("C32", "R3", "2024-07-01")],
    )
    f = {k: pl.concat([f[k], extra[k]]) for k in f}
    r = compute_measures(f, SEP)
    assert r.value("MHS110") == 1
    assert {v.breakdown for v in r.values if v.id == "MHS110"} == {None, "Team", "Age band"}
    for v in r.values:
        if v.breakdown is not None:
            assert v.breakdown in catalog().get(v.id).breakdowns, v
