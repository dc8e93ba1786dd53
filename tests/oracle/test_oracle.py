"""recon against the second implementation (DuckDB SQL from the spec, ``tests/oracle/sql``).

Every national measure at provider level -- value, numerator, denominator -- on the sample
extract and on 208 generated extracts dense in the edges of issue 11. The generated extracts
run in 8 stacks (4 months x digital provider or not, 26 extracts each): one recon run and one
oracle run per stack; each extract's figures are compared on their own (recon's Team breakdown, the
oracle's id prefix) and the stack's provider totals too. Any disagreement fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from recon.config import ProviderSettings
from recon.measures.engine import compute_measures
from recon.measures.model import MeasureValue
from recon.months import Month
from recon.sources import load_extract
from tests.measures.builders import frames
from tests.oracle import generate
from tests.oracle.oracle import IDS, Figure, run_folder, run_frames

ROOT = Path(__file__).resolve().parents[2]
MONTHS = (Month(2024, 9), Month(2024, 4), Month(2025, 3), Month(2024, 1))
PER_STACK = 26
STACKS = [(m, digital) for m in MONTHS for digital in (False, True)]


def _triple(v: MeasureValue | None) -> tuple[Any, Any, Any]:
    if v is None:
        return (0, None, None)
    return (v.value, v.numerator, v.denominator)


def _fig(f: Figure) -> tuple[Any, Any, Any]:
    return (f.value, f.numerator, f.denominator)


def _disagreements(label: str, recon: dict[str, MeasureValue], oracle: dict[str, Figure]) -> list[str]:
    out = []
    for mid in IDS:
        got, want = _triple(recon.get(mid)), _fig(oracle[mid])
        if recon.get(mid) is None and want[1] is not None:  # an absent breakdown row: count 0, 0/den
            got = (None if not want[2] else 0.0, 0, want[2]) if want[1] == 0 else got
        if got != want:
            out.append(f"{label} {mid}: recon {got} oracle {want}")
    return out


def test_sample_extract_equals_the_oracle() -> None:
    folder = ROOT / "sample_data" / "mhsds"
    month = Month(2024, 9)
    result = compute_measures(load_extract(folder), month, ProviderSettings())
    local = {v.id: v for v in result.values if v.breakdown is None}
    oracle = run_folder(folder, month.year, month.month)[""]
    assert _disagreements("sample", local, oracle) == []


def _text_frames(rows: generate.Rows) -> dict[str, pl.DataFrame]:
    out = {}
    for tid, rs in rows.items():
        cols = sorted({k for r in rs for k in r})
        out[tid] = pl.DataFrame({c: [r.get(c) for r in rs] for c in cols}, schema={c: pl.String for c in cols})
    return out


@pytest.mark.parametrize(("month", "digital"), STACKS, ids=[f"{m}-{'digital' if d else 'plain'}" for m, d in STACKS])
def test_generated_extracts_equal_the_oracle(month: Month, digital: bool) -> None:
    base = STACKS.index((month, digital)) * PER_STACK
    extracts = [generate.extract(base + i, month, seed=1000 + base + i) for i in range(PER_STACK)]
    rows = generate.stack(extracts)
    settings = ProviderSettings(digital=digital)
    result = compute_measures(frames(**rows), month, settings)
    oracle = run_frames(_text_frames(rows), month.year, month.month, digital=digital)
    wrong: list[str] = []
    for i in range(PER_STACK):
        team = f"X{base + i}"
        mine = {v.id: v for v in result.values if v.breakdown == "Team" and v.level == team}
        wrong += _disagreements(team, mine, oracle.get(team) or run_frames({}, 2024, 1)[""])
    # the stack as one extract: provider totals (counts add up across the extracts)
    totals = {v.id: v for v in result.values if v.breakdown is None}
    summed: dict[str, int] = {}
    for g in oracle.values():
        for mid, f in g.items():
            if f.numerator is None:
                summed[mid] = summed.get(mid, 0) + int(f.value or 0)
    wrong += [f"total {mid}: recon {totals[mid].value} oracle {n}" for mid, n in summed.items() if totals[mid].value != n]
    assert wrong == [], "\n".join(wrong[:40])
