"""Detail sheets written column-wise from their frame (recon.pack.frame_rows) against the
row-by-row writer: the same sheet XML, the same fingerprint, and the same values read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import zipfile
from pathlib import Path
from types import MappingProxyType

import polars as pl
import pytest

from recon.pack import frame_rows, xlsx
from recon.pack.fingerprint import fingerprint_workbook, stated_fingerprint
from recon.pack.model import PackOptions
from recon.pack.privacy import clean_text, needs_quote
from recon.pack.save import write_pack
from tests.pack.fixtures import VALID_NHS, make_result

OPTIONS = PackOptions(deadline=dt.date(2024, 10, 20), today=dt.date(2024, 10, 7), rules_version="2024.09",
                      run_seconds=1.0)

AWKWARD = pl.DataFrame(
    {
        "ServiceRequestId": ["R1", "R2", None, "R4", "R5", "R6"],
        "Text": ["  padded ", "a & b < c > d", "", "tab\there", "line\r\nend", "ünïcödé “quotes” \"dq\" \\ back"],
        "NHS in text": [f"see {VALID_NHS}", None, "x", "y", "z", "w"],
        "Count": [1, None, -3, 0, 2**40, 7],
        "Share": [0.1 + 0.2, math.nan, math.inf, -0.0, 1e-7, 123456789.123456789],
        "Flag": [True, False, None, True, True, False],
        "Day": [dt.date(2024, 9, 1), None, dt.date(1999, 12, 31), dt.date(2024, 9, 1), dt.date(2024, 2, 29), None],
        "At": [dt.datetime(2024, 9, 1, 10, 30), None, dt.datetime(2024, 9, 1), None, None, None],
        "Time": [dt.time(9, 5), None, None, None, None, dt.time(23, 59, 59)],
        "Referrals": [["R1", "R2"], [], None, ["R4"], ["R5"], ["R6"]],
        "Trailing": [None, None, None, "last", None, None],
    }
)


def _write(tmp_path: Path, name: str, frame: pl.DataFrame, *, rowwise: bool, monkeypatch: pytest.MonkeyPatch) -> Path:
    result = make_result()
    details = {"awkward": frame}
    result = dataclasses.replace(result, local=dataclasses.replace(result.local, details=MappingProxyType(details)))
    with monkeypatch.context() as m:
        if rowwise:
            m.setattr(xlsx, "blocks", lambda *a, **k: None)
        return write_pack(result, tmp_path / f"{name}.xlsx", OPTIONS).path


def _sheet_xml(path: Path, title: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        names = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        index = workbook.split("<sheet ").index(next(s for s in workbook.split("<sheet ") if f'name="{title}"' in s))
        return zf.read(sorted(names, key=lambda n: int(n[len("xl/worksheets/sheet"):-4]))[index - 1])


def test_column_wise_detail_sheet_is_the_row_by_row_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _write(tmp_path, "fast", AWKWARD, rowwise=False, monkeypatch=monkeypatch)
    slow = _write(tmp_path, "slow", AWKWARD, rowwise=True, monkeypatch=monkeypatch)
    assert _sheet_xml(fast, "Detail awkward") == _sheet_xml(slow, "Detail awkward")
    assert stated_fingerprint(fast) == stated_fingerprint(slow) == fingerprint_workbook(fast)


def test_many_rows_span_several_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frame_rows, "CHUNK_ROWS", 7)
    frame = pl.DataFrame({"ServiceRequestId": [f"R{i:03d}" for i in range(50)], "Days": list(range(50))})
    fast = _write(tmp_path, "fast", frame, rowwise=False, monkeypatch=monkeypatch)
    slow = _write(tmp_path, "slow", frame, rowwise=True, monkeypatch=monkeypatch)
    assert _sheet_xml(fast, "Detail awkward") == _sheet_xml(slow, "Detail awkward")
    assert stated_fingerprint(fast) == fingerprint_workbook(fast) == stated_fingerprint(slow)


def test_a_formula_like_value_sends_the_sheet_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Text a spreadsheet could take for a formula is written by openpyxl with a quote prefix,
    which only the row-by-row path does: the block falls back, and the sheet is the same."""
    frame = pl.DataFrame({"ServiceRequestId": ["R1", "=HYPERLINK(\"x\")"], "Days": [1, 2]})
    seen: list[object] = []
    real = xlsx.blocks

    def spy(*args: object, **kwargs: object) -> object:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(out)
        return out

    monkeypatch.setattr(xlsx, "blocks", spy)
    fast = _write(tmp_path, "fast", frame, rowwise=False, monkeypatch=monkeypatch)
    assert seen == [None]
    slow = _write(tmp_path, "slow", frame, rowwise=True, monkeypatch=monkeypatch)
    assert _sheet_xml(fast, "Detail awkward") == _sheet_xml(slow, "Detail awkward")
    assert stated_fingerprint(fast) == fingerprint_workbook(fast)


