"""Closed choices: the values a user picks from a fixed list, as enums.

The command line validates them (typer, case-insensitive) and the configuration file parses
them into the same enums, so the library only ever sees a member.
"""

from __future__ import annotations

from enum import StrEnum


class PersonKey(StrEnum):
    """How people are counted: by ``LocalPatientId``, or by a valid ``NHSNumber`` (measures.md)."""

    LOCAL = "local"
    NHS = "nhs"


class Decision(StrEnum):
    """A sign-off decision; ``label`` is the wording on the pack's Sign-off sheet."""

    APPROVE = "approve"
    CAVEATS = "caveats"
    REJECT = "reject"

    @property
    def label(self) -> str:
        return {"approve": "Approve", "caveats": "Approve with caveats", "reject": "Reject"}[self.value]

    @classmethod
    def parse(cls, text: str) -> Decision | None:
        """A decision from its word or its label, any case (None when it is neither)."""
        t = text.strip().lower()
        return next((d for d in cls if t in (d.value, d.label.lower())), None)


class PublishedStatus(StrEnum):
    """The STATUS of a published row, in the order a month's figures are preferred (mhsds.md 5):
    Final (pre-2021 refreshed data), Performance (refreshed), Provisional, Adhoc."""

    FINAL = "Final"
    PERFORMANCE = "Performance"
    PROVISIONAL = "Provisional"
    ADHOC = "Adhoc"

    @classmethod
    def parse(cls, text: str) -> PublishedStatus | None:
        t = text.strip().lower()
        return next((s for s in cls if s.value.lower() == t), None)
