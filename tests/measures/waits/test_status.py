"""waits.md section 14, cases 3 and 4: open, closed and neither at the month end, by regime."""

from __future__ import annotations

from tests.measures.builders import person, referral
from tests.measures.waits.helpers import Run, d

ADULT = person("P", "1980-01-01")
CHILD = person("P", "2012-01-01")


def _cmh(month: str, disch: str) -> Run:
    return Run(month, people=[ADULT], referrals=[referral("R", "P", "2024-08-01", disch, ServTeamType="A05")])


def test_month_end_r2() -> None:
    # case 3: discharged 2024-11-25 open (MRS06, MRS03 without a second contact); 2024-11-24 closed
    open_ = _cmh("2024-11", "2024-11-25")
    assert (open_["MRS06"], open_["MRS03"], open_["MRS05"]) == (1, 1, 0)
    closed = _cmh("2024-11", "2024-11-24")
    assert (closed["MRS06"], closed["MRS05"]) == (0, 1)


def test_month_end_r1_carries_the_five_days() -> None:
    for disch in ("2024-09-24", "2024-09-20"):
        run = _cmh("2024-09", disch)
        s = run.spell()
        assert (s["Open"], s["IsOpen"], s["IsClosed"]) == (1, False, False), disch
    run = _cmh("2024-09", "2024-09-19")
    assert run.spell()["IsClosed"] and run["MRS05"] == 1


def _rejected(month: str, rejected: str, disch: str | None = None) -> Run:
    return Run(month, people=[CHILD],
               referrals=[referral("R", "P", "2024-10-01", disch, ServTeamType="C10", ReferRejectionDate=rejected)])


def test_rejection_without_discharge() -> None:
    # case 4
    nov = _rejected("2024-11", "2024-11-10")
    s = nov.spell()
    assert (s["End"], s["Open"], s["IsOpen"], s["IsClosed"]) == (d("2024-11-10"), 1, False, False)
    assert nov.nonzero() == {"MRS11"}
    dec = _rejected("2024-12", "2024-11-10")
    assert dec.spell()["Open"] == 1 and dec.nonzero() == {"MRS11"}
    jan = _rejected("2025-01", "2024-11-10", "2025-01-20")
    s = jan.spell()
    assert (s["End"], s["Open"], s["IsClosed"]) == (d("2025-01-20"), 0, True) and jan["MRS12"] == 1


def test_earlier_rejection_by_regime_and_mhs133() -> None:
    octo = _rejected("2024-10", "2024-10-10")
    assert octo.spell()["End"] == d("2024-10-31")
    assert (octo["MRS09"], octo["MRS10"], octo["MRS13"]) == (1, 1, 1)
    nov = _rejected("2024-11", "2024-10-10")
    assert nov.spell()["End"] == d("2024-10-10") and not nov.spell()["IsOpen"] and not nov.spell()["IsClosed"]
    for month in ("2024-10", "2024-11", "2024-12"):
        assert _rejected(month, "2024-10-10")["MHS133"] == 1
    assert _rejected("2025-01", "2024-10-10", "2025-01-20")["MHS133"] == 0


def test_rejection_in_the_last_six_days_is_open() -> None:
    run = _rejected("2024-11", "2024-11-26")
    assert run.spell()["IsOpen"] and run["MRS13"] == 1
