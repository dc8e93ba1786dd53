"""Write MHSDS tables as a trust's own EPR export, by running a mapping backwards.

The export is produced from the mapping file itself (columns renamed to local names, codes
turned into the local words, dates in the mapping's formats, constants left out), so the
sample export and ``rules/mappings/riverside.toml`` cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from recon.sources.mapping import Mapping, TableMapping
from recon.tables import TABLES, Kind

README_SHEET = (
    ("Riverside EPR - appointments export",),
    ("Generated nightly. The records are on the 'Appointments' sheet.",),
    ("Fictional data: no real patient is described.",),
)


def _local_frame(frame: pl.DataFrame, tm: TableMapping) -> pl.DataFrame:
    table = TABLES[tm.table]
    exprs = []
    for item, local in tm.columns.items():
        col = table.column(item)
        e = pl.col(item)
        if item in tm.values:
            inverse: dict[str, str] = {}
            for word, code in tm.values[item].items():
                inverse.setdefault(code, word)
            e = e.replace_strict(inverse, default=e)
        fmt = (tm.date_formats.get(item) or ("%d/%m/%Y",))[0]
        if col.kind is Kind.DATE:
            e = e.dt.strftime(fmt)
        elif col.kind is Kind.DATETIME:
            e = e.dt.strftime(f"{fmt} %H:%M")
        elif col.kind is Kind.TIME:
            e = e.dt.strftime("%H:%M")
        exprs.append(e.alias(local))
    return frame.select(exprs)


def _write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    about = wb.create_sheet("Read me")
    for row in README_SHEET:
        about.append(list(row))
    ws = wb.create_sheet(sheet)
    ws.append(frame.columns)
    for row in frame.iter_rows():
        ws.append(list(row))
    wb.save(path)
    _normalise_zip(path)


def _normalise_zip(path: Path) -> None:
    """Fixed member times and document dates, so a regenerated workbook has the same bytes."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info.filename)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            if name == "docProps/core.xml":
                data = re.sub(rb">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<", b">2024-10-01T00:00:00Z<", data)
            info = zipfile.ZipInfo(name, date_time=(2024, 10, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def write_epr(tables: dict[str, pl.DataFrame], out: Path, mapping: Mapping) -> Path:
    """One file per mapped table (CSV, or a workbook with the data on the mapped sheet)."""
    out.mkdir(parents=True, exist_ok=True)
    for tid, tm in mapping.tables.items():
        local = _local_frame(tables[tid], tm)
        target = out / tm.file
        if target.suffix.lower() == ".xlsx":
            _write_xlsx(local, target, tm.sheet or tid)
        else:
            local.write_csv(target)
    return out
