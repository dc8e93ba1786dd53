"""Orchestration of a recorded run: configuration + flags -> input checks -> lock -> work -> outputs -> ledger.

The order matters for safety: inputs are checked (exit 3) and the ledger opened and checked
(exit 2) before any work; the pack is written to a temporary file, the run is recorded in one
ledger transaction, and only then is the pack renamed into place (restored if the commit fails).
A killed run therefore leaves the previous pack and no half run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from recon import __version__
from recon.cache import RunCache, cached, open_cache, run_key
from recon.cache import input_files as cached_input_files
from recon.choices import PersonKey
from recon.config import INPUT_ROLES, ProviderSettings, ReconConfig, WaitsSettings, load_config
from recon.errors import LedgerError, MissingInputError, ReconError, UsageError
from recon.ledger import (
    ExceptionRow,
    InputFile,
    Ledger,
    RunRecord,
    ValueRow,
    input_files,
    input_paths,
    now_utc,
    os_user,
    resolve_ledger_path,
    rules_version,
    trend_frame,
)
from recon.measures.model import MeasuresResult
from recon.months import Month
from recon.pack.model import PackInfo, PackOptions
from recon.pipeline import Pipeline, WritePack
from recon.reconcile.model import ReconcileResult
from recon.rules_files import using_rules_dir
from recon.runctl import (
    LOG,
    MonthLocks,
    StagedFile,
    Steps,
    configure_logging,
    pause_after_rename,
    private_tempdir,
    stage_file,
)
from recon.signoff import sha256_file
from recon.snomed import SnomedRelease, load_snomed
from recon.sources.limits import set_limits
from recon.validation import ValidationReport

_R = TypeVar("_R")


@dataclass(frozen=True)
class RunOptions:
    """Raw command-line values; ``None`` means "not given" so the configuration file may supply it."""

    month: str
    config: Path | None = None
    epr: Path | None = None
    extract: Path | None = None
    published: Path | None = None
    pack: Path | None = None
    json_file: Path | None = None
    mapping: str | None = None
    status: str | None = None
    identifiable: bool | None = None
    split_by_team: bool | None = None
    suppress_small_counts: bool | None = None
    deadline: dt.date | None = None
    people_lists: bool = False
    provider: str | None = None
    digital: bool | None = None
    person_key: PersonKey | None = None
    snomed: Path | None = None  # SNOMED CT RF2 release folder (waits clock stops)
    ledger: Path | None = None
    no_ledger: bool = False
    log_file: Path | None = None
    quiet: bool = False
    verbose: bool = False
    today: dt.date | None = None  # tests: fixes 'previous' and input ages


@dataclass(frozen=True)
class ResolvedRun:
    """Flags over configuration over defaults, for one month."""

    command: str
    month: Month
    settings: ProviderSettings
    epr: Path | None
    extract: Path | None
    published: Path | None
    pack: Path | None
    json_file: Path | None
    mapping: str | None
    status: str | None
    identifiable: bool
    split_by_team: bool | None
    suppress_small_counts: bool | None
    deadline: dt.date | None
    ledger: Path | None  # None: --no-ledger
    log_file: Path | None
    config_path: Path | None
    max_age_days: Mapping[str, float] = field(default_factory=dict)
    people_lists: bool = False
    snomed: Path | None = None
    waits: WaitsSettings = field(default_factory=WaitsSettings)
    rules_dir: Path | None = None  # the configuration's paths.rules_dir

    def input(self, role: str) -> Path | None:
        if role == "mapping":
            return Path(self.mapping) if self.mapping and ("/" in self.mapping or self.mapping.endswith(".toml")) else None
        value = getattr(self, role)
        return value if isinstance(value, Path) else None


R = TypeVar("R", ReconcileResult, MeasuresResult, ValidationReport)


@dataclass(frozen=True)
class JobOutcome(Generic[R]):
    """What a job did: its result (the one object every renderer reads), exit code and outputs."""

    run_id: str
    resolved: ResolvedRun
    result: R
    exit_code: int
    pack: PackInfo | None = None  # the written pack
    pack_sha256: str | None = None
    ledger: Path | None = None
    signed_same: dict[str, Any] | None = None  # a sign-off of a pack with these very figures, if any


# --------------------------------------------------------------------------- resolving


def load_optional_config(path: Path | None) -> ReconConfig:
    return load_config(path) if path is not None else ReconConfig()


def resolve(opts: RunOptions, command: str) -> ResolvedRun:
    """Merge flags over the configuration file; every path template is filled for the month."""
    cfg = load_optional_config(opts.config)
    set_limits(cfg.limits)
    month = Month.parse(opts.month, today=opts.today)
    settings = ProviderSettings(
        ods=opts.provider or cfg.provider.ods,
        digital=cfg.provider.digital if opts.digital is None else opts.digital,
        person_key=PersonKey(opts.person_key) if opts.person_key is not None else cfg.provider.person_key,
    )
    pack = opts.pack or (cfg.path("pack", month) if command == "reconcile" else None)
    if pack is not None and pack.suffix.lower() != ".xlsx":
        # Refused before any work: the pack is an Excel workbook, whatever the name says.
        raise UsageError(f"the pack {pack} must be an Excel workbook: give a file name ending in .xlsx")
    epr = opts.epr or cfg.path("epr", month)
    if epr is None and command in ("validate", "measures", "reconcile"):
        raise UsageError("the local extract (epr) is required: give it, or set paths.epr in the configuration")
    ledger: Path | None = None
    if not opts.no_ledger:
        ledger = resolve_ledger_path(opts.ledger, cfg.path("ledger", month))
    return ResolvedRun(
        command=command,
        month=month,
        settings=settings,
        epr=epr,
        extract=opts.extract or (cfg.path("extract", month) if command == "reconcile" else None),
        published=opts.published or (cfg.path("published", month) if command == "reconcile" else None),
        pack=pack,
        json_file=opts.json_file,
        mapping=opts.mapping or cfg.mapping(month),
        status=opts.status or cfg.status,
        identifiable=opts.identifiable if opts.identifiable is not None else bool(cfg.pack.identifiable),
        split_by_team=opts.split_by_team if opts.split_by_team is not None else cfg.pack.split_by_team,
        suppress_small_counts=(
            opts.suppress_small_counts if opts.suppress_small_counts is not None else cfg.pack.suppress_small_counts
        ),
        deadline=opts.deadline or cfg.deadline.deadline_for(month),
        ledger=ledger,
        log_file=opts.log_file or cfg.path("log_file", month),
        config_path=cfg.source,
        max_age_days=dict(cfg.max_age_days),
        people_lists=opts.people_lists,
        snomed=opts.snomed or cfg.snomed(month),
        waits=cfg.waits,
        rules_dir=cfg.rules_dir(month),
    )


def check_inputs(run: ResolvedRun, *, now: float | None = None) -> None:
    """Exit 3 when an expected input for the month is missing, or older than ``max_age_days`` allows."""
    now = time.time() if now is None else now
    if run.snomed is not None and not run.snomed.exists():
        raise MissingInputError(f"the SNOMED CT release (--snomed) for {run.month} is missing: {run.snomed}")
    for role in INPUT_ROLES:
        path = run.input(role)
        if path is None:
            continue
        if not path.exists():
            raise MissingInputError(f"expected {role} input for {run.month} is missing: {path}")
        limit = run.max_age_days.get(role)
        if limit is None:
            continue
        files = input_paths(path)
        if not files:
            raise MissingInputError(f"expected {role} input for {run.month} is empty: {path}")
        newest = max(p.stat().st_mtime for p in files)
        age = (now - newest) / 86400
        if age > limit:
            raise MissingInputError(
                f"{role} input {path} is {age:.1f} days old; the configuration allows {limit:g}",
                hint="has the nightly extract run?",
            )


def _recorded(run: ResolvedRun, opts: RunOptions, body: Callable[[Ledger | None, str], JobOutcome[R]]) -> JobOutcome[R]:
    """Logging, input checks (exit 3) and the ledger (exit 2) before ``body``; a run that fails is recorded too."""
    configure_logging(quiet=opts.quiet, log_file=run.log_file, verbose=opts.verbose)
    LOG.info("%s %s for %s started by %s (recon %s)", run.command, run.month,
             run.settings.ods or "the provider in the data", os_user(), __version__)
    run_id, started = uuid.uuid4().hex, now_utc()
    ledger: Ledger | None = None
    try:
        check_inputs(run)
        ledger = Ledger.open(run.ledger) if run.ledger is not None else None
        with using_rules_dir(run.rules_dir), private_tempdir():
            return body(ledger, run_id)
    except ReconError as exc:
        if not isinstance(exc, LedgerError):
            _record_failure(run, run_id, started, exc, ledger)
        raise
    finally:
        if ledger is not None:
            ledger.close()


def _record_failure(run: ResolvedRun, run_id: str, started: dt.datetime, exc: ReconError, ledger: Ledger | None) -> None:
    """Best effort: 'did last night's run fail, and why?' is answered by the ledger too (exit 2 or 3, no figures)."""
    if run.ledger is None:
        return
    record = RunRecord(run_id, run.command, run.settings.ods, run.month, started, now_utc(), exc.exit_code,
                       __version__, rules_version())
    try:
        if ledger is not None:
            ledger.record_run(record)
        else:
            with Ledger.open(run.ledger) as led:
                led.record_run(record)
    except ReconError as err:
        LOG.warning("could not record the failed run in the ledger: %s", err)