def test_random_texts_are_written_as_the_row_writer_writes_them(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts polars escapes itself (most) and those it leaves to Python (controls, characters XML
    cannot hold, NHS-number shaped digits, non-ASCII ends) against the row-by-row writer."""
    import random

    rng = random.Random(16)
    alphabet = ["a", "Z", "0", "7", " ", "-", "&", "<", ">", '"', "\\", "'", "\t", "\n", "\r", "\x01", "\x0b",
                "\x1f", "\x7f", "é", "\u00a0", "\u2028", "\u3000", "\ufffe", "😀", "*", "="]
    texts: list[str | None] = [None, "", " ", VALID_NHS, "943 476 5919", f"x{VALID_NHS}y", "12345678901"]
    for _ in range(400):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))))
    # formula-like once cleaned: openpyxl writes those (test_a_formula_like_value_...)
    texts = [t for t in texts if t is None or not needs_quote(clean_text(t))]
    frame = pl.DataFrame({"ServiceRequestId": [f"R{i}" for i in range(len(texts))], "Text": texts})
    used: list[bool] = []
    real = xlsx.blocks
    monkeypatch.setattr(xlsx, "blocks", lambda *a, **k: used.append(real(*a, **k) is not None) or real(*a, **k))
    for identifiable in (False, True):
        options = dataclasses.replace(OPTIONS, identifiable=identifiable)
        result = make_result()
        result = dataclasses.replace(result, local=dataclasses.replace(
            result.local, details=MappingProxyType({"awkward": frame})))
        fast = write_pack(result, tmp_path / f"fast{identifiable}.xlsx", options).path
        with monkeypatch.context() as m:
            m.setattr(xlsx, "blocks", lambda *a, **k: None)
            slow = write_pack(result, tmp_path / f"slow{identifiable}.xlsx", options).path
        assert _sheet_xml(fast, "Detail awkward") == _sheet_xml(slow, "Detail awkward")
        assert stated_fingerprint(fast) == stated_fingerprint(slow) == fingerprint_workbook(fast)
    assert used and all(used)  # the column-wise path wrote them (it did not fall back)


def test_values_that_differ_below_their_text_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A time's text drops its fraction of a second: two times a half-second apart must still be
    rendered each as itself (a review found the second shown as the first)."""
    frame = pl.DataFrame({
        "T": [dt.time(9, 0, 0), dt.time(9, 0, 0, 500000), None],
        "At": [dt.datetime(2024, 9, 1, 9, 0, 0), dt.datetime(2024, 9, 1, 9, 0, 0, 1), None],
    })
    fast = _write(tmp_path, "fast", frame, rowwise=False, monkeypatch=monkeypatch)
    slow = _write(tmp_path, "slow", frame, rowwise=True, monkeypatch=monkeypatch)
    assert b"09:00:00.500000" in _sheet_xml(fast, "Detail awkward")
    assert _sheet_xml(fast, "Detail awkward") == _sheet_xml(slow, "Detail awkward")
    assert stated_fingerprint(fast) == stated_fingerprint(slow) == fingerprint_workbook(fast)
