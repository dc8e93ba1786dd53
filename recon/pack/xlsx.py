"""Render the pack's sheets with openpyxl (streaming, write-only), fingerprinting each as it goes.

openpyxl is slow on long sheets; the writer here keeps a 100,000-row Exceptions sheet to seconds by
resolving named styles once and serialising plain cells as XML text directly.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell._writer import write_cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import NumFmt, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText
from openpyxl.chart.text import Text as ChartText
from openpyxl.chart.title import Title
from openpyxl.drawing.line import LineProperties
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
    RichTextProperties,
)
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.writer.excel import ExcelWriter

from recon.pack.book import build_sheets
from recon.pack.fingerprint import combine_sheet_hashes, row_line
from recon.pack.frame_rows import FrameRows, blocks
from recon.pack.layout import (
    DEFAULT_ROW_PT,
    STYLES,
    ChartSpec,
    Sheet,
    Styled,
    keep_together_breaks,
    print_plan,
)
from recon.pack.model import PackOptions
from recon.pack.privacy import clean_text, needs_quote
from recon.pack.sheets.signoff import SIGNOFF_TITLE, signoff_sheet
from recon.reconcile.model import ReconcileResult


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(text: str) -> str:
    """An inline string cell's type and value, as openpyxl writes them (after ``<c r=".." [s=".."]``)."""
    space = ' xml:space="preserve"' if text.strip() != text else ""
    return f' t="inlineStr"><is><t{space}>{_esc(text)}</t></is></c>'


class _FastWriter(WorksheetWriter):  # type: ignore[misc]  # openpyxl is untyped
    """openpyxl's streaming sheet writer, with plain text and numbers serialised directly.

    openpyxl without lxml spends ~90% of a long sheet's time building one XML element per
    cell; plain cells (no style) are written here as the same XML text openpyxl would write
    (inline strings, ``%.16g`` numbers). Styled cells and dates go through openpyxl.
    """

    def __init__(self, ws: Any, heights: dict[int, float] | None = None) -> None:
        super().__init__(ws)
        self.heights = heights or {}  # row -> height in points (what openpyxl's row dimensions would write)

    def _array_id(self, array: Any) -> int:
        key = tuple(array)
        ids: dict[tuple[int, ...], int] = self.__dict__.setdefault("_style_ids", {})
        if key not in ids:
            ids[key] = self.ws.parent._cell_styles.add(array)
        return ids[key]

    def fragment(self, value: Any) -> str | None:
        """A plain cell's XML after its reference (``<c r="A1"`` + this), "" for no cell, None for
        a cell openpyxl must write (quote-prefixed text, other objects). Used for every plain
        cell, row by row or a column's distinct values at once (:mod:`recon.pack.frame_rows`)."""
        if value is None:
            return ""
        if isinstance(value, str):
            if not value:
                return ""
            texts: dict[str, str] = self.__dict__.setdefault("_texts", {})
            frag = texts.get(value)
            if frag is None:  # each distinct text escaped once per sheet
                frag = _inline(value)
                if len(texts) < 100_000:
                    texts[value] = frag
            return frag
        if isinstance(value, bool):
            return f' t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                return ""
            return f' t="n"><v>{"%.16g" % value}</v></c>'  # noqa: UP031
        if isinstance(value, _FastCell):
            # Styled plain values: the same XML openpyxl writes, with the style index.
            style = self._array_id(value.style)
            v = value.value
            if type(v) in (dt.date, dt.datetime):
                v = to_excel(v, self.ws.parent.epoch)
            if isinstance(v, str) and not v:
                return f' s="{style}"/>'
            if isinstance(v, str):
                return f' s="{style}"{_inline(v)}'
            if isinstance(v, float) and not math.isfinite(v):
                return f' s="{style}"/>'
            return f' s="{style}" t="n"><v>{"%.16g" % v}</v></c>'  # noqa: UP031
        return None

    offset = 0  # rows written ahead of openpyxl's own count (a block of frame rows is one append)

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        out = xf._file
        if isinstance(row, RawRows):
            out(row.xml)
            self.offset += row.n - 1
            return
        row_idx += self.offset
        height = self.heights.get(row_idx)
        attrs = f' ht="{"%.16g" % height}" customHeight="1"' if height is not None else ""  # noqa: UP031
        parts = [f'<row r="{row_idx}"{attrs}>']
        for col_idx, value in enumerate(row, 1):
            frag = self.fragment(value)
            if frag is None:
                out("".join(parts))
                parts.clear()
                cell = value if isinstance(value, Cell) else WriteOnlyCell(self.ws, value=value)
                cell.column, cell.row = col_idx, row_idx
                write_cell(xf, self.ws, cell, cell.has_style)
            elif frag:
                parts.append(f'<c r="{_letter(col_idx)}{row_idx}"{frag}')
        parts.append("</row>")
        out("".join(parts))