def _inputs(run: ResolvedRun, cache: RunCache | None = None) -> tuple[InputFile, ...]:
    def files(role: str, path: Path) -> tuple[InputFile, ...]:
        return input_files(role, path) if cache is None else cached_input_files(cache, role, path)

    out: list[InputFile] = []
    for role in INPUT_ROLES:
        path = run.input(role)
        if path is not None:
            out.extend(files(role, path))
    if run.snomed is not None:  # the RF2 files read, not the whole release folder
        from recon.snomed import snomed_files

        refsets, concepts = snomed_files(run.snomed)
        for f in (*refsets, *concepts):
            out.extend(files("snomed", f))
    if run.config_path is not None:
        out.extend(files("config", run.config_path))
    return tuple(out)


def _snomed(run: ResolvedRun) -> SnomedRelease | None:
    """The SNOMED CT release of the run (exit 2 when malformed), or None without --snomed."""
    if run.snomed is None:
        return None
    return load_snomed(run.snomed)


def _cache_key(run: ResolvedRun, inputs: tuple[InputFile, ...], compute: object) -> str:
    """Everything a run's result depends on (recon.cache): parameters, the function that computes
    it (a stand-in pipeline never shares entries with recon's own), inputs, rules, code."""
    name = f"{getattr(compute, '__module__', '')}.{getattr(compute, '__qualname__', repr(compute))}"
    parts = (run.command, name, str(run.month), run.settings, run.waits, run.mapping, run.status,
             *(str(p.resolve()) if p is not None else None for p in (run.epr, run.extract, run.published)))
    return run_key(parts, ((f.role, f.path, f.size, f.sha256) for f in inputs), rules_version())


