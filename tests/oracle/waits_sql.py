"""The second implementation of the waits measures: DuckDB SQL written from shared/spec/waits.md
(waits_oracle.sql), independent of recon's polars code. ``oracle`` returns every waits measure's
value, numerator and denominator for one provider and month."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from recon.codes import assessment_tools
from recon.months import Month
from recon.snomed import CONCEPT_SCHEMA, REFSET_SCHEMA, SnomedRelease

SQL = (Path(__file__).with_name("waits_oracle.sql")).read_text(encoding="utf-8")
TABLES = {
    "t_mpi": "MHS001MPI", "t_ref": "MHS101Referral", "t_other": "MHS102OtherServiceType",
    "t_cc": "MHS201CareContact", "t_202": "MHS202CareActivity", "t_ind": "MHS204IndirectActivity",
    "t_606": "MHS606CodedScoreAssessmentRefer", "t_607": "MHS607CodedScoreAssessmentAct",
    "t_hosp": "MHS501HospProvSpell", "t_008": "MHS008CarePlanType", "t_009": "MHS009CarePlanAgreement",
}
CRISIS_R1 = ["A02", "A03", "A04", "A11", "A19", "A20", "A21", "A22", "A23", "A24"]

def _quote(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _params(month: Month, provider: str, snomed: bool) -> dict[str, str]:
    r1 = month < Month(2024, 11)
    r3 = month >= Month(2025, 4)
    excluded = ["DFC"] if r1 else ["DFC", "S9X2N"]
    q_start = month.shift(-2).start
    return {
        "{M}": str(month.year * 12 + month.month - 1),
        "{M_END}": month.end.isoformat(),
        "{Q_START}": q_start.isoformat(),
        "{CRISIS}": _quote(CRISIS_R1 if r1 else [*CRISIS_R1, "A25", "C05"]),
        "{EXCLUDED_PROVIDER}": str(provider in excluded).lower(),
        "{DIGITAL}": str(provider in excluded).lower(),
        "{DISTINCT_ROWS}": str(not r1).lower(),
        "{R2}": str(not r1).lower(),
        "{CMH_EXCLUDED}": _quote(["11429006", "975131000000104"] + ([] if r1 else ["2386021000000108"])),
        "{SNOMED}": str(snomed).lower(),
        "_R3_": str(r3).lower(),
    }


MEASURE_SQL = """
WITH s AS (SELECT *, stop BETWEEN DATE '{Q_START}' AND DATE '{M_END}' IS TRUE AS stop_q,
                  datediff('day', start, stop) AS dts FROM stops)
SELECT
  count(*) FILTER (WHERE cohort = 'CMH' AND stop_q) AS MRS01,
  count(*) FILTER (WHERE cohort = 'CMH' AND stop_q AND dts <= 28) AS MRS01a,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND stop IS NULL) AS MRS02,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND stop IS NULL AND w > 728) AS MRS02a,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND stop IS NULL AND w > 546) AS MRS02c,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND stop IS NULL AND w > 364) AS MRS02e,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND second_contact IS NULL) AS MRS03,
  spark_pct(coalesce(list_sort(list(w) FILTER (WHERE cohort = 'CMH' AND is_open AND second_contact IS NULL)), []), 0.5) AS MRS03a,
  spark_pct(coalesce(list_sort(list(w) FILTER (WHERE cohort = 'CMH' AND is_open AND second_contact IS NULL)), []), 0.9) AS MRS03b,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_started) AS MRS04,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_closed) AS MRS05,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open) AS MRS06,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND second_contact IS NULL AND w > 728) AS MRS07a,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND second_contact IS NULL AND w > 546) AS MRS07c,
  count(*) FILTER (WHERE cohort = 'CMH' AND is_open AND second_contact IS NULL AND w > 364) AS MRS07e,
  count(*) FILTER (WHERE cohort = 'CYP' AND stop_q) AS MRS08,
  count(*) FILTER (WHERE cohort = 'CYP' AND stop_q AND dts <= 28) AS MRS08a,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND stop IS NULL) AS MRS09,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND stop IS NULL AND w > 728) AS MRS09a,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND stop IS NULL AND w > 546) AS MRS09c,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND stop IS NULL AND w > 364) AS MRS09e,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND first_contact IS NULL) AS MRS10,
  spark_pct(coalesce(list_sort(list(w) FILTER (WHERE cohort = 'CYP' AND is_open AND first_contact IS NULL)), []), 0.5) AS MRS10a,
  spark_pct(coalesce(list_sort(list(w) FILTER (WHERE cohort = 'CYP' AND is_open AND first_contact IS NULL)), []), 0.9) AS MRS10b,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_started) AS MRS11,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_closed) AS MRS12,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open) AS MRS13,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND first_contact IS NULL AND w > 728) AS MRS14a,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND first_contact IS NULL AND w > 546) AS MRS14c,
  count(*) FILTER (WHERE cohort = 'CYP' AND is_open AND first_contact IS NULL AND w > 364) AS MRS14e,
  (SELECT count(*) FROM fc WHERE in130) AS MHS130,
  (SELECT spark_pct(coalesce(list_sort(list(wait)), []), 0.5) FROM fc WHERE in130) AS MHS131,
  (SELECT spark_pct(coalesce(list_sort(list(wait)), []), 0.9) FROM fc WHERE in130) AS MHS132,
  (SELECT count(*) FROM fc WHERE in133) AS MHS133,
  (SELECT spark_pct(coalesce(list_sort(list(waiting)), []), 0.5) FROM fc WHERE in133) AS MHS134,
  (SELECT spark_pct(coalesce(list_sort(list(waiting)), []), 0.9) FROM fc WHERE in133) AS MHS135
