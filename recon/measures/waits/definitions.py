"""The 4WW and first-contact measures (waits.md sections 10 and 11): id, cohort, period, kind,
the spells or referrals each counts, and the suppression numerator the published file uses."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

COUNT, PROPORTION, PERCENTILE = "count", "proportion", "percentile"
NOT_COMPUTED = "not computed: needs the SNOMED CT refsets"


@dataclass(frozen=True)
class WaitsMeasure:
    id: str
    family: str  # "CMH", "CYP" (4WW spells) or "MHS13x" (referrals)
    period: str  # "M" or "Q"
    kind: str  # count | proportion | percentile
    of: str | None = None  # proportion: numerator count id; percentile: the count id it ranges over
    denominator: str | None = None  # proportion
    p: float | None = None  # percentile
    suppression: str | None = None  # the count id the published file suppresses on (None: own)
    snomed: bool = False  # needs the SNOMED CT refsets (clock-stop measures)


def _wait_band(prefix: str, base: str, snomed: bool) -> list[WaitsMeasure]:
    """a/b over 104 weeks, c/d over 78, e/f over 52: a count and its proportion of ``base``."""
    fam = ""  # set by _family
    out: list[WaitsMeasure] = []
    for count, prop in (("a", "b"), ("c", "d"), ("e", "f")):
        out.append(WaitsMeasure(prefix + count, fam, "M", COUNT, snomed=snomed))
        out.append(WaitsMeasure(prefix + prop, fam, "M", PROPORTION, prefix + count, base, snomed=snomed))
    return out


def _family(cohort: str, n: tuple[int, int, int, int, int, int, int]) -> list[WaitsMeasure]:
    """One cohort's 22 measures; ``n`` are the numbers of MRS01..MRS07 (CMH) or MRS08..MRS14 (CYP)."""
    stop, wait, nocontact, started, closed, opened, band = (f"MRS{i:02d}" for i in n)
    out = [
        WaitsMeasure(stop, cohort, "Q", COUNT, snomed=True),
        WaitsMeasure(stop + "a", cohort, "Q", COUNT, snomed=True),
        WaitsMeasure(stop + "b", cohort, "Q", PROPORTION, stop + "a", stop, snomed=True),
        WaitsMeasure(wait, cohort, "M", COUNT, snomed=True),
        *_wait_band(wait, wait, True),
        WaitsMeasure(nocontact, cohort, "M", COUNT),
        WaitsMeasure(nocontact + "a", cohort, "M", PERCENTILE, nocontact, p=0.5),
        WaitsMeasure(nocontact + "b", cohort, "M", PERCENTILE, nocontact, p=0.9),
        WaitsMeasure(started, cohort, "Q", COUNT),
        WaitsMeasure(closed, cohort, "Q", COUNT),
        WaitsMeasure(opened, cohort, "M", COUNT),
        *_wait_band(band, nocontact, False),
    ]
    return [WaitsMeasure(**{**m.__dict__, "family": cohort}) for m in out]


MEASURES: tuple[WaitsMeasure, ...] = (
    *_family("CMH", (1, 2, 3, 4, 5, 6, 7)),
    *_family("CYP", (8, 9, 10, 11, 12, 13, 14)),
    WaitsMeasure("MHS130", "MHS13x", "Q", COUNT),
    WaitsMeasure("MHS131", "MHS13x", "Q", PERCENTILE, "MHS130", p=0.5),
    WaitsMeasure("MHS132", "MHS13x", "Q", PERCENTILE, "MHS130", p=0.9),
    WaitsMeasure("MHS133", "MHS13x", "Q", COUNT),
    WaitsMeasure("MHS134", "MHS13x", "Q", PERCENTILE, "MHS133", p=0.5),
    WaitsMeasure("MHS135", "MHS13x", "Q", PERCENTILE, "MHS133", p=0.9),
)
BY_ID = {m.id: m for m in MEASURES}


def suppression_numerator(m: WaitsMeasure) -> str:
    """The count the published file suppresses ``m`` on: MRS02f on MRS02a (the national quirk)."""
    if m.id == "MRS02f":
        return "MRS02a"
    if m.kind == COUNT:
        return m.id
    assert m.of is not None
    return m.of


def spell_sets() -> dict[str, pl.Expr]:
    """The boolean spell filter of every 4WW count (over one cohort's in-scope spells)."""
    stop_in_q, within = pl.col("StopInQ"), pl.col("DaysToStop") <= 28
    no_stop = pl.col("ClockStop").is_null()
    is_open = pl.col("IsOpen")
    out: dict[str, pl.Expr] = {}
    for cohort, (stop, wait, nocontact, started, closed, opened, band), contact in (
        ("CMH", (1, 2, 3, 4, 5, 6, 7), "SecondContact"),
        ("CYP", (8, 9, 10, 11, 12, 13, 14), "FirstContact"),
    ):
        s = {k: f"MRS{v:02d}" for k, v in zip(("stop", "wait", "no", "st", "cl", "op", "band"),
                                               (stop, wait, nocontact, started, closed, opened, band), strict=True)}
        mine = pl.col("Cohort") == cohort
        waiting = mine & is_open & no_stop
        unseen = mine & is_open & pl.col(contact).is_null()
        out[s["stop"]] = mine & stop_in_q
        out[s["stop"] + "a"] = mine & stop_in_q & within.fill_null(False)
        out[s["wait"]] = waiting
        out[s["no"]] = unseen
        out[s["st"]] = mine & pl.col("IsStarted")
        out[s["cl"]] = mine & pl.col("IsClosed")
        out[s["op"]] = mine & is_open
        for base_id, base in ((s["wait"], waiting), (s["band"], unseen)):
            for letter, weeks in (("a", 728), ("c", 546), ("e", 364)):
                out[base_id + letter] = base & (pl.col("W") > weeks)
    return out