def _values(result: MeasuresResult, source: str) -> list[ValueRow]:
    return [ValueRow(v.id, source, v.value, v.breakdown, v.level, v.numerator, v.denominator) for v in result.values]


# --------------------------------------------------------------------------- jobs


def reconcile_job(opts: RunOptions, *, pipeline: Pipeline, steps: Steps | None = None) -> JobOutcome[ReconcileResult]:
    """The whole scheduled reconciliation; see the module docstring for the order and why."""
    run = resolve(opts, "reconcile")
    return _recorded(run, opts,
                     lambda ledger, run_id: _reconcile(run, ledger, run_id, steps or Steps(False), pipeline))


def _reconcile(run: ResolvedRun, ledger: Ledger | None, run_id: str, steps: Steps,
               pipeline: Pipeline) -> JobOutcome[ReconcileResult]:
    with MonthLocks(run.month) as locks:
        locks.hold(run.settings.ods)  # known from the flags: fail fast
        started = now_utc()
        t0 = time.monotonic()
        steps.step("reconcile")
        epr = run.epr
        assert epr is not None
        cache = open_cache(run.ledger)
        inputs = _inputs(run, cache)
        result = cached(cache, _cache_key(run, inputs, pipeline.reconcile), ReconcileResult, lambda: _private(
            pipeline.reconcile(run.month, epr, progress=steps.callback, extract=run.extract, published=run.published,
                               mapping=run.mapping, status=run.status, settings=run.settings, snomed=_snomed(run),
                               waits=run.waits)))
        result = dataclasses.replace(result, started=started, finished=now_utc())
        provider = result.provider
        locks.hold(provider)  # as resolved from the data: whatever flags and ledger another run used
        if ledger is not None and result.exceptions:
            statuses = ledger.exception_statuses(provider, run.month, [e.exception_id for e in result.exceptions])
            result = dataclasses.replace(result, exceptions=tuple(
                dataclasses.replace(e, status=statuses[e.exception_id]) for e in result.exceptions))
        steps.step("trend")
        ids = [v.id for v in result.local.provider_level]
        trend = trend_frame(ledger, provider, run.month, ids, published=run.published, this_run=result.local)
        extras = {**result.extras, "run_id": run_id}
        if run.deadline is not None:
            extras["deadline"] = run.deadline.isoformat()
        result = dataclasses.replace(result, trend=trend, extras=extras)
        pack_info, pack_sha = None, None
        staged: list[StagedFile] = []
        recorded = ledger.has_run if ledger is not None else None
        try:
            if run.pack is not None:
                steps.step("pack")
                run = _keep_signed_pack(run, ledger)
                assert run.pack is not None
                pack_stage = stage_file(run.pack, recorded)
                staged.append(pack_stage)
                pack_info, pack_sha = _write_pack(pipeline.write_pack, result, pack_stage.tmp, run,
                                                  time.monotonic() - t0)
                pack_stage.ready()
            if run.json_file is not None:
                json_stage = stage_file(run.json_file, recorded)
                staged.append(json_stage)
                from recon.reconcile.run import reconcile_json

                json_stage.tmp.write_text(_dumps(reconcile_json(result)), encoding="utf-8")
                json_stage.ready()
            exit_code = result.exit_code
            record = RunRecord(
                run_id=run_id, command="reconcile", provider=provider, month=run.month, started=started,
                finished=now_utc(), exit_code=exit_code, recon_version=__version__,
                rules_version=rules_version(), inputs=inputs,
                values=tuple(_values(result.local, "local")
                             + (_values(result.extract, "extract") if result.extract is not None else [])
                             + [ValueRow(c.id, "published", c.published) for c in result.comparisons
                                if c.published is not None]),
                exceptions=tuple(ExceptionRow(e.exception_id, e.status, e.source, getattr(e.severity, "value", None),
                                              e.team, e.table, e.key, e.problem) for e in result.exceptions),
                pack_path=str(run.pack.resolve()) if run.pack is not None else None,
                pack_sha256=pack_sha,
                pack_fingerprint=pack_info.fingerprint if pack_info is not None else None,
                pack_view=_pack_view(pack_stage.tmp) if run.pack is not None else None,
            )
            steps.step("ledger")
            _commit(ledger, record, staged)
        finally:
            for s in staged:
                s.discard()
        if pack_info is not None and run.pack is not None:
            pack_info = dataclasses.replace(pack_info, path=run.pack)
    signed_same = (ledger.signed_with_fingerprint(pack_info.fingerprint)
                   if ledger is not None and pack_info is not None else None)
    if signed_same is not None:
        LOG.info("figures unchanged since the signed pack %s (sign-off #%s)", signed_same["pack_path"],
                 signed_same["seq"])
    pack_note = f"; pack {run.pack}" if run.pack is not None else ""
    counts = result.counts  # the same counts the terminal, the JSON and the pack show
    _log_outcome(run, run_id, exit_code, f"{counts.discrepancies} discrepancies beyond tolerance, "
                 f"{counts.blocking_errors} error-level problems{pack_note}")
    if run.pack is not None:
        LOG.info("pack %s sha256 %s", run.pack, pack_sha)
    return JobOutcome(run_id, run, result, exit_code, pack_info, pack_sha, run.ledger, signed_same)


