"""waits.md section 14, case 22: MHS130-MHS135, CYP referral to first contact."""

from __future__ import annotations

from tests.measures.builders import contact, person, referral
from tests.measures.waits.helpers import Run


def _run(received: str, *contacts: str, disch: str | None = None, birth: str = "2012-01-01") -> Run:
    return Run("2024-11", people=[person("P", birth)], referrals=[referral("R", "P", received, disch)],
               contacts=[contact(f"C{i}", "R", c) for i, c in enumerate(contacts)])


def test_received_on_the_last_day_waits_one_day() -> None:
    run = _run("2024-11-30")
    assert (run["MHS133"], run["MHS134"], run["MHS135"]) == (1, 1.0, 1.0)


def test_first_contact_before_q_is_not_in_mhs130() -> None:
    run = _run("2024-08-01", "2024-08-31", "2024-09-15", "2024-10-01")
    assert (run["MHS130"], run["MHS133"]) == (0, 0)


def test_contact_before_receipt_in_the_received_month() -> None:
    run = _run("2024-10-04", "2024-10-01")
    assert (run["MHS130"], run["MHS131"], run["MHS132"]) == (1, -3.0, -3.0)
    ignored = _run("2024-10-02", "2024-09-29")
    assert (ignored["MHS130"], ignored["MHS133"]) == (0, 1)


def test_first_contact_at_18_is_ignored() -> None:
    run = _run("2024-10-01", "2024-10-20", birth="2006-10-15")
    assert (run["MHS130"], run["MHS133"]) == (0, 1)


def test_discharged_on_the_last_day_is_not_waiting() -> None:
    run = _run("2024-10-01", disch="2024-11-30")
    assert run["MHS133"] == 0


def test_received_before_april_2019_is_not_in_the_cohort() -> None:
    assert _run("2019-03-31")["MHS133"] == 0
    assert _run("2019-04-01")["MHS133"] == 1


def test_percentiles_over_several_referrals() -> None:
    people = [person(f"P{i}", "2012-01-01") for i in range(3)]
    refs = [referral(f"R{i}", f"P{i}", r) for i, r in enumerate(("2024-09-01", "2024-09-11", "2024-10-01"))]
    contacts = [contact("C0", "R0", "2024-09-11"), contact("C1", "R1", "2024-10-01"), contact("C2", "R2", "2024-11-30")]
    run = Run("2024-11", people=people, referrals=refs, contacts=contacts)
    assert (run["MHS130"], run["MHS131"], run["MHS132"]) == (3, 20.0, 52.0)
