"""Command line: parse arguments, call one library function per command, render the result.

Exit codes (contract.md) are decided here and only here: 0 clean, 1 findings or
discrepancies, 2 could not run, 3 expected input missing or stale, 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup
from typer.exceptions import TyperException

from recon import __version__
from recon.choices import Decision, PersonKey, PublishedStatus
from recon.errors import ExitCode, ReconError, UsageError
from recon.months import Month

if TYPE_CHECKING:
    from recon.pipeline import Pipeline


class _ReconGroup(TyperGroup):
    """Maps every failure to its exit code and a one-line message, in one place."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ReconError as exc:
            if _state["debug"]:
                raise
            _console(stderr=True).print(f"recon: error: {exc}", markup=False)
            _log_failure(f"error (exit {exc.exit_code}): {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _console(stderr=True).print("recon: interrupted", markup=False)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:
            # The reader went away (`recon ... | head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(ExitCode.BROKEN_PIPE) from None
        except (TyperException, typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            _console(stderr=True).print(
                f"recon: internal error: {type(exc).__name__}: {_safe(str(exc))} (run with --debug for details)",
                markup=False,
            )
            _log_failure(f"internal error (exit 2): {type(exc).__name__}: {_safe(str(exc))}")
            raise typer.Exit(ExitCode.FAILED) from None


app = typer.Typer(
    cls=_ReconGroup,
    name="recon",
    help="Check MHSDS children and young people's measures before the deadline and against what NHS England publishes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict[str, Any] = {"debug": False}

# What the run commands run: recon's own functions unless a caller (the orchestration tests) sets
# stand-ins here. Jobs get it as an argument (recon.pipeline).
PIPELINE: Pipeline | None = None


def _pipeline() -> Pipeline:
    from recon.pipeline import library_pipeline

    return PIPELINE or library_pipeline()

MonthOpt = Annotated[str, typer.Option("--month", help="Reporting month YYYY-MM, or 'previous'.")]
EprOpt = Annotated[
    Path | None,
    typer.Option("--epr", help="Local extract: folder or .zip (MHSDS layout, or EPR layout with --mapping)."),
]
MappingOpt = Annotated[
    str | None, typer.Option("--mapping", help="EPR mapping: a shipped name (or one in the config's rules_dir), or a path to a TOML file.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on standard output.")]
DigitalOpt = Annotated[
    bool | None, typer.Option("--digital/--not-digital", help="Digital provider: mechanisms 05, 09, 10, 13 qualify.")
]
PersonKeyOpt = Annotated[
    PersonKey | None,
    typer.Option("--person-key", case_sensitive=False,
                 help="Count people by 'local' (LocalPatientId) or 'nhs' (valid NHSNumber)."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML configuration (paths by month, provider, pack, deadline).")
]
LedgerOpt = Annotated[
    Path | None, typer.Option("--ledger", help="Run ledger (SQLite). Default: $RECON_LEDGER, the config, or the user data folder.")
]
NoLedgerOpt = Annotated[bool, typer.Option("--no-ledger", help="Do not record this run in the ledger.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors (for cron).")]
LogFileOpt = Annotated[Path | None, typer.Option("--log-file", help="Append a log of the run here (no patient data).")]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="Sign-off key (default $RECON_SIGNOFF_KEY_FILE): seals or checks each sign-off."),
]
ProviderOpt = Annotated[str | None, typer.Option("--provider", help="Provider ODS code (default: from the data).")]
SnomedOpt = Annotated[
    Path | None,
    typer.Option("--snomed", help="SNOMED CT RF2 release folder (UK Edition, Full files) for the waiting-time clock "
                                  "stops; or [reference] snomed in the config."),
]


class _SafeConsole(Console):
    """Every string printed, table cells included, passes :func:`recon.safe_text.clean`; markup is
    off, so text from data ("[/]" in a team name, a path) is printed, never interpreted."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        from recon.safe_text import clean

        return super().render_str(clean(text, 20_000, keep_lines=True), **kwargs)


def _console(stderr: bool = False) -> Console:
    return _SafeConsole(stderr=stderr, highlight=False, soft_wrap=stderr, markup=False)


def _print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


def _emit(
    as_json: bool, payload: Callable[[], dict[str, Any]], render: Callable[[Console], None], *, quiet: bool = False
) -> None:
    """One result, two renderers: JSON on stdout for machines, rich for people, nothing with --quiet."""
    if as_json:
        _print_json(payload())
    elif not quiet:
        render(_console())


def _steps(quiet: bool, as_json: bool) -> Any:
    """Progress bars only on a terminal, never with --quiet or --json."""
    from recon.runctl import Steps, progress_enabled

    return Steps(progress_enabled(quiet=quiet, as_json=as_json))


def _ledger_path(flag: Path | None, config: Path | None) -> Path:
    from recon.jobs import load_optional_config
    from recon.ledger import resolve_ledger_path

    cfg = load_optional_config(config)
    return resolve_ledger_path(flag, cfg.path("ledger", Month.parse("current")))


def _config_ods(config: Path | None) -> str | None:
    from recon.jobs import load_optional_config

    return load_optional_config(config).provider.ods if config is not None else None


def _log_failure(message: str) -> None:
    from recon.runctl import log_to_file_only

    log_to_file_only(40, message)


def _date_option(text: str | None, flag: str = "--deadline") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date YYYY-MM-DD") from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recon {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on failure.")] = False,
) -> None:
    _state["debug"] = debug
    from recon.runctl import handle_termination_signals

    handle_termination_signals()


@app.command()
def validate(
    month: MonthOpt,
    epr: EprOpt = None,
    mapping: MappingOpt = None,
    as_json: JsonOpt = False,
    provider: ProviderOpt = None,
    snomed: SnomedOpt = None,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    no_ledger: NoLedgerOpt = False,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
) -> None:
    """Validate an extract record by record: every finding names rule, table, key and column."""
    from recon.jobs import RunOptions, validate_job
    from recon.render.validation import render_validation

    opts = RunOptions(month=month, config=config, epr=epr, mapping=mapping, provider=provider, ledger=ledger,
                      no_ledger=no_ledger, log_file=log_file, quiet=quiet, snomed=snomed)
    with _steps(quiet, as_json) as steps:
        outcome = validate_job(opts, steps=steps, pipeline=_pipeline())
    _emit(as_json, outcome.result.to_json_dict, lambda c: render_validation(outcome.result, c), quiet=quiet)
    raise typer.Exit(outcome.exit_code)


@app.command()
def measures(
    month: MonthOpt,
    epr: EprOpt = None,
    mapping: MappingOpt = None,
    as_json: JsonOpt = False,
    provider: ProviderOpt = None,
    digital: DigitalOpt = None,
    person_key: PersonKeyOpt = None,
    snomed: SnomedOpt = None,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    no_ledger: NoLedgerOpt = False,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
) -> None:
    """Compute every CYP access, activity and outcomes measure for one provider and month (see `recon rules`)."""
    from recon.jobs import RunOptions, measures_job
    from recon.render.measures import render_measures

    opts = RunOptions(month=month, config=config, epr=epr, mapping=mapping, provider=provider, digital=digital,
                      person_key=person_key, ledger=ledger, no_ledger=no_ledger, log_file=log_file, quiet=quiet,
                      snomed=snomed)
    with _steps(quiet, as_json) as steps:
        outcome = measures_job(opts, steps=steps, pipeline=_pipeline())
    _emit(as_json, outcome.result.to_json_dict, lambda c: render_measures(outcome.result, c), quiet=quiet)


@app.command()
def published(
    path: Annotated[Path, typer.Argument(help="Published MHSMS CSV, zip, or a folder of them.")],
    provider: ProviderOpt = None,
    month: Annotated[str | None, typer.Option("--month", help="Reporting month YYYY-MM.")] = None,
    status: Annotated[PublishedStatus | None, typer.Option("--status", case_sensitive=False,
                                                           help="Performance, Provisional, Final or Adhoc.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what NHS England published for a provider and month."""
    from recon.published import select_published
    from recon.render.published import render_published

    selection = select_published(path, provider=provider, month=Month.parse(month) if month else None, status=status)
    _emit(as_json, selection.to_json_dict, lambda c: render_published(selection, c))


@app.command()
def reconcile(
    month: MonthOpt,
    epr: EprOpt = None,
    extract: Annotated[Path | None, typer.Option("--extract", help="Pre-deadline MHSDS-layout extract (folder or zip).")] = None,
    published_path: Annotated[Path | None, typer.Option("--published", help="Published MHSMS file or folder.")] = None,
    pack: Annotated[Path | None, typer.Option("--pack", help="Write the Excel sign-off pack here.")] = None,
    mapping: MappingOpt = None,
    status: Annotated[PublishedStatus | None, typer.Option("--status", case_sensitive=False,
                                                           help="Published STATUS to compare with.")] = None,
    identifiable: Annotated[
        bool | None, typer.Option("--identifiable/--masked", help="Unmasked NHS numbers in the pack (default masked).")
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Submission deadline YYYY-MM-DD for the pack's cover.")
    ] = None,
    split_by_team: Annotated[
        bool | None, typer.Option("--split-by-team/--one-exceptions-sheet", help="One exceptions sheet per team.")
    ] = None,
    suppress_small_counts: Annotated[
        bool | None,
        typer.Option("--suppress-small-counts/--exact-counts", help="National suppression (0-4 as *, others to 5) in the pack."),
    ] = None,
    people_lists: Annotated[
        bool, typer.Option("--people-lists", help="Add the record lists behind MHS95, MHS69 and the waits measures (spells, referrals, first contacts) to the pack.")
    ] = False,
    as_json: JsonOpt = False,
    json_file: Annotated[Path | None, typer.Option("--json-file", help="Also write the JSON object to this file.")] = None,
    provider: ProviderOpt = None,
    digital: DigitalOpt = None,
    person_key: PersonKeyOpt = None,
    snomed: SnomedOpt = None,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    no_ledger: NoLedgerOpt = False,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
) -> None:
    """Reconcile local figures with the pre-deadline extract and the published file; record the run."""
    from recon.jobs import RunOptions, reconcile_job
    from recon.render.reconcile import render_reconcile

    opts = RunOptions(
        month=month, config=config, epr=epr, extract=extract, published=published_path, pack=pack,
        json_file=json_file, mapping=mapping, status=status, identifiable=identifiable,
        split_by_team=split_by_team, suppress_small_counts=suppress_small_counts, deadline=_date_option(deadline),
        people_lists=people_lists,
        provider=provider,
        digital=digital, person_key=person_key, ledger=ledger, no_ledger=no_ledger, log_file=log_file, quiet=quiet,
        snomed=snomed,
    )
    with _steps(quiet, as_json) as steps:
        outcome = reconcile_job(opts, steps=steps, pipeline=_pipeline())
    from recon.reconcile.run import reconcile_json

    def show(console: Console) -> None:
        render_reconcile(outcome.result, console)
        if outcome.pack is not None:
            console.print(f"Sign-off pack: {outcome.pack.path} (fingerprint {outcome.pack.fingerprint[:16]})",
                          markup=False)
        if outcome.signed_same is not None:
            same = outcome.signed_same
            console.print(f"Figures unchanged since the signed pack {same['pack_path']} (sign-off #{same['seq']}, "
                          f"{same['decision']}, {same['at']})", markup=False, soft_wrap=True)

    _emit(as_json, lambda: reconcile_json(outcome.result), show, quiet=quiet)
    raise typer.Exit(outcome.exit_code)


@app.command()
def history(
    measure: Annotated[list[str] | None, typer.Option("--measure", help="Measure id (repeatable); default all.")] = None,
    months: Annotated[int | None, typer.Option(
        "--months", help="How many months back from the newest recorded (figures: default 12; --runs: all).")] = None,
    provider: ProviderOpt = None,
    runs: Annotated[bool, typer.Option("--runs", help="List every recorded run (exit codes, voids) instead.")] = False,
    page: Annotated[int, typer.Option("--page", help="With --runs: which page (1 = newest runs).")] = 1,
    limit: Annotated[int, typer.Option("--limit", help="With --runs: runs per page.")] = 50,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Trends from the run ledger: the latest run of each month, voided runs left out (or every run with --runs)."""
    from recon.ledger import Ledger, list_runs, load_history
    from recon.measures.catalog import catalog
    from recon.render.history import render_history, render_runs

    known = catalog().ids
    for m in measure or ():
        if m not in known:
            import difflib

            near = difflib.get_close_matches(m, known, n=3)
            raise UsageError(f"--measure {m!r} is not a measure recon computes"
                             + (f" (did you mean {', '.join(near)}?)" if near else "; see 'recon rules'"))

    with Ledger.open(_ledger_path(ledger, config), readonly=True) as led:
        if runs:
            listing = list_runs(led, provider=provider or _config_ods(config), months=months, page=page, limit=limit)
            _emit(as_json, listing.to_json_dict, lambda c: render_runs(listing, c))
            return
        hist = load_history(led, provider=provider or _config_ods(config), measure_ids=measure or (),
                            months=12 if months is None else months)
    _emit(as_json, hist.to_json_dict, lambda c: render_history(hist, c))


@app.command()
def void(
    run_id: Annotated[str, typer.Argument(help="Run id, as listed by 'recon history --runs --json'.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the run is void (recorded).")],
    by: Annotated[str | None, typer.Option("--by", help="Who voids it (default: your login name).")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Void a mistaken run: recorded with who, when and why, never deleted; it leaves trends and history."""
    from recon.ledger import Ledger
    from recon.render.history import render_void

    with Ledger.open(_ledger_path(ledger, config)) as led:
        event = led.void_run(run_id, reason=reason, by=by)
    _emit(as_json, lambda: event, lambda c: render_void(event, c))


@app.command()
def accept(
    exception_id: Annotated[str, typer.Argument(help="Exception id, as shown in the pack.")],
    reason: Annotated[str, typer.Option("--reason", help="Why this exception is accepted as known.")],
    by: Annotated[str | None, typer.Option("--by", help="Who accepts it (default: your login name).")] = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Accept an exception as known: later packs show it as accepted. Recorded with who and when."""
    from recon.ledger import Ledger
    from recon.render.history import render_accept

    if not reason.strip():
        raise UsageError("--reason must not be empty")
    with Ledger.open(_ledger_path(ledger, config)) as led:
        event = led.set_exception_status(exception_id, "accepted", reason=reason.strip(), by=by,
                                         provider=provider or _config_ods(config))
    _emit(as_json, lambda: event, lambda c: render_accept(event, c))


signoff_app = typer.Typer(
    name="signoff",
    help="Record a sign-off of a pack (bound to its SHA-256 and its inputs), or verify them: 'recon signoff verify'.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)
app.add_typer(signoff_app, name="signoff")


@signoff_app.callback()
def signoff(
    ctx: typer.Context,
    pack: Annotated[Path | None, typer.Option("--pack", help="The pack file being signed off.")] = None,
    decision: Annotated[Decision | None, typer.Option("--decision", case_sensitive=False,
                                                      help="approve, caveats or reject.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Full name of the person signing.")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Their role, e.g. 'CYP lead'.")] = None,
    caveat: Annotated[list[str] | None, typer.Option("--caveat", help="A caveat (repeatable).")] = None,
    date: Annotated[str | None, typer.Option("--date", help="The date of the sign-off, YYYY-MM-DD "
                                                             "(default: the Date on the pack's Sign-off sheet).")] = None,
    key_file: KeyFileOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Record a sign-off: --decision approve|caveats|reject --name ... --role ..., or what the pack's Sign-off sheet says."""
    if ctx.invoked_subcommand is not None:
        return
    if pack is None:
        raise UsageError("missing --pack (or use 'recon signoff verify')")
    from recon.ledger import Ledger
    from recon.render.history import render_signoff
    from recon.signoff import load_key, sign_off

    key = load_key(key_file)
    with Ledger.open(_ledger_path(ledger, config)) as led:
        record = sign_off(led, pack, decision, name, role, caveat or (), key=key, signed_on=_date_option(date, "--date"))
    _emit(as_json, record.to_json_dict, lambda c: render_signoff(record, c))
    raise typer.Exit(record.exit_code)


@signoff_app.command("list")
def signoff_list(
    month: Annotated[str | None, typer.Option("--month", help="Reporting month YYYY-MM (default: every month).")] = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """List the sign-offs recorded for a month: decision, who, when, which pack."""
    from recon.ledger import Ledger
    from recon.render.history import render_signoff_list
    from recon.signoff import list_signoffs

    with Ledger.open(_ledger_path(ledger, config), readonly=True) as led:
        found = list_signoffs(led, month=month, provider=provider)
    _emit(as_json, lambda: {"month": month, "signoffs": [s.to_json_dict() for s in found]},
          lambda c: render_signoff_list(found, month, c))


@signoff_app.command("verify")
def signoff_verify(
    pack: Annotated[Path | None, typer.Option("--pack", help="Check only this pack's sign-offs.")] = None,
    key_file: KeyFileOpt = None,
    head: Annotated[
        str | None, typer.Option("--head", help="A chain head (hash) printed at sign-off that must still be there.")
    ] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Check the sign-off chain, that signed packs are unchanged and that their inputs are unchanged."""
    from recon.ledger import Ledger
    from recon.render.history import render_verify
    from recon.signoff import load_key, verify

    key = load_key(key_file)
    with Ledger.open(_ledger_path(ledger, config), readonly=True) as led:
        report = verify(led, pack, key=key, head=head)
    _emit(as_json, report.to_json_dict, lambda c: render_verify(report, c))
    raise typer.Exit(report.exit_code)


ledger_app = typer.Typer(name="ledger", help="Look after the run ledger: 'recon ledger prune'.",
                         no_args_is_help=True, add_completion=False)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("prune")
def ledger_prune(
    keep_months: Annotated[int, typer.Option("--keep-months", help="Keep runs of the last N reporting months.")],
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Forget unsigned runs of older months (signed-off runs are always kept) and compact the ledger."""
    from recon.ledger import Ledger
    from recon.render.history import render_prune

    with Ledger.open(_ledger_path(ledger, config)) as led:
        report = led.prune(keep_months)
    _emit(as_json, report.to_json_dict, lambda c: render_prune(report, c))


@app.command()
def submission(
    reports: Annotated[Path, typer.Argument(help="SDCS Summary Reports zip, or a folder of them.")],
    epr: EprOpt = None,
    month: Annotated[str | None, typer.Option("--month", help="Reporting month YYYY-MM (needed with --epr).")] = None,
    mapping: MappingOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read what SDCS did with a month's upload and tie it back to the local records."""
    from recon.config import ProviderSettings
    from recon.quality.submission import read_submission
    from recon.render.submission import render_submission

    result = read_submission(reports, month=Month.parse(month) if month else None, epr=epr, mapping=mapping,
                             settings=ProviderSettings(ods=provider))
    _emit(as_json, result.to_json_dict, lambda c: render_submission(result, c))
    raise typer.Exit(result.exit_code)


@app.command()
def rules(
    rule_id: Annotated[str | None, typer.Argument(help="One rule id to describe.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """List every rule recon applies, with its id, severity and documentation."""
    from recon.rules_catalog import load_catalog, render_catalog

    catalog = load_catalog(config)
    if rule_id is not None:
        catalog = tuple(r for r in catalog if r.id.lower() == rule_id.lower())
        if not catalog:
            raise UsageError(f"no rule {rule_id!r}; run 'recon rules' for the list")
    _emit(as_json, lambda: {"rules": [r.to_json_dict() for r in catalog]}, lambda c: render_catalog(catalog, c))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("recon: interrupted\n")
        sys.exit(130)


def _safe(text: str) -> str:
    """Internal error text may echo data; keep only the first line and cut it short."""
    return text.splitlines()[0][:200] if text else ""


if __name__ == "__main__":
    main()