def _private(result: _R) -> _R:
    """NHS numbers and postcodes outside the known identifying columns masked before anything is
    shown, logged, recorded or written; a warning names where they were (once per run)."""
    from recon.identifiers import mask_identifiers

    masked, where = mask_identifiers(result)
    if where:
        LOG.warning("values shaped like NHS numbers or postcodes found in %s%s; they are masked in every output "
                    "(is an NHS number used as LocalPatientId?)", ", ".join(where[:5]),
                    f" and {len(where) - 5} more" if len(where) > 5 else "")
    return masked


def _commit(ledger: Ledger | None, record: RunRecord, staged: list[StagedFile]) -> None:
    """Record the run, then move outputs into place; a failed commit puts the previous outputs back."""
    if ledger is None:
        for s in staged:
            s.commit()
        return
    with ledger.transaction(f"recording run {record.run_id}"):
        pass  # fail fast (read-only, disk full, busy) before touching any output
    moved = []
    try:
        for s in staged:
            s.commit(record.run_id)
            moved.append(s)
        pause_after_rename()
        ledger.record_run(record)
    except BaseException:
        for s in reversed(moved):
            s.restore()
        raise
    for s in moved:
        s.forget_backup()


def _keep_signed_pack(run: ResolvedRun, ledger: Ledger | None) -> ResolvedRun:
    """A signed-off pack is a record: a re-run (the daily cron line) never replaces it, but
    writes its own pack beside it, named by the time of the run, and says so."""
    assert run.pack is not None
    if ledger is None or not run.pack.is_file() or not ledger.is_signed_off(sha256_file(run.pack)):
        return run
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    beside = run.pack.with_name(f"{run.pack.stem}.rerun-{stamp}{run.pack.suffix}")
    LOG.warning("pack %s is signed off and is kept as it is; this run's pack is %s", run.pack, beside)
    return dataclasses.replace(run, pack=beside)