FROM s
"""
PROPORTIONS = {
    "MRS01b": ("MRS01a", "MRS01"), "MRS02b": ("MRS02a", "MRS02"), "MRS02d": ("MRS02c", "MRS02"),
    "MRS02f": ("MRS02e", "MRS02"), "MRS07b": ("MRS07a", "MRS03"), "MRS07d": ("MRS07c", "MRS03"),
    "MRS07f": ("MRS07e", "MRS03"), "MRS08b": ("MRS08a", "MRS08"), "MRS09b": ("MRS09a", "MRS09"),
    "MRS09d": ("MRS09c", "MRS09"), "MRS09f": ("MRS09e", "MRS09"), "MRS14b": ("MRS14a", "MRS10"),
    "MRS14d": ("MRS14c", "MRS10"), "MRS14f": ("MRS14e", "MRS10"),
}
CLOCK_STOP = {"MRS01", "MRS01a", "MRS01b", "MRS02", "MRS02a", "MRS02b", "MRS02c", "MRS02d", "MRS02e", "MRS02f",
              "MRS08", "MRS08a", "MRS08b", "MRS09", "MRS09a", "MRS09b", "MRS09c", "MRS09d", "MRS09e", "MRS09f"}


def _with_row_numbers(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_row_index("rn")


SPELLS_SQL = """
SELECT cohort AS "Cohort", pid AS "PersonKey", start AS "Start", "end" AS "End", CAST(open_ AS TINYINT) AS "Open",
       is_open AS "IsOpen", is_closed AS "IsClosed", is_started AS "IsStarted", CAST(w AS BIGINT) AS "W",
       first_contact AS "FirstContact", second_contact AS "SecondContact", stop AS "ClockStop"
FROM stops ORDER BY 1, 2, 3
"""
FIRST_SQL = """
SELECT sid AS "ServiceRequestId", first_contact AS "FirstContact", in130 AS "InMHS130", in133 AS "InMHS133"
FROM fc ORDER BY 1
"""


def oracle(
    frames: dict[str, pl.DataFrame], month: Month, provider: str, snomed: SnomedRelease | None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[dict[str, tuple[Any, Any, Any]], pl.DataFrame, pl.DataFrame]:
    """{measure id: (value, numerator, denominator)} (a proportion's value is CAST(... AS FLOAT);
    a clock-stop measure without ``snomed`` is (None, None, None)), every in-scope spell and every
    MHS130-MHS135 cohort referral."""
    con = con or duckdb.connect()
    params = _params(month, provider.strip().upper(), snomed is not None)
    r3 = params.pop("_R3_") == "true"
    tools = assessment_tools()
    if r3:
        tools = tools.filter(pl.col("tool") != "Current View")
    registered: dict[str, pl.DataFrame] = {name: _with_row_numbers(frames[tid]) for name, tid in TABLES.items()}
    registered["tools"] = tools.select(pl.col("snomed_code").alias("code"))
    registered["t_refset"] = snomed.refset if snomed is not None else pl.DataFrame(schema=REFSET_SCHEMA)
    registered["t_concept"] = snomed.concepts if snomed is not None else pl.DataFrame(schema=CONCEPT_SCHEMA)
    for name, df in registered.items():
        con.register(name, df.to_arrow())
    sql = SQL
    for key, value in params.items():
        sql = sql.replace(key, value)
    con.execute(sql)
    query = MEASURE_SQL
    for key, value in params.items():
        query = query.replace(key, value)
    cur = con.execute(query)
    names = [c[0] for c in cur.description]
    row = dict(zip(names, cur.fetchall()[0], strict=True))
    spells = con.sql(SPELLS_SQL).pl()
    first = con.sql(FIRST_SQL).pl()
    for name in registered:
        con.unregister(name)
    out: dict[str, tuple[Any, Any, Any]] = {}
    for key, value in row.items():
        out[key] = (value, None, None)
    for pid, (num, den) in PROPORTIONS.items():
        n, d = int(out[num][0]), int(out[den][0])
        cast = con.execute("SELECT CAST(CAST(? AS DOUBLE) / ? * 100 AS FLOAT)", [n, d]).fetchall() if d else None
        out[pid] = (None if cast is None else float(cast[0][0]), n, d)
    if snomed is None:
        for mid in CLOCK_STOP:
            out[mid] = (None, None, None)
    return out, spells, first
