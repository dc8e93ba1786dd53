"""Straightforward pandas reference for MHS95 and MHS110-MHS112 (provider level), from measures.md
(MHS95 as corrected by issue 11: indirect activity aged at month end, activity only in its
referral's submission months; the full second implementation of every measure is tests/oracle).

Independent of recon's code: it reads the MHSDS-layout folder (CSV or Parquet) itself, every
column as text, and restates the spec's rules. Used by the benchmark (speed baseline) and the
tests (three-way agreement with recon and the DuckDB reference).

    python -m bench.pandas_ref --epr DIR --month YYYY-MM [--only access|outcomes] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

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
    Window,
    cyp_tools,
    table_file,
    zero_counts,
)

DATE_COLUMNS = {
    "PersonBirthDate", "ReferralRequestReceivedDate", "ServDischDate", "ReferRejectionDate",
    "CareContDate", "IndirectActDate", "AssToolCompTimestamp",
}


def read_table(folder: Path, table_id: str) -> pd.DataFrame:
    """One table's needed columns as stripped text (blank = missing); dates parsed to datetime64."""
    wanted = COLUMNS[table_id]
    path = table_file(folder, table_id)
    if path is None:
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in wanted})
    else:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            frame = pd.read_parquet(path)
        frame.columns = [str(c).strip() for c in frame.columns]
        renames = {} if table_id == "MHS902ServiceTeamDetails" else dict(ALIASES)
        if table_id == "MHS101Referral":
            renames["ServTeamTypeMH"] = "ServTeamType"
        frame = frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns and v not in frame.columns})
        for c in wanted:
            if c not in frame.columns:
                frame[c] = pd.NA
        frame = frame[list(wanted)]
    out = {}
    for c in wanted:
        col = frame[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[c] = col.dt.normalize().astype("datetime64[ns]")
            continue
        text = col.astype("str").str.strip()
        text = text.where(col.notna() & (text != ""))
        out[c] = _dates(text) if c in DATE_COLUMNS else text
    return pd.DataFrame(out)


def _dates(text: pd.Series) -> pd.Series:
    """YYYY-MM-DD or DD/MM/YYYY, with or without a time after the day."""
    day = text.str.slice(0, 10)
    iso = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(day, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk).astype("datetime64[ns]")


def age(birth: pd.Series, at: pd.Series) -> pd.Series:
    """Completed years from birth to at (float, NaN when either date is missing)."""
    years = at.dt.year - birth.dt.year
    before = (at.dt.month * 100 + at.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    return years - before.astype("float")


def load(folder: Path, only: str | None = None) -> dict[str, pd.DataFrame]:
    need = set(COLUMNS)
    if only == "access":
        need = {"MHS001MPI", "MHS101Referral", "MHS201CareContact", "MHS204IndirectActivity"}
    return {t: read_table(folder, t) for t in COLUMNS if t in need}


def qualifying_activities(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Attended contacts by 01/02/04/11 (one row per contact) and indirect activity (one per key)."""
    cc = tables["MHS201CareContact"]
    direct = cc[cc["AttendStatus"].isin(ATTENDED) & cc["ConsMechanismMH"].isin(QUALIFYING_MECHANISMS)]
    direct = direct.drop_duplicates(["CareContactId", "ServiceRequestId", "CareContDate"])
    ind = tables["MHS204IndirectActivity"].drop_duplicates(["ServiceRequestId", "IndirectActDate", "IndirectActTime"])
    direct = direct[["ServiceRequestId", "CareContDate"]].rename(columns={"CareContDate": "ActDate"})
    ind = ind[["ServiceRequestId", "IndirectActDate"]].rename(columns={"IndirectActDate": "ActDate"})
    direct["AgeDate"] = direct["ActDate"]
    ind["AgeDate"] = ind["ActDate"] + pd.offsets.MonthEnd(0)  # MHS95 ages indirect activity at month end
    return pd.concat([direct, ind], ignore_index=True).dropna()


def referrals_with_age(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    mpi = tables["MHS001MPI"].dropna(subset=["LocalPatientId"]).drop_duplicates("LocalPatientId")
    # measures.md: a person resident outside England (LADistrictAuth non-blank, not E...) is outside
    # MHS95 and the MHS110 cohort; without an age at referral their referrals count in neither
    la = mpi["LADistrictAuth"]
    mpi = mpi[la.isna() | la.str.startswith("E")].drop(columns="LADistrictAuth")
    ref = tables["MHS101Referral"].merge(mpi, on="LocalPatientId", how="left")
    ref["AgeAtReferral"] = age(ref["PersonBirthDate"], ref["ReferralRequestReceivedDate"])
    return ref


def mhs95(tables: dict[str, pd.DataFrame], w: Window) -> int:
    acts = qualifying_activities(tables)
    acts = acts[(acts["ActDate"] >= pd.Timestamp(w.year_start)) & (acts["ActDate"] <= pd.Timestamp(w.end))]
    ref = referrals_with_age(tables)
    ref = ref[ref["AgeAtReferral"].between(0, CYP_MAX_AGE)]
    joined = acts.merge(ref[["ServiceRequestId", "LocalPatientId", "PersonBirthDate", "ReferralRequestReceivedDate",
                             "ServDischDate"]], on="ServiceRequestId")
    # the referral must be in the submission of the activity's month
    month_start = joined["ActDate"] - pd.offsets.MonthBegin(1)
    month_start = month_start.where(joined["ActDate"].dt.day != 1, joined["ActDate"])
    in_sub = (joined["ReferralRequestReceivedDate"] <= joined["ActDate"] + pd.offsets.MonthEnd(0)) & (
        joined["ServDischDate"].isna() | (joined["ServDischDate"] >= month_start))
    joined = joined[in_sub & age(joined["PersonBirthDate"], joined["AgeDate"]).between(0, CYP_MAX_AGE)]
    return int(joined["LocalPatientId"].dropna().nunique())


def outcomes(tables: dict[str, pd.DataFrame], w: Window) -> dict[str, int]:
    cohort, items = outcome_items(tables, w)
    counts = zero_counts()
    counts["MHS110"] = len(cohort)
    counts["MHS111"] = int(items["ServiceRequestId"].nunique())
    counts["MHS112"] = int(items.loc[items["paired"], "ServiceRequestId"].nunique())
    for rater, suffix in RATER_SUFFIX.items():
        mine = items[items["rater"] == rater]
        counts[f"MHS111{suffix}"] = int(mine["ServiceRequestId"].nunique())
        counts[f"MHS112{suffix}"] = int(mine.loc[mine["paired"], "ServiceRequestId"].nunique())
    return counts


def outcome_items(tables: dict[str, pd.DataFrame], w: Window) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The MHS110 cohort (with Contact1/Contact2) and, per cohort referral and item with a first
    score, its rater, number of distinct valid scores from Contact1, latest date and ``paired``."""
    start, end = pd.Timestamp(w.start), pd.Timestamp(w.end)
    ref = referrals_with_age(tables)
    teams = tables["MHS902ServiceTeamDetails"].dropna(subset=["UniqCareProfTeamLocalID"])
    teams = teams.drop_duplicates("UniqCareProfTeamLocalID")
    ref = ref.merge(teams, on="UniqCareProfTeamLocalID", how="left")
    team_type = ref["ServTeamType"].fillna(ref["ServTeamTypeMH"])
    spells = set(tables["MHS501HospProvSpell"]["ServiceRequestId"].dropna())
    cohort = ref[
        ref["ServDischDate"].between(start, end)
        & ref["AgeAtReferral"].between(0, CYP_MAX_AGE)
        & (ref["ReferralRequestReceivedDate"] >= pd.Timestamp(OUTCOMES_FROM))
        & ref["ReferRejectionDate"].isna()
        & ~ref["ServiceRequestId"].isin(spells)
        & ~team_type.isin(EXCLUDED_TEAM_TYPES)
    ][["ServiceRequestId", "ServDischDate"]].drop_duplicates("ServiceRequestId")

    acts = qualifying_activities(tables).merge(cohort, on="ServiceRequestId")
    acts = acts.sort_values(["ServiceRequestId", "ActDate"], kind="stable")
    acts["n"] = acts.groupby("ServiceRequestId").cumcount()
    c1 = acts[acts["n"] == 0].set_index("ServiceRequestId")["ActDate"].rename("Contact1")
    c2 = acts[acts["n"] == 1].set_index("ServiceRequestId")["ActDate"].rename("Contact2")
    cohort = cohort.join(c1, on="ServiceRequestId").join(c2, on="ServiceRequestId")
    cohort = cohort[cohort["Contact2"].notna() & (cohort["Contact2"] <= cohort["ServDischDate"])
                    & (cohort["Contact2"] <= end)]

    tools = pd.DataFrame([t.__dict__ for t in cyp_tools()])
    a606 = tables["MHS606CodedScoreAssessmentRefer"].rename(columns={"AssToolCompTimestamp": "AssDate"})
    a607 = tables["MHS607CodedScoreAssessmentAct"].merge(
        tables["MHS201CareContact"][["CareContactId", "ServiceRequestId", "CareContDate"]].drop_duplicates(),
        on="CareContactId",
    ).rename(columns={"CareContDate": "AssDate"})
    cols = ["ServiceRequestId", "CodedAssToolType", "AssDate", "PersScore"]
    ass = pd.concat([a606[cols], a607[cols]], ignore_index=True).merge(
        tools, left_on="CodedAssToolType", right_on="code"
    )
    numeric = ass["PersScore"].fillna("").str.match(NUMERIC_RE)
    ass = ass[numeric].copy()
    ass["Score"] = pd.to_numeric(ass["PersScore"])
    ass = ass[ass["Score"].between(ass["low"], ass["high"])]
    ass = ass.merge(cohort, on="ServiceRequestId")
    ass = ass[ass["AssDate"].notna() & (ass["AssDate"] <= ass["ServDischDate"]) & (ass["AssDate"] <= end)
              & (ass["AssDate"] >= ass["Contact1"])]
    ass = ass.drop_duplicates(["ServiceRequestId", "item", "AssDate", "Score"])
    # Paired: a first and a later one (the latest of the others) dated on or after Contact2; with
    # dates ordered, that is two or more distinct scores whose latest date is on or after Contact2.
    items = ass.groupby(["ServiceRequestId", "item", "rater"], as_index=False).agg(
        n=("AssDate", "size"), last=("AssDate", "max"), Contact2=("Contact2", "first")
    )
    items["paired"] = (items["n"] >= 2) & (items["last"] >= items["Contact2"])
    return cohort, items


def compute(folder: Path, month: str, only: str | None = None) -> dict[str, int]:
    """MHS95 and/or MHS110-MHS112 counts for the extract in ``folder`` and month ``YYYY-MM``."""
    w = Window.of(month)
    tables = load(Path(folder), only)
    result: dict[str, int] = {}
    if only in (None, "access"):
        result["MHS95"] = mhs95(tables, w)
    if only in (None, "outcomes"):
        result.update(outcomes(tables, w))
    return result


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
