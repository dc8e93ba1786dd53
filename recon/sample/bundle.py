"""The committed demo bundle ``sample_data/``: local extract, EPR export, pre-deadline extract,
published file and the manifest of everything planted in them.

    python -m recon.sample --bundle --out sample_data

writes it all from the seed; ``tests/sample`` checks the committed files are what this makes.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import polars as pl

from recon.months import Month
from recon.rounding import round5
from recon.sample.generate import build_tables, write_csv, write_tables
from recon.sample.plant import (
    NBSP_PERSON_INDEX,
    Manifest,
    Tables,
    barren_referrals,
    derive_extract,
    generated_quirks,
    plant_problems,
)
from recon.tables import TABLES

ZIP_TIME = (2024, 10, 1, 0, 0, 0)
UNKNOWN_MEASURE = ("EIP23a", "Proportion of referrals on EIP pathway that entered treatment within two weeks")


def planted_local(
    *, people: int = 2000, end_month: Month = Month(2024, 9), months: int = 13, seed: int = 7,
    provider: str = "RXX",
) -> tuple[Tables, Manifest]:
    """The generated tables with the validation problems planted, and their manifest."""
    manifest = Manifest()
    tables = build_tables(people=people, end_month=end_month, months=months, seed=seed, provider=provider)
    tables = plant_problems(tables, end_month, manifest)
    generated_quirks(tables, manifest)
    return tables, manifest


def write_local(tables: Tables, out: Path, formats: tuple[str, ...] = ("csv",)) -> Path:
    """Write the planted local extract; MHS001MPI.csv in Windows-1252 with one no-break space."""
    write_tables(tables, out, formats)
    if "csv" in formats:
        mpi = tables["MHS001MPI"]
        number = mpi.item(NBSP_PERSON_INDEX, "NHSNumber")
        path = out / "MHS001MPI.csv"
        text = path.read_text(encoding="utf-8")
        needle = f",{number},"
        assert text.count(needle) == 1
        path.write_bytes(text.replace(needle, f",{number}\u00a0,").encode("cp1252"))
    return out


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    write_csv(frame, buf)
    return buf.getvalue()


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def _published(extract: Tables, end_month: Month, provider: str, seed: int, manifest: Manifest,
               local: Tables) -> dict[str, bytes]:
    from recon.config import ProviderSettings
    from recon.measures.catalog import catalog
    from recon.measures.engine import compute_measures
    from recon.sample.published import MeasureInfo, extra_row, measure_rows, to_csv

    settings = ProviderSettings(ods=provider)
    cat = catalog()
    info = {d.id: MeasureInfo(d.name, d.is_percentage, d.period_months) for d in cat.measures
            if not d.id.startswith("RECON_")}
    files: dict[str, bytes] = {}
    this = compute_measures(extract, end_month, settings)
    here = compute_measures(local, end_month, settings)
    # Planted discrepancies: two counts and one percentage moved well beyond tolerance.
    overrides: dict[str, str] = {}
    planted: list[dict[str, Any]] = []
    for mid, move in (("MHS95", -0.12), ("MHS32a", 0.25)):
        v = this.get(mid)
        assert v is not None and v.value is not None
        new = round5(float(v.value) * (1 + move) + (60 if move > 0 else -60))
        overrides[mid] = str(new)
        planted.append({"measure_id": mid, "extract": v.value, "published": str(new)})
    for mid in ("MHS112a", "MHS111a", "MHS111g"):
        v = this.get(mid)
        if v is not None and v.value is not None and (v.numerator or 0) >= 5:
            new_pct = f"{min(100.0, float(v.value) + 9.0) if float(v.value) < 91 else float(v.value) - 9.0:.1f}"
            overrides[mid] = new_pct
            planted.append({"measure_id": mid, "extract": v.value, "published": new_pct})
            break
    rows = measure_rows(this, info, provider=provider, seed=seed, overrides=overrides)
    rows += [extra_row(end_month, level, *UNKNOWN_MEASURE, value) for level, value in
             (("England", "71.428571"), (provider, "70.0"))]
    files[f"MHSDS Data_{end_month.start.strftime('%b')}Prf_{end_month.year}.csv"] = to_csv(rows)
    prev = end_month.shift(-1)
    rows_prev = measure_rows(compute_measures(extract, prev, settings), info, provider=provider, seed=seed + 1)
    files[f"MHSDS Data_{prev.start.strftime('%b')}Prf_{prev.year}.zip"] = _zip_bytes(
        {f"MHSDS Data_{prev.start.strftime('%b')}Prf_{prev.year}.csv": to_csv(rows_prev)})

    published_rows = {r[8]: r[10] for r in rows if r[4] == provider}
    manifest.published = {
        "provider": provider,
        "status": "Performance",
        "months": [str(end_month), str(prev)],
        "discrepancies": [{**p, "period_end": str(end_month.end),
                           "local": here.value(p["measure_id"])} for p in planted],
        "unknown_measures": [{"measure_id": UNKNOWN_MEASURE[0], "period_end": str(end_month.end)}],
        "period_starts": {mid: str(end_month.shift(-(mi.period_months - 1)).start) for mid, mi in info.items()
                          if mi.period_months != 1},
        "expected_status_rule": "measures.md 'Comparing with the published file' with rules/tolerances.toml "
                                "as at generation; local = sample_data/mhsds, published = the provider row",
        "values": [
            {"measure_id": mid, "local": here.value(mid), "extract": this.value(mid),
             "published": published_rows.get(mid),
             "expected_status": expected_status(here.get(mid), published_rows.get(mid), mid, info[mid].percentage),
             "cause": "planted" if mid in overrides else None}
            for mid in info
        ],
    }
    for v in manifest.published["values"]:
        if v["cause"] is None and v["expected_status"] == "discrepancy":
            v["cause"] = "extract_differences"
    return files


def _tolerance(measure_id: str, percentage: bool) -> tuple[float, float]:
    """The measure's tolerance (the rules file's one reader; the judging below is independent)."""
    from recon.reconcile.tolerances import load_tolerances

    t = load_tolerances().for_measure(measure_id, "percentage" if percentage else "count")
    return t.absolute, t.relative


def expected_status(local: Any, published: str | None, measure_id: str, percentage: bool) -> str:
    """The comparison status measures.md prescribes, worked out independently of recon.reconcile."""

    if published is None:
        return "missing_published"
    if local is None:
        return "missing_local"
    value = local.value
    if published == "*":
        small = (local.numerator or 0) < 5 if percentage else (value is None or value < 5)
        return "consistent" if small else "discrepancy"
    if published == "" or value is None:
        return "consistent" if published == "" and value is None else "discrepancy"
    p = float(published)
    if (not percentage and round5(float(value)) == p) or (percentage and float(value) == p):
        return "consistent"
    absolute, relative = _tolerance(measure_id, percentage)
    d = abs(p - float(value))
    if d <= absolute or (relative > 0 and d <= relative / 100 * abs(p)):
        return "within_tolerance"
    return "discrepancy"


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def build_bundle(
    root: Path, *, people: int = 2000, end_month: Month = Month(2024, 9), seed: int = 7, provider: str = "RXX",
) -> Manifest:
    """Write mhsds/, epr/, extract.zip, published/ and planted.json under ``root``."""
    from recon.sample.epr import write_epr
    from recon.sources.mapping import load_mapping

    root.mkdir(parents=True, exist_ok=True)
    local, manifest = planted_local(people=people, end_month=end_month, seed=seed, provider=provider)
    write_local(local, root / "mhsds")
    write_epr(local, root / "epr", load_mapping("riverside"))
    extract = derive_extract(local, end_month, manifest)
    _write_zip(root / "extract.zip", {f"{tid}.csv": _csv_bytes(extract[tid]) for tid in TABLES})
    for side, tables in (("local", local), ("extract", extract)):
        for key in barren_referrals(tables):
            manifest.records.append({"class": "barren", "table": "MHS101Referral", "key": key, "side": side,
                                     "columns": [], "note": "referral with no activity (waiting, or planted)"})
    _merge_barren_sides(manifest)
    pub = root / "published"
    pub.mkdir(exist_ok=True)
    for name, data in _published(extract, end_month, provider, seed, manifest, local).items():
        (pub / name).write_bytes(data)
    doc = {
        "generated": {
            "command": f"python -m recon.sample --bundle --out sample_data --people {people} "
                       f"--end-month {end_month} --seed {seed} --provider {provider}",
            "people": people, "end_month": str(end_month), "seed": seed, "provider": provider,
        },
        "validation": manifest.validation,
        "encoding": manifest.encoding,
        "records": manifest.records,
        "published": manifest.published,
    }
    (root / "planted.json").write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    (root / "README.md").write_text(readme(doc), encoding="utf-8")
    return manifest


def readme(doc: dict[str, Any]) -> str:
    """sample_data/README.md: what is here, how it was made, and every planted problem in prose."""
    g, pub = doc["generated"], doc["published"]
    lines = [
        "# Sample data: Riverside, a fictional CYP mental health provider",
        "",
        f"Provider `{g['provider']}`, {g['people']:,} fictional people, 13 months of records ending "
        f"{g['end_month']} (the demo runs `--month {g['end_month']}`). No real person is described: NHS numbers "
        "are from the 999 test range, postcodes are made up.",
        "",
        "## Regenerate",
        "",
        "```",
        g["command"],
        "```",
        "",
        f"The generator (`recon/sample/`) is seeded (seed {g['seed']}); the same command writes the same "
        "MHSDS files byte for byte (`tests/sample/test_generator.py` checks it). `python -m recon.sample "
        "--out DIR --people 400000 --format parquet` writes the large benchmark profile (not committed).",
        "",
        "## What is here",
        "",
        "| path | what |",
        "|---|---|",
        "| `mhsds/` | the provider's local extract in MHSDS layout (one CSV per table), with the planted data problems below |",
        "| `epr/` | the SAME records as the Riverside EPR exports them: local column names, words for codes, "
        "`DD/MM/YYYY` and `DD-Mon-YYYY` dates, appointments in `appointments.xlsx` on sheet `Appointments`, "
        "no provider code; read with `--mapping riverside` (`rules/mappings/riverside.toml`) |",
        "| `extract.zip` | the pre-deadline MHSDS extract of the same month, differing from the local records as listed below |",
        "| `published/` | a synthetic published MHSMS file (Performance) for September and a zipped one for August, "
        "computed by recon's measures engine from `extract.zip`, with planted discrepancies |",
        "| `planted.json` | machine-readable list of everything below, for tests |",
        "",
        "## Planted data problems (local extract `mhsds/`, same in `epr/`)",
        "",
        "| rule | table | record key | column | what |",
        "|---|---|---|---|---|",
    ]
    def k(key: str) -> str:
        return "`" + key.replace("|", "\\|") + "`"

    lines += [f"| {v['rule']} | {v['table']} | {k(v['key'])} | {v['column'] or ''} | {v['note']} |"
              for v in doc["validation"]]
    lines += [
        "",
        "Encoding: " + "; ".join(f"{e['note']} (person `{e['key']}`)" for e in doc["encoding"]) + ".",
        "",
        "## Differences between the pre-deadline extract and the local records",
        "",
        "| class | table | record key | side | columns | why |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['class']} | {r['table']} | {k(r['key'])} | {r['side']} | {', '.join(r['columns'])} | {r['note']} |"
              for r in doc["records"] if r["class"] != "barren"]
    barren = [r for r in doc["records"] if r["class"] == "barren"]
    lines += [
        "",
        f"Also {len(barren)} barren referrals (not rejected, no contact and no indirect activity: people still "
        "waiting, the planted discharge-before-referral record and the extract-only referral); `planted.json` "
        "lists them.",
        "",
        "## Published file",
        "",
        f"Provider rows for `{pub['provider']}` carry the national suppression (counts 0-4 as `*`, others rounded to "
        "the nearest 5, halves away from zero; a percentage is `*` when its numerator is 0-4, else one decimal); "
        "England rows are exact (synthetic national totals). A second provider (`R1A`) shows filtering by "
        f"provider. Months: {', '.join(pub['months'])}; MHS95's row starts 11 months before the reporting month "
        f"({pub['period_starts'].get('MHS95', '')}).",
        "",
        "Planted discrepancies (provider row changed well beyond tolerance):",
        "",
    ]
    lines += [f"- {d['measure_id']}: extract value {d['extract']}, local {d['local']}, published {d['published']}"
              for d in pub["discrepancies"]]
    lines += [f"- {u['measure_id']}: a national measure recon does not compute (missing locally)"
              for u in pub["unknown_measures"]]
    explained = [v["measure_id"] for v in pub["values"] if v["cause"] == "extract_differences"]
    if explained:
        lines += ["", "Measures where local and published differ beyond tolerance because of the extract "
                  "differences above (the published file was made from the extract): " + ", ".join(explained) + "."]
    return "\n".join(lines) + "\n"


def _merge_barren_sides(manifest: Manifest) -> None:
    """A referral barren on both sides is one record naming side "both"."""
    barren = [r for r in manifest.records if r["class"] == "barren"]
    others = [r for r in manifest.records if r["class"] != "barren"]
    sides: dict[str, set[str]] = {}
    for r in barren:
        sides.setdefault(r["key"], set()).add(r["side"])
    merged = [{"class": "barren", "table": "MHS101Referral", "key": k,
               "side": "both" if len(s) == 2 else next(iter(s)), "columns": [],
               "note": "referral, not rejected, with no care contact or indirect activity"}
              for k, s in sorted(sides.items())]
    manifest.records[:] = others + merged
