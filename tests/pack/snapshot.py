"""A readable text snapshot of a workbook: values, formats, fills, panes, filters, charts.

Regenerate the committed snapshots on purpose (after an intended change to the pack):

    RECON_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/pack -q
    # or
    .venv/bin/python -m tests.pack.snapshot
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _value(v: Any) -> str:
    if isinstance(v, float):
        return repr(round(v, 6))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return repr(v)


def _color(c: Any) -> str | None:
    rgb = getattr(c, "rgb", None)
    return rgb[-6:] if isinstance(rgb, str) else None


def _chart(chart: Any) -> str:
    title = ""
    if chart.title is not None and chart.title.tx is not None and chart.title.tx.rich is not None:
        title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    return f"chart {type(chart).__name__} series={len(chart.series)} title={title!r}"


def workbook_snapshot(path: Path) -> str:
    """Every sheet of the workbook as stable, diff-friendly text."""
    wb = load_workbook(path)
    out: list[str] = []
    for ws in wb.worksheets:
        out.append(f"=== sheet {ws.title!r}")
        out.append(f"freeze={ws.freeze_panes} autofilter={ws.auto_filter.ref} "
                   f"orientation={ws.page_setup.orientation} fitToWidth={ws.page_setup.fitToWidth} "
                   f"print_titles={ws.print_title_rows}")
        widths = {k: v.width for k, v in sorted(ws.column_dimensions.items()) if v.width}
        out.append("widths " + " ".join(f"{k}={w:g}" for k, w in widths.items()))
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                fill = _color(rule.dxf.fill.fgColor) if rule.dxf is not None and rule.dxf.fill is not None else None
                out.append(f"conditional {cf.sqref} {rule.type} {rule.operator} {rule.formula} fill={fill}")
        for dv in ws.data_validations.dataValidation:
            out.append(f"validation {dv.sqref} {dv.type} {dv.formula1}")
        for chart in ws._charts:
            out.append(_chart(chart))
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and cell.fill.fgColor.rgb in ("00000000", None):
                    continue
                bits = [f"{cell.coordinate}={_value(cell.value)}"]
                if cell.data_type not in ("n", "s"):
                    bits.append(f"type={cell.data_type}")
                if cell.number_format != "General":
                    bits.append(f"fmt={cell.number_format}")
                fill = _color(cell.fill.fgColor) if cell.fill.fill_type == "solid" else None
                if fill:
                    bits.append(f"fill={fill}")
                if cell.font.b:
                    bits.append("bold")
                if cell.quotePrefix:
                    bits.append("quoted")
                out.append(" ".join(bits))
    wb.close()
    return "\n".join(out) + "\n"


def check_snapshot(path: Path, name: str) -> None:
    """Compare with ``snapshots/<name>.txt``; rewrite it when RECON_UPDATE_SNAPSHOTS=1."""
    text = workbook_snapshot(path)
    target = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("RECON_UPDATE_SNAPSHOTS") == "1" or not target.exists():
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if os.environ.get("RECON_UPDATE_SNAPSHOTS") != "1":
            raise AssertionError(f"snapshot {target} did not exist: written, check it and commit it")
        return
    expected = target.read_text(encoding="utf-8")
    if text != expected:
        import difflib

        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), text.splitlines(keepends=True), "snapshot", "now", n=1,
        ))
        raise AssertionError(f"pack differs from {target} (RECON_UPDATE_SNAPSHOTS=1 to accept):\n{diff[:6000]}")


def main() -> None:
    """Rewrite every committed snapshot from the fixtures."""
    import tempfile

    from tests.pack.test_pack import SNAPSHOT_CASES, write_case

    os.environ["RECON_UPDATE_SNAPSHOTS"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        for name in SNAPSHOT_CASES:
            check_snapshot(write_case(name, Path(tmp)), name)
            print(f"wrote {SNAPSHOTS / (name + '.txt')}")


if __name__ == "__main__":
    main()
