"""The pack's fingerprint: what it shows, hashed so a saved file can be checked.

The fingerprint is the SHA-256 of every value the pack shows outside the Sign-off sheet,
normalised so that it can be recomputed from the saved file (:func:`fingerprint_workbook`):
per sheet, one canonical-JSON line per non-empty row (trailing blanks dropped); the pack hash
is the SHA-256 of the lines ``json([title, sheet_sha256])`` in workbook order.

It is computed while the sheets are written (:mod:`recon.pack.xlsx`) and recomputed from a saved
file here, so a sign-off can refuse a pack whose figures were edited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from recon.pack.layout import Styled
from recon.pack.privacy import clean_text
from recon.pack.sheets.signoff import SIGNOFF_TITLE


def normalise(value: Any) -> Any:
    """The value as a reader of the saved file gets it back, in JSON form."""
    if isinstance(value, Styled):
        value = value.value
    if isinstance(value, str):
        return clean_text(value) or None  # as written; an empty string is not stored: it reads back blank
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = float("%.16g" % value)  # what openpyxl stores  # noqa: UP031
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def row_line(values: Sequence[Any]) -> bytes | None:
    row = [normalise(v) for v in values]
    while row and row[-1] is None:
        row.pop()
    if not row:
        return None
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def combine_sheet_hashes(sheet_hashes: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for title, digest in sheet_hashes:
        h.update(json.dumps([title, digest], ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


def fingerprint_workbook(path: Path) -> str:
    """Recompute a saved pack's fingerprint from its cell values (see module docstring)."""
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        hashes = []
        for ws in wb.worksheets:
            if ws.title == SIGNOFF_TITLE:
                continue
            h = hashlib.sha256()
            for row in ws.iter_rows(values_only=True):
                line = row_line(row)
                if line is not None:
                    h.update(line)
            hashes.append((ws.title, h.hexdigest()))
        return combine_sheet_hashes(hashes)
    finally:
        wb.close()


def stated_fingerprint(path: Path) -> str | None:
    """The fingerprint written on the pack's Sign-off sheet."""
    wb = load_workbook(path, read_only=True)
    try:
        if SIGNOFF_TITLE not in wb.sheetnames:
            return None
        for row in wb[SIGNOFF_TITLE].iter_rows(values_only=True):
            if row and row[0] == "Pack fingerprint (SHA-256)":
                return str(row[1])
        return None
    finally:
        wb.close()


def verify_pack(path: Path) -> bool:
    """True when the figures and records in the file are those the pack was signed with."""
    return stated_fingerprint(path) == fingerprint_workbook(path)
