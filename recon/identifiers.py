"""Identifiers where recon does not expect them: NHS numbers and postcodes in any text it outputs.

The known identifying columns (NHSNumber, PersonBirthDate, Postcode, ...) are masked or left out
by design. But a trust may put NHS numbers in LocalPatientId, or a postcode in a free-text
column, and those values reach record keys, findings, exceptions and people lists. Before a
result is shown, logged, recorded or written to a pack, :func:`mask_identifiers` masks every value
shaped like an NHS number (ten digits passing the modulus-11 check) or a UK postcode, and says
where it found them so the run can warn once, naming the column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import polars as pl

from recon.nhs_number import NHS_NUMBER_IN_TEXT, is_valid, valid_expr

T = TypeVar("T")
NHS_MASK = "*** *** "  # + the last four digits, as the pack masks NHS numbers
POSTCODE_MASK = "*** ***"
_NHS_IN_TEXT = re.compile(r"(?<![\d*])(\d{3})([ -]?)(\d{3})\2(\d{4})(?!\d)")
_POSTCODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}(?![A-Za-z0-9])")
_POSTCODE_VALUE = r"^\s*[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}\s*$"
_NHS_SHAPED = r"^[\s\d-]{10,}$"  # a cheap superset of what valid_expr accepts: only these rows are checked
# one search that every string with an NHS number or a postcode in it matches (a superset of
# the two patterns above): most strings fail it at once and skip both substitutions
_CANDIDATE = re.compile(NHS_NUMBER_IN_TEXT + r"|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}")


def _known_identifying() -> frozenset[str]:
    from recon.tables import TABLES

    return frozenset(c.name for t in TABLES.values() for c in t.columns if c.identifying)


def mask_text(text: str) -> tuple[str, bool]:
    """Free text with every valid NHS number and postcode masked; and whether any was."""
    if _CANDIDATE.search(text) is None:
        return text, False
    hit = False

    def nhs(m: re.Match[str]) -> str:
        nonlocal hit
        digits = m.group(1) + m.group(3) + m.group(4)
        if not is_valid(digits):
            return m.group(0)
        hit = True
        return NHS_MASK + m.group(4)

    def postcode(m: re.Match[str]) -> str:
        nonlocal hit
        hit = True
        return POSTCODE_MASK

    out = _POSTCODE_IN_TEXT.sub(postcode, _NHS_IN_TEXT.sub(nhs, text))
    return out, hit


def mask_frame(frame: pl.DataFrame, skip: frozenset[str] = frozenset()) -> tuple[pl.DataFrame, list[str]]:
    """Every text column but ``skip``: whole values shaped like an NHS number or a postcode masked
    (vectorised). Returns the frame and the names of the columns that held any."""
    cols = [c for c, t in frame.schema.items() if t == pl.String and c not in skip]
    if not cols or frame.height == 0:
        return frame, []
    flags = frame.select(
        *(valid_expr(pl.col(c).filter(pl.col(c).str.contains(_NHS_SHAPED))).any().alias(f"n{i}")
          for i, c in enumerate(cols)),
        *(pl.col(c).str.contains(_POSTCODE_VALUE).fill_null(False).any().alias(f"p{i}") for i, c in enumerate(cols)),
    ).row(0, named=True)
    hit = [c for i, c in enumerate(cols) if flags[f"n{i}"] or flags[f"p{i}"]]
    if not hit:
        return frame, []
    masked = frame.with_columns(
        pl.when(valid_expr(pl.col(c))).then(pl.lit(NHS_MASK) + pl.col(c).str.replace_all(r"[\s-]", "").str.slice(6, 4))
        .when(pl.col(c).str.contains(_POSTCODE_VALUE)).then(pl.lit(POSTCODE_MASK))
        .otherwise(pl.col(c)).alias(c)
        for c in hit
    )
    return masked, hit


def mask_identifiers(obj: T) -> tuple[T, list[str]]:
    """``obj`` (a result: dataclasses, tuples, dicts, strings, frames) with identifiers masked,
    and where they were found ("MHS101Referral key", "LocalPatientId", ...)."""
    walker = _Walker(_known_identifying())
    out = walker.walk(obj, "")
    return out, list(walker.found)


_ATOMS = frozenset({int, float, bool, dt.date, dt.datetime})  # never masked: nothing to walk
# recon's own digests and ids (SHA-256 of inputs and packs, exception ids, run ids): hex that can
# hold ten digits passing the NHS number check by chance, and must be shown exactly
DIGEST_FIELDS = frozenset({"sha256", "pack_sha256", "exception_id", "fingerprint", "pack_fingerprint", "hash",
                           "prev_hash", "run_digest", "mac", "run_id", "signoff_id"})
_HEX = re.compile(r"[0-9a-f]+")
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _fields(cls: type) -> tuple[str, ...] | None:
    """The init fields of a dataclass (looked up once per class), None for anything else."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = (tuple(f.name for f in dataclasses.fields(cls) if f.init)
                 if dataclasses.is_dataclass(cls) else None)
        _FIELD_NAMES[cls] = names
        return names


