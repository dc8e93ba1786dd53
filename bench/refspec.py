"""What the two reference implementations share: the spec's constants, the month window, file lookup.

The code lists are restated here from shared/spec/measures.md and mhsds.md on purpose (not read
through ``recon.codes``), so the references also check recon's ``recon/rules/codes.toml``. Only the outcome
tool table is read from ``recon/rules/reference/assessment_tools.csv``: it is reference data, too big to restate.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS_CSV = ROOT / "recon" / "rules" / "reference" / "assessment_tools.csv"

ATTENDED = ("5", "6")
QUALIFYING_MECHANISMS = ("01", "02", "04", "11")
EXCLUDED_TEAM_TYPES = ("A14", "B02", "E01", "E02", "E03", "E04")
CYP_MAX_AGE = 17
OUTCOMES_FROM = dt.date(2016, 1, 1)
RATERS = ("Self", "Parent", "Clinician")
RATER_SUFFIX = {"Self": "b", "Parent": "d", "Clinician": "f"}

#: Measure ids the references produce (provider level, counts).
OUTCOME_IDS = ("MHS110", "MHS111", "MHS111b", "MHS111d", "MHS111f", "MHS112", "MHS112b", "MHS112d", "MHS112f")
ALL_IDS = ("MHS95", *OUTCOME_IDS)

#: Old MHSDS item names the files may still use (mhsds.md section 1).
ALIASES = {
    "AttendOrDNACode": "AttendStatus",
    "ConsMediumUsed": "ConsMechanismMH",
    "AssToolCompDate": "AssToolCompTimestamp",
    "ServTeamTypeRefToMH": "ServTeamType",
    "HospProvSpellNum": "HospProvSpellID",
}

#: Columns each reference reads, per table (every one read as text).
COLUMNS: dict[str, tuple[str, ...]] = {
    "MHS001MPI": ("LocalPatientId", "PersonBirthDate", "LADistrictAuth"),
    "MHS101Referral": (
        "ServiceRequestId", "LocalPatientId", "ReferralRequestReceivedDate", "ServDischDate",
        "ReferRejectionDate", "UniqCareProfTeamLocalID", "ServTeamType",
    ),
    "MHS201CareContact": ("CareContactId", "ServiceRequestId", "CareContDate", "AttendStatus", "ConsMechanismMH"),
    "MHS204IndirectActivity": ("ServiceRequestId", "IndirectActDate", "IndirectActTime"),
    "MHS606CodedScoreAssessmentRefer": ("ServiceRequestId", "CodedAssToolType", "AssToolCompTimestamp", "PersScore"),
    "MHS607CodedScoreAssessmentAct": ("CareContactId", "CodedAssToolType", "PersScore"),
    "MHS501HospProvSpell": ("HospProvSpellID", "ServiceRequestId"),
    "MHS902ServiceTeamDetails": ("UniqCareProfTeamLocalID", "ServTeamTypeMH"),
}
#: MHS902's team type keeps its own name (it is not the referral's ServTeamType).
NO_ALIAS = {"MHS902ServiceTeamDetails"}

#: A score counts only when it is a plain decimal number (no exponent, no "nan").
NUMERIC_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


@dataclass(frozen=True)
class Window:
    """The dates one run needs: M, and the 12 months ending at M.end (MHS95)."""

    start: dt.date
    end: dt.date
    year_start: dt.date

    @classmethod
    def of(cls, month: str) -> Window:
        y, m = (int(p) for p in month.split("-"))
        total = y * 12 + (m - 1) - 11
        return cls(
            start=dt.date(y, m, 1),
            end=dt.date(y, m, calendar.monthrange(y, m)[1]),
            year_start=dt.date(total // 12, total % 12 + 1, 1),
        )


@dataclass(frozen=True)
class Tool:
    """One SNOMED code; ``item`` is the item's name (national ``AssName``): a few items have an old
    and a new code (RCADS, SDQ, ...) and are still one item for first/last and pairing."""

    code: str
    item: str
    rater: str
    low: float
    high: float


def cyp_tools() -> tuple[Tool, ...]:
    """The CYP outcomes items (cyp_outcomes = Y) with rater and valid range."""
    with TOOLS_CSV.open(encoding="utf-8", newline="") as fh:
        return tuple(
            Tool(r["snomed_code"].strip(), r["item"].strip(), r["rater"].strip(), float(r["min_score"]),
                 float(r["max_score"]))
            for r in csv.DictReader(fh)
            if r["cyp_outcomes"].strip() == "Y"
        )


def table_file(folder: Path, table_id: str) -> Path | None:
    """The file holding ``table_id`` in an MHSDS-layout folder (``MHS101Referral.csv`` / ``.parquet``)."""
    for p in sorted(folder.iterdir()):
        stem = p.stem.lower()
        t = table_id.lower()
        if p.suffix.lower() in (".csv", ".parquet", ".pq") and (
            stem == t or (stem.startswith(t) and stem[len(t)] in "_- .")
        ):
            return p
    return None


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOME_IDS, 0)
