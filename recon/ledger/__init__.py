"""The run ledger: schema and migrations, the store, history and trend queries.

The public API lives here so ``from recon.ledger import Ledger, RunRecord, ...`` keeps working.
"""

from recon.ledger.queries import TREND_SCHEMA, History, RunPage, list_runs, load_history, trend_frame
from recon.ledger.records import (
    LEDGER_ENV,
    ExceptionRow,
    InputFile,
    RunRecord,
    RunRow,
    ValueRow,
    default_ledger_path,
    input_files,
    input_paths,
    iso,
    now_utc,
    os_user,
    resolve_ledger_path,
    rules_version,
)
from recon.ledger.schema import APPEND_ONLY_TRIGGERS, MIGRATIONS, SCHEMA_VERSION
from recon.ledger.store import Ledger, PruneReport

__all__ = [
    "APPEND_ONLY_TRIGGERS",
    "LEDGER_ENV",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TREND_SCHEMA",
    "ExceptionRow",
    "History",
    "InputFile",
    "Ledger",
    "PruneReport",
    "RunPage",
    "RunRecord",
    "RunRow",
    "ValueRow",
    "default_ledger_path",
    "input_files",
    "input_paths",
    "iso",
    "list_runs",
    "load_history",
    "now_utc",
    "os_user",
    "resolve_ledger_path",
    "rules_version",
    "trend_frame",
]
