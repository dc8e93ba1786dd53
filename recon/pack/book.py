"""The pack's sheets in workbook order: the fixed sheets around each registered family's sheets."""

from __future__ import annotations

from recon.measures.catalog import catalog
from recon.pack.layout import Sheet
from recon.pack.model import PackOptions
from recon.pack.sheets.cover import cover_sheet
from recon.pack.sheets.data_quality import data_quality_sheet
from recon.pack.sheets.details import details_sheets
from recon.pack.sheets.differences import differences_sheet
from recon.pack.sheets.exceptions import exception_sheets, team_sheet_names
from recon.pack.sheets.signoff import SIGNOFF_TITLE
from recon.pack.sheets.summary import summary_sheet
from recon.pack.sheets.trend import trend_sheet
from recon.reconcile.model import ReconcileResult
from recon.register import FAMILIES


def build_sheets(result: ReconcileResult, options: PackOptions) -> tuple[list[Sheet], list[Sheet]]:
    """The sheets before Sign-off (Cover, Summary, the families' sheets in register order, Trend,
    Exceptions, Differences, Data quality), and the appendix (detail frames) after it."""
    cat = catalog()
    team_sheets = team_sheet_names(result.exceptions) if options.split_by_team else None
    sheets: list[Sheet] = [cover_sheet(result, options, team_sheets), summary_sheet(result, options)]
    for family in FAMILIES:
        if family.sheets is not None:
            sheets.extend(family.sheets(result, options, cat))
    sheets += [
        trend_sheet(result, options, cat),
        *exception_sheets(result, options),
        differences_sheet(result, options),
        data_quality_sheet(result, options),
    ]
    used = {s.title.lower() for s in sheets} | {SIGNOFF_TITLE.lower()}
    return sheets, details_sheets(result, options, used)
