"""``python -m recon.sample``: write a fictional provider's extract (or the whole demo bundle).

    python -m recon.sample --out DIR [--people N] [--end-month YYYY-MM] [--months 13] [--seed 7]
                           [--format csv|parquet|both] [--plant/--no-plant] [--bundle]

``--plant`` adds the demo's deliberate data problems (small samples only); ``--bundle`` writes
the committed ``sample_data/`` layout (mhsds/, epr/, extract.zip, published/, planted.json).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from recon.errors import ReconError, UsageError
from recon.months import Month

PLANT_MAX_PEOPLE = 20_000
app = typer.Typer(add_completion=False, help="Generate a fictional CYP provider's MHSDS extract.")


@app.command()
def main(
    out: Annotated[Path, typer.Option("--out", help="Folder to write")],
    people: Annotated[int, typer.Option("--people", min=1)] = 2000,
    end_month: Annotated[str, typer.Option("--end-month", help="Last month of data, YYYY-MM")] = "2024-09",
    months: Annotated[int, typer.Option("--months", min=1, max=60)] = 13,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    provider: Annotated[str, typer.Option("--provider", help="ODS code (OrgIDProv)")] = "RXX",
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or both")] = "csv",
    plant: Annotated[bool, typer.Option("--plant/--no-plant", help="Plant the demo's data problems")] = False,
    bundle: Annotated[bool, typer.Option("--bundle", help="Write the whole demo bundle (sample_data)")] = False,
) -> None:
    try:
        month = Month.parse(end_month)
        formats = {"csv": ("csv",), "parquet": ("parquet",), "both": ("csv", "parquet")}.get(fmt)
        if formats is None:
            raise UsageError(f"--format {fmt!r} is not csv, parquet or both")
        if (plant or bundle) and people > PLANT_MAX_PEOPLE:
            raise UsageError(f"--plant and --bundle are for small samples (at most {PLANT_MAX_PEOPLE} people)")
        started = time.perf_counter()
        if bundle:
            from recon.sample.bundle import build_bundle

            build_bundle(out, people=people, end_month=month, seed=seed, provider=provider)
        elif plant:
            from recon.sample.bundle import planted_local, write_local

            tables, _ = planted_local(people=people, end_month=month, months=months, seed=seed, provider=provider)
            write_local(tables, out, formats)
        else:
            from recon.sample.generate import generate

            generate(out, people=people, end_month=month, months=months, seed=seed, provider=provider,
                     formats=formats)
        print(f"wrote {out} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    except ReconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None
    except ValueError as exc:  # limits of the generator itself (e.g. more people than test NHS numbers)
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
