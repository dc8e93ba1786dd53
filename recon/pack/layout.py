"""A small, renderer-neutral description of the pack's sheets.

The sheet builders (:mod:`recon.pack.sheets`) say *what* each sheet shows as rows of plain
values (optionally wrapped in :class:`Styled`); the writer (:mod:`recon.pack.xlsx`) turns
that into openpyxl objects. Keeping the two apart makes the fingerprint a hash of exactly the
values shown, and lets long sheets stream as generators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is imported when a pack is written, not by every command that lays one out
    from openpyxl.styles import Alignment, Border, Font, PatternFill

    from recon.pack.frame_rows import FrameRows

# Colours: NHS identity blue for headers; traffic-light fills readable in greyscale print.
NHS_BLUE = "005EB8"
DARK = "231F20"
GREEN = "C6EFCE"
AMBER = "FFEB9C"
RED = "FFC7CE"
GREY = "E8EDEE"
INPUT = "FFF9C4"
# Making Data Count colours
MDC_GREY = "A6A6A6"
MDC_PURPLE = "7030A0"
MDC_MEAN = "231F20"
MDC_LIMIT = "7F7F7F"

FORMAT_COUNT = "#,##0"
FORMAT_PCT = "0.0"
FORMAT_DEC = "0.00"
FORMAT_DATE = "yyyy-mm-dd"

_BASE_FONT = "Calibri"  # the workbook default, so styled and plain cells match


@dataclass(frozen=True)
class Style:
    bold: bool = False
    size: float = 11
    color: str | None = None
    italic: bool = False
    fill: str | None = None
    number_format: str | None = None
    wrap: bool = False
    align: str | None = None  # "left" | "center" | "right"
    box: bool = False

    def font(self) -> Font:
        from openpyxl.styles import Font

        return Font(name=_BASE_FONT, bold=self.bold, size=self.size, color=self.color, italic=self.italic)

    def fill_obj(self) -> PatternFill | None:
        from openpyxl.styles import PatternFill

        return PatternFill("solid", start_color=self.fill, end_color=self.fill) if self.fill else None

    def alignment(self) -> Alignment:
        from openpyxl.styles import Alignment

        return Alignment(wrap_text=self.wrap or None, vertical="top", horizontal=self.align)

    def border(self) -> Border | None:
        return _box() if self.box else None


@lru_cache(maxsize=1)
def _box() -> Border:
    from openpyxl.styles import Border, Side

    thin = Side(style="thin", color="AEB7BD")
    return Border(left=thin, right=thin, top=thin, bottom=thin)


STYLES: dict[str, Style] = {
    "title": Style(bold=True, size=14, color=NHS_BLUE),
    "subtitle": Style(italic=True, color="425563", wrap=False),
    "section": Style(bold=True, size=11, color=NHS_BLUE),
    "header": Style(bold=True, color="FFFFFF", fill=NHS_BLUE, wrap=True),
    "header_num": Style(bold=True, color="FFFFFF", fill=NHS_BLUE, wrap=True, align="right"),
    "label": Style(bold=True),
    "text": Style(),
    "wrap": Style(wrap=True),
    "top": Style(),  # plain text, top-aligned like its wrapped neighbours
    "count": Style(number_format=FORMAT_COUNT),
    "count1": Style(number_format="#,##0.0"),
    "count_left": Style(number_format=FORMAT_COUNT, align="left"),
    "center": Style(align="center"),
    "label_wrap": Style(bold=True, wrap=True),
    "pct": Style(number_format=FORMAT_PCT),
    "dec": Style(number_format=FORMAT_DEC),
    "date": Style(number_format=FORMAT_DATE, align="left"),
    "right": Style(align="right"),
    "bold_count": Style(bold=True, number_format=FORMAT_COUNT),
    "bold_pct": Style(bold=True, number_format=FORMAT_PCT),
    "good": Style(fill=GREEN, bold=True),
    "warn": Style(fill=AMBER, bold=True),
    "warn_wrap": Style(fill=AMBER, bold=True, wrap=True),
    "bad": Style(fill=RED, bold=True),
    "bad_wrap": Style(fill=RED, bold=True, wrap=True),
    "neutral": Style(fill=GREY),
    "status_good": Style(fill=GREEN, bold=True, size=14),
    "status_warn": Style(fill=AMBER, bold=True, size=14),
    "status_bad": Style(fill=RED, bold=True, size=14),
    "input": Style(fill=INPUT, box=True, align="left"),
    "input_date": Style(fill=INPUT, box=True, number_format=FORMAT_DATE, align="left"),
    "input_wrap": Style(fill=INPUT, box=True, wrap=True),
    "mono": Style(size=10),
    "note": Style(italic=True, color="425563"),
}


# Printing (A4, 0.4 inch side margins). Column width w (characters of the default 11 pt font) is
# about 7w + 5 pixels, 0.75 pt each. Fitting a sheet to the page width scales everything down:
# 11 pt text stays 8 pt or larger only at a scale of 8/11 or more.
MIN_PRINT_SCALE = 8 / 11
PRINTABLE_WIDTH_PT = {True: (29.7 - 2 * 1.016) / 2.54 * 72, False: (21.0 - 2 * 1.016) / 2.54 * 72}
DEFAULT_COLUMN_WIDTH = 8.43


def column_points(width: float) -> float:
    return (7 * width + 5) * 0.75


@dataclass(frozen=True)
class PrintPlan:
    """What goes on paper: the leading ``columns`` of the sheet, fitted to the width at ``scale``."""

    columns: int
    scale: float


def print_plan(widths: Mapping[int, float], landscape: bool) -> PrintPlan:
    """The most leading columns that fit the page width with text at 8 pt or larger (at least one)."""
    printable = PRINTABLE_WIDTH_PT[landscape]
    total, columns = 0.0, 0
    for col in range(1, max(widths, default=1) + 1):
        w = column_points(widths.get(col, DEFAULT_COLUMN_WIDTH))
        if columns and (total + w) * MIN_PRINT_SCALE > printable:
            break
        total, columns = total + w, col
    return PrintPlan(columns, min(1.0, printable / total) if total else 1.0)


# Every row is this tall unless a sheet says otherwise (set on the sheet, so Excel and LibreOffice
# paginate alike and the page breaks below hold in both).
DEFAULT_ROW_PT = 15.0
_MARGINS_PT = 2 * 0.75 * 72
PRINTABLE_HEIGHT_PT = {True: 21.0 / 2.54 * 72 - _MARGINS_PT, False: 29.7 / 2.54 * 72 - _MARGINS_PT}
_PAGE_SAFETY = 0.95  # repeated header rows and rounding: never fill a page to the last point


def keep_together_breaks(
    n_rows: int, heights: Mapping[int, float], keep: Mapping[int, int], breaks: Sequence[int],
    landscape: bool, scale: float,
) -> list[int]:
    """Page breaks (rows after which a page ends) so that each ``keep`` row starts a run of that
    many rows printed on one page: no heading alone at a page foot, no chart cut in two.

    Pages are laid out as the printer does (rows of known height, the manual ``breaks``), a new
    break going in before a run that would not fit in what is left of the page.
    """
    capacity = PRINTABLE_HEIGHT_PT[landscape] * _PAGE_SAFETY / max(min(scale, 1.0), 0.1)
    manual = set(breaks)
    out: list[int] = []
    used = 0.0
    for row in range(1, n_rows + 1):
        h = heights.get(row, DEFAULT_ROW_PT)
        run = keep.get(row)
        if run and used > 0:
            need = sum(heights.get(r, DEFAULT_ROW_PT) for r in range(row, min(row + run, n_rows + 1)))
            if used + need > capacity:
                out.append(row - 1)
                used = 0.0
        if used + h > capacity:
            used = 0.0
        used += h
        if row in manual:
            used = 0.0
    return out


@dataclass(frozen=True)
class Styled:
    """A cell value with a named style from :data:`STYLES`."""

    value: Any
    style: str


@dataclass(frozen=True)
class SeriesSpec:
    """One chart series: values in ``col`` from ``first_row`` to ``last_row``, title in ``title_row``."""

    col: int
    title_row: int
    first_row: int
    last_row: int
    color: str | None = None
    dash: str | None = None  # e.g. "dash"
    marker: str | None = None  # e.g. "circle"
    line: bool = True
    width_emu: int | None = None


@dataclass(frozen=True)
class ChartSpec:
    kind: str  # "bar" | "line"
    title: str
    anchor: str
    cat_col: int
    first_row: int
    last_row: int
    series: tuple[SeriesSpec, ...]
    y_title: str | None = None
    x_title: str | None = None
    width_cm: float = 16.0
    height_cm: float = 7.5
    legend: bool = True
    y_min: float | None = None
    y_max: float | None = None
    y_format: str | None = None
    rotate_labels: bool = False


@dataclass(frozen=True)
class Rule:
    """A conditional format: cells in ``ref`` equal to ``text`` get ``style`` (a fill) or a colour scale."""

    ref: str
    kind: str  # "equals" | "scale"
    text: str = ""
    fill: str = ""
    bold: bool = False


@dataclass(frozen=True)
class Validation:
    ref: str
    kind: str  # "list" | "date"
    options: tuple[str, ...] = ()
    prompt: str = ""


@dataclass
class Sheet:
    """One worksheet: rows (a list, or a generator for long sheets) and its presentation."""

    title: str
    rows: Iterable[Sequence[Any] | FrameRows]  # FrameRows: a frame's rows, written column-wise
    widths: Mapping[int, float] = field(default_factory=dict)
    heights: Mapping[int, float] = field(default_factory=dict)
    freeze: str | None = None
    autofilter: str | None = None
    print_title_rows: str | None = None
    landscape: bool = True
    fit_width: bool = True
    charts: list[ChartSpec] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)
    fingerprinted: bool = True
    page_breaks: list[int] = field(default_factory=list)  # printed page ends after these rows
    tab_color: str | None = None
    # Row -> how many rows from it must print on one page (a heading and what follows, a chart).
    keep_together: dict[int, int] = field(default_factory=dict)


class Grid:
    """Accumulates rows of a short sheet while tracking the 1-based row number."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []

    @property
    def next_row(self) -> int:
        return len(self.rows) + 1

    def add(self, *cells: Any) -> int:
        """Append one row; returns its row number."""
        self.rows.append(list(cells))
        return len(self.rows)

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.rows.append([])

    def pad_to(self, row: int) -> None:
        """Add blank rows until the next row is ``row``."""
        while self.next_row < row:
            self.rows.append([])