class RawRows(tuple):  # type: ignore[type-arg]
    """Rows already serialised (``xml``, ``n`` of them), appended to a sheet as one row."""

    xml: str
    n: int

    def __new__(cls, xml: str, n: int) -> RawRows:
        self = super().__new__(cls)
        self.xml, self.n = xml, n
        return self


_LETTERS: dict[int, str] = {}


def _letter(col: int) -> str:
    if col not in _LETTERS:
        _LETTERS[col] = get_column_letter(col)
    return _LETTERS[col]


class _Styler:
    """Builds openpyxl style objects once per named style (thousands of cells share them)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Any, ...]] = {}
        self._arrays: dict[Any, Any] = {}

    def apply(self, cell: WriteOnlyCell, name: str) -> None:
        # openpyxl registers every font/fill/alignment assignment in the workbook's style
        # lists (hashing each object); a named style resolves to the same style array every
        # time, so it is resolved once and copied (100,000-row sheets: ~45 s -> ~1 s).
        array = self._arrays.get(name)
        if array is not None:
            cell._style = copy.copy(array)
            return
        self._style(cell, name)
        self._arrays[name] = copy.copy(cell._style)

    def array(self, ws: Any, name: str, sample: Any) -> Any:
        """The resolved style array for ``name`` on a value like ``sample`` (a date also gets
        openpyxl's date number format unless the style sets one)."""
        key = (name, type(sample))
        array = self._arrays.get(key)
        if array is None:
            cell = WriteOnlyCell(ws, value=sample)
            self._style(cell, name)
            array = self._arrays[key] = copy.copy(cell._style)
        return array

    def _style(self, cell: WriteOnlyCell, name: str) -> None:
        if name not in self._cache:
            s = STYLES[name]
            self._cache[name] = (s.font(), s.fill_obj(), s.alignment(), s.border(), s.number_format)
        font, fill, alignment, border, number_format = self._cache[name]
        cell.font = font
        if fill is not None:
            cell.fill = fill
        cell.alignment = alignment
        if border is not None:
            cell.border = border
        if number_format:
            cell.number_format = number_format


_FAST_TYPES = (str, int, float, dt.date, dt.datetime)


class _FastCell(NamedTuple):
    """A styled plain value with its resolved style array, serialised without a Cell object."""

    value: Any
    style: Any


def _cells(ws: Any, values: Sequence[Any], styler: _Styler) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, Styled) and type(v.value) in _FAST_TYPES:
            raw = v.value
            val = clean_text(raw) if isinstance(raw, str) else raw
            if not (isinstance(val, str) and needs_quote(val)):
                out.append(_FastCell(val, styler.array(ws, v.style, val)))
                continue
        if isinstance(v, Styled):
            raw = v.value
            cell = WriteOnlyCell(ws, value=clean_text(raw) if isinstance(raw, str) else raw)
            styler.apply(cell, v.style)
            if isinstance(raw, str) and needs_quote(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True
            out.append(cell)
        elif isinstance(v, str) and v and needs_quote(v):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"
            cell.quotePrefix = True
            out.append(cell)
        else:
            out.append(v)
    return out


def _title(text: str) -> Title:
    """A chart title in 11 pt bold (the default 14 pt wraps a short title onto two lines)."""
    props = CharacterProperties(sz=1100, b=True)
    para = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=ChartText(rich=RichText(p=[para])), overlay=False)


