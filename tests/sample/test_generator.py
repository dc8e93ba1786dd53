"""The fictional-provider generator: reproducible, realistic proportions, every code used."""

import datetime as dt
import zipfile
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from recon.codes import assessment_tools, load_codes
from recon.measures.common import age_at
from recon.months import Month
from recon.sample import build_tables, generate
from recon.sample.__main__ import app
from recon.sample.bundle import planted_local, write_local
from recon.sample.generate import write_csv
from recon.sample.plant import derive_extract
from recon.sources import load_extract
from recon.tables import TABLES

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def tables():
    return build_tables(people=3000, seed=11)


def nhs_valid(number: str) -> bool:
    """Modulus 11, written out independently of recon."""
    if len(number) != 10 or not number.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[9])


def test_regenerating_with_the_seed_reproduces_committed_files_byte_for_byte(tmp_path):
    local, manifest = planted_local(people=2000, end_month=Month(2024, 9), seed=7, provider="RXX")
    write_local(local, tmp_path / "mhsds")
    for tid in TABLES:
        name = f"{tid}.csv"
        assert (tmp_path / "mhsds" / name).read_bytes() == (SAMPLE / "mhsds" / name).read_bytes(), name
    extract = derive_extract(local, Month(2024, 9), manifest)
    with zipfile.ZipFile(SAMPLE / "extract.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"{tid}.csv" for tid in TABLES)
        for tid in TABLES:
            out = tmp_path / f"{tid}.csv"
            write_csv(extract[tid], out)
            assert zf.read(f"{tid}.csv") == out.read_bytes(), tid


def test_same_seed_same_tables_other_seed_other_tables():
    a, b, c = build_tables(people=300, seed=3), build_tables(people=300, seed=3), build_tables(people=300, seed=4)
    for tid in TABLES:
        assert_frame_equal(a[tid], b[tid])
    assert not a["MHS201CareContact"].equals(c["MHS201CareContact"])


def test_columns_and_types_are_exactly_the_mhsds_items(tables):
    for tid, t in TABLES.items():
        assert tables[tid].schema == t.schema, tid


def test_proportions_per_person(tables):
    n = tables["MHS001MPI"].height
    assert n == 3000
    assert 1.4 <= tables["MHS101Referral"].height / n <= 1.6
    assert 13.5 <= tables["MHS201CareContact"].height / n <= 16.5
    scores = tables["MHS606CodedScoreAssessmentRefer"].height + tables["MHS607CodedScoreAssessmentAct"].height
    assert 3.3 <= scores / n <= 4.2
    assert 0 < tables["MHS501HospProvSpell"].height < 0.02 * n


def test_every_attendance_and_mechanism_code_occurs(tables):
    codes = load_codes()
    for frame in (tables["MHS201CareContact"], load_extract(SAMPLE / "mhsds").tables["MHS201CareContact"]):
        assert sorted(frame.get_column("AttendStatus").unique()) == sorted(codes.attendance_valid)
        assert sorted(frame.get_column("ConsMechanismMH").unique()) == sorted(codes.mechanism_valid)


def test_keys_unique_and_links_intact_before_planting(tables):
    for tid in ("MHS001MPI", "MHS101Referral", "MHS201CareContact", "MHS607CodedScoreAssessmentAct",
                "MHS606CodedScoreAssessmentRefer", "MHS501HospProvSpell", "MHS902ServiceTeamDetails"):
        assert not tables[tid].select(TABLES[tid].key).is_duplicated().any(), tid
    ref, cc = tables["MHS101Referral"], tables["MHS201CareContact"]
    assert ref.join(tables["MHS001MPI"], on="LocalPatientId", how="anti").height == 0
    assert cc.join(ref, on="ServiceRequestId", how="anti").height == 0
    assert tables["MHS607CodedScoreAssessmentAct"].join(cc, on="CareContactId", how="anti").height == 0
    # MHS204 carries a few exact duplicate rows on purpose, and nothing else duplicated
    ind = tables["MHS204IndirectActivity"]
    dup = ind.filter(ind.select(TABLES["MHS204IndirectActivity"].key).is_duplicated())
    assert 3 <= dup.unique().height <= 10 and dup.height == 2 * dup.unique().height


def test_nhs_numbers_valid_distinct_and_from_the_test_range(tables):
    numbers = tables["MHS001MPI"].get_column("NHSNumber").to_list()
    assert len(set(numbers)) == len(numbers)
    assert all(nhs_valid(x) and x.startswith("999") for x in numbers)


def test_dates_are_consistent(tables):
    ref = tables["MHS101Referral"].join(tables["MHS001MPI"], on="LocalPatientId")
    assert ref.filter(pl.col("PersonBirthDate") >= pl.col("ReferralRequestReceivedDate")).height == 0
    assert ref.filter(pl.col("ServDischDate") < pl.col("ReferralRequestReceivedDate")).height == 0
    end = Month(2024, 9).end
    assert ref.get_column("ServDischDate").max() <= end
    cc = tables["MHS201CareContact"].join(ref, on="ServiceRequestId")
    assert cc.get_column("CareContDate").is_between(dt.date(2023, 9, 1), end).all()
    assert cc.filter(pl.col("CareContDate") < pl.col("ReferralRequestReceivedDate")).height == 0
    assert cc.filter(pl.col("CareContDate") > pl.col("ServDischDate")).height == 0
    assert cc.filter(pl.col("ReferRejectionDate").is_not_null()).height == 0  # rejected: never seen


def test_realistic_edges(tables):
    ref = tables["MHS101Referral"].join(tables["MHS001MPI"], on="LocalPatientId")
    age = ref.select(age_at(pl.col("PersonBirthDate"), pl.col("ReferralRequestReceivedDate")).alias("a"))["a"]
    assert age.min() >= 0 and age.max() <= 25
    assert age.is_between(4, 17).mean() > 0.8
    assert (age == 18).sum() > 0
    # birthdays within a fortnight of the 18th at referral
    eighteenth = ref.select(
        (pl.col("PersonBirthDate").dt.offset_by("18y") - pl.col("ReferralRequestReceivedDate")).dt.total_days().abs()
    ).to_series()
    assert (eighteenth <= 14).sum() >= 3
    disch = ref.get_column("ServDischDate").drop_nulls()
    assert (disch == disch.dt.month_end()).sum() > 0.05 * disch.len()
    received = ref.get_column("ReferralRequestReceivedDate")
    assert (received.dt.day() == 1).sum() > 0 and (received == received.dt.month_end()).sum() > 0
    assert ref.get_column("ReferRejectionDate").is_not_null().mean() > 0.03
    assert ref.get_column("ServDischDate").is_null().mean() > 0.2  # open caseload
    teams = tables["MHS902ServiceTeamDetails"]
    assert teams.height == 6
    assert set(teams.get_column("ServTeamTypeMH")) & set(load_codes().excluded_team_types)


def test_outcome_tools_and_recording_gaps(tables):
    codes = load_codes()
    tools = assessment_tools()
    cc = tables["MHS201CareContact"]
    a607 = tables["MHS607CodedScoreAssessmentAct"].join(cc, on="CareContactId").select(
        "ServiceRequestId", "CodedAssToolType", pl.col("CareContDate").alias("d"))
    a606 = tables["MHS606CodedScoreAssessmentRefer"].select(
        "ServiceRequestId", "CodedAssToolType", pl.col("AssToolCompTimestamp").dt.date().alias("d"))
    scores = pl.concat([a607, a606])
    used = set(scores.get_column("CodedAssToolType"))
    chiesq = set(tools.filter(pl.col("tool").str.starts_with(codes.chiesq_tool_prefix))["snomed_code"])
    sdq = set(tools.filter(pl.col("tool").str.contains("SDQ"))["snomed_code"])
    rcads = set(tools.filter(pl.col("tool").str.contains("RCADS"))["snomed_code"])
    assert set(codes.cgas) <= used and {"959951000000108", "1034351000000101"} <= used
    assert used & chiesq and used & sdq and used & rcads
    assert used <= set(tools["snomed_code"])
    # all scores numeric and inside the tool's range before planting
    ranged = pl.concat([tables["MHS606CodedScoreAssessmentRefer"].select("CodedAssToolType", "PersScore"),
                        tables["MHS607CodedScoreAssessmentAct"].select("CodedAssToolType", "PersScore")]).join(
        tools, left_on="CodedAssToolType", right_on="snomed_code")
    score = ranged.get_column("PersScore").cast(pl.Float64)
    assert score.is_between(ranged["min_score"], ranged["max_score"]).all()
    # gaps: CGAS once only, CGAS twice, and a second CGAS before the second contact
    cgas = scores.filter(pl.col("CodedAssToolType") == codes.cgas[0]).group_by("ServiceRequestId").agg(
        pl.len().alias("n"), pl.col("d").min().alias("first"), pl.col("d").max().alias("last"))
    assert (cgas["n"] == 1).sum() > 20 and (cgas["n"] == 2).sum() > 20
    second_contact = cc.filter(pl.col("AttendStatus").is_in(["5", "6"])).group_by("ServiceRequestId").agg(
        pl.col("CareContDate").sort().get(1, null_on_oob=True).alias("c2"))
    early = cgas.filter(pl.col("n") == 2).join(second_contact, on="ServiceRequestId").filter(
        pl.col("last") < pl.col("c2"))
    assert early.height > 0
    with_contacts = cc.get_column("ServiceRequestId").unique()
    assert with_contacts.is_in(scores.get_column("ServiceRequestId").unique().implode()).mean() < 0.9  # some none


def test_generate_writes_csv_and_parquet_that_read_the_same(tmp_path):
    out = generate(tmp_path / "ex", people=40, end_month=Month(2024, 3), months=6, seed=1, formats=("csv", "parquet"))
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")}
    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "pq"
    csv_dir.mkdir()
    pq_dir.mkdir()
    for t in TABLES:
        (out / f"{t}.csv").rename(csv_dir / f"{t}.csv")
        (out / f"{t}.parquet").rename(pq_dir / f"{t}.parquet")
    a, b = load_extract(csv_dir), load_extract(pq_dir)
    for t in TABLES:
        assert_frame_equal(a.tables[t], b.tables[t])
    assert a.tables["MHS201CareContact"]["CareContDate"].max() <= Month(2024, 3).end
    assert a.provider == "RXX"


def test_cli_writes_folder_and_rejects_bad_arguments(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["--out", str(tmp_path / "a"), "--people", "25", "--end-month", "2024-06",
                             "--months", "3", "--format", "parquet", "--provider", "RYY"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "a" / "MHS201CareContact.parquet").is_file()
    assert load_extract(tmp_path / "a").provider == "RYY"
    bad = runner.invoke(app, ["--out", str(tmp_path / "b"), "--format", "xls"])
    assert bad.exit_code == 2 and "--format" in bad.stderr
    big = runner.invoke(app, ["--out", str(tmp_path / "c"), "--people", "400000", "--plant"])
    assert big.exit_code == 2 and "small samples" in big.stderr
    assert not (tmp_path / "c").exists()
    month = runner.invoke(app, ["--out", str(tmp_path / "d"), "--end-month", "Sept"])
    assert month.exit_code == 2


def test_plant_cli_matches_committed_local_extract(tmp_path):
    res = CliRunner().invoke(app, ["--out", str(tmp_path / "p"), "--plant"])
    assert res.exit_code == 0
    for t in TABLES:
        assert (tmp_path / "p" / f"{t}.csv").read_bytes() == (SAMPLE / "mhsds" / f"{t}.csv").read_bytes()
