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

from recon.pack.fingerprint import normalise

CHUNK_ROWS = 25_000  # rows serialised at a time: bounds the memory of a half-million-row sheet


@dataclass(frozen=True)
class FrameRows:
    """The rows of ``frame``; ``cell`` turns one value into what a generated row would hold."""

    frame: pl.DataFrame
    cell: Callable[[Any], Any]

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


def _mapped(frame: pl.DataFrame, column: str, render: Callable[[Any], tuple[str, str] | None]
            ) -> tuple[pl.Series, pl.Series] | None:
    """(XML fragment, JSON token) of every row of ``column``, rendered once per distinct value."""
    col = frame.get_column(column)
    if col.dtype.is_nested() or col.dtype == pl.Object:
        return None
    key = col if col.dtype == pl.String else col.cast(pl.String)
    pairs = pl.DataFrame({"k": key, "v": col}).unique(subset="k", keep="first")
    frags: list[str] = []
    tokens: list[str] = []
    for v in pairs.get_column("v").to_list():
        done = render(v)
        if done is None:
            return None
        frags.append(done[0])
        tokens.append(done[1])
    keys = pairs.get_column("k")
    frag_s = pl.Series(frags, dtype=pl.String)
    tok_s = pl.Series(tokens, dtype=pl.String)
    nulls = keys.is_null()
    null_frag = frag_s.filter(nulls)
    null_tok = tok_s.filter(nulls)
    keep = ~nulls
    k, f, t = keys.filter(keep), frag_s.filter(keep), tok_s.filter(keep)
    frame_k = pl.DataFrame({"k": key})
    out = frame_k.select(
        pl.when(pl.col("k").is_null()).then(pl.lit(null_frag[0] if len(null_frag) else "", dtype=pl.String))
        .otherwise(pl.col("k").replace_strict(k, f, default=None, return_dtype=pl.String)).alias("f"),
        pl.when(pl.col("k").is_null()).then(pl.lit(null_tok[0] if len(null_tok) else "null", dtype=pl.String))
        .otherwise(pl.col("k").replace_strict(k, t, default=None, return_dtype=pl.String)).alias("t"),
    )
    return out.get_column("f"), out.get_column("t")


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
    for name in frame.columns:
        mapped = _mapped(frame, name, render)
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