class _Walker:
    """One masking pass. A result holds tens of thousands of findings whose messages repeat, so
    each distinct string is searched once (``clean``: strings known to hold nothing)."""

    def __init__(self, skip: frozenset[str]) -> None:
        self.skip = skip
        self.found: dict[str, None] = {}
        self.clean: set[str] = set()

    def is_clean(self, text: str) -> bool:
        if text in self.clean:
            return True
        if _CANDIDATE.search(text) is None:
            self.clean.add(text)
            return True
        return False

    def walk(self, obj: Any, where: str) -> Any:
        if isinstance(obj, str):
            if self.is_clean(obj):
                return obj
            text, hit = mask_text(obj)
            if not hit:
                return obj
            self.found[where or "text"] = None
            return text
        if isinstance(obj, pl.DataFrame):
            frame, cols = mask_frame(obj, self.skip)
            self.found.update(dict.fromkeys(cols))
            return frame
        fields = _fields(type(obj))
        if fields is not None:
            return self.walk_dataclass(obj, fields)
        if isinstance(obj, tuple | list):
            clean = self.clean
            if all(v is None or (type(v) is str and (v in clean or self.is_clean(v))) for v in obj):
                return obj  # a key's (label, value) pair, a list of ids: nothing to walk into
            items = [self.walk(v, where) for v in obj]
            if all(a is b for a, b in zip(items, obj, strict=True)):
                return obj
            return type(obj)(items) if isinstance(obj, list) else tuple(items)
        if isinstance(obj, Mapping):
            pairs = {k: self.walk(v, str(k)) for k, v in obj.items()}
            if all(pairs[k] is obj[k] for k in pairs):
                return obj
            if isinstance(obj, MappingProxyType):
                return MappingProxyType(pairs)
            return type(obj)(pairs) if isinstance(obj, dict) else pairs
        return obj

    def walk_dataclass(self, obj: Any, fields: tuple[str, ...]) -> Any:
        owner = getattr(obj, "table", None)
        changes: dict[str, Any] = {}
        for name in fields:
            value = getattr(obj, name)
            if value is None or type(value) in _ATOMS or (type(value) is str and self.is_clean(value)):
                continue  # the usual case, decided without building the label
            if name in DIGEST_FIELDS and type(value) is str and _HEX.fullmatch(value):
                continue
            if name == "value" and isinstance(getattr(obj, "column", None), str):
                label = f"{owner}.{obj.column}" if isinstance(owner, str) else str(obj.column)
            else:
                label = f"{owner} {name}" if isinstance(owner, str) else name
            new = self.walk(value, label)
            if new is not value:
                changes[name] = new
        return dataclasses.replace(obj, **changes) if changes else obj
