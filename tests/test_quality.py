"""Data quality (VODIM) per data item on the base fixture extract, counts worked out by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from recon.months import Month
from recon.quality import COLUMNS, data_quality
from recon.sources import load_extract
from recon.tables import TABLES

BASE = Path(__file__).parent / "fixtures" / "bad" / "base"


def row(dq: pl.DataFrame, table: str, column: str) -> tuple:
    hit = dq.filter((pl.col("table") == table) & (pl.col("column") == column))
    assert hit.height == 1
    r = hit.row(0, named=True)
    return (r["basis"], r["valid"], r["other"], r["default"], r["invalid"], r["missing"], r["total"], r["score"])


def test_shape_one_row_per_item_of_every_table_read():
    extract = load_extract(BASE)
    dq = data_quality(extract, month=Month(2024, 9))
    assert tuple(dq.columns) == COLUMNS
    assert dq.height == sum(len(t.columns) for tid, t in TABLES.items() if tid in {f.table for f in extract.files} or extract.rows(tid))
    counts = dq.select((pl.col("valid") + pl.col("other") + pl.col("default") + pl.col("invalid")
                        + pl.col("missing") == pl.col("total")).all()).item()
    assert counts


def test_vodim_counts_by_hand():
    dq = data_quality(load_extract(BASE), month=Month(2024, 9))
    # Gender 1, 2, 9: 9 (indeterminate) is "other" in rules/validation.toml.
    assert row(dq, "MHS001MPI", "Gender") == ("code list", 2, 1, 0, 0, 0, 3, 100.0)
    # GenderIDCode 1, X, blank.
    assert row(dq, "MHS001MPI", "GenderIDCode") == ("code list", 1, 0, 1, 0, 1, 3, 33.3)
    # EthnicCategory A, Z, 99: Z and 99 are defaults.
    assert row(dq, "MHS001MPI", "EthnicCategory") == ("code list", 1, 0, 2, 0, 0, 3, 33.3)
    # Postcode "LS1 4AP", "ZZ99 3WZ" (pseudo postcode = default), "ls1" (invalid format).
    assert row(dq, "MHS001MPI", "Postcode") == ("format", 1, 0, 1, 1, 0, 3, 33.3)
    # NHSNumber 9434765919 and 0000000116 pass modulus 11; one blank.
    assert row(dq, "MHS001MPI", "NHSNumber") == ("modulus 11", 2, 0, 0, 0, 1, 3, 66.7)
    # Mechanism 01, 02, 98, 11: 98 is "other".
    assert row(dq, "MHS201CareContact", "ConsMechanismMH") == ("code list", 3, 1, 0, 0, 0, 4, 100.0)
    assert row(dq, "MHS201CareContact", "AttendStatus") == ("code list", 4, 0, 0, 0, 0, 4, 100.0)
    assert row(dq, "MHS201CareContact", "UniqCareProfTeamLocalID") == ("present", 3, 0, 0, 0, 1, 4, 75.0)
    assert row(dq, "MHS201CareContact", "CareContTime") == ("present", 4, 0, 0, 0, 0, 4, 100.0)
    assert row(dq, "MHS101Referral", "ServDischDate") == ("plausible date", 1, 0, 0, 0, 2, 3, 33.3)
    assert row(dq, "MHS606CodedScoreAssessmentRefer", "PersScore") == ("numeric in tool range", 2, 0, 0, 0, 0, 2,
                                                                        100.0)


def test_dates_after_the_month_are_invalid_for_that_month():
    dq = data_quality(load_extract(BASE), month=Month(2024, 8))
    # Contacts on 2024-09-02 and 2024-09-20 are after August.
    assert row(dq, "MHS201CareContact", "CareContDate") == ("plausible date", 2, 0, 0, 2, 0, 4, 50.0)


def test_scores_and_tools(tmp_path):
    folder = tmp_path / "e"
    shutil.copytree(BASE, folder)
    (folder / "MHS607CodedScoreAssessmentAct.csv").write_text(
        "CareContactId,CodedAssToolType,PersScore\n"
        "C1,959951000000108,4\n"      # GBO 0-10: valid
        "C2,959951000000108,11\n"     # out of range: invalid
        "C3,959951000000108,n/a\n"    # not numeric: invalid
        "C4,123456,8\n"               # numeric, unknown tool: other
        "C2,860591000000104,\n",      # blank
        encoding="utf-8",
    )
    dq = data_quality(load_extract(folder), month=Month(2024, 9))
    assert row(dq, "MHS607CodedScoreAssessmentAct", "PersScore") == ("numeric in tool range", 1, 1, 0, 2, 1, 5, 40.0)
    assert row(dq, "MHS607CodedScoreAssessmentAct", "CodedAssToolType") == ("code list", 4, 0, 0, 1, 0, 5, 80.0)


def test_tables_not_in_the_extract_are_left_out(tmp_path):
    folder = tmp_path / "e"
    folder.mkdir()
    for name in ("MHS001MPI.csv", "MHS101Referral.csv", "MHS201CareContact.csv"):
        shutil.copy(BASE / name, folder / name)
    dq = data_quality(load_extract(folder))
    assert sorted(dq.get_column("table").unique().to_list()) == ["MHS001MPI", "MHS101Referral", "MHS201CareContact"]
