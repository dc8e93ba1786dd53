"""Data findings: problems in the records, reported as values rather than exceptions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem with one record (or one table when ``key`` is None).

    ``value`` holds the offending value only when it is not identifying (never an NHS number,
    date of birth, name or postcode).
    """

    rule_id: str
    severity: Severity
    table: str
    key: str | None
    column: str | None
    message: str
    value: str | None = None
    team: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def count_by_rule(findings: Iterable[Finding]) -> Counter[tuple[str, Severity]]:
    return Counter((f.rule_id, f.severity) for f in findings)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
