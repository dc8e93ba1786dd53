"""The SNOMED CT RF2 reader (waits.md section 2) on small hand-made release folders.

Concept ids here are made up (they only look like SCTIDs); the four refset ids are the real
MHSDS refset identifiers, which the reader filters on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from recon.errors import InputError, MissingInputError
from recon.snomed import CONCEPT_SCHEMA, REFSET_SCHEMA, load_snomed, snomed_files

ASSESS, PSYCH = "1853441000000109", "1853461000000105"
OTHER_REFSET = "999001000000101"
REFSET_HEAD = "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\n"
CONCEPT_HEAD = "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId\n"


def write(path: Path, head: str, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def refset_row(rid: str, time: str, active: str, refset: str, concept: str) -> str:
    return "\t".join([rid, time, active, "999000011000000103", refset, concept])


def concept_row(cid: str, time: str, active: str) -> str:
    return "\t".join([cid, time, active, "999000011000000103", "900000000000074008"])


def release(tmp_path: Path) -> Path:
    root = tmp_path / "release"
    write(root / "Full" / "Refset" / "Content" / "der2_Refset_SimpleUKCRFull_GB1000000_20240410.txt", REFSET_HEAD, [
        refset_row("a1", "20230101", "1", ASSESS, "100000101"),
        refset_row("a2", "20240101", "1", PSYCH, "100000101"),
        refset_row("a3", "20221001", "1", PSYCH, "100000202"),
        refset_row("a4", "20231001", "0", PSYCH, "100000202"),
        refset_row("x1", "20200101", "1", OTHER_REFSET, "100000303"),  # another refset: ignored
    ])
    # The Snapshot repeats a Full row exactly: it counts once.
    write(root / "Snapshot" / "der2_Refset_SimpleUKCRSnapshot_GB1000000_20240410.txt", REFSET_HEAD, [
        refset_row("a2", "20240101", "1", PSYCH, "100000101"),
    ])
    write(root / "Full" / "Terminology" / "sct2_Concept_UKCRFull_GB1000000_20240410.txt", CONCEPT_HEAD, [
        concept_row("100000101", "20210401", "1"),
        concept_row("100000202", "20220101", "1"),
        concept_row("100000202", "20240101", "0"),
        concept_row("100000303", "20200101", "1"),  # not a member of the four: dropped
    ])
    write(root / "Full" / "Terminology" / "sct2_Description_Full-en_GB1000000_20240410.txt", "id\tterm\n", ["1\tx"])
    return root


def test_folder_walk_pools_full_and_snapshot_and_keeps_only_the_four_refsets(tmp_path):
    rel = load_snomed(release(tmp_path))
    assert rel.refset.schema == REFSET_SCHEMA and rel.concepts.schema == CONCEPT_SCHEMA
    assert rel.refset.rows() == [
        (ASSESS, "100000101", dt.date(2023, 1, 1), 1),
        (PSYCH, "100000101", dt.date(2024, 1, 1), 1),  # in Full and Snapshot: once
        (PSYCH, "100000202", dt.date(2022, 10, 1), 1),
        (PSYCH, "100000202", dt.date(2023, 10, 1), 0),
    ]
    assert rel.concepts.rows() == [
        ("100000101", dt.date(2021, 4, 1), 1),
        ("100000202", dt.date(2022, 1, 1), 1),
        ("100000202", dt.date(2024, 1, 1), 0),
    ]
    assert "2 refset and 1 concept file(s)" in rel.source


def test_single_file_is_a_refset_unless_named_as_a_concept_file(tmp_path):
    root = release(tmp_path)
    refs, concepts = snomed_files(next(root.rglob("der2_*Snapshot*")))
    assert len(refs) == 1 and concepts == []
    one = load_snomed(next(root.rglob("der2_*Snapshot*")))
    assert one.refset.height == 1 and one.concepts.height == 0
    with pytest.raises(InputError, match=r"\[SRC031\].*no RF2 simple refset file"):
        load_snomed(next(root.rglob("sct2_Concept_*")))


def test_missing_path_is_exit_3_and_empty_folder_exit_2(tmp_path):
    with pytest.raises(MissingInputError) as missing:
        load_snomed(tmp_path / "nowhere")
    assert missing.value.exit_code == 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as empty:
        load_snomed(tmp_path / "empty")
    assert empty.value.exit_code == 2 and "SRC031" in str(empty.value)


@pytest.mark.parametrize(
    ("row", "column", "line_text"),
    [
        (refset_row("b1", "2024-01-01", "1", ASSESS, "100000404"), "effectiveTime", "line 3: '2024-01-01' is not a date"),
        (refset_row("b1", "20240101", "yes", ASSESS, "100000404"), "active", "line 3: 'yes' is not 0 or 1"),
        (refset_row("b1", "20240101", "1", ASSESS, "abc"), "referencedComponentId", "line 3: 'abc' is not a SNOMED"),
    ],
)
def test_bad_row_names_file_line_and_column(tmp_path, row, column, line_text):
    f = write(tmp_path / "r" / "der2_Refset_SimpleFull_X.txt", REFSET_HEAD,
              [refset_row("a1", "20230101", "1", ASSESS, "100000101"), row])
    with pytest.raises(InputError) as info:
        load_snomed(tmp_path / "r")
    text = str(info.value)
    assert "[SRC030]" in text and str(f) in text and f"column {column}" in text and line_text in text


def test_bad_rows_of_other_refsets_are_not_read(tmp_path):
    write(tmp_path / "r" / "der2_Refset_SimpleFull_X.txt", REFSET_HEAD,
          [refset_row("a1", "20230101", "1", ASSESS, "100000101"), refset_row("z", "junk", "9", OTHER_REFSET, "x")])
    assert load_snomed(tmp_path / "r").refset.height == 1


def test_wrong_header_and_comma_separated_files_stop_the_run(tmp_path):
    write(tmp_path / "a" / "der2_Refset_SimpleFull_X.txt", REFSET_HEAD.replace("\t", ","), [])
    with pytest.raises(InputError, match=r"line 1 lacks column id \(found: no tab-separated columns\)"):
        load_snomed(tmp_path / "a")
    write(tmp_path / "b" / "der2_Refset_SimpleFull_X.txt", REFSET_HEAD.replace("refsetId", "refset"), [])
    with pytest.raises(InputError, match=r"column refsetId.*lacks column refsetId"):
        load_snomed(tmp_path / "b")
    write(tmp_path / "c" / "der2_Refset_SimpleFull_X.txt", REFSET_HEAD,
          [refset_row("a1", "20230101", "1", ASSESS, "100000101") + "\textra\tfields"])
    with pytest.raises(InputError, match=r"\[SRC030\].*not a well-formed RF2 file"):
        load_snomed(tmp_path / "c")


def test_sample_release_reads(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "snomed"
    if not sample.is_dir():
        pytest.skip("sample_data/snomed not generated yet")
    rel = load_snomed(sample)
    assert rel.refset.height > 0 and set(rel.refset.get_column("refsetId")) <= {ASSESS, PSYCH, "1853481000000101",
                                                                              "1853451000000107"}
    assert pl.Series(rel.concepts.get_column("id")).is_in(rel.refset.get_column("referencedComponentId").implode()).all()
