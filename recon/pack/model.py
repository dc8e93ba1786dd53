"""Options and outcome of writing an Excel sign-off pack."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackOptions:
    """How to write the pack.

    ``identifiable`` shows full NHS numbers and dates of birth (masked/left out otherwise);
    ``suppress_small_counts`` applies the national rule (0-4 -> '*', others to the nearest 5)
    to every count of people or referrals, so the pack can leave the provider;
    ``today`` fixes the date used for "days left" (tests, reruns);
    ``people_lists`` adds the lists of everyone counted in MHS95 and MHS69 as appendix sheets
    (off by default: they are evidence, not records to fix, and a large trust's MHS95 list is
    hundreds of thousands of rows).
    """

    identifiable: bool = False
    deadline: dt.date | None = None
    split_by_team: bool = False
    suppress_small_counts: bool = False
    today: dt.date | None = None
    rules_version: str | None = None
    run_seconds: float | None = None
    people_lists: bool = False
    no_contact_days: int = 28  # waiting list: flag a child with no contact for this many days ([waits] in the config)


# Detail frames that list everyone counted (as opposed to records needing action).
# Record lists that are evidence, not records to fix: appendices only with --people-lists (a large
# trust's MHS95 list is a third of a million rows; its waits spells, referrals and first contacts
# as many again). The Waiting list sheet always lists everyone waiting.
PEOPLE_LISTS = ("mhs95_people", "mhs69_people", "waits_spells", "waits_referrals", "waits_first_contact",
                "waits_waiting")


@dataclass(frozen=True)
class PackInfo:
    """What was written: ``sha256`` of the file's bytes, ``fingerprint`` of what it shows."""

    path: Path
    sha256: str
    sheets: tuple[str, ...]
    exception_rows: int
    fingerprint: str = ""
