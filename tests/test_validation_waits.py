"""Validation of the waits inputs (waits.md section 2): keys, parents and dates of MHS102, MHS202,
MHS008 and MHS009, MHS607 linked by CareActId, SNOMED CT codes and LADistrictAuth.

The base is tests/fixtures/bad/base plus clean waits tables; each case changes one value and
asserts the complete list of findings, so every rule is seen both firing and not firing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recon.config import ProviderSettings
from recon.errors import InputError
from recon.months import Month
from recon.sources import load_extract
from recon.validation import validate_tables

BASE = Path(__file__).parent / "fixtures" / "bad" / "base"
SEP = Month(2024, 9)
MPI, CON, IND, A607 = "MHS001MPI", "MHS201CareContact", "MHS204IndirectActivity", "MHS607CodedScoreAssessmentAct"
OTHER, ACT, PLAN, AGREE = "MHS102OtherServiceType", "MHS202CareActivity", "MHS008CarePlanType", "MHS009CarePlanAgreement"

WAITS_FILES = {
    OTHER: "ServiceRequestId,UniqOtherCareProfTeamLocalID,ServTeamTypeRefToMH,ReferClosureDate,ReferClosReason,"
           "ReferRejectionDate,ReferRejectReason\nR1,T9,A06,2024-05-01,01,,\nR3,T9,A08,,,,\n",
    ACT: "CareActId,CareContactId,Procedure\nA1,C1,100000101\nA2,C4,100000202:246112005=24484000\nA3,C3,\n",
    PLAN: "CarePlanID,LocalPatientId,CarePlanCreatDate,CarePlanLastUpdateDate\nCP1,P1,2024-02-01,2024-03-01\n"
          "CP2,P3,2024-09-12,\n",
    AGREE: "CarePlanID,CarePlanAgreedDate\nCP1,2024-02-01\nCP1,2024-03-01\nCP2,\n",
}


def base(tmp_path: Path) -> Path:
    target = tmp_path / "extract"
    shutil.copytree(BASE, target)
    for tid, text in WAITS_FILES.items():
        (target / f"{tid}.csv").write_text(text, encoding="utf-8")
    mpi = target / f"{MPI}.csv"
    lines = mpi.read_text(encoding="utf-8").splitlines()
    extra = ["LADistrictAuth", "E08000025", "", "W06000015"]
    mpi.write_text("\n".join(f"{line},{v}" for line, v in zip(lines, extra, strict=True)) + "\n", encoding="utf-8")
    ind = target / f"{IND}.csv"
    ind.write_text(ind.read_text(encoding="utf-8").replace("DurationIndirectAct", "DurationIndirectAct,IndActProcedure")
                   .replace("12:00,15", "12:00,15,100000303"), encoding="utf-8")
    return target


def edit(folder: Path, table: str, old: str, new: str) -> None:
    path = folder / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {table}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def found(folder: Path) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
    findings = validate_tables(load_extract(folder), SEP, ProviderSettings())
    return [(f.rule_id, f.table, f.key, f.column, f.team, f.value) for f in findings]


def test_clean_waits_tables_give_no_finding(tmp_path):
    ex = load_extract(base(tmp_path))
    assert {t: ex.rows(t) for t in (OTHER, ACT, PLAN, AGREE)} == {OTHER: 2, ACT: 3, PLAN: 2, AGREE: 3}
    assert validate_tables(ex, SEP, ProviderSettings()) == ()


CASES = {
    "VAL001 blank team id": (OTHER, "R3,T9,A08", "R3,,A08", [("VAL001", OTHER, "R3|", "UniqOtherCareProfTeamLocalID",
                                                             "T1", None)]),
    "VAL002 team row twice": (OTHER, "R3,T9,A08,,,,", "R3,T9,A08,,,,\nR3,T9,A06,,,,",
                              [("VAL002", OTHER, "R3|T9", None, "T1", None)]),
    "VAL002 activity id twice": (ACT, "A3,C3", "A2,C3", [("VAL002", ACT, "A2", "CareActId", "T1", "A2")]),
    "VAL007 plan date before 1900": (PLAN, "CP2,P3,2024-09-12", "CP2,P3,1899-09-12",
                                     [("VAL007", PLAN, "CP2", "CarePlanCreatDate", "T1", "1899-09-12")]),
    "VAL008 closure after month end": (OTHER, "2024-05-01,01", "2024-10-01,01",
                                       [("VAL008", OTHER, "R1|T9", "ReferClosureDate", "T1", "2024-10-01")]),
    "VAL030 team row orphan": (OTHER, "R3,T9,A08", "R9,T9,A08",
                               [("VAL030", OTHER, "R9|T9", "ServiceRequestId", None, "R9")]),
    "VAL031 activity orphan": (ACT, "A3,C3", "A3,C9", [("VAL031", ACT, "A3", "CareContactId", None, "C9")]),
    "VAL034 plan orphan": (PLAN, "CP2,P3", "CP2,P9", [("VAL034", PLAN, "CP2", "LocalPatientId", None, "P9")]),
    "VAL035 agreement orphan": (AGREE, "CP2,\n", "CP9,\n", [("VAL035", AGREE, "CP9|", "CarePlanID", None, "CP9")]),
    "VAL036 closed before received": (OTHER, "R1,T9,A06,2024-05-01", "R1,T9,A06,2023-12-31",
                                      [("VAL036", OTHER, "R1|T9", "ReferClosureDate", "T1", "2023-12-31")]),
    "VAL036 rejected before received": (OTHER, "R3,T9,A08,,,,", "R3,T9,A08,,,2024-09-09,02",
                                        [("VAL036", OTHER, "R3|T9", "ReferRejectionDate", "T1", "2024-09-09")]),
    "VAL036 same day is fine": (OTHER, "R3,T9,A08,,,,", "R3,T9,A08,,,2024-09-10,02", []),
    "VAL037 updated before created": (PLAN, "2024-02-01,2024-03-01", "2024-02-01,2024-01-31",
                                      [("VAL037", PLAN, "CP1", "CarePlanLastUpdateDate", "T1", "2024-01-31")]),
    "VAL038 agreed before created": (AGREE, "CP1,2024-03-01", "CP1,2024-01-31",
                                     [("VAL038", AGREE, "CP1|2024-01-31", "CarePlanAgreedDate", None, "2024-01-31")]),
    "VAL039 procedure as text": (ACT, "A3,C3,", "A3,C3,CBT session",
                                 [("VAL039", ACT, "A3", "Procedure", "T2", "CBT session")]),
    "VAL039 indirect procedure": (IND, "15,100000303", "15,12345",
                                  [("VAL039", IND, "R1|2024-03-05|12:00:00", "IndActProcedure", "T1", "12345")]),
    "VAL040 area not ONS": (MPI, "E08000025", "Leeds", [("VAL040", MPI, "P1", "LADistrictAuth", "T1", "Leeds")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_waits_value_gives_exactly_its_finding(tmp_path, case):
    table, old, new, expected = CASES[case]
    folder = base(tmp_path)
    edit(folder, table, old, new)
    assert found(folder) == expected


def test_scores_linked_by_care_activity_only_get_the_activity_s_contact(tmp_path):
    folder = base(tmp_path)
    (folder / f"{A607}.csv").write_text(
        "CareActId,CodedAssToolType,PersScore\nA1,959951000000108,4\nA3,959951000000108,8\n", encoding="utf-8")
    ex = load_extract(folder)
    assert ex.frame(A607).select("CareContactId", "CareActId").rows() == [("C1", "A1"), ("C3", "A3")]
    assert validate_tables(ex, SEP, ProviderSettings()) == ()
    # an activity the extract does not hold: no contact (VAL001) and an orphan link (VAL032)
    edit(folder, A607, "A3,9599", "A7,9599")
    assert found(folder) == [
        ("VAL001", A607, "|959951000000108", "CareContactId", None, None),
        ("VAL032", A607, "|959951000000108", "CareActId", None, "A7"),
    ]


def test_contact_disagreeing_with_its_activity_is_named(tmp_path):
    folder = base(tmp_path)
    (folder / f"{A607}.csv").write_text(
        "CareContactId,CareActId,CodedAssToolType,PersScore\nC1,A1,959951000000108,4\nC3,A2,959951000000108,8\n",
        encoding="utf-8")
    assert found(folder) == [("VAL033", A607, "C3|959951000000108", "CareActId", "T2", "A2")]


def test_neither_contact_nor_activity_is_a_missing_column(tmp_path):
    folder = base(tmp_path)
    (folder / f"{A607}.csv").write_text("CodedAssToolType,PersScore\n959951000000108,4\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\[SRC010\].*CareContactId"):
        load_extract(folder)