def _write_pack(write_pack: WritePack, result: ReconcileResult, tmp: Path, run: ResolvedRun,
                seconds: float) -> tuple[PackInfo, str]:
    options = PackOptions(
        identifiable=run.identifiable,
        deadline=run.deadline,
        split_by_team=bool(run.split_by_team),
        suppress_small_counts=bool(run.suppress_small_counts),
        rules_version=rules_version(),
        run_seconds=round(seconds, 1),
        people_lists=run.people_lists,
        no_contact_days=run.waits.no_contact_days,
    )
    info = write_pack(result, tmp, options)
    return info, sha256_file(tmp)


def _pack_view(path: Path) -> str | None:
    """What the written pack shows beyond its values (None for a file that is not a workbook)."""
    import zipfile

    from recon.pack.view import view_fingerprint

    try:
        return view_fingerprint(path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None


def _dumps(payload: dict[str, object]) -> str:
    import json

    return json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n"


def _log_outcome(run: ResolvedRun, run_id: str, exit_code: int, detail: str) -> None:
    LOG.info("%s %s finished: exit %d, run %s", run.command, run.month, exit_code, run_id)
    if exit_code == 1:
        LOG.warning("%s %s: %s (exit 1)", run.command, run.month, detail)


def measures_job(opts: RunOptions, *, pipeline: Pipeline, steps: Steps | None = None) -> JobOutcome[MeasuresResult]:
    """``recon measures`` with its run (inputs, every value) recorded in the ledger."""
    run = resolve(opts, "measures")
    return _recorded(run, opts,
                     lambda ledger, run_id: _measures(run, ledger, run_id, steps or Steps(False), pipeline))


def _measures(run: ResolvedRun, ledger: Ledger | None, run_id: str, steps: Steps,
              pipeline: Pipeline) -> JobOutcome[MeasuresResult]:
    started = now_utc()
    steps.step("measures")
    epr = run.epr
    assert epr is not None
    cache = open_cache(run.ledger)
    inputs = _inputs(run, cache)
    result = cached(cache, _cache_key(run, inputs, pipeline.measures), MeasuresResult,
                    lambda: _private(pipeline.measures(epr, run.month, mapping=run.mapping, settings=run.settings,
                                                       snomed=_snomed(run))))
    record = RunRecord(run_id, "measures", result.provider, run.month, started, now_utc(), 0, __version__,
                       rules_version(), inputs=inputs, values=tuple(_values(result, "local")))
    _commit(ledger, record, [])
    _log_outcome(run, run_id, 0, "")
    return JobOutcome(run_id, run, result, 0, ledger=run.ledger)


def validate_job(opts: RunOptions, *, pipeline: Pipeline, steps: Steps | None = None) -> JobOutcome[ValidationReport]:
    """``recon validate`` with its run (inputs, exit code) recorded in the ledger."""
    run = resolve(opts, "validate")
    return _recorded(run, opts,
                     lambda ledger, run_id: _validate(run, ledger, run_id, steps or Steps(False), pipeline))


def _validate(run: ResolvedRun, ledger: Ledger | None, run_id: str, steps: Steps,
              pipeline: Pipeline) -> JobOutcome[ValidationReport]:
    started = now_utc()
    steps.step("validate")
    epr = run.epr
    assert epr is not None
    _snomed(run)  # a malformed release fails the validation run too (exit 2), before the deadline
    cache = open_cache(run.ledger)
    inputs = _inputs(run, cache)
    report = cached(cache, _cache_key(run, inputs, pipeline.validate), ValidationReport,
                    lambda: _private(pipeline.validate(epr, run.month, mapping=run.mapping, settings=run.settings)))
    exit_code = int(report.exit_code)
    record = RunRecord(run_id, "validate", getattr(report, "provider", None) or run.settings.ods, run.month,
                       started, now_utc(), exit_code, __version__, rules_version(),
                       inputs=inputs)
    _commit(ledger, record, [])
    _log_outcome(run, run_id, exit_code, "error-level findings")
    return JobOutcome(run_id, run, report, exit_code, ledger=run.ledger)
