"""`make bench`: time recon as whole processes on a large generated provider, against baselines.

    python bench/run.py [--people 400000] [--runs 3] [--ref-runs 1] [--quick] [--no-scaling] [--no-scale-up]

Every timing is a separate process (what a user waits for: interpreter start, imports, reading,
computing, writing), with its peak resident memory (GNU time's %M, else /proc VmHWM polling).
Results go to ``bench/results.json`` (``bench/out/quick.json`` with --quick);
the table printed at the end holds issue 16's targets (and issue 7's last two) with PASS/FAIL.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl

from bench.dataset import BENCH_DIR, END_MONTH, SEED, dataset

ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
RECON = str(BIN / "recon") if (BIN / "recon").exists() else (shutil.which("recon") or str(BIN / "recon"))
PY = sys.executable
GB = 1024**3

BASELINE = """
import sys, polars as pl
out = (pl.scan_csv(sys.argv[1], infer_schema=False)
       .with_columns(pl.col("CareContDate").str.to_date("%Y-%m-%d", strict=False))
       .group_by("ServiceRequestId")
       .agg(pl.len().alias("n"), pl.col("CareContDate").min().alias("first"),
            pl.col("CareContDate").max().alias("last"),
            pl.col("AttendStatus").is_in(["5", "6"]).sum().alias("attended"))
       .collect())
