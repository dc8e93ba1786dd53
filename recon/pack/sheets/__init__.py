"""The pack's sheets, one module each; :func:`build_sheets` puts them in workbook order.

Each module says *what* its sheet shows as rows of plain values (:mod:`recon.pack.layout`);
:mod:`recon.pack.xlsx` turns them into a workbook. The Sign-off sheet is built last, from the
fingerprint of all the others (:mod:`recon.pack.sheets.signoff`).
"""

from __future__ import annotations

from recon.pack.layout import Sheet
from recon.pack.model import PackOptions
from recon.pack.sheets.breakdown import ACCESS_IDS, ACTIVITY_IDS, breakdown_sheet, ids_present
from recon.pack.sheets.cover import cover_sheet
from recon.pack.sheets.data_quality import data_quality_sheet
from recon.pack.sheets.details import details_sheets
from recon.pack.sheets.differences import differences_sheet
from recon.pack.sheets.exceptions import exception_sheets, team_sheet_names
from recon.pack.sheets.outcomes import outcomes_sheet
from recon.pack.sheets.signoff import SIGNOFF_TITLE
from recon.pack.sheets.summary import summary_sheet
from recon.pack.sheets.trend import trend_sheet
from recon.pack.sheets.waiting import waiting_sheets, waits_summary_sheet
from recon.reconcile.model import ReconcileResult


def build_sheets(result: ReconcileResult, options: PackOptions) -> tuple[list[Sheet], list[Sheet]]:
    """The sheets before Sign-off, and the appendix (detail frames) after it."""
    team_sheets = team_sheet_names(result.exceptions) if options.split_by_team else None
    sheets: list[Sheet] = [
        cover_sheet(result, options, team_sheets),
        summary_sheet(result, options),
        *([waits_summary_sheet(result, options), *waiting_sheets(result, options)]
          if result.waiting is not None else []),
        breakdown_sheet("Access", "Access", result, options, ids_present(result, ACCESS_IDS)),
        breakdown_sheet("Activity", "Activity in the month", result, options, ids_present(result, ACTIVITY_IDS)),
        outcomes_sheet(result, options),
        trend_sheet(result, options),
        *exception_sheets(result, options),
        differences_sheet(result, options),
        data_quality_sheet(result, options),
    ]
    used = {s.title.lower() for s in sheets} | {SIGNOFF_TITLE.lower()}
    return sheets, details_sheets(result, options, used)
