"""History and trend queries over the ledger (and the published files, for months it lacks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from recon.errors import UsageError
from recon.ledger.records import RunRow
from recon.ledger.store import Ledger
from recon.months import Month

_STATUS_RANK = {"Final": 0, "Performance": 1, "Provisional": 2, "Adhoc": 3}
TREND_SCHEMA = {"month": pl.String, "measure_id": pl.String, "value": pl.Float64, "source": pl.String}


def trend_frame(
    ledger: Ledger | Path | str | None,
    provider: str | None,
    month: Month,
    measure_ids: Sequence[str],
    months: int = 12,
    *,
    published: Path | str | None = None,
    this_run: Any = None,
) -> pl.DataFrame:
    """The last ``months`` months (ending with ``month``) of the given measures, for the pack's Trend sheet.

    Each month comes from the latest ledger run (source "ledger"); a month the ledger lacks falls back
    to the published file(s) if given (source "published"); ``this_run`` (a MeasuresResult) supplies
    ``month`` itself (source "this run"). Columns: month (YYYY-MM), measure_id, value, source.
    """
    window = [month.shift(-i) for i in range(months - 1, -1, -1)]
    ids = list(dict.fromkeys(measure_ids))
    parts: list[pl.DataFrame] = []
    have: set[tuple[str, str]] = set()
    if this_run is not None:
        rows = [(str(month), i, None if this_run.value(i) is None else float(this_run.value(i)), "this run") for i in ids
                if this_run.get(i) is not None]
        parts.append(pl.DataFrame(rows, schema=TREND_SCHEMA, orient="row"))
        have.update((r[0], r[1]) for r in rows)
    if ledger is not None and ids:
        led = ledger if isinstance(ledger, Ledger) else _open_if_exists(Path(ledger))
        if led is not None:
            try:
                got = led.latest_values(provider, measure_ids=ids, months=window)
            finally:
                if led is not ledger:
                    led.close()
            got = got.select("month", "measure_id", "value", pl.lit("ledger").alias("source"))
            if have:
                got = got.join(_have_frame(have), on=["month", "measure_id"], how="anti")
            parts.append(got)
            have.update(zip(got["month"].to_list(), got["measure_id"].to_list(), strict=True))
    if published is not None and ids:
        parts.append(_published_trend(Path(published), provider, window, ids, have))
    if not parts:
        return pl.DataFrame(schema=TREND_SCHEMA)
    return pl.concat([p.cast(TREND_SCHEMA) for p in parts], how="vertical").sort("month", "measure_id")  # type: ignore[arg-type]


def _open_if_exists(path: Path) -> Ledger | None:
    return Ledger.open(path, readonly=True) if path.exists() else None


def _have_frame(have: set[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(sorted(have), schema={"month": pl.String, "measure_id": pl.String}, orient="row")


def _published_trend(path: Path, provider: str | None, window: list[Month], ids: list[str],
                     have: set[tuple[str, str]]) -> pl.DataFrame:
    """Provider-level published values by reporting month (period end), Final before Performance."""
    from recon.published import select_published

    rows = select_published(path, provider=provider, month=None, status=None).to_json_dict()["rows"]
    if not rows:
        return pl.DataFrame(schema=TREND_SCHEMA)
    frame = pl.DataFrame(
        [{k: r.get(k) for k in ("period_end", "status", "breakdown", "measure_id", "value", "suppressed")} for r in rows],
        schema={"period_end": pl.String, "status": pl.String, "breakdown": pl.String, "measure_id": pl.String,
                "value": pl.Float64, "suppressed": pl.Boolean},
    )
    out = (
        frame.lazy()
        .filter(pl.col("breakdown").str.to_lowercase() == "provider")
        .with_columns(pl.col("period_end").str.slice(0, 7).alias("month"))
        .filter(pl.col("month").is_in([str(m) for m in window]) & pl.col("measure_id").is_in(ids))
        .with_columns(
            pl.col("status").replace_strict(_STATUS_RANK, default=9, return_dtype=pl.Int64).alias("rank"),
            pl.when(pl.col("suppressed").fill_null(False)).then(None).otherwise(pl.col("value")).alias("value"),
        )
        .sort("rank")
        .unique(["month", "measure_id"], keep="first")
        .select("month", "measure_id", "value", pl.lit("published").alias("source"))
        .collect()
    )
    return out.join(_have_frame(have), on=["month", "measure_id"], how="anti") if have else out


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class History:
    """Provider-level figures of the latest run of each month, oldest month first."""

    provider: str | None
    months: tuple[str, ...]
    frame: pl.DataFrame  # month, measure_id, value, numerator, denominator, run_id

    def to_json_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "months": list(self.months), "rows": self.frame.to_dicts()}


def load_history(ledger: Ledger, *, provider: str | None = None, measure_ids: Sequence[str] = (),
                 months: int = 12) -> History:
    """The last ``months`` months up to the newest month recorded for the provider (latest run per month)."""
    if months < 1:
        raise UsageError("the number of months must be at least 1")
    if provider is None:
        known = ledger.providers()
        if len(known) > 1:
            raise UsageError(f"the ledger holds several providers ({', '.join(known)}); give --provider")
        provider = known[0] if known else None
    frame = ledger.latest_values(provider, measure_ids=list(measure_ids) or None)
    if frame.height == 0:
        return History(provider, (), frame)
    last = Month.parse(str(frame["month"].max()))
    window = tuple(str(last.shift(-i)) for i in range(months - 1, -1, -1))
    frame = frame.filter(pl.col("month").is_in(window))
    return History(provider, tuple(m for m in window if m in set(frame["month"].to_list())), frame)


@dataclass(frozen=True)
class RunPage:
    """One page of the recorded runs, newest first, and what the page (and any month window) left out."""

    runs: tuple[RunRow, ...]
    voids: dict[str, dict[str, Any]]  # run id -> who voided it, when and why (only runs on this page)
    total: int  # runs matching the provider and window
    page: int
    pages: int
    limit: int
    outside_window: int  # runs of the provider older than the --months window (0 without a window)
    window_from: str | None  # first month of the window, if one was asked for

    @property
    def first(self) -> int:
        """1-based position of this page's first run (0 when there is none)."""
        return (self.page - 1) * self.limit + 1 if self.runs else 0

    def left_out(self) -> str | None:
        """What this listing does not show, in words; None when it shows every run."""
        parts: list[str] = []
        if self.runs and len(self.runs) < self.total:
            last = self.first + len(self.runs) - 1
            parts.append(f"showing runs {self.first}-{last} of {self.total} (page {self.page} of {self.pages})"
                         + (f"; --page {self.page + 1} for older runs" if self.page < self.pages else ""))
        elif not self.runs and self.total:
            parts.append(f"page {self.page} is past the last page ({self.pages}) of {self.total} run(s)")
        if self.outside_window:
            parts.append(f"{self.outside_window} run(s) of months before {self.window_from} not shown "
                         "(drop --months to list them)")
        return "; ".join(parts) or None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "runs": [{**r.__dict__, "void": self.voids.get(r.run_id)} for r in self.runs],
            "total": self.total, "page": self.page, "pages": self.pages, "limit": self.limit,
            "outside_window": self.outside_window, "window_from": self.window_from, "left_out": self.left_out(),
        }


def list_runs(ledger: Ledger, *, provider: str | None = None, months: int | None = None,
              page: int = 1, limit: int = 50) -> RunPage:
    """Every run (any command, any exit code, voided ones marked), newest first, one page at a time.

    ``months`` optionally keeps the last N reporting months (counted back from the newest month
    recorded); the runs it leaves out are counted, never hidden silently."""
    if page < 1:
        raise UsageError("--page must be at least 1")
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    if months is not None and months < 1:
        raise UsageError("the number of months must be at least 1")
    rows = [r for r in ledger.runs() if provider is None or r.provider == provider]
    window_from: str | None = None
    outside = 0
    if months is not None and rows:
        last = max(Month.parse(r.month) for r in rows)
        window_from = str(last.shift(-(months - 1)))
        kept = [r for r in rows if r.month >= window_from]
        outside = len(rows) - len(kept)
        rows = kept
    rows.reverse()  # the store lists oldest first (finished, then order recorded)
    pages = max(1, -(-len(rows) // limit))
    shown = tuple(rows[(page - 1) * limit: page * limit])
    voids = ledger.voids()
    return RunPage(shown, {r.run_id: voids[r.run_id] for r in shown if r.run_id in voids}, len(rows), page,
                   pages, limit, outside, window_from)
