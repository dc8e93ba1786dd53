"""The three rule regimes of NHS England's waits code, chosen by the reporting month (waits.md 13).

NHS England changed its code for November 2024 and April 2025 data; recon applies, for each
month M, the nearest public version on the right side of each change, whole, to every referral
and spell of the computation for M.
"""

from __future__ import annotations

from dataclasses import dataclass

from recon.months import Month

CMH_TEAMS = ("A05", "A06", "A08", "A09", "A12", "A13", "A16", "C03", "C10")
CYP_CRISIS_R1 = ("A02", "A03", "A04", "A11", "A19", "A20", "A21", "A22", "A23", "A24")
CYP_EXCLUDED_ALWAYS = ("E02", "E03", "E04")
CMH_EXCLUDED_CONCEPTS_R1 = ("11429006", "975131000000104")


@dataclass(frozen=True)
class Regime:
    """Every rule that differs between R1, R2 and R3 (waits.md section 13's table)."""

    name: str  # "R1" | "R2" | "R3"
    excluded_providers: tuple[str, ...]  # empty 4WW cohorts
    digital_providers: tuple[str, ...]  # MHS130-MHS135 text contacts
    cyp_crisis_teams: tuple[str, ...]
    row_end_uses_rejection_and_closure: bool  # DerEnd and row end (4.4)
    distinct_rows: bool  # identical cohort rows once (4.3, 7.3)
    open_uses_end_plus_5: bool  # Open: days(End + 5, M.end) <= 5 (R1) or days(End, M.end) (6)
    dated_snomed: bool  # membership by date windows from the concept file (8)
    cmh_excluded_concepts: tuple[str, ...]
    current_view_counts: bool  # Current View tools as a baseline outcome (8)

    @property
    def later(self) -> bool:
        """R2 or R3 ("R2+" in waits.md)."""
        return self.name != "R1"


R1 = Regime(
    name="R1",
    excluded_providers=("DFC",),
    digital_providers=("DFC",),
    cyp_crisis_teams=CYP_CRISIS_R1,
    row_end_uses_rejection_and_closure=False,
    distinct_rows=False,
    open_uses_end_plus_5=True,
    dated_snomed=False,
    cmh_excluded_concepts=CMH_EXCLUDED_CONCEPTS_R1,
    current_view_counts=True,
)
R2 = Regime(
    name="R2",
    excluded_providers=("DFC", "S9X2N"),
    digital_providers=("DFC", "S9X2N"),
    cyp_crisis_teams=(*CYP_CRISIS_R1, "A25", "C05"),
    row_end_uses_rejection_and_closure=True,
    distinct_rows=True,
    open_uses_end_plus_5=False,
    dated_snomed=True,
    cmh_excluded_concepts=(*CMH_EXCLUDED_CONCEPTS_R1, "2386021000000108"),
    current_view_counts=True,
)
R3 = Regime(**{**R2.__dict__, "name": "R3", "current_view_counts": False})

R2_FROM = Month(2024, 11)
R3_FROM = Month(2025, 4)


def regime_for(month: Month) -> Regime:
    """R1 up to October 2024, R2 November 2024 to March 2025, R3 from April 2025."""
    if month < R2_FROM:
        return R1
    if month < R3_FROM:
        return R2
    return R3
