"""DuckDB SQL reference for MHS95 and MHS110-MHS112 (provider level), from measures.md.

Independent of recon's code and of the pandas reference: plain SQL over the MHSDS-layout files
(CSV read with every column as text, or Parquet). Used by the benchmark and the tests.

    python -m bench.duckdb_ref --epr DIR --month YYYY-MM [--only access|outcomes] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.refspec import (
    ALIASES,
    ATTENDED,
    COLUMNS,
    CYP_MAX_AGE,
    EXCLUDED_TEAM_TYPES,
    NUMERIC_RE,
    OUTCOMES_FROM,
    QUALIFYING_MECHANISMS,
    RATER_SUFFIX,
    TOOLS_CSV,
    Window,
    table_file,
)

DATE_COLUMNS = {
    "PersonBirthDate", "ReferralRequestReceivedDate", "ServDischDate", "ReferRejectionDate",
    "CareContDate", "IndirectActDate", "AssToolCompTimestamp",
}


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def _text(col: str) -> str:
    return f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"


def _date(col: str) -> str:
    day = f"LEFT({_text(col)}, 10)"
    return f"COALESCE(TRY_STRPTIME({day}, '%Y-%m-%d'), TRY_STRPTIME({day}, '%d/%m/%Y'))::DATE"


def register(con: duckdb.DuckDBPyConnection, folder: Path, only: str | None = None) -> None:
    """One view per table with the needed columns: text, or DATE for the date items."""
    for tid, wanted in COLUMNS.items():
        if only == "access" and tid not in ("MHS001MPI", "MHS101Referral", "MHS201CareContact",
                                             "MHS204IndirectActivity"):
            continue
        path = table_file(folder, tid)
        if path is None:
            cols = ", ".join(f"CAST(NULL AS {'DATE' if c in DATE_COLUMNS else 'VARCHAR'}) AS {c}" for c in wanted)
            con.execute(f"CREATE VIEW {tid} AS SELECT {cols} WHERE FALSE")
            continue
        src = (
            f"read_csv({_q(str(path))}, all_varchar = true, header = true)"
            if path.suffix.lower() == ".csv"
            else f"read_parquet({_q(str(path))})"
        )
        present = [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        names = {c.strip().lstrip("\ufeff"): c for c in present}
        renames = {} if tid == "MHS902ServiceTeamDetails" else dict(ALIASES)
        if tid == "MHS101Referral":
            renames["ServTeamTypeMH"] = "ServTeamType"
        for old, new in renames.items():
            if old in names and new not in names:
                names[new] = names[old]
        exprs = []
        for c in wanted:
            if c not in names:
                exprs.append(f"CAST(NULL AS {'DATE' if c in DATE_COLUMNS else 'VARCHAR'}) AS {c}")
                continue
            quoted = '"' + names[c].replace('"', '""') + '"'
            exprs.append(f"{_date(quoted) if c in DATE_COLUMNS else _text(quoted)} AS {c}")
        con.execute(f"CREATE VIEW {tid} AS SELECT {', '.join(exprs)} FROM {src}")


def _common_sql() -> str:
    return f"""
    people AS (
        SELECT LocalPatientId, ANY_VALUE(PersonBirthDate) AS PersonBirthDate
        FROM MHS001MPI WHERE LocalPatientId IS NOT NULL
          -- resident outside England: outside MHS95 and the MHS110 cohort (measures.md)
          AND (LADistrictAuth IS NULL OR LADistrictAuth LIKE 'E%')
        GROUP BY LocalPatientId
    ),
    ref AS (
        SELECT r.*, p.PersonBirthDate,
               date_part('year', r.ReferralRequestReceivedDate) - date_part('year', p.PersonBirthDate)
               - CASE WHEN strftime(r.ReferralRequestReceivedDate, '%m%d') < strftime(p.PersonBirthDate, '%m%d')
                      THEN 1 ELSE 0 END AS AgeAtReferral
        FROM MHS101Referral r LEFT JOIN people p USING (LocalPatientId)
    ),
    acts AS (
        SELECT DISTINCT CareContactId AS ActId, ServiceRequestId, CareContDate AS ActDate, 'C' AS src
        FROM MHS201CareContact
        WHERE AttendStatus IN {_list(ATTENDED)} AND ConsMechanismMH IN {_list(QUALIFYING_MECHANISMS)}
          AND CareContDate IS NOT NULL AND ServiceRequestId IS NOT NULL
        UNION ALL
        SELECT DISTINCT COALESCE(IndirectActTime, '') AS ActId, ServiceRequestId, IndirectActDate, 'I'
        FROM MHS204IndirectActivity
        WHERE IndirectActDate IS NOT NULL AND ServiceRequestId IS NOT NULL
    )"""


def mhs95(con: duckdb.DuckDBPyConnection, w: Window) -> int:
    sql = f"""
    WITH {_common_sql()}
    SELECT COUNT(DISTINCT r.LocalPatientId)
    FROM (SELECT *, CASE WHEN src = 'I' THEN last_day(ActDate) ELSE ActDate END AS AgeDate FROM acts) a
    JOIN ref r USING (ServiceRequestId)
    WHERE a.ActDate BETWEEN DATE '{w.year_start}' AND DATE '{w.end}'
      AND r.AgeAtReferral BETWEEN 0 AND {CYP_MAX_AGE}
      AND r.ReferralRequestReceivedDate <= last_day(a.ActDate)
      AND (r.ServDischDate IS NULL OR r.ServDischDate >= date_trunc('month', a.ActDate))
      AND date_part('year', a.AgeDate) - date_part('year', r.PersonBirthDate)
          - CASE WHEN strftime(a.AgeDate, '%m%d') < strftime(r.PersonBirthDate, '%m%d') THEN 1 ELSE 0 END
          BETWEEN 0 AND {CYP_MAX_AGE}
    """
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def outcomes(con: duckdb.DuckDBPyConnection, w: Window) -> dict[str, int]:
    rater_cols = ",\n".join(
        f"COUNT(DISTINCT ServiceRequestId) FILTER (WHERE rater = '{r}') AS MHS111{s},\n"
        f"COUNT(DISTINCT ServiceRequestId) FILTER (WHERE rater = '{r}' AND paired) AS MHS112{s}"
        for r, s in RATER_SUFFIX.items()
    )
    sql = f"""
    WITH {_common_sql()},
    tools AS (
        SELECT TRIM(snomed_code) AS code, TRIM(item) AS item, TRIM(rater) AS rater,
               CAST(min_score AS DOUBLE) AS low, CAST(max_score AS DOUBLE) AS high
        FROM read_csv({_q(str(TOOLS_CSV))}, all_varchar = true, header = true)
        WHERE TRIM(cyp_outcomes) = 'Y'
    ),
    teams AS (
        SELECT UniqCareProfTeamLocalID, ANY_VALUE(ServTeamTypeMH) AS ServTeamTypeMH
        FROM MHS902ServiceTeamDetails WHERE UniqCareProfTeamLocalID IS NOT NULL GROUP BY ALL
    ),
    base AS (
        SELECT DISTINCT r.ServiceRequestId, r.ServDischDate
        FROM ref r LEFT JOIN teams t USING (UniqCareProfTeamLocalID)
        WHERE r.ServDischDate BETWEEN DATE '{w.start}' AND DATE '{w.end}'
          AND r.AgeAtReferral BETWEEN 0 AND {CYP_MAX_AGE}
          AND r.ReferralRequestReceivedDate >= DATE '{OUTCOMES_FROM}'
          AND r.ReferRejectionDate IS NULL
          AND r.ServiceRequestId NOT IN (SELECT ServiceRequestId FROM MHS501HospProvSpell
                                         WHERE ServiceRequestId IS NOT NULL)
          AND COALESCE(COALESCE(r.ServTeamType, t.ServTeamTypeMH), '') NOT IN {_list(EXCLUDED_TEAM_TYPES)}
    ),
    ordered AS (
        SELECT b.ServiceRequestId, b.ServDischDate, a.ActDate,
               ROW_NUMBER() OVER (PARTITION BY b.ServiceRequestId ORDER BY a.ActDate) AS n
        FROM base b JOIN acts a USING (ServiceRequestId)
    ),
    cohort AS (
        SELECT ServiceRequestId, ANY_VALUE(ServDischDate) AS ServDischDate,
               MIN(ActDate) FILTER (WHERE n = 1) AS Contact1, MIN(ActDate) FILTER (WHERE n = 2) AS Contact2
        FROM ordered WHERE n <= 2 GROUP BY ServiceRequestId
        HAVING Contact2 IS NOT NULL AND Contact2 <= ANY_VALUE(ServDischDate) AND Contact2 <= DATE '{w.end}'
    ),
    raw_scores AS (
        SELECT ServiceRequestId, CodedAssToolType, AssToolCompTimestamp AS AssDate, PersScore
        FROM MHS606CodedScoreAssessmentRefer
        UNION ALL
        SELECT c.ServiceRequestId, s.CodedAssToolType, c.CareContDate, s.PersScore
        FROM MHS607CodedScoreAssessmentAct s
        JOIN (SELECT DISTINCT CareContactId, ServiceRequestId, CareContDate FROM MHS201CareContact) c
          USING (CareContactId)
    ),
    scores AS (
        SELECT DISTINCT s.ServiceRequestId, t.item, t.rater, s.AssDate,
               CAST(s.PersScore AS DOUBLE) AS score, k.Contact2
        FROM raw_scores s
        JOIN tools t ON t.code = s.CodedAssToolType
        JOIN cohort k USING (ServiceRequestId)
        WHERE regexp_full_match(s.PersScore, {_q(NUMERIC_RE)})
          AND CAST(s.PersScore AS DOUBLE) BETWEEN t.low AND t.high
          AND s.AssDate IS NOT NULL AND s.AssDate <= k.ServDischDate AND s.AssDate <= DATE '{w.end}'
          AND s.AssDate >= k.Contact1
    ),
    items AS (
        SELECT ServiceRequestId, item, rater,
               COUNT(*) >= 2 AND MAX(AssDate) >= ANY_VALUE(Contact2) AS paired
        FROM scores GROUP BY ALL
    )
    SELECT (SELECT COUNT(*) FROM cohort) AS MHS110,
           COUNT(DISTINCT ServiceRequestId) AS MHS111,
           COUNT(DISTINCT ServiceRequestId) FILTER (WHERE paired) AS MHS112,
           {rater_cols}
    FROM items
    """
    cur = con.execute(sql)
    row = cur.fetchone()
    names = [d[0] for d in cur.description or ()]
    return {n: int(v or 0) for n, v in zip(names, row or (), strict=True)}


def compute(folder: Path, month: str, only: str | None = None) -> dict[str, int]:
    """MHS95 and/or MHS110-MHS112 counts for the extract in ``folder`` and month ``YYYY-MM``."""
    w = Window.of(month)
    con = duckdb.connect()
    try:
        register(con, Path(folder), only)
        result: dict[str, int] = {}
        if only in (None, "access"):
            result["MHS95"] = mhs95(con, w)
        if only in (None, "outcomes"):
            result.update(outcomes(con, w))
        return result
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epr", type=Path, required=True)
    p.add_argument("--month", required=True)
    p.add_argument("--only", choices=("access", "outcomes"))
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    result = compute(a.epr, a.month, a.only)
    print(json.dumps(result) if a.json else "\n".join(f"{k}\t{v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
