"""Appendix sheets: the detail frames behind the figures, masked unless identifiable."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import polars as pl

from recon.pack.frame_rows import FrameRows
from recon.pack.layout import Sheet, Styled, print_plan
from recon.pack.model import PEOPLE_LISTS, PackOptions
from recon.pack.privacy import IDENTIFYING_COLUMNS, NHS_NUMBER_COLUMNS
from recon.pack.sheets.common import fit_widths, get_col, num, sheet_title, text
from recon.reconcile.model import ReconcileResult


def _details_title(name: str, used: set[str]) -> str:
    return sheet_title("Detail ", name, used)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns (a spell's referrals, say) as comma-separated text: a cell holds one value."""
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Array)]
    if not lists:
        return frame
    return frame.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join(", ") for c in lists)


def _private_frame(frame: pl.DataFrame, identifiable: bool) -> pl.DataFrame:
    """Mask NHS numbers and drop other identifying columns unless the pack is identifiable."""
    frame = _flat(frame)
    if identifiable:
        return frame
    exprs: list[pl.Expr] = []
    for name in frame.columns:
        if name in NHS_NUMBER_COLUMNS:
            s = pl.col(name).cast(pl.String).str.replace_all(r"[\s-]", "")
            exprs.append(
                pl.when(s.is_null()).then(None)
                .when(s.str.contains(r"^\d{10}$")).then(pl.lit("*** *** ") + s.str.slice(6, 4))
                .otherwise(pl.lit("***")).alias(name)
            )
        elif name not in IDENTIFYING_COLUMNS:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def _plain(v: Any, identifiable: bool) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return Styled(v, "date")
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, int | float):
        return num(v)
    return text(v, identifiable)


def details_sheets(result: ReconcileResult, opts: PackOptions, used: set[str]) -> list[Sheet]:
    sheets = []
    for name in sorted(result.local.details):
        if name in PEOPLE_LISTS and not opts.people_lists:
            continue
        frame = _private_frame(result.local.details[name], opts.identifiable)
        header = tuple(frame.columns)
        lengths = [
            int(frame.select(pl.col(c).cast(pl.String).str.len_chars().max()).item() or 0) if len(frame) else 0
            for c in header
        ]
        widths = fit_widths(lengths, header, tuple(40 for _ in header)) if header else {}
        ident = opts.identifiable
        plan = print_plan(widths, landscape=True)
        printed = (f" Printed: the first {plan.columns} of {len(header)} columns (text stays 8 pt or larger); "
                   "every column is on screen." if plan.columns < len(header) else "")

        def gen(
            frame: pl.DataFrame = frame, header: tuple[str, ...] = header, name: str = name, ident: bool = ident,
            printed: str = printed,
        ) -> Iterator[list[Any] | FrameRows]:
            yield [Styled(f"Records behind the figures: {name}", "title")]
            yield [Styled(f"{len(frame):,} row(s)." + ("" if ident else " NHS numbers masked; dates of birth left out.")
                          + printed, "subtitle")]
            yield [Styled(h, "header") for h in header]
            yield FrameRows(frame, functools.partial(_plain, identifiable=ident), plain_text=True)

        last = 3 + max(len(frame), 1)
        end_col = get_col(max(len(header), 1))
        sheets.append(Sheet(
            _details_title(name, used), gen(), widths=widths, freeze="A4", autofilter=f"A3:{end_col}{last}",
            print_title_rows="3:3",
        ))
    return sheets
