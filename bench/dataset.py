"""The benchmark dataset: generated once per size with the project's generator, cached, plus a Parquet copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
SEED = 7
END_MONTH = "2024-09"
MONTHS = 13


def to_parquet(csv_dir: Path, out_dir: Path) -> Path:
    """Write a typed Parquet copy of an MHSDS-layout CSV folder (codes and ids stay text; dates typed).

    This is the shape a provider's warehouse export has: the readers must accept native dates.
    """
    from recon.sources.convert import date_expr, datetime_expr, time_expr
    from recon.tables import TABLES, Kind

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for tid, table in TABLES.items():
        src = csv_dir / f"{tid}.csv"
        if not src.exists():
            continue
        lf = pl.scan_csv(src, infer_schema=False)
        cols = lf.collect_schema().names()
        exprs = []
        for c in cols:
            kind = next((col.kind for col in table.columns if col.name == c), Kind.TEXT)
            if kind is Kind.DATE:
                exprs.append(date_expr(c).alias(c))
            elif kind is Kind.DATETIME:
                exprs.append(datetime_expr(c).alias(c))
            elif kind is Kind.TIME:
                exprs.append(time_expr(c).alias(c))
            elif kind is Kind.INT:
                exprs.append(pl.col(c).cast(pl.Int64, strict=False).alias(c))
            else:
                exprs.append(pl.col(c))
        lf.select(exprs).sink_parquet(tmp / f"{tid}.parquet")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def dataset(people: int) -> tuple[Path, Path]:
    """(csv folder, parquet folder) for ``people``, generated at the fixed seed on first use."""
    base = DATA_DIR / f"p{people}-s{SEED}"
    csv_dir, pq_dir = base / "csv", base / "parquet"
    done = base / ".complete"
    if not done.exists():
        from recon.months import Month
        from recon.sample.generate import generate

        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        y, m = (int(p) for p in END_MONTH.split("-"))
        out = Path(generate(base / "gen", people=people, end_month=Month(y, m), months=MONTHS, seed=SEED,
                            formats=("csv",)))
        find_mhsds_folder(out).rename(csv_dir)
        shutil.rmtree(base / "gen", ignore_errors=True)
        to_parquet(csv_dir, pq_dir)
        done.write_text("ok\n")
    return csv_dir, pq_dir


def find_mhsds_folder(root: Path) -> Path:
    """The folder under ``root`` that holds MHS101Referral.csv (the generator may nest it)."""
    hits = sorted(root.rglob("MHS101Referral.csv"))
    if not hits:
        raise SystemExit(f"bench: the generator wrote no MHS101Referral.csv under {root}")
    return hits[0].parent
