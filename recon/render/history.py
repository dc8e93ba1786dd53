"""Console rendering of ledger history, exception decisions and sign-offs (data comes from the library)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from recon.choices import Decision
from recon.ledger import History, PruneReport, RunPage
from recon.signoff import SignOff, VerifyReport


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def render_history(history: History, console: Console) -> None:
    if history.frame.height == 0:
        console.print(f"No recorded runs with figures for {history.provider or 'this ledger'} yet.")
        return
    ids = history.frame["measure_id"].unique(maintain_order=True).to_list()
    title = f"History for {history.provider or 'provider'} (latest run of each month)"
    if len(ids) == 1:
        table = Table(title=f"{ids[0]}: {title}")
        for col in ("Month", "Value", "Numerator", "Denominator", "Change", "Run"):
            table.add_column(col, justify="left" if col in ("Month", "Run") else "right")
        rows = history.frame.sort("month").with_columns(
            (pl.col("value") - pl.col("value").shift(1)).alias("change")).to_dicts()
        for r in rows:
            change = r["change"]
            table.add_row(r["month"], _fmt(r["value"]), _fmt(r["numerator"]), _fmt(r["denominator"]),
                          "" if change is None else ("+" if change > 0 else "") + _fmt(change), r["run_id"][:8])
        console.print(table)
        return
    wide = history.frame.pivot(on="month", index="measure_id", values="value", sort_columns=True)
    table = Table(title=title)
    table.add_column("Measure")
    months = [m for m in history.months if m in wide.columns]
    for m in months:
        table.add_column(m, justify="right")
    for r in wide.sort("measure_id").to_dicts():
        table.add_row(r["measure_id"], *(_fmt(r[m]) for m in months))
    console.print(table)


def render_accept(event: dict[str, Any], console: Console) -> None:
    console.print(f"Exception {event['exception_id']} ({event['provider'] or 'provider unknown'}) marked "
                  f"{event['status']} by {event['by']} at {event['at']}: {event['reason']}", markup=False, soft_wrap=True)


def render_signoff(s: SignOff, console: Console) -> None:
    console.print(
        f"Sign-off #{s.seq} recorded: {s.decision} by {s.name} ({s.role}) at {s.at}\n"
        f"  pack   {s.pack_path}\n  sha256 {s.pack_sha256}\n"
        f"  run    {s.run_id} ({s.provider} {s.month}), {len(s.inputs)} input file(s) bound\n"
        f"  chain head {s.hash} (keep it: 'recon signoff verify --head' checks it is still there)"
        + ("; sealed with the sign-off key" if s.mac else ""),
        markup=False, highlight=False, soft_wrap=True,
    )
    if s.signed_on:
        console.print(f"  dated  {s.signed_on} (as written by the signer)", markup=False, soft_wrap=True)
    for c in s.caveats:
        console.print(f"  caveat: {c}", markup=False, soft_wrap=True)
    for w in s.warnings:
        console.print(f"  warning: {w}", markup=False, soft_wrap=True)
    if s.exit_code:
        console.print("  The pack was rejected (exit 1).", markup=False)


def render_signoff_list(found: list[SignOff], month: str | None, console: Console) -> None:
    if not found:
        console.print(f"No sign-off recorded{' for ' + month if month else ''}.", markup=False)
        return
    table = Table(title=f"Sign-offs{' for ' + month if month else ''} (oldest first)")
    for col in ("#", "Month", "Provider", "Decision", "Name", "Role", "Dated", "Recorded", "Pack"):
        table.add_column(col)
    for s in found:
        table.add_row(str(s.seq), s.month or "-", s.provider or "-", Decision(s.decision).label, s.name, s.role,
                      s.signed_on or "-", s.at[:16].replace("T", " "), Path(s.pack_path).name)
    console.print(table)


def render_verify(report: VerifyReport, console: Console) -> None:
    if not report.problems and report.chain_length == 0:
        console.print(f"Nothing verified: ledger {report.ledger} holds no sign-off.", markup=False, soft_wrap=True)
        return
    if not report.problems:
        console.print(f"OK: {len(report.checked)} sign-off(s) checked, chain of {report.chain_length} intact; "
                      "packs and inputs unchanged; receipts and journal agree"
                      + ("; every record sealed by the key." if report.keyed else "."), markup=False, soft_wrap=True)
        return
    console.print(f"PROBLEMS: {len(report.problems)} found in {report.ledger}", markup=False, soft_wrap=True)
    for p in report.problems:
        console.print(f"  [{p.kind}] {p.message}", markup=False, soft_wrap=True)


_EXIT = {0: "clean", 1: "findings", 2: "could not run", 3: "input missing/stale", 130: "interrupted"}


def render_runs(listing: RunPage, console: Console) -> None:
    if not listing.runs:
        console.print("No recorded runs." if not listing.total else f"No runs on page {listing.page}.")
    else:
        table = Table(title="Recorded runs (newest first)")
        for col in ("Finished", "Month", "Command", "Provider", "Exit", "Run", "Pack", "Void"):
            table.add_column(col)
        for r in listing.runs:
            void = listing.voids.get(r.run_id)
            table.add_row(r.finished[:16].replace("T", " "), r.month, r.command, r.provider or "-",
                          f"{r.exit_code} {_EXIT.get(r.exit_code, '')}", r.run_id[:8],
                          Path(r.pack_path).name if r.pack_path else "",
                          "" if void is None else f"VOID ({void['by']}): {void['reason']}")
        console.print(table)
    left_out = listing.left_out()
    if left_out:
        console.print(f"Not all runs shown: {left_out}.", markup=False, soft_wrap=True)


def render_void(event: dict[str, Any], console: Console) -> None:
    console.print(f"Run {event['run_id']} voided by {event['by']} at {event['at']}: {event['reason']} "
                  "(kept in the ledger and listed by 'recon history --runs'; left out of trends and history)",
                  markup=False, soft_wrap=True)


def render_prune(report: PruneReport, console: Console) -> None:
    if report.cutoff is None:
        console.print("The ledger holds no runs; nothing pruned.", markup=False)
        return
    console.print(f"Pruned {report.runs_removed} unsigned run(s) of months before {report.cutoff}; "
                  f"{report.signed_kept} signed-off run(s) kept. Ledger {report.bytes_before / 1e6:.1f} MB -> "
                  f"{report.bytes_after / 1e6:.1f} MB.", markup=False, soft_wrap=True)