print(out.height)
"""
READ_ALL = """
import sys, pathlib, polars as pl
frames = [pl.read_csv(p, infer_schema=False) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.csv"))]
print(sum(f.height for f in frames))
"""
LOAD_ONLY = """
import sys
from recon.sources import load_extract
e = load_extract(sys.argv[1])
print(sum(f.height for f in e.tables.values()))
"""
COMPARED = ("MHS95", "MHS110", "MHS111", "MHS111b", "MHS111d", "MHS111f", "MHS112", "MHS112b", "MHS112d", "MHS112f")


@dataclass
class Timing:
    name: str
    cmd: list[str]
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)  # user + system: less sensitive to other load
    exit_codes: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds and not self.error else math.nan

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s) if self.cpu_s and not self.error else math.nan

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb and not self.error else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "cmd": " ".join(_short(c) for c in self.cmd),
            "median_s": _num(self.median, 3),
            "peak_mb": _num(self.peak, 1),
            "seconds": [round(s, 3) for s in self.seconds],
            "peak_mb_runs": [round(m, 1) for m in self.peak_mb],
            "cpu_s": [round(c, 2) for c in self.cpu_s],
            "exit_codes": self.exit_codes,
            "error": self.error,
        }


def _num(x: float, digits: int) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def _short(part: str) -> str:
    """Paths relative to the project in the recorded commands (the file is committed)."""
    try:
        return str(Path(part).resolve().relative_to(ROOT)) if os.sep in part and "\n" not in part else part
    except ValueError:
        return part


TIME = "/usr/bin/time"  # GNU time: its %M is the command's own peak RSS


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int, str, str]:
    """(wall seconds, peak RSS in MB, CPU seconds, exit code, stdout, stderr tail) of one process.

    Peak memory: GNU ``/usr/bin/time -f %M`` when present. (``os.wait4``'s ``ru_maxrss`` cannot be
    used directly: Linux carries the spawning process's high-water mark into the child at exec, so
    every child would report at least this harness's own size.) Without GNU time, ``VmHWM`` of
    ``/proc/<pid>/status`` is polled every 20 ms; it is a high-water mark, so polling loses little.
    """
    gnu_time = os.access(TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        argv = [TIME, "-f", "%M %U %S", "-o", rss.name, *cmd] if gnu_time else cmd
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, {**os.environ, **(env or {})}, file_actions=[
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        peak_kb, cpu = 0, math.nan
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                cpu = usage.ru_utime + usage.ru_stime
                break
            if not gnu_time:
                peak_kb = max(peak_kb, _vm_hwm_kb(pid))
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        if gnu_time:
            last = (rss.read().strip().splitlines() or [""])[-1].split()
            if len(last) == 3:
                peak_kb, cpu = int(last[0]), float(last[1]) + float(last[2])
        out.seek(0)
        err.seek(0)
        tail = " | ".join(err.read().decode("utf-8", "replace").strip().splitlines()[-2:])
        code = os.waitstatus_to_exitcode(status)
        return wall, peak_kb / 1024, cpu, code, out.read().decode("utf-8", "replace"), tail


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


REPEAT_UNDER = 15.0  # seconds: a slower command runs once (keeps `make bench` inside its 12 minutes)


def measure(name: str, cmd: list[str], runs: int, ok: tuple[int, ...] = (0,),
            env: dict[str, str] | None = None) -> tuple[Timing, str | None]:
    """Run ``cmd`` up to ``runs`` times (once if a run takes over REPEAT_UNDER seconds); a failing
    command is recorded (not fatal) so the rest still runs."""
    t = Timing(name, cmd)
    text: str | None = None
    for i in range(runs):
        if i and sum(t.seconds) > REPEAT_UNDER:
            break
        wall, mb, cpu, code, text, tail = run_once(cmd, env)
        t.exit_codes.append(code)
        if code not in ok:
            t.error = f"exit {code}: {tail[:300]}"
            print(f"  {name:<40} FAILED ({t.error})", flush=True)
            return t, None
        t.seconds.append(wall)
        t.peak_mb.append(mb)
        t.cpu_s.append(cpu)
    n = len(t.seconds)
    print(f"  {name:<42} median {t.median:7.2f} s  cpu {t.cpu:7.2f} s  peak {t.peak:6.0f} MB  ({n} run{'s' * (n > 1)})",
          flush=True)
    return t, text


def subsample(csv_dir: Path, fraction: float, out: Path) -> Path:
    """The first ``fraction`` of people (by LocalPatientId) with all their records, as CSV."""
    if (out / ".complete").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)

    def scan(tid: str) -> pl.LazyFrame:
        return pl.scan_csv(csv_dir / f"{tid}.csv", infer_schema=False)

    people = scan("MHS001MPI").select("LocalPatientId").unique().sort("LocalPatientId").collect()
    keep = people.head(max(1, int(people.height * fraction)))
    scan("MHS001MPI").join(keep.lazy(), on="LocalPatientId", how="semi").sink_csv(out / "MHS001MPI.csv")
    refs = scan("MHS101Referral").join(keep.lazy(), on="LocalPatientId", how="semi").collect()
    refs.write_csv(out / "MHS101Referral.csv")
    ids = refs.select("ServiceRequestId").lazy()
    contacts = scan("MHS201CareContact").join(ids, on="ServiceRequestId", how="semi").collect()
    contacts.write_csv(out / "MHS201CareContact.csv")
    for tid in ("MHS204IndirectActivity", "MHS606CodedScoreAssessmentRefer", "MHS501HospProvSpell"):
        if (csv_dir / f"{tid}.csv").exists():
            scan(tid).join(ids, on="ServiceRequestId", how="semi").sink_csv(out / f"{tid}.csv")
    if (csv_dir / "MHS607CodedScoreAssessmentAct.csv").exists():
        scan("MHS607CodedScoreAssessmentAct").join(
            contacts.select("CareContactId").lazy(), on="CareContactId", how="semi"
        ).sink_csv(out / "MHS607CodedScoreAssessmentAct.csv")
    for extra in sorted(csv_dir.glob("*.csv")):
        if not (out / extra.name).exists():
            (out / extra.name).write_bytes(extra.read_bytes())
    (out / ".complete").write_text("ok\n")
    return out


#: Identifier columns made distinct per copy when several providers' extracts are put together.
ID_COLUMNS = ("LocalPatientId", "ServiceRequestId", "CareContactId", "HospProvSpellID", "CareActId", "CarePlanID",
              "UniqCareProfTeamLocalID", "UniqOtherCareProfTeamLocalID")


def replicate(csv_dir: Path, copies: int, out: Path) -> Path:
    """``copies`` providers' worth of people (a region's trusts together): every table repeated
    with each copy's identifiers prefixed, so no key, person or team is shared between copies."""
    if (out / ".complete").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for src in sorted(csv_dir.glob("*.csv")):
        lf = pl.scan_csv(src, infer_schema=False)
        ids = [c for c in lf.collect_schema().names() if c in ID_COLUMNS]
        pl.concat([lf.with_columns((pl.lit(f"Q{i}") + pl.col(c)).alias(c) for c in ids) for i in range(copies)]
                  ).sink_csv(out / src.name)
    (out / ".complete").write_text("ok\n")
    return out


PACK_WRITE = """
import sys
from pathlib import Path
from bench.pack_bench import big_result
from recon.pack.model import PackOptions
from recon.pack.save import write_pack
write_pack(big_result(int(sys.argv[2])), Path(sys.argv[1]), PackOptions())
"""
PACK_VERIFY = """
import sys
from pathlib import Path
from recon.pack.fingerprint import verify_pack
print(verify_pack(Path(sys.argv[1])))
"""


def measure_values(text: str) -> dict[str, Any]:
    payload = json.loads(text)
    return {m["id"]: m["value"] for m in payload["measures"] if m.get("breakdown") is None}


def describe(csv_dir: Path, pq_dir: Path) -> dict[str, Any]:
    rows = {p.stem: pl.scan_csv(p, infer_schema=False).select(pl.len()).collect().item()
            for p in sorted(csv_dir.glob("*.csv"))}
    return {
        "rows": rows,
        "csv_mb": round(sum(p.stat().st_size for p in csv_dir.glob("*.csv")) / 2**20, 1),
        "parquet_mb": round(sum(p.stat().st_size for p in pq_dir.glob("*.parquet")) / 2**20, 1),
    }


def machine() -> dict[str, Any]:
    import duckdb
    import pandas

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(), "memory_gb": round(mem / GB, 1), "platform": platform.platform(),
        "python": platform.python_version(), "polars": pl.__version__, "pandas": pandas.__version__,
        "duckdb": duckdb.__version__,
    }