def _chart(ws: Any, spec: ChartSpec) -> Any:
    chart: BarChart | LineChart
    if spec.kind == "bar":
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
    else:
        chart = LineChart()
    chart.title = _title(spec.title)
    chart.width = spec.width_cm
    chart.height = spec.height_cm
    chart.y_axis.title = spec.y_title
    chart.x_axis.title = spec.x_title
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.y_axis.majorGridlines = None
    if spec.legend:
        chart.legend.position = "b"
        chart.legend.overlay = False  # the legend takes its own space below the plot, never over it
    else:
        chart.legend = None
    if spec.y_min is not None:
        chart.y_axis.scaling.min = spec.y_min
    if spec.y_max is not None:
        chart.y_axis.scaling.max = spec.y_max
    if spec.y_format:
        chart.y_axis.numFmt = NumFmt(formatCode=spec.y_format, sourceLinked=False)
    if spec.rotate_labels:
        chart.x_axis.txPr = RichText(
            bodyPr=RichTextProperties(rot=-2700000, vert="horz"),
            p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=800)), endParaRPr=CharacterProperties())],
        )
    for s in spec.series:
        if s.first_row == s.title_row + 1:
            chart.add_data(Reference(ws, min_col=s.col, min_row=s.title_row, max_row=s.last_row), titles_from_data=True)
        else:  # rows between the title and the data (e.g. the provider total) stay out of the chart
            chart.add_data(Reference(ws, min_col=s.col, min_row=s.first_row, max_row=s.last_row))
            title_ref = f"{quote_sheetname(ws.title)}!${get_column_letter(s.col)}${s.title_row}"
            chart.series[-1].tx = SeriesLabel(strRef=StrRef(title_ref))
    chart.set_categories(Reference(ws, min_col=spec.cat_col, min_row=spec.first_row, max_row=spec.last_row))
    for s, series in zip(spec.series, chart.series, strict=True):
        if spec.kind == "line":
            series.smooth = False
            line = LineProperties(solidFill=s.color, prstDash=s.dash, w=s.width_emu or 19050)
            if not s.line:
                line = LineProperties(noFill=True)
            series.graphicalProperties = GraphicalProperties(ln=line)
            if s.marker:
                series.marker.symbol = s.marker
                series.marker.size = 6
                series.marker.graphicalProperties = GraphicalProperties(solidFill=s.color)
                series.marker.graphicalProperties.line.solidFill = s.color
            else:
                series.marker.symbol = "none"
    return chart


def _render(wb: Workbook, sheet: Sheet, styler: _Styler) -> str:
    """Write one sheet; returns the SHA-256 of its values."""
    ws = wb.create_sheet(sheet.title)
    for col, width in sheet.widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    heights = dict(sheet.heights)  # written by _FastWriter on each row (no openpyxl object per row)
    if sheet.keep_together and isinstance(sheet.rows, list):
        # Every row's height written out: LibreOffice ignores the sheet's default height, and the
        # page breaks computed for these sheets hold only if both programs lay rows out alike.
        for row in range(1, len(sheet.rows) + 1):
            heights.setdefault(row, DEFAULT_ROW_PT)
    if sheet.freeze:
        ws.freeze_panes = sheet.freeze
    if sheet.tab_color:
        ws.sheet_properties.tabColor = sheet.tab_color
    ws.sheet_view.zoomScale = 100
    ws.sheet_view.tabSelected = sheet.title == "Cover"
    ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
    ws.page_setup.paperSize = 9  # A4
    ws.sheet_format.defaultRowHeight = DEFAULT_ROW_PT
    ws.sheet_format.customHeight = True
    scale = 1.0
    if sheet.fit_width:
        # Fit to the width only as far as text stays 8 pt or larger; columns beyond stay on screen.
        plan = print_plan(sheet.widths, sheet.landscape)
        scale = plan.scale
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        if plan.columns < max(sheet.widths, default=1):
            ws.print_area = f"A1:{get_column_letter(plan.columns)}1048576"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if sheet.print_title_rows:
        ws.print_title_rows = sheet.print_title_rows
    ws.oddHeader.left.text = "&A"
    ws.oddFooter.left.text = "recon sign-off pack"
    ws.oddFooter.right.text = "Page &P of &N"

    ws._writer = writer = _FastWriter(ws, heights)
    ws._writer.write_top()
    ws._values_to_row = lambda values, row_idx: values  # cells are placed by _FastWriter
    h = hashlib.sha256()
    written = 0

    def cell_fragment(value: Any) -> str | None:
        return writer.fragment(_cells(ws, [value], styler)[0])

    def plain(values: Sequence[Any]) -> None:
        if sheet.fingerprinted:
            line = row_line(values, sheet.title)
            if line is not None:
                h.update(line)
        ws.append(_cells(ws, values, styler))

    for item in sheet.rows:
        if not isinstance(item, FrameRows):
            plain(item)
            written += 1
            continue
        done = None if any(r > written for r in heights) else blocks(item, written + 1, cell_fragment)
        if done is None:  # a value only openpyxl writes: row by row
            for generated in item.rows():
                plain(generated)
                written += 1
            continue
        for block in done:
            if sheet.fingerprinted:
                h.update(block.lines)
            ws.append(RawRows(block.xml, block.count))
            written += block.count

    if sheet.autofilter:
        ws.auto_filter.ref = sheet.autofilter
    for rule in sheet.rules:
        if rule.kind == "equals":
            fill = PatternFill("solid", start_color=rule.fill, end_color=rule.fill) if rule.fill else None
            ws.conditional_formatting.add(
                rule.ref,
                CellIsRule(operator="equal", formula=[f'"{rule.text}"'], fill=fill, font=Font(bold=rule.bold) if rule.bold else None),
            )
        else:
            ws.conditional_formatting.add(
                rule.ref,
                # Absolute, not relative: 80% or less red, 90% amber, 100% green.
                ColorScaleRule(start_type="num", start_value=80, start_color="F8696B", mid_type="num",
                               mid_value=90, mid_color="FFEB84", end_type="num", end_value=100,
                               end_color="63BE7B"),
            )
    for v in sheet.validations:
        if v.kind == "list":
            dv = DataValidation(type="list", formula1='"' + ",".join(v.options) + '"', allow_blank=True)
        else:
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
        dv.promptTitle = "Sign-off"
        dv.prompt = v.prompt
        dv.showInputMessage = True
        dv.showErrorMessage = True
        dv.add(v.ref)
        ws.data_validations.append(dv)
    breaks = list(sheet.page_breaks)
    if sheet.keep_together:
        rows = sheet.rows if isinstance(sheet.rows, list) else []
        breaks += keep_together_breaks(len(rows), sheet.heights, sheet.keep_together, breaks, sheet.landscape, scale)
    for row in sorted(set(breaks)):
        ws.row_breaks.append(Break(id=row))
    for spec in sheet.charts:
        ws.add_chart(_chart(ws, spec), spec.anchor)
    return h.hexdigest()


