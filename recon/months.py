"""Reporting months: parsing, boundaries and the national UniqMonthID."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from recon.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, *, today: dt.date | None = None) -> Month:
        """``YYYY-MM``, or ``previous``/``current`` relative to today (for cron lines)."""
        text = text.strip()
        if text in ("previous", "current"):
            t = today or dt.date.today()
            m = cls(t.year, t.month)
            return m.shift(-1) if text == "previous" else m
        match = _MONTH.match(text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise UsageError(f"month {text!r} is not of the form YYYY-MM (or 'previous')")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def from_uniq_month_id(cls, uid: int) -> Month:
        total = uid + 3 - 1  # months since Jan 1900, zero based
        return cls(1900 + total // 12, total % 12 + 1)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def uniq_month_id(self) -> int:
        """UniqMonthID: April 1900 = 1, so October 2021 = 1459 and April 2024 = 1489."""
        return (self.year - 1900) * 12 + self.month - 3

    def shift(self, months: int) -> Month:
        total = self.year * 12 + (self.month - 1) + months
        return Month(total // 12, total % 12 + 1)

    @property
    def financial_year_start(self) -> Month:
        return Month(self.year if self.month >= 4 else self.year - 1, 4)

    @property
    def label(self) -> str:
        return self.start.strftime("%B %Y")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
