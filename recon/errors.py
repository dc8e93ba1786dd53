"""One exception family for every way recon can fail to run.

Data problems are *findings* (values, see :mod:`recon.findings`); these exceptions are for
runs that cannot proceed. Each carries its exit code so the CLI maps them in one place.
Messages must never contain patient identifiers.
"""

from __future__ import annotations


class ReconError(Exception):
    """Base class: the run could not go on. ``exit_code`` follows contract.md."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        from recon.safe_text import clean

        message = clean(message)  # paths and values can hold escapes, newlines or a megabyte of header
        super().__init__(message)
        self.message = message
        self.hint = None if hint is None else clean(hint, 500)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(ReconError):
    """Bad arguments on the command line."""


class InputError(ReconError):
    """An input is unreadable or malformed (wrong columns, bad dates, truncated, ...)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rule: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        parts = []
        if file:
            parts.append(file)
        if column:
            parts.append(f"column {column}")
        if key:
            parts.append(f"record {key}")
        prefix = ": ".join([", ".join(parts)]) + ": " if parts else ""
        rule_part = f"[{rule}] " if rule else ""
        super().__init__(f"{rule_part}{prefix}{message}", hint=hint)
        self.file = file
        self.column = column
        self.rule = rule
        self.key = key


class ConfigError(ReconError):
    """The configuration file or a setting is invalid."""


class RulesError(ReconError):
    """A file under rules/ is invalid (mapping, tolerances, code lists)."""


class MissingInputError(ReconError):
    """An expected input for the month is missing or too old (scheduled runs)."""

    exit_code = 3


class LockedError(ReconError):
    """Another run for the same provider and month holds the lock."""


class LedgerError(ReconError):
    """The run ledger cannot be opened, written or trusted."""
