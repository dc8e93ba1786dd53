"""recon reconcile end to end through the CLI: JSON shape and exit codes 0, 1, 2 and 3."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.config import ProviderSettings
from recon.errors import InputError
from recon.months import Month
from recon.reconcile.model import ComparisonStatus
from recon.reconcile.run import reconcile_json, run_reconcile
from tests.reconcile.data import base, write_extract

HEADER = ("REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,PRIMARY_LEVEL_DESCRIPTION,"
          "SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_NAME,MEASURE_VALUE\n")


def published(path, rows, end="30/09/2024", start="01/09/2024"):
    path.write_text(HEADER + "".join(
        f'{start},{end},Performance,Provider,RXX,"TRUST, RXX",NONE,NONE,{m},Name,{v}\n' for m, v in rows
    ))
    return path


@pytest.fixture
def dirs(tmp_path):
    local = write_extract(tmp_path / "local", base())
    return tmp_path, local


def invoke(*args):
    return CliRunner().invoke(app, ["reconcile", "--month", "2024-09", *map(str, args)])


def test_exit_0_when_everything_agrees_and_json_shape(dirs):
    tmp, local = dirs
    extract = write_extract(tmp / "extract", base())
    pub = published(tmp / "pub.csv", [("MHS32", "*"), ("MHS29", "*"), ("MHS30", "*"), ("MHS07", "10")])
    res = invoke("--epr", local, "--extract", extract, "--published", pub, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["provider"] == "RXX" and out["month"] == "2024-09" and out["exit_code"] == 0
    comps = {c["id"]: c for c in out["comparisons"]}
    assert all({"id", "local", "published", "status", "extract"} <= set(c) for c in out["comparisons"])
    assert comps["MHS32"]["status"] == "consistent" and comps["MHS32"]["published"] is None  # '*', local 1
    assert comps["MHS29"]["status"] == "consistent" and comps["MHS29"]["local"] == 4
    assert comps["MHS95"]["status"] == "missing_published"
    assert out["records"] == []
    assert any("MHS07" in n for n in out["notes"])
    roles = {i["role"] for i in out["inputs"]}
    assert roles == {"epr", "extract", "published"}
    assert all(len(i["sha256"]) == 64 for i in out["inputs"])


def test_exit_1_on_a_discrepancy_and_records_in_json(dirs):
    tmp, local = dirs
    other = base()
    other["MHS201CareContact"] = [r for r in other["MHS201CareContact"] if r["CareContactId"] != "C5"]
    other["MHS204IndirectActivity"] = []
    extract = write_extract(tmp / "extract", other)
    pub = published(tmp / "pub.csv", [("MHS32", "20")])
    res = invoke("--epr", local, "--extract", extract, "--published", pub, "--json")
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    comps = {c["id"]: c for c in out["comparisons"]}
    assert comps["MHS32"]["status"] == "discrepancy" and comps["MHS32"]["published"] == 20
    assert comps["MHS95"]["extract"] == 2 and comps["MHS95"]["local"] == 3
    recs = {(r["table"], r["key"], r["class"]) for r in out["records"]}
    assert ("MHS201CareContact", "C5", "missing_in_extract") in recs
    assert ("MHS101Referral", "R3", "barren") not in recs  # open since August: a child waiting, not barren
    assert {"reconcile"} <= {e["source"] for e in out["exceptions"]}
    # the console view says the same
    res = invoke("--epr", local, "--extract", extract, "--published", pub)
    assert res.exit_code == 1 and "discrepancy" in res.stdout and "Verdict" in res.stdout


def test_exit_2_for_another_provider_or_month_and_a_malformed_published_file(dirs):
    tmp, local = dirs
    other = base()
    for t in ("MHS001MPI", "MHS101Referral"):
        for r in other[t]:
            r["OrgIDProv"] = "RYY"
    res = invoke("--epr", local, "--extract", write_extract(tmp / "ryy", other))
    assert res.exit_code == 2 and "provider RYY" in res.stderr and "REC001" in res.stderr
    res = CliRunner().invoke(app, ["reconcile", "--month", "2024-12", "--epr", str(local), "--extract", str(local)])
    assert res.exit_code == 2 and "no care contact or indirect activity dated in 2024-12" in res.stderr
    bad = tmp / "bad.csv"
    bad.write_text("A,B\n1,2\n")
    res = invoke("--epr", local, "--published", bad)
    assert res.exit_code == 2 and "bad.csv" in res.stderr and "11 columns" in res.stderr
    assert "Traceback" not in res.output


def test_exit_3_when_an_input_is_missing(dirs):
    tmp, local = dirs
    res = invoke("--epr", tmp / "nowhere")
    assert res.exit_code == 3
    res = invoke("--epr", local, "--extract", tmp / "no-extract")
    assert res.exit_code == 3 and "no-extract" in res.stderr
    res = invoke("--epr", local, "--published", tmp / "no-publications")
    assert res.exit_code == 3 and "no-publications" in res.stderr


def test_a_month_not_yet_published_is_a_note_not_a_failure(dirs):
    """Before the deadline the month is never published yet: the run goes on (pack, exit by
    the other checks) and says so, while `recon published` for that month still exits 3."""
    tmp, local = dirs
    pub = published(tmp / "aug.csv", [("MHS32", "5")], end="31/08/2024", start="01/08/2024")
    res = invoke("--epr", local, "--published", pub, "--json")
    assert res.exit_code == 0, res.stderr  # the clean base extract: nothing else to report
    out = json.loads(res.stdout)
    assert any("2024-09 is not published yet" in n for n in out["notes"])
    assert all(c["published"] is None for c in out["comparisons"])
    res = CliRunner().invoke(app, ["published", str(pub), "--month", "2024-09"])
    assert res.exit_code == 3 and "no published rows for 2024-09" in res.stderr


def test_run_reconcile_library_result(dirs):
    tmp, local = dirs
    pub = published(tmp / "pub.csv", [("MHS30", "5"), ("MHS58", "*")])
    result = run_reconcile(Month(2024, 9), local, extract=None, published=pub, mapping=None, status=None,
                           settings=ProviderSettings())
    c = {x.id: x for x in result.comparisons}
    assert c["MHS30"].status is ComparisonStatus.WITHIN_TOLERANCE  # local 3 would be '*'; 5 - 3 within TOL104
    assert c["MHS30"].difference == 2
    assert c["MHS58"].status is ComparisonStatus.CONSISTENT  # '*' and local 1
    assert result.published_status == "Performance"
    assert result.records == () and result.extract is None
    d = reconcile_json(result)
    assert set(d) >= {"provider", "month", "exit_code", "comparisons", "records", "exceptions", "notes"}
    with pytest.raises(InputError):
        run_reconcile(Month(2025, 1), local, extract=local, published=None, mapping=None, status=None,
                      settings=ProviderSettings())


def test_an_extract_discrepancy_fails_the_run_even_when_the_published_figure_agrees(dirs):
    tmp, local = dirs
    other = base()
    for i in range(3):  # three more September referrals in the extract: MHS32 4 there, 1 locally
        r = dict(other["MHS101Referral"][1])
        r["ServiceRequestId"] = f"RX{i}"
        other["MHS101Referral"].append(r)
    extract = write_extract(tmp / "extract", other)
    res = invoke("--epr", local, "--extract", extract, "--json")
    assert res.exit_code == 1
    c = {x["id"]: x for x in json.loads(res.stdout)["comparisons"]}["MHS32"]
    assert (c["local"], c["extract"], c["status"], c["difference"]) == (1, 4, "discrepancy", 3)
    pub = published(tmp / "pub.csv", [("MHS32", "*")])
    res = invoke("--epr", local, "--extract", extract, "--published", pub, "--json")
    assert res.exit_code == 1
    c = {x["id"]: x for x in json.loads(res.stdout)["comparisons"]}["MHS32"]
    assert (c["status"], c["published_status"], c["extract_status"]) == ("consistent", "consistent", "discrepancy")


def test_exceptions_from_findings_records_and_unpaired_outcomes():
    import polars as pl

    from recon.findings import Finding, Severity
    from recon.measures.model import MeasuresResult
    from recon.reconcile.model import RecordClass, RecordDifference
    from recon.reconcile.run import finding_exceptions, outcome_exceptions, record_exceptions

    fs = [Finding("VAL006", Severity.ERROR, "MHS001MPI", "P1", "NHSNumber", "check digit is wrong", team="T1"),
          Finding("SRC021", Severity.INFO, "MHS001MPI", None, None, "read as Windows-1252"),
          Finding("VAL009", Severity.WARNING, "MHS101Referral", None, None, "table-level")]
    [e] = finding_exceptions(fs)
    assert (e.source, e.table, e.key, e.team, e.severity) == ("validation", "MHS001MPI", "P1", "T1", Severity.ERROR)
    assert "VAL006" in e.problem and "NHSNumber" in e.action
    assert finding_exceptions(fs)[0].exception_id == e.exception_id  # stable
    rd = RecordDifference("abc123abc123", "MHS201CareContact", "C1", RecordClass.MISSING_IN_EXTRACT, team="T2",
                          message="m", action="a", measures=("MHS29",))
    [r] = record_exceptions([rd])
    assert (r.exception_id, r.source, r.team, r.severity) == ("abc123abc123", "reconcile", "T2", Severity.ERROR)
    assert "moves MHS29" in r.problem
    unpaired = pl.DataFrame({"ServiceRequestId": ["R1", "R1"], "LocalPatientId": ["P1", "P1"],
                             "UniqCareProfTeamLocalID": ["T1", "T1"], "tool": ["CGAS", "GBO"],
                             "reason": ["only one score", "no score"]})
    res = MeasuresResult("RXX", Month(2024, 9), (), {"completeness_unpaired": unpaired})
    out = outcome_exceptions(res)
    assert [(x.key, x.team, x.problem) for x in out] == [("R1", "T1", "no paired CGAS: only one score"),
                                                         ("R1", "T1", "no paired GBO: no score")]
    assert out[0].action.startswith("Record a second score")
    assert len({x.exception_id for x in out}) == 2
    assert outcome_exceptions(MeasuresResult("RXX", Month(2024, 9), ())) == []


def test_published_file_without_the_provider_is_not_compared_never_consistent(dirs):
    tmp, local = dirs
    pub = published(tmp / "pub.csv", [("MHS32", "20"), ("MHS29", "5")])
    pub.write_text(pub.read_text().replace(",RXX,", ",R1A,"))
    res = invoke("--epr", local, "--published", pub, "--json")
    out = json.loads(res.stdout)
    # the whole file is "not compared" (issue 14): no measure is judged against it at all
    assert not [c for c in out["comparisons"] if c["status"] in ("consistent", "missing_published", "discrepancy")]
    assert "consistent" not in out["summary"]["comparisons"]
    pc = out["published_comparison"]
    assert pc["state"] == "not_compared" and "RXX" in pc["reason"] and "pub.csv" in pc["reason"]
    res = invoke("--epr", local, "--published", pub)
    assert "Verdict: consistent" not in res.stdout and "not compared" in res.stdout.lower()
    assert "0 discrepanc" not in res.stdout
