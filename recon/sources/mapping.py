"""EPR mappings: how a trust's own export becomes the MHSDS layout, written as data.

A mapping is a TOML file: a shipped one named by its name (``recon/rules/mappings/NAME.toml``, or
``mappings/NAME.toml`` in the configuration's ``rules_dir``), or any file given by its path
(``--mapping /etc/recon/our-epr.toml``). A new trust writes one of these, not code::

    name = "riverside"
    description = "Riverside EPR nightly export"
    [constants]                       # items the export lacks, same for every row
    OrgIDProv = "RXX"
    [tables.MHS201CareContact]
    file = "appointments.xlsx"        # relative to the EPR folder; glob patterns allowed
    sheet = "Appointments"            # workbooks only
    [tables.MHS201CareContact.columns]   # MHSDS item = local column
    CareContactId = "ApptID"
    [tables.MHS201CareContact.values.AttendStatus]   # local value = MHSDS code
    "Attended" = "5"
    [tables.MHS201CareContact.date_formats]          # strptime formats tried first
    CareContDate = ["%d-%b-%Y"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from recon.errors import RulesError
from recon.findings import Finding
from recon.rules_files import RulesSource, rules_file, rules_names
from recon.schemas import rule_severity
from recon.sources.text import found_columns
from recon.tables import TABLES, Table, key_expr


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: str
    sheet: str | None
    columns: MappingProxyType[str, str]  # MHSDS item -> local column
    values: MappingProxyType[str, MappingProxyType[str, str]]  # item -> local value -> code
    date_formats: MappingProxyType[str, tuple[str, ...]]
    constants: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    path: Path
    tables: MappingProxyType[str, TableMapping]

    def apply(self, raw: pl.DataFrame, tm: TableMapping, file: str) -> tuple[pl.DataFrame, list[Finding]]:
        """Rename local columns to MHSDS items and translate local codes; unmapped values are findings."""
        table = TABLES[tm.table]
        missing = [local for local in tm.columns.values() if local not in raw.columns]
        if missing:
            from recon.errors import InputError

            item = next(k for k, v in tm.columns.items() if v == missing[0])
            raise InputError(
                f"local column {missing[0]!r} (mapped to {item} by mapping {self.name!r}) is missing; "
                f"{found_columns(raw.columns, tm.columns.values())}",
                file=file, column=missing[0], rule="MAP002",
            )
        frame = raw.select(pl.col(local).alias(item) for item, local in tm.columns.items())
        frame = frame.with_columns(pl.lit(v, dtype=pl.String).alias(k) for k, v in tm.constants.items())
        findings: list[Finding] = []
        for item, codes in tm.values.items():
            if item not in frame.columns:
                continue
            col = pl.col(item).cast(pl.String)
            known = set(codes)
            unmapped = frame.filter(col.is_not_null() & ~col.is_in(list(known)))
            if unmapped.height:
                keys = unmapped.select(key_expr(table).alias("k"), col.alias("v")) if all(
                    k in frame.columns for k in table.key) else unmapped.select(pl.lit(None).alias("k"), col.alias("v"))
                for (value,), group in keys.group_by("v", maintain_order=True):
                    identifying = table.column(item).identifying
                    findings.append(Finding(
                        "MAP001", rule_severity("MAP001"), table.id, group.item(0, "k"), item,
                        f"local value has no MHSDS code in mapping {self.name!r} ({group.height} records); read as blank",
                        None if identifying else str(value),
                    ))
            frame = frame.with_columns(col.replace_strict(dict(codes), default=None, return_dtype=pl.String).alias(item))
        return frame, findings


def _proxy(d: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(d))


_TOP_KEYS = {"name", "description", "constants", "date_formats", "tables"}
_TABLE_KEYS = {"file", "sheet", "columns", "values", "date_formats"}


def _keys(doc: dict[str, Any], allowed: set[str], where: str) -> None:
    """Unknown keys are typos (``valeus``) that would silently do nothing: refuse them."""
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise RulesError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _section(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise RulesError(f"{where}: {key} must be a table ([{key}] section), not {type(value).__name__}")
    return value


def is_mapping_path(name_or_path: str | Path) -> bool:
    """A path (it has a folder or ends in .toml) rather than the name of a shipped mapping."""
    text = str(name_or_path)
    return isinstance(name_or_path, Path) or "/" in text or "\\" in text or text.lower().endswith(".toml")


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Parse a mapping by name (``mappings/NAME.toml`` of the rules) or by path into typed objects."""
    source: Path | RulesSource = Path(name_or_path) if is_mapping_path(name_or_path) else rules_file(
        f"mappings/{name_or_path}.toml")
    if not source.is_file():
        what = "file" if is_mapping_path(name_or_path) else "mapping"
        known = ", ".join(known_mapping_names()) or "none"
        raise RulesError(f"{what} {str(name_or_path)!r} not found (known mappings: {known}; "
                         "or give the path of a TOML file)")
    path = Path(str(source))
    try:
        doc = tomllib.loads(source.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"mapping {path.name} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise RulesError(f"mapping {path.name} cannot be read: {exc.strerror or exc}") from None
    where = f"mapping {path.name}"
    _keys(doc, _TOP_KEYS, where)
    constants = _section(doc, "constants", where)
    date_formats = doc.get("date_formats", [])
    if not isinstance(date_formats, list | str):
        raise RulesError(f"{where}: date_formats must be a list of strptime formats")
    tables: dict[str, TableMapping] = {}
    for table_id, spec in _section(doc, "tables", where).items():
        if table_id not in TABLES:
            raise RulesError(f"{where}: unknown MHSDS table {table_id!r} (known: {', '.join(TABLES)})")
        table: Table = TABLES[table_id]
        if not isinstance(spec, dict):
            raise RulesError(f"{where}: tables.{table_id} must be a table (with file and [columns])")
        _keys(spec, _TABLE_KEYS, f"{where}: tables.{table_id}")
        if "file" not in spec or "columns" not in spec:
            raise RulesError(f"{where}: table {table_id} needs 'file' and a [columns] section")
        for key in ("columns", "values", "date_formats"):
            _section(spec, key, f"{where}: tables.{table_id}")
        unknown = [k for k in spec["columns"] if k not in table.names]
        if unknown:
            raise RulesError(f"{where}: {table_id} has no item {unknown[0]!r} (items: {', '.join(table.names)})")
        for item, codes in spec.get("values", {}).items():
            if not isinstance(codes, dict):
                raise RulesError(f"{where}: values.{item} of {table_id} must be a table of local value = code")
        tconst = {k: str(v) for k, v in constants.items() if k in table.names and k not in spec["columns"]}
        tables[table_id] = TableMapping(
            table=table_id,
            file=str(spec["file"]),
            sheet=spec.get("sheet"),
            columns=_proxy({k: str(v) for k, v in spec["columns"].items()}),
            values=_proxy({k: _proxy({str(a): str(b) for a, b in v.items()}) for k, v in spec.get("values", {}).items()}),
            date_formats=_proxy({k: tuple(v) if isinstance(v, list) else (str(v),)
                                 for k, v in {**{c: date_formats for c in spec["columns"]},
                                              **spec.get("date_formats", {})}.items() if v}),
            constants=_proxy(tconst),
        )
    for t in TABLES.values():
        if t.required and t.id not in tables:
            raise RulesError(f"{where}: the required table {t.id} is not mapped")
    return Mapping(str(doc.get("name", path.stem)), str(doc.get("description", "")), path, _proxy(tables))


def known_mapping_names() -> list[str]:
    """Names of the mappings a name can refer to: shipped ones and those of the rules_dir."""
    return rules_names("mappings", ".toml")
