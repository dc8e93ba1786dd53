"""Inputs are read exactly as named: polars must never expand [, *, ? in a path (issue 15 class 3)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from recon.published import select_published
from recon.sources import load_extract

MPI = "LocalPatientId,PersonBirthDate,OrgIDProv\nP{n},2010-01-01,RXX\n"
REF = "ServiceRequestId,LocalPatientId,OrgIDProv,ReferralRequestReceivedDate\nR{n},P{n},RXX,2024-09-03\n"
CON = "CareContactId,ServiceRequestId,CareContDate,AttendStatus,ConsMechanismMH\nC{n},R{n},2024-09-10,5,01\n"


def _extract(folder: Path, n: int, *, parquet: bool = False) -> Path:
    folder.mkdir(parents=True)
    for name, text in (("MHS001MPI", MPI), ("MHS101Referral", REF), ("MHS201CareContact", CON)):
        body = text.format(n=n)
        if parquet and name == "MHS101Referral":
            header, row = body.strip().split("\n")
            pl.DataFrame([dict(zip(header.split(","), row.split(","), strict=True))]).write_parquet(
                folder / f"{name}.parquet")
        else:
            (folder / f"{name}.csv").write_text(body, encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ["Extract[12]", "Extract*", "Extract?", "Extract 1 copy", "Extraît ü 1"])
@pytest.mark.parametrize("parquet", [False, True])
def test_a_folder_named_like_a_pattern_is_read_as_named(tmp_path: Path, name: str, parquet: bool) -> None:
    _extract(tmp_path / "Extract1", 1, parquet=parquet)  # what a pattern would match instead
    named = _extract(tmp_path / name, 2, parquet=parquet)
    extract = load_extract(named)
    assert extract.frame("MHS001MPI")["LocalPatientId"].to_list() == ["P2"]
    assert extract.frame("MHS101Referral")["ServiceRequestId"].to_list() == ["R2"]
    assert {f.path.parent for f in extract.files} == {named}


def test_a_published_file_named_like_a_pattern_is_read_as_named(tmp_path: Path) -> None:
    header = ("REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,"
              "PRIMARY_LEVEL_DESCRIPTION,SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_NAME,"
              "MEASURE_VALUE\n")
    row = "01/09/2024,30/09/2024,Performance,Provider,RXX,Trust,NONE,NONE,MHS95,People,{v}\n"
    (tmp_path / "pub1.csv").write_text(header + row.format(v=1), encoding="utf-8")
    named = tmp_path / "pub[12].csv"
    named.write_text(header + row.format(v=2), encoding="utf-8")
    rows = select_published(named, provider="RXX").to_json_dict()["rows"]
    assert [r["value"] for r in rows] == [2]
