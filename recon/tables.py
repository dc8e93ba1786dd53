"""The MHSDS tables recon reads: items, types, keys and old-version aliases.

This is the canonical in-memory layout every reader produces and every measure consumes.
Code and identifier columns are always text ("01" must stay "01"); dates are ``pl.Date``,
times ``pl.Time``, timestamps ``pl.Datetime("us")``, durations ``pl.Int64``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl


class Kind(StrEnum):
    TEXT = "text"
    CODE = "code"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    INT = "int"

    @property
    def dtype(self) -> pl.DataType:
        return {
            Kind.TEXT: pl.String(),
            Kind.CODE: pl.String(),
            Kind.DATE: pl.Date(),
            Kind.TIME: pl.Time(),
            Kind.DATETIME: pl.Datetime("us"),
            Kind.INT: pl.Int64(),
        }[self]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    identifying: bool = False  # never printed: NHS number, birth date, postcode, names
    aliases: tuple[str, ...] = ()
    width: int | None = None  # zero-pad integer-typed codes back to this width ("1" -> "01")


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True  # must the extract hold this table?

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.kind.dtype for c in self.columns})

    @property
    def alias_map(self) -> dict[str, str]:
        return {a: c.name for c in self.columns for a in c.aliases}

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


T, C, D, TM, DT, N = Kind.TEXT, Kind.CODE, Kind.DATE, Kind.TIME, Kind.DATETIME, Kind.INT

MPI = Table(
    "MHS001MPI",
    "Master patient index (people)",
    (
        Column("LocalPatientId", T, required=True),
        Column("NHSNumber", T, identifying=True),
        Column("PersonBirthDate", D, required=True, identifying=True),
        Column("Gender", C, aliases=("PersonStatedGenderCode",)),
        Column("GenderIDCode", C),
        Column("EthnicCategory", C),
        Column("Postcode", T, identifying=True, aliases=("PostcodeOfUsualAddress",)),
        Column("OrgIDProv", C),
        # ONS local authority district of residence (E... = England); optional, blank = unknown
        Column("LADistrictAuth", C),
    ),
    key=("LocalPatientId",),
)

REFERRAL = Table(
    "MHS101Referral",
    "Service or team referrals",
    (
        Column("ServiceRequestId", T, required=True),
        Column("LocalPatientId", T, required=True),
        Column("OrgIDProv", C),
        Column("ReferralRequestReceivedDate", D, required=True),
        Column("SourceOfReferralMH", C),
        Column("PrimReasonReferralMH", C),
        Column("ClinRespPriorityType", C),
        Column("ServDischDate", D),
        Column("ReferClosReason", C),
        Column("ReferRejectionDate", D),
        Column("ReferRejectReason", C),
        Column("UniqCareProfTeamLocalID", T),
        Column("ServTeamType", C, aliases=("ServTeamTypeRefToMH", "ServTeamTypeMH")),
    ),
    key=("ServiceRequestId",),
)

CARE_CONTACT = Table(
    "MHS201CareContact",
    "Care contacts",
    (
        Column("CareContactId", T, required=True),
        Column("ServiceRequestId", T, required=True),
        Column("CareContDate", D, required=True),
        Column("CareContTime", TM),
        Column("AttendStatus", C, required=True, aliases=("AttendOrDNACode",)),
        Column("ConsMechanismMH", C, required=True, aliases=("ConsMediumUsed",), width=2),
        Column("ClinContDurOfCareCont", N),
        Column("UniqCareProfTeamLocalID", T),
    ),
    key=("CareContactId",),
)

INDIRECT = Table(
    "MHS204IndirectActivity",
    "Indirect activity",
    (
        Column("ServiceRequestId", T, required=True),
        Column("IndirectActDate", D, required=True),
        Column("IndirectActTime", TM),
        Column("DurationIndirectAct", N),
        Column("IndActProcedure", T),  # SNOMED CT concept id, optionally ":" and a refinement
    ),
    key=("ServiceRequestId", "IndirectActDate", "IndirectActTime"),
    required=False,
)

ASSESS_REFERRAL = Table(
    "MHS606CodedScoreAssessmentRefer",
    "Coded scored assessments (referral)",
    (
        Column("ServiceRequestId", T, required=True),
        Column("CodedAssToolType", C, required=True),
        Column("AssToolCompTimestamp", DT, required=True, aliases=("AssToolCompDate",)),
        Column("PersScore", T, required=True),
    ),
    key=("ServiceRequestId", "CodedAssToolType", "AssToolCompTimestamp"),
    required=False,
)

ASSESS_ACTIVITY = Table(
    "MHS607CodedScoreAssessmentAct",
    "Coded scored assessments (care activity)",
    (
        Column("CareContactId", T, required=True),
        Column("CodedAssToolType", C, required=True),
        Column("PersScore", T, required=True),
        Column("CareActId", T),  # v6: the MHS202 care activity the score hangs from
    ),
    key=("CareContactId", "CodedAssToolType"),
    required=False,
)

HOSP_SPELL = Table(
    "MHS501HospProvSpell",
    "Hospital provider spells",
    (
        Column("HospProvSpellID", T, required=True, aliases=("HospProvSpellNum",)),
        Column("ServiceRequestId", T, required=True),
    ),
    key=("HospProvSpellID",),
    required=False,
)

TEAM = Table(
    "MHS902ServiceTeamDetails",
    "Service team details",
    (
        Column("UniqCareProfTeamLocalID", T, required=True),
        Column("ServTeamTypeMH", C),
        Column("ServTeamIntAgeGroup", C),
    ),
    key=("UniqCareProfTeamLocalID",),
    required=False,
)

OTHER_SERVICE = Table(
    "MHS102OtherServiceType",
    "Other service or team types a referral was made to",
    (
        Column("ServiceRequestId", T, required=True),
        Column("UniqOtherCareProfTeamLocalID", T, required=True),
        Column("ServTeamTypeRefToMH", C),
        Column("ReferClosureDate", D),
        Column("ReferClosReason", C),
        Column("ReferRejectionDate", D),
        Column("ReferRejectReason", C),
    ),
    key=("ServiceRequestId", "UniqOtherCareProfTeamLocalID"),
    required=False,
)

CARE_ACTIVITY = Table(
    "MHS202CareActivity",
    "Care activities within a care contact",
    (
        Column("CareActId", T, required=True),
        Column("CareContactId", T, required=True),
        Column("Procedure", T),  # SNOMED CT concept id, optionally ":" and a refinement
    ),
    key=("CareActId",),
    required=False,
)

CARE_PLAN = Table(
    "MHS008CarePlanType",
    "Care plans",
    (
        Column("CarePlanID", T, required=True),
        Column("LocalPatientId", T, required=True),
        Column("CarePlanCreatDate", D),
        Column("CarePlanLastUpdateDate", D),
    ),
    key=("CarePlanID",),
    required=False,
)

CARE_PLAN_AGREEMENT = Table(
    "MHS009CarePlanAgreement",
    "Care plan agreements",
    (
        Column("CarePlanID", T, required=True),
        Column("CarePlanAgreedDate", D),
    ),
    key=("CarePlanID", "CarePlanAgreedDate"),
    required=False,
)

TABLES: dict[str, Table] = {
    t.id: t
    for t in (
        MPI,
        REFERRAL,
        OTHER_SERVICE,
        CARE_CONTACT,
        CARE_ACTIVITY,
        INDIRECT,
        ASSESS_REFERRAL,
        ASSESS_ACTIVITY,
        HOSP_SPELL,
        TEAM,
        CARE_PLAN,
        CARE_PLAN_AGREEMENT,
    )
}


def table(table_id: str) -> Table:
    return TABLES[table_id]


def key_expr(t: Table) -> pl.Expr:
    """The record key as one text value (parts joined by '|') for findings and matching."""
    parts = [pl.col(k).cast(pl.String).fill_null("") for k in t.key]
    return parts[0] if len(parts) == 1 else pl.concat_str(parts, separator="|")
