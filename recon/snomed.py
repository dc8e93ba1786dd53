"""SNOMED CT RF2 reference data for the waits family (shared/spec/waits.md section 2).

recon ships no SNOMED CT content (the UK edition is licensed); a provider gives its release with
``--snomed PATH``. The reader pools Full, Snapshot and Delta rows of the four MHSDS refsets and the
concept rows of their members; refset membership on a date (the regime rules of waits.md
section 8) is the waits family's business, not the reader's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.errors import InputError, MissingInputError

# The four refsets waits.md reads (refset id -> name).
REFSETS: dict[str, str] = {
    "1853441000000109": "MHSDS assessment procedures",
    "1853461000000105": "psychological therapies",
    "1853481000000101": "psychosocial interventions",
    "1853451000000107": "medication and physical therapy interventions",
}

# Column schemas of the two frames (identifiers are text: SNOMED ids exceed 2**53 in places).
REFSET_SCHEMA = pl.Schema(
    {"refsetId": pl.String(), "referencedComponentId": pl.String(), "effectiveTime": pl.Date(), "active": pl.Int8()}
)
CONCEPT_SCHEMA = pl.Schema({"id": pl.String(), "effectiveTime": pl.Date(), "active": pl.Int8()})


@dataclass(frozen=True)
class SnomedRelease:
    """Rows of the four refsets (identical rows once) and the concept-file rows of their members.

    ``refset``: REFSET_SCHEMA, rows of the four REFSETS only. ``concepts``: CONCEPT_SCHEMA, rows of
    concepts that appear in ``refset`` only. ``source`` names what was read (for messages and the
    ledger), never a patient value.
    """

    refset: pl.DataFrame
    concepts: pl.DataFrame
    source: str = ""


# --------------------------------------------------------------------------------------------
# Reading RF2 files

REFSET_PREFIX = "der2_Refset_Simple"
CONCEPT_PREFIX = "sct2_Concept_"
# Columns each RF2 file must carry (its header may hold more; only these are read).
REFSET_COLUMNS = ("id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId")
CONCEPT_COLUMNS = ("id", "effectiveTime", "active", "moduleId", "definitionStatusId")
_ID = r"^\d{6,18}$"  # SCTID: 6 to 18 digits


def snomed_files(path: Path) -> tuple[list[Path], list[Path]]:
    """(refset files, concept files) under ``path``, by waits.md section 2's name rules.

    A folder: every file in it or any subfolder whose name starts with ``der2_Refset_Simple``
    (refset) or ``sct2_Concept_`` (concept). A single file: a concept file when its name starts
    with ``sct2_Concept_``, a refset file otherwise.
    """
    if path.is_file():
        return ([], [path]) if path.name.startswith(CONCEPT_PREFIX) else ([path], [])
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return ([p for p in files if p.name.startswith(REFSET_PREFIX)],
            [p for p in files if p.name.startswith(CONCEPT_PREFIX)])


def _scan(file: Path, columns: tuple[str, ...]) -> pl.LazyFrame:
    """One RF2 file as text columns with its line numbers; a missing column stops the run."""
    try:
        with file.open("rb") as fh:
            head = fh.readline().decode("utf-8-sig").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read as an RF2 text file ({exc})", file=str(file), rule="SRC030") from None
    header = head.split("\t")
    missing = [c for c in columns if c not in header]
    if missing:
        shown = ", ".join(header[:8]) if len(header) > 1 else "no tab-separated columns"
        raise InputError(
            f"is not an RF2 {'concept' if 'definitionStatusId' in columns else 'simple refset'} file: "
            f"line 1 lacks column {missing[0]} (found: {shown})",
            file=str(file), column=missing[0], rule="SRC030",
        )
    return (
        pl.scan_csv(file, separator="\t", infer_schema=False, quote_char=None, has_header=True,
                    encoding="utf8-lossy", truncate_ragged_lines=False)
        .with_row_index("__line", offset=2)
        .select("__line", *columns)
    )


def _typed(lf: pl.LazyFrame, file: Path, id_columns: tuple[str, ...]) -> pl.DataFrame:
    """Check the rows that matter and type them; the first bad row stops the run (exit 2)."""
    checked = lf.with_columns(
        pl.col("effectiveTime").str.strip_chars().str.to_date("%Y%m%d", strict=False).alias("__time"),
        pl.col("active").str.strip_chars().alias("__active"),
    )
    try:
        frame = checked.collect()
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise InputError(f"is not a well-formed RF2 file (tab-separated, one record a line): {first}",
                         file=str(file), rule="SRC030") from None
    problems = [
        ("effectiveTime", pl.col("__time").is_null(), "is not a date YYYYMMDD"),
        ("active", ~pl.col("__active").is_in(["0", "1"]).fill_null(False), "is not 0 or 1"),
        *[(c, ~pl.col(c).str.strip_chars().str.contains(_ID).fill_null(False), "is not a SNOMED CT identifier")
          for c in id_columns],
    ]
    for column, bad, what in problems:
        hit = frame.filter(bad)
        if hit.height:
            value = hit.item(0, column)
            more = f" ({hit.height} lines like this)" if hit.height > 1 else ""
            raise InputError(f"line {hit.item(0, '__line')}: {value!r} {what}{more}",
                             file=str(file), column=column, rule="SRC030")
    return frame


def load_snomed(path: str | Path) -> SnomedRelease:
    """Read the SNOMED CT RF2 release given with ``--snomed`` (waits.md section 2).

    Rows of every refset file are pooled (Full, Snapshot and Delta alike), cut to the four
    REFSETS, and identical rows kept once; concept rows are kept for the concepts those rows
    reference. A path that does not exist is exit 3 (:class:`MissingInputError`); a folder with
    no RF2 refset file, or a malformed file, is exit 2 (:class:`InputError` naming the file, the
    line and the column).
    """
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"{path}: the SNOMED CT release (--snomed) does not exist")
    refset_files, concept_files = snomed_files(path)
    if not refset_files:
        raise InputError(
            f"holds no RF2 simple refset file (a name starting {REFSET_PREFIX}); give the folder of the UK "
            "Edition release (Full files), or the International and UK Clinical releases together",
            file=str(path), rule="SRC031",
        )
    wanted = list(REFSETS)
    parts: list[pl.DataFrame] = []
    for f in refset_files:
        lf = _scan(f, REFSET_COLUMNS).with_columns(pl.col("refsetId").str.strip_chars()).filter(
            pl.col("refsetId").is_in(wanted))
        rows = _typed(lf, f, ("referencedComponentId",))
        parts.append(rows.select(
            "refsetId", pl.col("referencedComponentId").str.strip_chars(),
            pl.col("__time").alias("effectiveTime"), pl.col("__active").cast(pl.Int8).alias("active"),
        ))
    refset = pl.concat(parts).unique(maintain_order=True).sort(
        ["referencedComponentId", "effectiveTime", "refsetId", "active"]).cast(dict(REFSET_SCHEMA))  # type: ignore[arg-type]
    members = refset.get_column("referencedComponentId").unique().implode()
    cparts: list[pl.DataFrame] = [pl.DataFrame(schema=CONCEPT_SCHEMA)]
    for f in concept_files:
        lf = _scan(f, CONCEPT_COLUMNS).with_columns(pl.col("id").str.strip_chars()).filter(
            pl.col("id").is_in(members))
        rows = _typed(lf, f, ())
        cparts.append(rows.select(
            "id", pl.col("__time").alias("effectiveTime"), pl.col("__active").cast(pl.Int8).alias("active")))
    concepts = pl.concat(cparts).unique(maintain_order=True).sort(["id", "effectiveTime", "active"])
    shown = f"{len(refset_files)} refset and {len(concept_files)} concept file(s) under {path}"
    return SnomedRelease(refset=refset, concepts=concepts.cast(dict(CONCEPT_SCHEMA)),  # type: ignore[arg-type]
                         source=shown)
