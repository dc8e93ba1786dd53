"""One exception family for every way recon can fail to run, and the exit codes they map to.

Data problems are *findings* (values, see :mod:`recon.findings`); these exceptions are for
runs that cannot proceed. Each class carries its :class:`ExitCode`, here and only here, and
the CLI maps every exception through it. Messages must never contain patient identifiers, and
never name command-line flags: the library does not know whether a value came from a flag, a
configuration file or a caller (the CLI words its own usage errors).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses of contract.md."""

    OK = 0  # clean
    FINDINGS = 1  # findings or discrepancies to review
    FAILED = 2  # could not run: bad arguments, input, configuration, rules, ledger, output
    MISSING_INPUT = 3  # an expected input for the month is missing or stale
    INTERRUPTED = 130  # Ctrl-C
    BROKEN_PIPE = 141  # the reader of standard output went away (`recon ... | head`)


class ReconError(Exception):
    """Base class: the run could not go on. ``exit_code`` follows contract.md."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        from recon.safe_text import clean

        message = clean(message)  # paths and values can hold escapes, newlines or a megabyte of header
        super().__init__(message)
        self.message = message
        self.hint = None if hint is None else clean(hint, 500)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(ReconError):
    """Bad arguments: a value the caller gave cannot be used."""


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
    """A rules file is invalid (catalogue, validation rules, tolerances, code lists, mapping)."""


class MissingInputError(ReconError):
    """An expected input for the month is missing or too old (scheduled runs)."""

    exit_code = ExitCode.MISSING_INPUT


class MonthNotPublishedError(MissingInputError):
    """The published files are there but do not carry the month yet (exit 3 for ``recon
    published``; a pre-deadline reconciliation goes on without them)."""


class LockedError(ReconError):
    """Another run for the same provider and month holds the lock."""


class LedgerError(ReconError):
    """The run ledger cannot be opened, written or trusted."""


class OutputError(ReconError):
    """An output (pack, JSON file, log) cannot be written: the previous one is left as it was."""


def os_reason(exc: OSError) -> str:
    """A file-system failure in words a user can act on (one wording for every writer)."""
    import errno

    if exc.errno == errno.ELOOP:
        return "it is a symbolic link (refused)"
    if exc.errno == errno.ENOSPC:
        return "disk full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only?)"
    return exc.strerror or type(exc).__name__