def build_workbook(result: ReconcileResult, target: Path, options: PackOptions) -> tuple[tuple[str, ...], int, str]:
    """Write every sheet to ``target``; returns (sheet titles, exception rows, fingerprint)."""
    wb = Workbook(write_only=True)
    try:
        return _fill_and_save(wb, result, target, options)
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Workbook) -> None:
    """After a failure: close the streaming sheets and delete their temporary files."""
    for ws in wb.worksheets:
        rows, writer = getattr(ws, "_rows", None), getattr(ws, "_writer", None)
        ws._rows = None
        with contextlib.suppress(Exception):
            if rows is not None:
                rows.close()
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
            with contextlib.suppress(Exception):
                os.remove(writer.out)


def _fill_and_save(
    wb: Workbook, result: ReconcileResult, target: Path, options: PackOptions,
) -> tuple[tuple[str, ...], int, str]:
    styler = _Styler()
    sheets, appendix = build_sheets(result, options)
    hashes: list[tuple[str, str]] = []
    for sheet in sheets:
        hashes.append((sheet.title, _render(wb, sheet, styler)))
    # Sign-off comes before the appendix in the workbook, so render the appendix into its
    # place after computing the fingerprint of everything.
    signoff_index = len(sheets)
    for sheet in appendix:
        hashes.append((sheet.title, _render(wb, sheet, styler)))
    fingerprint = combine_sheet_hashes(hashes)
    _render(wb, signoff_sheet(fingerprint, result), styler)
    wb._sheets.insert(signoff_index, wb._sheets.pop())  # reorder before save
    hashes_order = [t for t, _ in hashes]
    hashes_order.insert(signoff_index, SIGNOFF_TITLE)
    wb.active = 0
    _save(wb, target)
    exception_rows = len(result.exceptions)
    return tuple(hashes_order), exception_rows, fingerprint


def _save(wb: Workbook, target: Path) -> None:
    """openpyxl's ``Workbook.save`` with deflate level 1 instead of 6: compressing the sheets was
    a third of writing a large pack (17 s of 53 s for a 400,000-person pack with people lists),
    and level 1 costs a fifth of that for a file about a quarter larger."""
    archive = ZipFile(target, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
    ExcelWriter(wb, archive).save()
