"""A small hand-built ReconcileResult touching every status, class and sheet of the pack."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import polars as pl

from recon.findings import Finding, Severity
from recon.measures.model import MeasuresResult, MeasureValue
from recon.months import Month
from recon.quality.outcome import DataQuality
from recon.quality.predict import predict
from recon.quality.view import view_of_frames
from recon.quality.vodim import vodim
from recon.reconcile.model import (
    Comparison,
    ComparisonStatus,
    ExceptionRecord,
    FieldChange,
    InputInfo,
    PublishedCheck,
    PublishedState,
    ReconcileResult,
    RecordClass,
    RecordDifference,
)

MONTH = Month(2024, 9)
VALID_NHS = "9434765919"  # a valid modulus-11 NHS number (public test number)


def _values() -> tuple[MeasureValue, ...]:
    v: list[MeasureValue] = [
        MeasureValue("MHS95", 1234),
        MeasureValue("MHS69", 57),
        MeasureValue("MHS32", 210),
        MeasureValue("MHS32a", 190),
        MeasureValue("MHS29", 900),
        MeasureValue("MHS30", 700),
        MeasureValue("MHS58", 150),
        MeasureValue("MHS57a", 80),
        MeasureValue("MHS01", 1500),
        MeasureValue("MHS23", 1600),
        MeasureValue("MHS61a", 45),
        MeasureValue("MHS110", 120),
        MeasureValue("MHS111a", 75.0, 90, 120),
        MeasureValue("MHS112a", 41.7, 50, 120),
        MeasureValue("RECON_CGAS_ANY", 60.0, 72, 120),
        MeasureValue("RECON_CGAS_PAIRED", 33.3, 40, 120),
        MeasureValue("RECON_GBO_ANY", 25.0, 30, 120),
        MeasureValue("RECON_GBO_PAIRED", 2.5, 3, 120),
        MeasureValue("RECON_CHIESQ_ANY", 10.0, 12, 120),
    ]
    teams: dict[str, dict[str, int | tuple[int, int]]] = {
        "T01": {"MHS95": 800, "MHS69": 40, "MHS32": 150, "MHS30": 500, "MHS110": 80,
                "RECON_CGAS_ANY": (56, 80), "RECON_CGAS_PAIRED": (32, 80), "RECON_GBO_ANY": (26, 80),
                "RECON_GBO_PAIRED": (3, 80), "RECON_CHIESQ_ANY": (10, 80), "MHS111a": (64, 80)},
        "T02": {"MHS95": 434, "MHS69": 17, "MHS32": 60, "MHS30": 200, "MHS110": 40,
                "RECON_CGAS_ANY": (16, 40), "RECON_CGAS_PAIRED": (8, 40), "RECON_GBO_ANY": (4, 40),
                "RECON_GBO_PAIRED": (0, 40), "RECON_CHIESQ_ANY": (2, 40), "MHS111a": (26, 40)},
    }
    for team, measures in teams.items():
        for mid, val in measures.items():
            if isinstance(val, tuple):
                num, den = val
                v.append(MeasureValue(mid, round(100 * num / den, 1), num, den, "Team", team))
            else:
                v.append(MeasureValue(mid, val, breakdown="Team", level=team))
    for band, (people, referrals) in {"0-5": (3, 2), "6-12": (531, 88), "13-17": (700, 120)}.items():
        v.append(MeasureValue("MHS95", people, breakdown="Age band", level=band))
        v.append(MeasureValue("MHS32", referrals, breakdown="Age band", level=band))
    return tuple(v)


def _details() -> dict[str, pl.DataFrame]:
    people = pl.DataFrame(
        {
            "LocalPatientId": ["P1", "P2", "P3"],
            "NHSNumber": [VALID_NHS, "4010232137", None],
            "PersonBirthDate": [dt.date(2010, 1, 2), dt.date(2012, 3, 4), dt.date(2015, 5, 6)],
            "UniqCareProfTeamLocalID": ["T01", "T02", "T01"],
            "FirstContact": [dt.date(2024, 1, 5), dt.date(2024, 2, 6), dt.date(2024, 9, 7)],
        }
    )
    referrals = pl.DataFrame(
        {
            "ServiceRequestId": ["R1", "R2"],
            "Contact1": [dt.date(2024, 3, 1), dt.date(2024, 4, 1)],
            "Contact2": [dt.date(2024, 3, 8), None],
            "AssToolCompTimestamp": [dt.datetime(2024, 3, 1, 10, 30), None],
            "paired": [True, False],
            "reason": [None, "only one score"],
        }
    )
    return {"mhs95_people": people, "outcomes_referrals": referrals}


def _comparisons() -> tuple[Comparison, ...]:
    c, w, d = ComparisonStatus.CONSISTENT, ComparisonStatus.WITHIN_TOLERANCE, ComparisonStatus.DISCREPANCY
    return (
        Comparison("MHS95", "People seen in the 12 months (CYP access)", 1234, c,
                   published=1235, extract=1234, difference=1.0, tolerance="±5 or 2%, whichever is larger",
                   explanation="Published figure equals local after rounding to 5.",
                   published_status=c, published_difference=1.0, extract_status=c, extract_difference=0.0),
        Comparison("MHS32", "New referrals in the month", 210, w,
                   published=215, extract=212, difference=5.0, tolerance="±5 or 2%, whichever is larger",
                   severity=Severity.WARNING, explanation="Two referrals received late in the extract.",
                   published_status=w, published_difference=5.0, extract_status=w, extract_difference=2.0),
        Comparison("MHS30", "Attended contacts", 700, d, published=760,
                   extract=700, difference=60.0, tolerance="±5 or 2%, whichever is larger",
                   explanation="60 contacts more published than held locally: 58 are missing from the extract.",
                   published_status=d, published_difference=60.0, extract_status=c, extract_difference=0.0),
        Comparison("MHS112a", "Cohort referrals with a paired score (%)", 41.7, d,
                   published=50.0, extract=41.7, difference=8.3, tolerance="±2 points",
                   explanation="Paired scores recorded after the extract was taken.", numerator=50,
                   denominator=120, published_status=d, published_difference=8.3, extract_status=c,
                   extract_difference=0.0),
        Comparison("MHS69", "People reaching a second contact", 3, c,
                   published=None, published_text="*", difference=None, tolerance="suppressed",
                   explanation="Published as * (fewer than 5).", published_status=c),
        Comparison("MHS61a", "First attended contact in the month", None, ComparisonStatus.MISSING_LOCAL,
                   published=45, explanation="=HYPERLINK(\"http://evil\") not computed locally",
                   published_status=ComparisonStatus.MISSING_LOCAL),
        Comparison("RECON_CGAS_ANY", "Cohort with any CGAS score (%)", 60.0, ComparisonStatus.MISSING_PUBLISHED,
                   explanation="recon's own measure: not in the national file.", numerator=72, denominator=120,
                   published_status=ComparisonStatus.MISSING_PUBLISHED),
    )


def _records() -> tuple[RecordDifference, ...]:
    classes = list(RecordClass)
    out = []
    for i, cls in enumerate(classes):
        fields: tuple[FieldChange, ...] = ()
        if cls is RecordClass.FIELD_DIFFERS:
            fields = (FieldChange("AttendStatus", "5", "3"), FieldChange("NHSNumber", VALID_NHS, "4010232137"))
        out.append(RecordDifference(
            exception_id=f"D{i:03d}", table="MHS201CareContact", key=f"C{i:04d}", record_class=cls,
            team="T01" if i % 2 else "T02", fields=fields, message=f"{cls.value.replace('_', ' ')}",
            action="Correct the record in the EPR", measures=("MHS30",) if i < 3 else (),
        ))
    return tuple(out)


def exceptions(n: int = 0, teams: tuple[str | None, ...] = ("T01", "T02", None)) -> tuple[ExceptionRecord, ...]:
    """The fixed exceptions, or ``n`` generated ones spread over ``teams``."""
    if n:
        sev = (Severity.ERROR, Severity.WARNING, Severity.INFO)
        status = ("new", "recurring", "accepted")
        return tuple(
            ExceptionRecord(
                exception_id=f"E{i:06d}", source="validation", severity=sev[i % 3], team=teams[i % len(teams)],
                table="MHS201CareContact", key=f"C{i:06d}", problem=f"AttendStatus '9' is not valid (row {i})",
                action="Record the attendance outcome", status=status[(i // 3) % 3],
            )
            for i in range(n)
        )
    return (
        ExceptionRecord("E0001", "validation", Severity.ERROR, "T01", "MHS101Referral", "R1",
                        "ReferralRequestReceivedDate is missing", "Enter the referral date", "new"),
        ExceptionRecord("E0002", "reconcile", Severity.ERROR, "T02", "MHS201CareContact", "C0001",
                        "Contact missing in extract", "Check the contact was locked before the extract", "recurring"),
        ExceptionRecord("E0003", "outcomes", Severity.WARNING, "T01", "MHS606CodedScoreAssessmentRefer", "R2",
                        "Only one CGAS score", "Record a second CGAS score at discharge", "new"),
        ExceptionRecord("E0004", "validation", Severity.INFO, None, "MHS001MPI", f"NHS number {VALID_NHS[:3]} "
                        f"{VALID_NHS[3:6]} {VALID_NHS[6:]}", "Person has two local ids", "Merge the records",
                        "accepted"),
        ExceptionRecord("E0005", "validation", Severity.WARNING, "T02", "MHS201CareContact", "C0002",
                        "- duration is negative", "Correct the duration", "new"),
    )


def _trend() -> pl.DataFrame:
    months = [str(MONTH.shift(-k)) for k in range(13, -1, -1)]  # 14 months, oldest first
    mhs95 = [1100, 1110, 1105, 1120, 1115, 1130, 1125, 1140, 1150, 1160, 1170, 1180, 1200, 1234]
    rows = [(m, "MHS95", float(v), "ledger") for m, v in zip(months, mhs95, strict=True)]
    rows[-1] = (months[-1], "MHS95", 1234.0, "this run")
    rows.append((months[-2], "MHS95", 1195.0, "published"))  # lower priority than the ledger
    rows += [(m, "MHS32", float(v), "published") for m, v in zip(months[-6:], [200, 190, 205, 260, 198, 210], strict=True)]
    return pl.DataFrame(rows, schema=["month", "measure_id", "value", "source"], orient="row")


def _data_quality() -> DataQuality:
    """Three people (one NHS number of nine digits: MHS00165, rejected with their referral and contact),
    a referral with an invalid primary reason (MHS10126, warning), contacts with one blank mechanism."""
    people = pl.DataFrame({"LocalPatientID": ["P1", "P2", "P3"], "NHSNumber": ["9434765919", "943476591", None],
                           "PersonBirthDate": ["2010-05-01", "2011-01-01", "2012-02-02"],
                           "Gender": ["1", "9", "X"], "EthnicCategory": ["A", "Z", "99"]})
    refs = pl.DataFrame({"ServiceRequestID": ["R1", "R2", "R3"], "LocalPatientID": ["P1", "P2", "P3"],
                         "ReferralRequestReceivedDate": ["2024-08-01"] * 3, "PrimReasonReferralMH": ["01", "17", "02"]})
    contacts = pl.DataFrame({"CareContactID": ["C1", "C2", "C3", "C4"], "ServiceRequestID": ["R1", "R2", "R3", "R3"],
                             "CareContDate": ["2024-09-02"] * 4, "ConsMechanismMH": ["01", "98", None, "01"],
                             "AttendStatus": ["5", "5", "5", "3"]})
    view = view_of_frames({"MHS001MPI": people, "MHS101Referral": refs, "MHS201CareContact": contacts}, MONTH,
                          provider="RXX", create_date=dt.date(2024, 10, 5))
    prediction = predict(view)
    return DataQuality(prediction, vodim(view, prediction), cut=False)


def make_result(
    exception_rows: tuple[ExceptionRecord, ...] | None = None,
    comparisons: tuple[Comparison, ...] | None = None,
) -> ReconcileResult:
    local = MeasuresResult("RXX", MONTH, _values(), MappingProxyType(_details()))
    return ReconcileResult(
        provider="RXX",
        month=MONTH,
        started=dt.datetime(2024, 10, 5, 9, 0, 0),
        finished=dt.datetime(2024, 10, 5, 9, 0, 12),
        local=local,
        comparisons=_comparisons() if comparisons is None else comparisons,
        records=_records(),
        findings=(
            Finding("V001", Severity.ERROR, "MHS101Referral", "R1", "ReferralRequestReceivedDate", "missing"),
            Finding("V001", Severity.ERROR, "MHS101Referral", "R3", "ReferralRequestReceivedDate", "missing"),
            Finding("V014", Severity.WARNING, "MHS201CareContact", "C0002", "ClinContDurOfCareCont", "negative"),
        ),
        exceptions=exceptions() if exception_rows is None else exception_rows,
        inputs=(
            InputInfo("epr", "epr.zip", 123456, "a" * 64, rows=5000),
            InputInfo("extract", "MHS101Referral.csv", 2048, "b" * 64, rows=210, table="MHS101Referral"),
            InputInfo("published", "MHSDS Data_SepPrf_2024.csv", 999999, "c" * 64, rows=40000),
        ),
        published_status="Performance",
        published_check=PublishedCheck(PublishedState.COMPARED, status="Performance"),
        notes=("Published measure MHS999 is unknown to recon.",),
        data_quality=_data_quality(),
        trend=_trend(),
    )
