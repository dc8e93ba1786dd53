"""The independent references (pandas, DuckDB) on a hand-built extract, then against recon.

The hand-built extract has one referral per rule of measures.md that MHS95 and MHS110-MHS112
apply, so every expected count below is worked out by hand in the comments.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("pandas", reason="the pandas reference needs the 'bench' extra")
pytest.importorskip("duckdb", reason="the DuckDB reference needs the 'bench' extra")

from bench import duckdb_ref, pandas_ref
from bench.dataset import to_parquet

CGAS, GBO, HONOSCA_PARENT, CORE_OM = "860591000000104", "959951000000108", "989881000000104", "718490000"
RCADS_DEPRESSION_OLD, RCADS_DEPRESSION_NEW = "718655001", "958231000000102"  # one item, two codes
KID = "2012-01-01"
STD_CONTACTS = ("2024-02-01", "2024-03-01", "2024-06-01")

MPI: list[dict[str, str]] = []
REF: list[dict[str, str]] = []
CON: list[dict[str, str]] = []
IND: list[dict[str, str]] = []
A606: list[dict[str, str]] = []
A607: list[dict[str, str]] = []
SPELL: list[dict[str, str]] = []


def person(pid: str, born: str) -> None:
    MPI.append({"LocalPatientId": pid, "NHSNumber": "", "PersonBirthDate": born, "Gender": "1", "OrgIDProv": "RXX"})


def referral(rid: str, pid: str, received: str = "2024-01-10", disch: str = "2024-09-20", **extra: str) -> None:
    REF.append({"ServiceRequestId": rid, "LocalPatientId": pid, "OrgIDProv": "RXX",
                "ReferralRequestReceivedDate": received, "ServDischDate": disch,
                "ReferRejectionDate": extra.get("rejected", ""), "UniqCareProfTeamLocalID": "T1",
                "ServTeamType": extra.get("team_type", "C01")})


def contact(cid: str, rid: str, day: str, attend: str = "5", mech: str = "01") -> None:
    CON.append({"CareContactId": cid, "ServiceRequestId": rid, "CareContDate": day, "CareContTime": "10:00",
                "AttendStatus": attend, "ConsMechanismMH": mech, "UniqCareProfTeamLocalID": "T1"})


def cohort_case(n: int, born: str = KID, contacts: tuple[str, ...] = STD_CONTACTS, **kw: str) -> str:
    rid = f"R{n}"
    person(f"P{n}", born)
    referral(rid, f"P{n}", **kw)
    for i, day in enumerate(contacts, 1):
        contact(f"{rid}-{i}", rid, day)
    return rid


def score606(rid: str, tool: str, stamp: str, score: str) -> None:
    A606.append({"ServiceRequestId": rid, "CodedAssToolType": tool, "AssToolCompTimestamp": stamp, "PersScore": score})


# --- MHS95 only: people aged 0-17 at referral and at a qualifying activity in Oct 2023 - Sep 2024 ---
person("P1", "2010-05-01")
referral("R1", "P1", "2023-11-01", "")
contact("R1-1", "R1", "2024-01-10")                       # counts
referral("R1b", "P1", "2024-02-01", "")
contact("R1b-1", "R1b", "2024-03-01", "6", "11")           # same person again: still one
person("P2", "2006-10-15")
referral("R2", "P2", "2023-11-01", "")
contact("R2-1", "R2", "2024-09-10", "5", "02")             # 17 on the day (birthday 15 Oct): counts
person("P3", "2006-03-01")
referral("R3", "P3", "2023-12-01", "")
contact("R3-1", "R3", "2024-04-01")                        # 18 at the activity: no
person("P4", "2015-01-01")
referral("R4", "P4", "2023-01-01", "")
contact("R4-1", "R4", "2023-09-30")                        # before the 12 months: no
contact("R4-2", "R4", "2024-10-01")                        # after M: no
person("P5", KID)
referral("R5", "P5", "2024-01-01", "")
contact("R5-1", "R5", "2024-02-01", "5", "05")             # email: not qualifying (not digital): no
person("P6", KID)
referral("R6", "P6", "2024-01-01", "")
IND.append({"ServiceRequestId": "R6", "IndirectActDate": "2024-06-01", "IndirectActTime": "09:00",
            "DurationIndirectAct": "30"})                   # indirect activity: counts
person("P7", KID)
referral("R7", "P7", "2024-01-01", "")
contact("R7-1", "R7", "2024-02-01", "3")                   # did not attend: no
person("P8", "2005-06-01")
referral("R8", "P8", "2023-11-01", "")
contact("R8-1", "R8", "2024-01-01")                        # 18 at referral: no
ACCESS_ONLY_PEOPLE = 3                                     # P1, P2, P6

# --- The MHS110 cohort (discharged in Sep 2024 after a second qualifying activity) ---
r = cohort_case(10)                                        # paired, clinician
score606(r, CGAS, "2024-02-01T10:00:00", "40")
score606(r, CGAS, "2024-08-01 09:30:00", "60")
r = cohort_case(11)                                        # second score before Contact2: assessed only
score606(r, CGAS, "2024-02-01", "40")
score606(r, CGAS, "2024-02-15", "50")
cohort_case(12, contacts=("2024-02-01",))                  # one activity: not in the cohort
cohort_case(13, disch="2024-08-20")                        # discharged in August: no
cohort_case(14, team_type="E01")                           # excluded team type: no
cohort_case(15, rejected="2024-01-15")                     # rejected: no
cohort_case(16)
SPELL.append({"HospProvSpellID": "H16", "ServiceRequestId": "R16"})  # hospital spell: no
cohort_case(17, born="2006-01-01")                         # 18 at referral: no (and not in MHS95)
cohort_case(18, received="2015-12-01")                     # received before 2016: no
r = cohort_case(19)                                        # identical rows count once: parent assessed only
score606(r, HONOSCA_PARENT, "2024-05-01", "2")
score606(r, HONOSCA_PARENT, "2024-05-01", "2")
r = cohort_case(20)                                        # paired via MHS607 (contact dates), self
A607.append({"CareContactId": f"{r}-1", "CodedAssToolType": GBO, "PersScore": "3"})
A607.append({"CareContactId": f"{r}-3", "CodedAssToolType": GBO, "PersScore": "8"})
A607.append({"CareContactId": "NO-SUCH", "CodedAssToolType": GBO, "PersScore": "8"})
r = cohort_case(21)                                        # nothing valid: out of range, text, before Contact1
score606(r, CGAS, "2024-03-01", "0")
score606(r, CGAS, "2024-04-01", "150")
score606(r, CGAS, "2024-05-01", "abc")
score606(r, CGAS, "2024-01-20", "55")
r = cohort_case(22)                                        # a score after discharge does not count
score606(r, CGAS, "2024-02-01", "30")
score606(r, CGAS, "2024-09-25", "70")
r = cohort_case(23, contacts=())                           # one indirect activity given twice: not cohort
IND.extend([{"ServiceRequestId": r, "IndirectActDate": "2024-04-01", "IndirectActTime": "10:00",
             "DurationIndirectAct": "15"}] * 2)
cohort_case(24, contacts=("2024-03-01", "2024-09-25"))     # second activity after discharge: no
r = cohort_case(25)                                        # not a CYP outcomes tool: cohort, not assessed
score606(r, CORE_OM, "2024-02-01", "10")
score606(r, CORE_OM, "2024-08-01", "20")
r = cohort_case(26, contacts=("2024-02-01",), received="10/01/2024", disch="20/09/2024")  # UK dates
IND.append({"ServiceRequestId": r, "IndirectActDate": "01/05/2024", "IndirectActTime": "",
            "DurationIndirectAct": "10"})                   # Contact2 is indirect activity on 1 May
score606(r, CGAS, "2024-03-01", "50")
score606(r, CGAS, "2024-05-01", "70")                      # on Contact2: paired, clinician
r = cohort_case(27)                                        # MHS606 first, MHS607 last: paired, clinician
score606(r, CGAS, "2024-02-01", "45")
A607.append({"CareContactId": f"{r}-3", "CodedAssToolType": CGAS, "PersScore": "60.0"})
r = cohort_case(28)                                        # one item under its old and new code: paired, self
score606(r, RCADS_DEPRESSION_OLD, "2024-02-01", "10")
score606(r, RCADS_DEPRESSION_NEW, "2024-08-01", "5")
r = cohort_case(29)                                        # two items of one tool, one score each: assessed only
score606(r, RCADS_DEPRESSION_OLD, "2024-02-01", "10")
score606(r, "958251000000109", "2024-08-01", "5")          # RCADS generalized anxiety (another item)

EXPECTED = {
    # P1, P2, P6 + every cohort-section person but P17 (R10-R16, R18-R29: 19 people)
    "MHS95": ACCESS_ONLY_PEOPLE + 19,
    "MHS110": 11,  # R10, R11, R19, R20, R21, R22, R25, R26, R27, R28, R29
    "MHS111": 9,   # R10, R11, R19, R20, R22, R26, R27, R28, R29
    "MHS111b": 3,  # R20, R28, R29
    "MHS111d": 1,  # R19
    "MHS111f": 5,  # R10, R11, R22, R26, R27
    "MHS112": 5,   # R10, R20, R26, R27, R28
    "MHS112b": 2,  # R20, R28
    "MHS112d": 0,
    "MHS112f": 3,  # R10, R26, R27
}

FILES = {
    "MHS001MPI": MPI, "MHS101Referral": REF, "MHS201CareContact": CON, "MHS204IndirectActivity": IND,
    "MHS606CodedScoreAssessmentRefer": A606, "MHS607CodedScoreAssessmentAct": A607,
    "MHS501HospProvSpell": SPELL,
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny") / "csv"
    folder.mkdir()
    for tid, rows in FILES.items():
        with (folder / f"{tid}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def tiny_parquet(tiny: Path) -> Path:
    return to_parquet(tiny, tiny.parent / "parquet")


@pytest.mark.parametrize("ref", [pandas_ref, duckdb_ref], ids=["pandas", "duckdb"])
def test_reference_matches_hand_count_csv(ref, tiny: Path) -> None:
    assert ref.compute(tiny, "2024-09") == EXPECTED


@pytest.mark.parametrize("ref", [pandas_ref, duckdb_ref], ids=["pandas", "duckdb"])
def test_reference_matches_hand_count_typed_parquet(ref, tiny_parquet: Path) -> None:
    assert ref.compute(tiny_parquet, "2024-09") == EXPECTED


@pytest.mark.parametrize("ref", [pandas_ref, duckdb_ref], ids=["pandas", "duckdb"])
def test_reference_window_moves_with_month(ref, tiny: Path) -> None:
    # October 2024 (Nov 2023 - Oct 2024): R4's activity on 1 Oct now counts; nobody left in October.
    got = ref.compute(tiny, "2024-10")
    assert (got["MHS95"], got["MHS110"], got["MHS112"]) == (EXPECTED["MHS95"] + 1, 0, 0)
    # August 2024 (Sep 2023 - Aug 2024): R4's 30 Sep 2023 activity is in, P2's 10 Sep 2024 one is
    # out; only R13 was discharged in August (three contacts, no scores).
    got = ref.compute(tiny, "2024-08")
    assert (got["MHS95"], got["MHS110"], got["MHS111"]) == (EXPECTED["MHS95"], 1, 0)
    assert ref.compute(tiny, "2024-08", only="access") == {"MHS95": EXPECTED["MHS95"]}


def _recon_ready() -> str | None:
    if importlib.util.find_spec("recon.sample") is None:
        return "recon.sample (the data generator) is not written yet"
    import recon.measures.engine as m

    if not hasattr(m, "compute_measures"):
        return "recon.measures.compute_measures is not written yet"
    return None


def _recon_counts(folder: Path, month: str) -> dict[str, int | None]:
    from recon.config import ProviderSettings
    from recon.measures.engine import compute_measures
    from recon.months import Month
    from recon.sources import load_extract

    result = compute_measures(load_extract(folder), Month.parse(month), ProviderSettings())
    return {k: result.value(k) for k in EXPECTED}  # type: ignore[misc]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _recon_ready()
    if reason:
        pytest.skip(reason)
    from bench.dataset import find_mhsds_folder
    from recon.sample.generate import generate

    # 2,000 people: the smallest seed-3 extract where grouping scores by SNOMED code instead of by
    # item (old and new RCADS codes) changes MHS112, so the check has teeth
    out = generate(tmp_path_factory.mktemp("gen"), people=2000, seed=3)
    return find_mhsds_folder(Path(out))


def test_recon_matches_hand_count(tiny: Path) -> None:
    reason = _recon_ready()
    if reason:
        pytest.skip(reason)
    assert _recon_counts(tiny, "2024-09") == EXPECTED


def test_three_way_agreement_on_generated_data(generated: Path) -> None:
    expected = pandas_ref.compute(generated, "2024-09")
    assert expected["MHS95"] > 0 and expected["MHS110"] > 0  # the dataset exercises both families
    assert duckdb_ref.compute(generated, "2024-09") == expected
    assert _recon_counts(generated, "2024-09") == expected
