"""Command line: parse arguments, call one library function per command, render the result.

Exit codes (contract.md) are decided here and only here: 0 clean, 1 findings or
discrepancies, 2 could not run, 3 expected input missing or stale, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup
from typer.exceptions import TyperException

from recon import __version__
from recon.config import ProviderSettings
from recon.errors import ReconError, UsageError
from recon.months import Month

class _ReconGroup(TyperGroup):
    """Maps every failure to its exit code and a one-line message, in one place."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ReconError as exc:
            if _state["debug"]:
                raise
            _console(stderr=True).print(f"recon: error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _console(stderr=True).print("recon: interrupted", markup=False)
            raise typer.Exit(130) from None
        except (TyperException, typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            _console(stderr=True).print(
                f"recon: internal error: {type(exc).__name__}: {_safe(str(exc))} (run with --debug for details)",
                markup=False,
            )
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_ReconGroup,
    name="recon",
    help="Check MHSDS children and young people's measures before the deadline and against what NHS England publishes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict[str, Any] = {"debug": False}

MonthOpt = Annotated[str, typer.Option("--month", help="Reporting month YYYY-MM, or 'previous'.")]
EprOpt = Annotated[Path, typer.Option("--epr", help="Local extract: folder or .zip (MHSDS layout, or EPR layout with --mapping).")]
MappingOpt = Annotated[
    str | None, typer.Option("--mapping", help="EPR mapping name under rules/mappings/ or a path to one.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on standard output.")]
DigitalOpt = Annotated[bool, typer.Option("--digital", help="Digital provider: mechanisms 05, 09, 10, 13 qualify.")]
PersonKeyOpt = Annotated[
    str, typer.Option("--person-key", help="Count people by 'local' (LocalPatientId) or 'nhs' (valid NHSNumber).")
]
ProviderOpt = Annotated[str | None, typer.Option("--provider", help="Provider ODS code (default: from the data).")]


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


def _print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


def _settings(provider: str | None, digital: bool, person_key: str) -> ProviderSettings:
    if person_key not in ("local", "nhs"):
        raise UsageError(f"--person-key must be 'local' or 'nhs', not {person_key!r}")
    return ProviderSettings(ods=provider, digital=digital, person_key=person_key)  # type: ignore[arg-type]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recon {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on failure.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def validate(
    month: MonthOpt,
    epr: EprOpt,
    mapping: MappingOpt = None,
    as_json: JsonOpt = False,
    provider: ProviderOpt = None,
) -> None:
    """Validate an extract record by record: every finding names rule, table, key and column."""
    from recon.render.validation import render_validation
    from recon.validation import validate_extract

    report = validate_extract(epr, Month.parse(month), mapping=mapping, settings=_settings(provider, False, "local"))
    if as_json:
        _print_json(report.to_json_dict())
    else:
        render_validation(report, _console())
    raise typer.Exit(report.exit_code)


@app.command()
def measures(
    month: MonthOpt,
    epr: EprOpt,
    mapping: MappingOpt = None,
    as_json: JsonOpt = False,
    provider: ProviderOpt = None,
    digital: DigitalOpt = False,
    person_key: PersonKeyOpt = "local",
) -> None:
    """Compute every measure of measures.md for one provider and month."""
    from recon.measures import run_measures
    from recon.render.measures import render_measures

    result = run_measures(epr, Month.parse(month), mapping=mapping, settings=_settings(provider, digital, person_key))
    if as_json:
        _print_json(result.to_json_dict())
    else:
        render_measures(result, _console())


@app.command()
def published(
    path: Annotated[Path, typer.Argument(help="Published MHSMS CSV, zip, or a folder of them.")],
    provider: ProviderOpt = None,
    month: Annotated[str | None, typer.Option("--month", help="Reporting month YYYY-MM.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Performance, Provisional, Final or Adhoc.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what NHS England published for a provider and month."""
    from recon.published import select_published
    from recon.render.published import render_published

    selection = select_published(path, provider=provider, month=Month.parse(month) if month else None, status=status)
    if as_json:
        _print_json(selection.to_json_dict())
    else:
        render_published(selection, _console())


@app.command()
def reconcile(
    month: MonthOpt,
    epr: EprOpt,
    extract: Annotated[Path | None, typer.Option("--extract", help="Pre-deadline MHSDS-layout extract (folder or zip).")] = None,
    published_path: Annotated[Path | None, typer.Option("--published", help="Published MHSMS file or folder.")] = None,
    pack: Annotated[Path | None, typer.Option("--pack", help="Write the Excel sign-off pack here.")] = None,
    mapping: MappingOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="Published STATUS to compare with.")] = None,
    identifiable: Annotated[bool, typer.Option("--identifiable", help="Unmasked NHS numbers in the pack.")] = False,
    as_json: JsonOpt = False,
    provider: ProviderOpt = None,
    digital: DigitalOpt = False,
    person_key: PersonKeyOpt = "local",
) -> None:
    """Reconcile local figures with the pre-deadline extract and the published file."""
    from recon.reconcile import run_reconcile
    from recon.render.reconcile import render_reconcile

    result = run_reconcile(
        Month.parse(month),
        epr,
        extract=extract,
        published=published_path,
        mapping=mapping,
        status=status,
        settings=_settings(provider, digital, person_key),
    )
    if pack is not None:
        from recon.pack import PackOptions, write_pack

        write_pack(result, pack, PackOptions(identifiable=identifiable))
    if as_json:
        from recon.reconcile import reconcile_json

        _print_json(reconcile_json(result))
    else:
        render_reconcile(result, _console())
    raise typer.Exit(result.exit_code)


@app.command()
def rules(
    rule_id: Annotated[str | None, typer.Argument(help="One rule id to describe.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List every rule recon applies, with its id, severity and documentation."""
    from recon.rules_catalog import load_catalog, render_catalog

    catalog = load_catalog()
    if rule_id is not None:
        catalog = tuple(r for r in catalog if r.id.lower() == rule_id.lower())
        if not catalog:
            raise UsageError(f"no rule {rule_id!r}; run 'recon rules' for the list")
    if as_json:
        _print_json({"rules": [r.to_json_dict() for r in catalog]})
    else:
        render_catalog(catalog, _console())


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
