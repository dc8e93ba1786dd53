"""Long appendix sheets written from their frame, not row by row.

A Detail sheet at 400,000 people holds up to half a million rows; rendering each value through
Python (cell object, style, escaping, the fingerprint's JSON) cost about 150 microseconds a row.
Here every *distinct* value of a column is rendered once, by the same functions the row-by-row
path uses (so the XML and the fingerprint lines are the same, byte for byte), and polars puts the
rows together. A column polars cannot key (nested values) or a value only openpyxl can write
(quote-prefixed text) sends the block back to the row-by-row path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

from recon.nhs_number import NHS_NUMBER_IN_TEXT
from recon.pack.fingerprint import normalise

CHUNK_ROWS = 25_000  # rows serialised at a time: bounds the memory of a half-million-row sheet
# Texts that Python must see (see FrameRows.plain_text): control and non-XML characters, NHS-number
# shaped digits, a non-ASCII character at either end (Python's idea of blank is wider than ASCII).
NEEDS_PYTHON = rf"[\x00-\x1f\x7f\u{{fffe}}\u{{ffff}}]|{NHS_NUMBER_IN_TEXT}|^[^\x00-\x7f]|[^\x00-\x7f]$"
FORMULA_LIKE = r"^[=+\-@\t\r\n]"  # written by openpyxl with a quote prefix: the row-by-row path
LONGEST_CELL = 32_767


@dataclass(frozen=True)
class FrameRows:
    """The rows of ``frame``; ``cell`` turns one value into what a generated row would hold.

    ``plain_text``: ``cell`` returns a text value unchanged unless it holds a character
    :data:`NEEDS_PYTHON` matches (a control character, a character XML cannot hold, a run of
    digits shaped like an NHS number, a non-ASCII first or last character) or is longer than a
    cell holds: the Detail sheets' cells (cleaned, NHS numbers masked) are such. Those texts are
    then written by polars; the others go through ``cell`` one distinct value at a time.
    """

    frame: pl.DataFrame
    cell: Callable[[Any], Any]
    plain_text: bool = False

    def rows(self) -> Iterator[list[Any]]:
        """Row by row (the fallback, and what any other reader of a sheet gets)."""
        for row in self.frame.iter_rows():
            yield [self.cell(v) for v in row]


@dataclass(frozen=True)
class Block:
    xml: str  # the rows' sheet XML
    lines: bytes  # their fingerprint lines (recon.pack.fingerprint.row_line)
    count: int


def token(value: Any) -> str:
    """A value's part of its row's fingerprint line (JSON, as ``row_line`` writes it)."""
    return json.dumps(normalise(value), ensure_ascii=False, separators=(",", ":"))


def _letters(n: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, n + 1)]


def _plain_texts(col: pl.Series, render: Callable[[Any], tuple[str, str] | None]
                 ) -> tuple[pl.Series, pl.Series] | None:
    """A text column written by polars: escaped for XML and JSON exactly as the row writer and
    ``json.dumps`` do; the few texts that need Python (``NEEDS_PYTHON``) rendered one by one."""
    if bool(col.str.contains(FORMULA_LIKE).any()):
        return None
    python = (col.str.contains(NEEDS_PYTHON) | (col.str.len_chars() > LONGEST_CELL)).fill_null(False)
    picked = _mapped(col.filter(python), render) if bool(python.any()) else None
    if bool(python.any()) and picked is None:
        return None
    v = pl.col("v")
    xml = v.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True).str.replace_all(
        ">", "&gt;", literal=True)
    space = pl.when(v.str.contains(r"^[ \t\n\r\x0b\x0c]|[ \t\n\r\x0b\x0c]$")).then(
        pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
    json_text = v.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    blank = v.is_null() | (v == "")
    out = col.to_frame("v").select(
        pl.when(blank).then(pl.lit("")).otherwise(
            pl.concat_str([pl.lit(' t="inlineStr"><is><t'), space, pl.lit(">"), xml, pl.lit("</t></is></c>")])
        ).alias("f"),
        pl.when(blank).then(pl.lit("null")).otherwise(pl.concat_str([pl.lit('"'), json_text, pl.lit('"')])).alias("t"),
    )
    frags, tokens = out.get_column("f"), out.get_column("t")
    if picked is not None:
        frags = frags.scatter(python.arg_true(), picked[0])
        tokens = tokens.scatter(python.arg_true(), picked[1])
    return frags, tokens


def _mapped(col: pl.Series, render: Callable[[Any], tuple[str, str] | None],
            plain_text: bool = False) -> tuple[pl.Series, pl.Series] | None:
    """(XML fragment, JSON token) of every value of ``col``, rendered once per distinct value."""
    if col.dtype.is_nested() or col.dtype == pl.Object:
        return None
    if plain_text and col.dtype == pl.String:
        return _plain_texts(col, render)
    # the key must tell apart every two values: a time's text drops its fraction of a second, so
    # dates and times are keyed by their integer form
    key = col if col.dtype == pl.String else col.to_physical() if col.dtype.is_temporal() else col.cast(pl.String)
    pairs = pl.DataFrame({"k": key, "v": col}).unique(subset="k", keep="first")
    rendered = [render(v) for v in pairs.get_column("v").to_list()]
    done = [r for r in rendered if r is not None]
    if len(done) < len(rendered):
        return None
    keys = pairs.get_column("k")
    known = keys.is_not_null()
    blank = next((r for r, k in zip(done, keys.to_list(), strict=True) if k is None), ("", "null"))
    frags, tokens = (
        key.replace_strict(keys.filter(known), pl.Series([r[i] for r in done], dtype=pl.String).filter(known),
                           default=None, return_dtype=pl.String).fill_null(blank[i])
        for i in (0, 1)
    )
    return frags, tokens


def blocks(rows: FrameRows, first_row: int, fragment: Callable[[Any], str | None]) -> Iterator[Block] | None:
    """The rows as serialised blocks, starting at sheet row ``first_row``; None when a value
    needs the row-by-row path. ``fragment`` is the writer's (``_FastWriter.fragment`` after
    ``_cells``): what follows ``<c r="A1"`` for one cell value."""
    frame = rows.frame
    if frame.width == 0:
        return None

    def render(v: Any) -> tuple[str, str] | None:
        shown = rows.cell(v)
        frag = fragment(shown)
        return None if frag is None else (frag, token(shown))

    columns: list[tuple[pl.Series, pl.Series]] = []
    for col in frame.iter_columns():
        mapped = _mapped(col, render, rows.plain_text)
        if mapped is None:
            return None
        columns.append(mapped)
    letters = _letters(frame.width)
    data = pl.DataFrame(
        {f"f{i}": f for i, (f, _) in enumerate(columns)} | {f"t{i}": t for i, (_, t) in enumerate(columns)}
    )
    return _serialise(data, len(columns), letters, first_row)


def _serialise(data: pl.DataFrame, width: int, letters: list[str], first_row: int) -> Iterator[Block]:
    for start in range(0, data.height, CHUNK_ROWS):
        chunk = data.slice(start, CHUNK_ROWS)
        n = pl.int_range(pl.len(), dtype=pl.Int64) + (first_row + start)
        r = n.cast(pl.String)
        cells = [
            pl.when(pl.col(f"f{i}") == "").then(pl.lit(""))
            .otherwise(pl.concat_str([pl.lit(f'<c r="{letters[i]}'), r, pl.lit('"'), pl.col(f"f{i}")]))
            for i in range(width)
        ]
        xml = pl.concat_str([pl.lit('<row r="'), r, pl.lit('">'), *cells, pl.lit("</row>")])
        # the fingerprint line: trailing blanks ("null") dropped, a row of blanks has no line
        last = pl.max_horizontal(*(pl.when(pl.col(f"t{i}") != "null").then(pl.lit(i)) for i in range(width)))
        parts = [
            pl.when(last >= i).then(pl.concat_str([pl.lit("," if i else ""), pl.col(f"t{i}")])).otherwise(pl.lit(""))
            for i in range(width)
        ]
        line = pl.when(last.is_not_null()).then(pl.concat_str([pl.lit("["), *parts, pl.lit("]\n")]))
        out = chunk.select(xml.alias("xml"), line.alias("line"))
        yield Block(
            xml="".join(out.get_column("xml").to_list()),
            lines="".join(out.get_column("line").drop_nulls().to_list()).encode(),
            count=chunk.height,
        )
