"""What a reader of the pack sees beyond its values: formats, colours and what is hidden.

The value fingerprint (:mod:`recon.pack.fingerprint`) proves the figures are unchanged, but a
number format can show 99,999 over a value of 1,626, a hidden row or sheet drops a discrepancy
from view, and white text on a white fill hides it in plain sight. The *view fingerprint* hashes,
for every sheet but Sign-off: its visibility, its hidden rows and columns, its conditional
formats, and each cell's resolved number format, font colour and fill. It is read from the
saved file's XML (styles resolved, so a spreadsheet that re-saves the file and renumbers its
styles gives the same answer) and recorded with the run; a pack signed by its content must
show the same view.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import IO

from recon.pack.sheets.signoff import SIGNOFF_TITLE

_SHEET = re.compile(rb'<sheet\b([^>]*)/?>')
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb'<Relationship\b([^>]*)/?>')
_ROW_HIDDEN = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"')
_COL = re.compile(rb'<col\b([^>]*)/?>')
_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]+\d+)"[^>]*?\bs="(\d+)"')
_CF = re.compile(rb'<conditionalFormatting\b.*?</conditionalFormatting>', re.S)
_CHUNK = 1 << 20
BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
                   14: "mm-dd-yy", 22: "m/d/yy h:mm", 49: "@"}


def _attrs(raw: bytes) -> dict[str, str]:
    return {k.decode().split(":")[-1]: v.decode() for k, v in _ATTR.findall(raw)}


def view_fingerprint(path: Path) -> str:
    """SHA-256 of what the pack shows beyond values (see the module docstring)."""
    h = hashlib.sha256()
    with zipfile.ZipFile(path) as zf:
        styles, dxfs = _styles(zf)
        workbook = zf.read("xl/workbook.xml")
        rels = {a.get("Id"): a.get("Target", "") for a in map(_attrs, _REL.findall(zf.read("xl/_rels/workbook.xml.rels")))}
        for raw in _SHEET.findall(workbook):
            a = _attrs(raw)
            name = a.get("name", "")
            if name == SIGNOFF_TITLE:
                continue
            target = rels.get(a.get("id"), "")
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            with zf.open(member) as fh:
                body = _sheet_view(fh, styles, dxfs)
            h.update(json.dumps([name, a.get("state", "visible"), body], separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()


def _sheet_view(fh: IO[bytes], styles: list[str], dxfs: list[str]) -> str:
    """One sheet: hidden rows and columns, conditional formats, and every cell's resolved style."""
    h = hashlib.sha256()
    tail = b""
    cols: list[bytes] = []
    ends: dict[bytes, bytes | None] = {}  # a style attribute's line ending (None: the default look), once each
    while chunk := fh.read(_CHUNK):
        data = tail + chunk
        cut = data.rfind(b">") + 1  # keep a partial tag for the next chunk
        data, tail = data[:cut], data[cut:]
        for m in _ROW_HIDDEN.finditer(data):
            h.update(b"row-hidden " + m.group(1) + b"\n")
        for m in _COL.finditer(data):
            a = _attrs(m.group(1))
            width = float(a.get("width", "9") or 9)
            if a.get("hidden") in ("1", "true") or width < 1:
                cols.append(f"cols-hidden {a.get('min')}-{a.get('max')}".encode())
        for m in _CF.finditer(data):
            h.update(_cf(m.group(0), dxfs) + b"\n")
        lines = []
        for ref, style in _CELL.findall(data):
            if style not in ends:
                resolved = styles[int(style)] if int(style) < len(styles) else "?"
                ends[style] = None if resolved == styles[0] else b" " + resolved.encode() + b"\n"
            end = ends[style]
            if end is not None:
                lines.append(ref + end)
        h.update(b"".join(lines))  # one update per chunk: the same bytes as one per cell
    for c in sorted(cols):
        h.update(c + b"\n")
    return h.hexdigest()


def _cf(block: bytes, dxfs: list[str]) -> bytes:
    """A conditional format with each differential style id replaced by the colours it applies."""
    def resolve(m: re.Match[bytes]) -> bytes:
        i = int(m.group(1))
        return b' dxf="' + (dxfs[i] if i < len(dxfs) else "?").encode() + b'"'

    return re.sub(rb'\spriority="\d+"', b"", re.sub(rb'\sdxfId="(\d+)"', resolve, block))


def _styles(zf: zipfile.ZipFile) -> tuple[list[str], list[str]]:
    """Each cell style index resolved to its (number format, font colour, fill) as text; and each
    differential style (conditional formats) to its font colour and fill."""
    try:
        xml = zf.read("xl/styles.xml")
    except KeyError:
        return ["default"], []
    formats = dict(BUILTIN_FORMATS)
    for raw in re.findall(rb'<numFmt\b([^>]*)/?>', xml):
        a = _attrs(raw)
        formats[int(a.get("numFmtId", "0"))] = a.get("formatCode", "")
    fonts = [_colour(f) for f in re.findall(rb'<font\b.*?</font>|<font\b[^>]*/>', _section(xml, b"fonts"), re.S)]
    fills = [_fill(f) for f in re.findall(rb'<fill\b.*?</fill>|<fill\b[^>]*/>', _section(xml, b"fills"), re.S)]
    out: list[str] = []
    for raw in re.findall(rb'<xf\b([^>]*)/?>', _section(xml, b"cellXfs")):
        a = _attrs(raw)
        fmt = formats.get(int(a.get("numFmtId", "0")), a.get("numFmtId", ""))
        font = fonts[int(a.get("fontId", "0"))] if int(a.get("fontId", "0")) < len(fonts) else ""
        fill = fills[int(a.get("fillId", "0"))] if int(a.get("fillId", "0")) < len(fills) else ""
        out.append(json.dumps([fmt, font, fill]))
    dxfs = [json.dumps([_colour(d), _fill(d)]) for d in re.findall(rb'<dxf\b.*?</dxf>', _section(xml, b"dxfs"), re.S)]
    return out or ["default"], dxfs


def _section(xml: bytes, tag: bytes) -> bytes:
    m = re.search(rb"<" + tag + rb"\b.*?</" + tag + rb">", xml, re.S)
    return m.group(0) if m else b""


def _colour(font: bytes) -> str:
    m = re.search(rb'<color\b([^>]*)/?>', font)
    if not m:
        return ""
    a = _attrs(m.group(1))
    return a.get("rgb", "").upper()[-6:] or (f"theme{a.get('theme')}" if "theme" in a else "")


def _fill(fill: bytes) -> str:
    pattern = re.search(rb'patternType="(\w+)"', fill)
    if pattern and pattern.group(1) == b"none":
        return ""
    m = re.search(rb'<(?:fgColor|bgColor)\b([^>]*)/?>', fill)
    if not m:
        return ""
    a = _attrs(m.group(1))
    name = pattern.group(1).decode() if pattern else "fill"
    return name + ":" + (a.get("rgb", "").upper()[-6:] or f"theme{a.get('theme', '')}")