def _load() -> str:
    """1-minute load average: other work on the machine inflates timings (recorded with them)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="recon large-provider benchmark (issues 7 and 16)")
    p.add_argument("--people", type=int, default=400_000)
    p.add_argument("--runs", type=int, default=3, help="runs per recon command and baseline (median)")
    p.add_argument("--ref-runs", type=int, default=1, help="runs per pandas/DuckDB reference")
    p.add_argument("--quick", action="store_true", help="small smoke test (4,000 people, one run)")
    p.add_argument("--no-scaling", action="store_true")
    p.add_argument("--no-scale-up", action="store_true", help="skip the 4x (four providers together) run")
    p.add_argument("--pack-rows", type=int, default=100_000, help="exception rows of the pack to verify")
    p.add_argument("--out", type=Path)
    a = p.parse_args(argv)
    if a.quick:
        a.people, a.runs, a.ref_runs, a.pack_rows, a.no_scale_up = 4_000, 1, 1, 2_000, True
    out_json = a.out or (BENCH_DIR / "out" / "quick.json" if a.quick else BENCH_DIR / "results.json")
    month = END_MONTH
    os.chdir(ROOT)  # the references run as `python -m bench.<name>_ref`
    # recon records every run in its ledger and checks the ledger's integrity on opening: a fresh
    # ledger per benchmark keeps the user's own ledger clean and the timings comparable
    ledger = BENCH_DIR / "out" / "ledger.sqlite"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    for old in ledger.parent.glob("ledger.sqlite*"):
        old.unlink()
    os.environ["RECON_LEDGER"] = str(ledger)
    # every timing computes afresh; the re-run cache is timed on its own, in its own folder
    os.environ["RECON_CACHE"] = "off"
    cache = BENCH_DIR / "out" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    load_before = _load()

    print(f"bench: dataset of {a.people:,} people (seed {SEED}), cached under bench/data/", flush=True)
    t0 = time.perf_counter()
    csv_dir, pq_dir = dataset(a.people)
    info = describe(csv_dir, pq_dir)
    print(f"  ready in {time.perf_counter() - t0:.1f} s: {info['csv_mb']} MB CSV, {info['parquet_mb']} MB Parquet; "
          + ", ".join(f"{k} {v:,}" for k, v in info["rows"].items()), flush=True)

    work = BENCH_DIR / "out"
    work.mkdir(exist_ok=True)
    timings: dict[str, Timing] = {}
    values: dict[str, dict[str, Any]] = {}

    def rec(name: str, cmd: list[str], runs: int = a.runs, ok: tuple[int, ...] = (0,),
            env: dict[str, str] | None = None) -> str | None:
        t, text = measure(name, cmd, runs, ok, env)
        timings[name] = t
        return text

    contacts = str(csv_dir / "MHS201CareContact.csv")
    print("bench: timing whole processes", flush=True)
    rec("baseline: polars scan+group-by (CSV)", [PY, "-c", BASELINE, contacts])
    rec("baseline: polars scan+group-by (Parquet)",
        [PY, "-c", BASELINE.replace("scan_csv(sys.argv[1], infer_schema=False)", "scan_parquet(sys.argv[1])").replace(
             '.str.to_date("%Y-%m-%d", strict=False)', ""),
         str(pq_dir / "MHS201CareContact.parquet")])
    rec("floor: polars read_csv every table", [PY, "-c", READ_ALL, str(csv_dir)])
    rec("recon load only (CSV)", [PY, "-c", LOAD_ONLY, str(csv_dir)])
    # The targets' commands on the CSV copy; the Parquet copy's measures for the agreement check
    # (validate and the pack on Parquet differ only by reading, and kept the bench past 12 minutes).
    for fmt, folder in (("CSV", csv_dir), ("Parquet", pq_dir)):
        text = rec(f"recon measures ({fmt})", [RECON, "measures", "--month", month, "--epr", str(folder), "--json"])
        values[f"recon {fmt}"] = measure_values(text) if text else {}
        if fmt != "CSV":
            continue
        rec(f"recon validate ({fmt})", [RECON, "validate", "--month", month, "--epr", str(folder)], ok=(0, 1))
        rec(f"recon reconcile --pack ({fmt})",
            [RECON, "reconcile", "--month", month, "--epr", str(folder), "--pack", str(work / f"pack-{fmt}.xlsx")],
            ok=(0, 1))
    # --people-lists with a pre-deadline extract (the Parquet copy: same records, other format)
    # and a published file: the heaviest command there is (record comparison, every sheet).
    published = ROOT / "sample_data" / "published"
    rec("recon reconcile --people-lists (CSV)",
        [RECON, "reconcile", "--month", month, "--epr", str(csv_dir), "--extract", str(pq_dir),
         *(["--published", str(published)] if published.exists() else []),
         "--pack", str(work / "pack-lists.xlsx"), "--people-lists"], runs=1, ok=(0, 1))
    # A re-run with unchanged inputs: the first run fills the cache (untimed), the next reuse it.
    rerun_env = {"RECON_CACHE": str(cache)}
    measures_cmd = [RECON, "measures", "--month", month, "--epr", str(csv_dir), "--json"]
    run_once(measures_cmd, rerun_env)
    text = rec("recon measures re-run (CSV, cached)", measures_cmd, env=rerun_env)
    values["recon re-run"] = measure_values(text) if text else {}
    # Verifying a pack's fingerprint (what `recon signoff` does for a pack filled in in Excel).
    big_pack = work / f"pack-{a.pack_rows}-exceptions.xlsx"
    if run_once([PY, "-c", PACK_WRITE, str(big_pack), str(a.pack_rows)])[3] == 0:
        rec(f"verify a {a.pack_rows:,}-exception pack", [PY, "-c", PACK_VERIFY, str(big_pack)])
    for ref in ("pandas", "duckdb"):
        for only, label in (("access", "MHS95"), ("outcomes", "MHS110-112")):
            text = rec(f"{ref} {label} (CSV)",
                       [PY, "-m", f"bench.{ref}_ref", "--epr", str(csv_dir), "--month", month, "--only", only,
                        "--json"], runs=a.ref_runs)
            values.setdefault(ref, {}).update(json.loads(text) if text else {})

    scaling: list[dict[str, Any]] = []
    if not a.no_scaling:
        print("bench: scaling of recon measures (CSV)", flush=True)
        for frac in (0.125, 0.25, 0.5):
            sub = subsample(csv_dir, frac, csv_dir.parent / f"csv-{frac:g}")
            t, _ = measure(f"recon measures x{frac:g}", [RECON, "measures", "--month", month, "--epr", str(sub),
                                                         "--json"], min(a.runs, 2))
            scaling.append({"fraction": frac, "people": int(a.people * frac), "median_s": _num(t.median, 3),
                            "cpu_s": _num(t.cpu, 2), "peak_mb": _num(t.peak, 1)})
        full = timings["recon measures (CSV)"]
        scaling.append({"fraction": 1.0, "people": a.people, "median_s": _num(full.median, 3),
                        "cpu_s": _num(full.cpu, 2), "peak_mb": _num(full.peak, 1)})
        if not a.no_scale_up:
            print("bench: four providers together (4x people, CSV)", flush=True)
            big = replicate(csv_dir, 4, csv_dir.parent / "csv-x4")
            t, _ = measure("recon measures x4", [RECON, "measures", "--month", month, "--epr", str(big), "--json"], 1)
            scaling.append({"fraction": 4.0, "people": 4 * a.people, "median_s": _num(t.median, 3),
                            "cpu_s": _num(t.cpu, 2), "peak_mb": _num(t.peak, 1)})

    # Agreement: the two references and recon's `measures --json` on the same CSV extract.
    agreement: dict[str, Any] = {}
    for mid in COMPARED:
        row = {src: values.get(src, {}).get(mid)
               for src in ("recon CSV", "recon Parquet", "recon re-run", "pandas", "duckdb")}
        row["agree"] = len(set(row.values())) == 1
        agreement[mid] = row

    def med(name: str) -> float:
        return timings[name].median if name in timings else math.nan

    def check(ok: bool, *inputs: float) -> bool | None:
        """None (not measured) when any input is missing, e.g. a command not written yet."""
        return None if any(math.isnan(x) for x in inputs) else ok

    recon_peaks = [t.peak for n, t in timings.items() if n.startswith("recon")]
    peak_recon = math.nan if any(math.isnan(x) for x in recon_peaks) else max(recon_peaks)
    peak_name = max((n for n, t in timings.items() if n.startswith("recon")), key=lambda n: timings[n].peak,
                    default="")

    def cpu(name: str) -> float:
        return timings[name].cpu if name in timings else math.nan

    measures_csv = med("recon measures (CSV)")
    base_csv, base_pq = med("baseline: polars scan+group-by (CSV)"), med("baseline: polars scan+group-by (Parquet)")
    validate_csv, load_csv = med("recon validate (CSV)"), med("recon load only (CSV)")
    validation_extra = (validate_csv - load_csv) / measures_csv
    validation_extra_cpu = (cpu("recon validate (CSV)") - cpu("recon load only (CSV)")) / cpu("recon measures (CSV)")
    pack_csv = med("recon reconcile --pack (CSV)")
    pandas95, duck95 = med("pandas MHS95 (CSV)"), med("duckdb MHS95 (CSV)")
    rerun = med("recon measures re-run (CSV, cached)")
    verify = med(f"verify a {a.pack_rows:,}-exception pack")

    def ratio(name: str, base: str) -> str:
        """'w.wx wall, c.cx CPU': the wall ratio is the target's; the CPU one is steadier on a busy machine."""
        return (f"{med(name) / med(base):.1f}x wall ({med(name):.2f} s / {med(base):.2f} s), "
                f"{cpu(name) / cpu(base):.1f}x CPU")

    # Close to linear: the exponent of CPU time against size from the smallest to the largest
    # run, and whether the CPU cost of each added slice of people grows from the first doubling
    # to the last. CPU time, not wall time: other work on a shared machine stretches wall time;
    # the fixed cost (interpreter, imports, ledger) makes the small sizes look sublinear.
    slope, growth = math.nan, math.nan
    if scaling and all(x["median_s"] and x["cpu_s"] for x in scaling):
        s0, s1 = scaling[0], scaling[-1]
        slope = math.log(s1["cpu_s"] / s0["cpu_s"]) / math.log(s1["fraction"] / s0["fraction"])
        marginal = [(hi["cpu_s"] - lo["cpu_s"]) / (hi["fraction"] - lo["fraction"])
                    for lo, hi in itertools.pairwise(scaling)]
        growth = marginal[-1] / marginal[0] if marginal[0] > 0 else math.nan
    x4 = next((x for x in scaling if x["fraction"] == 4.0), None)
    x4_peak = float(x4["peak_mb"]) if x4 and x4["peak_mb"] else math.nan
    agree = all(v["agree"] for v in agreement.values())
    targets = [
        ("measures (CSV) at most 3x the scan", ratio("recon measures (CSV)", "baseline: polars scan+group-by (CSV)"),
         check(measures_csv <= 3 * base_csv, measures_csv, base_csv)),
        ("reconcile --pack (CSV) at most 8x the scan",
         ratio("recon reconcile --pack (CSV)", "baseline: polars scan+group-by (CSV)"),
         check(pack_csv <= 8 * base_csv, pack_csv, base_csv)),
        ("validate adds at most 30% to measures",
         f"(validate - load) / measures = {validation_extra:.0%} wall, {validation_extra_cpu:.0%} CPU",
         check(validation_extra <= 0.3, validation_extra)),
        ("peak memory under 2.5 GB (every recon command)", f"{peak_recon / 1024:.2f} GB ({peak_name})",
         check(peak_recon < 2.5 * 1024, peak_recon)),
        (f"verify a {a.pack_rows:,}-exception pack in at most 3 s", f"{verify:.2f} s (whole process)",
         check(verify <= 3, verify)),
        ("re-run, unchanged inputs, at most 2x the Parquet scan",
         ratio("recon measures re-run (CSV, cached)", "baseline: polars scan+group-by (Parquet)"),
         check(rerun <= 2 * base_pq, rerun, base_pq)),
        ("4x people: measures within 12 GB", f"{x4_peak / 1024:.2f} GB" + (f", {x4['median_s']:.1f} s" if x4 else ""),
         check(x4_peak <= 12 * 1024, x4_peak)),
        (f"measures close to linear (1/8 -> {scaling[-1]['fraction']:g}x)" if scaling else "measures close to linear",
         f"CPU ~ size^{slope:.2f}; CPU per added person, last doubling / first = {growth:.2f}",
         check(slope <= 1.15 and growth <= 1.25, slope, growth)),
        ("recon == pandas == DuckDB (MHS95, MHS110-112)",
         ", ".join(k for k, v in agreement.items() if not v["agree"]) or "all equal",
         check(agree, measures_csv)),
        ("(issue 7) recon measures faster than pandas MHS95", f"{measures_csv:.2f} s vs {pandas95:.2f} s",
         check(measures_csv < pandas95, measures_csv, pandas95)),
        ("(issue 7) recon measures no slower than DuckDB MHS95", f"{measures_csv:.2f} s vs {duck95:.2f} s",
         check(measures_csv <= duck95, measures_csv, duck95)),
    ]

    result = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": a.quick,
        "machine": machine(),
        "dataset": {"people": a.people, "seed": SEED, "month": month, **info},
        "runs": a.runs, "ref_runs": a.ref_runs, "repeat_under_s": REPEAT_UNDER,
        "load_average": {"before": load_before, "after": _load()},
        "timings": {n: t.to_json() for n, t in timings.items()},
        "scaling": scaling,
        "scaling_exponent": _num(slope, 3),
        "scaling_marginal_growth": _num(growth, 3),
        "agreement": agreement,
        "targets": [{"target": n, "measured": m, "pass": ok} for n, m, ok in targets],
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(f"\nrecon benchmark: {a.people:,} people, {info['csv_mb']} MB CSV, median of up to {a.runs} runs "
          f"(one when a run takes over {REPEAT_UNDER:.0f} s; references: {a.ref_runs}), "
          f"{result['machine']['cpus']} CPUs, load average before/after {load_before}/{_load()}")
    width = max(len(n) for n, _, _ in targets)
    for n, m, ok in targets:
        print(f"  {verdict(ok):<5} {n:<{width}}  {m}")
    if scaling:
        print("  scaling (recon measures, CSV): " + "; ".join(
            f"{s['fraction']:g}: {s['median_s']:.2f} s ({s['cpu_s']:.1f} s CPU) / {s['peak_mb']:.0f} MB"
            for s in scaling))
    print(f"wrote {_short(str(out_json))} in {result['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
