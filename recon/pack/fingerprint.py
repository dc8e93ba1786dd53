"""The pack's fingerprint: what it shows, hashed so a saved file can be checked.

The fingerprint is the SHA-256 of every value the pack shows outside the Sign-off sheet (but for the
Cover's run time and days left, which change with every run of the same inputs),
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
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from recon.pack.layout import Styled
from recon.pack.privacy import clean_text
from recon.pack.sheets.signoff import SIGNOFF_TITLE


def normalise(value: Any) -> Any:
    """The value as a reader of the saved file gets it back, in JSON form."""
    if type(value) is str:  # the usual cell first
        return clean_text(value) or None
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


# Cover rows that change on every run with the same inputs (when it ran, how long to the deadline):
# left out, so a re-run with identical inputs has the same fingerprint as the signed pack.
COVER_TITLE = "Cover"
VOLATILE_COVER_LABELS = frozenset({"Run", "Days left"})


def row_line(values: Sequence[Any], sheet: str | None = None) -> bytes | None:
    row = [normalise(v) for v in values]
    while row and row[-1] is None:
        row.pop()
    if not row or (sheet == COVER_TITLE and row[0] in VOLATILE_COVER_LABELS):
        return None
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def combine_sheet_hashes(sheet_hashes: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for title, digest in sheet_hashes:
        h.update(json.dumps([title, digest], ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


def fingerprint_workbook(path: Path) -> str:
    """Recompute a saved pack's fingerprint from its cell values (see module docstring).

    The values are those openpyxl's read-only reader returns; plain sheets (what recon and
    Excel write) are read by :func:`_plain_rows`, about ten times faster, and any sheet using
    what that reader does not handle (formulas, rich text, escapes) by openpyxl itself.
    """
    wb = _open(path)
    try:
        hashes = []
        for ws in wb.worksheets:
            if ws.title == SIGNOFF_TITLE:
                continue
            h = hashlib.sha256()
            for row in _sheet_rows(wb, ws):
                line = row_line(row, ws.title)
                if line is not None:
                    h.update(line)
            hashes.append((ws.title, h.hexdigest()))
        return combine_sheet_hashes(hashes)
    finally:
        wb.close()


def _open(path: Path) -> Any:
    """openpyxl's read-only workbook, opened without parsing every sheet to find its size.

    openpyxl reads each sheet's size from its ``<dimension>`` element and, where there is
    none (recon's write-only sheets), parses the whole sheet to find that out: seconds for a
    100,000-row pack before a single value is read. The size is read from the sheet's head
    instead; a sheet whose head does not settle it is sized as openpyxl does.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            with self._get_source() as src:
                head = src.read(1 << 16).decode("utf-8", "replace")
            data = head.find("<sheetData")
            found = _DIMENSION.search(head, 0, data if data >= 0 else len(head))
            if data < 0 and found is None:
                super()._get_size()
            elif found is not None:
                from openpyxl.utils import range_boundaries

                bounds = range_boundaries(found.group(1))
                self._min_column, self._min_row, self._max_column, self._max_row = bounds

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                    ws.sheet_state = sheet.state
                    self.wb._sheets.append(ws)

    reader = Reader(path, read_only=True, data_only=False)
    reader.read()
    return reader.wb


_DIMENSION = re.compile(r'<dimension ref="([^"]+)"')


def _sheet_rows(wb: Any, ws: Any) -> Iterable[Sequence[Any]]:
    with ws._get_source() as src:
        xml = src.read().decode("utf-8")
    rows = _plain_rows(xml, ws, wb)
    return ws.iter_rows(values_only=True) if rows is None else rows


# What the plain reader leaves to openpyxl: formulas, rich text, _xHHHH_ escapes, comments,
# CDATA, character references, carriage returns (an XML parser turns them into line feeds),
# single-quoted attributes, ISO date and error cells, cells or rows without their reference,
# prefixed tags.
_NOT_PLAIN = re.compile(r'<f[ >/]|<r>|<rPh\b|_x[0-9A-Fa-f]{4}_|<!--|<!\[CDATA|&#|\r|=\'|t="[de]"|<\w+:\w')
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))
# One pass over sheetData: a row start, or a cell in the attribute order recon, openpyxl and
# Excel write (r, s, t). Any other cell form makes the counts differ and openpyxl reads the sheet.
_TOKEN = re.compile(r'<(?:row r="(\d+)"[^>]*?(/?)>|c r="([A-Z]+)\d+"(?: s="(\d+)")?(?: t="(\w+)")?\s*(?:/>|>(.*?)</c>))',
                    re.S)
_TEXT = re.compile(r'<t(?:\s[^>]*)?>([^<]*)</t>')


def _unescape(text: str) -> str:
    if "&" in text:
        for entity, char in _ENTITIES:
            text = text.replace(entity, char)
    return text


def _plain_rows(xml: str, ws: Any, wb: Any) -> list[tuple[Any, ...]] | None:
    """The sheet's rows as openpyxl's ``iter_rows(values_only=True)`` gives them (trailing and
    empty rows aside, which the fingerprint skips), or None when the sheet is not plain."""
    from openpyxl.utils.datetime import from_excel

    start = xml.find("<sheetData")
    if start < 0 or _NOT_PLAIN.search(xml, start):
        return None
    strings, dates, durations = ws._shared_strings, wb._date_formats, wb._timedelta_formats
    min_col, max_col, max_row = ws.min_column or 1, ws.max_column, ws.max_row
    out: list[tuple[Any, ...]] = []
    cells: dict[int, Any] = {}
    n_rows = n_cells = 0

    def flush() -> None:
        if cells:
            last = max_col or max(cells)
            out.append(tuple(cells.get(c) for c in range(min_col, last + 1)))
            cells.clear()

    for m in _TOKEN.finditer(xml, start):
        row, _, letters, style, kind, inner = m.groups()
        if row is not None:
            n_rows += 1
            flush()
            if max_row is not None and int(row) > max_row:
                return out  # openpyxl stops at the sheet's stated last row too
            continue
        n_cells += 1
        value: Any = None
        kind = kind or "n"
        if kind == "inlineStr":
            if inner and "<is" in inner:
                value = _unescape("".join(_TEXT.findall(inner)))
        elif inner:
            if inner.startswith("<v>") and inner.endswith("</v>") and "<" not in inner[3:-4]:
                raw = _unescape(inner[3:-4])
            elif "<v" in inner:
                return None
            else:
                raw = ""
            if raw:
                if kind == "n":
                    value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                    if int(style or 0) in dates:
                        value = from_excel(value, wb.epoch, timedelta=int(style or 0) in durations)
                elif kind == "s":
                    value = strings[int(raw)]
                elif kind == "b":
                    value = bool(int(raw))
                elif kind == "str":
                    value = raw
                else:
                    return None
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        cells[col] = value
    flush()
    data = xml[start:]
    if n_rows != data.count("<row ") + data.count("<row>") or n_cells != data.count("<c ") + data.count("<c>"):
        return None  # a row or cell in a form this reader does not know
    return out


def stated_fingerprint(path: Path) -> str | None:
    """The fingerprint written on the pack's Sign-off sheet."""
    wb = _open(path)
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
