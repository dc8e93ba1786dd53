"""The register of measure families: one plain tuple, read by every layer.

The engine computes each family's measures (``plan``), the explainer traces a difference to
records (``unit``, ``detail``, ``record_rules``), the pack adds each family's sheets (``sheets``)
and ``recon measures`` prints each family's section (``console``), in this order. Which measures a
family computes is the catalogue's business (rules/measures.toml, ``family = "..."``); a test
checks each family returns exactly those ids. Adding a family: docs/extending.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recon.errors import RulesError
from recon.measures import access, activity, completeness, outcomes
from recon.measures.catalog import Catalog
from recon.measures.family import Family, FamilyContext, FamilyPlan, RecordUnit
from recon.measures.waits import family as waits
from recon.render.sections import family_table

if TYPE_CHECKING:
    from recon.pack.layout import Sheet
    from recon.pack.model import PackOptions
    from recon.reconcile.model import ReconcileResult

# The pack's sheet builders are imported when a pack is written, not by every `recon measures`
# (they pull in the pack's layout and openpyxl: a tenth of a second of start-up for nothing).


def access_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> Sequence[Sheet]:
    from recon.pack.sheets.breakdown import access_sheets as build

    return build(result, opts, cat)


def activity_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> Sequence[Sheet]:
    from recon.pack.sheets.breakdown import activity_sheets as build

    return build(result, opts, cat)


def outcomes_sheets(result: ReconcileResult, opts: PackOptions, cat: Catalog) -> Sequence[Sheet]:
    from recon.pack.sheets.outcomes import outcomes_sheets as build

    return build(result, opts, cat)


# Adapters for the families written before the register (their modules keep their signatures).


def _access(ctx: FamilyContext) -> FamilyPlan:
    counts, details = access.plan(ctx.tables, ctx.month, ctx.settings, ctx.codes)
    return FamilyPlan(counts=counts, details=details)


def _outcome_frames(ctx: FamilyContext) -> outcomes.OutcomeFrames:
    return outcomes.prepare(ctx.tables, ctx.month, ctx.settings, ctx.codes)


def _outcomes(ctx: FamilyContext) -> FamilyPlan:
    frames = ctx.once(_outcome_frames)
    values, details = outcomes.from_frames(frames)
    return FamilyPlan(values=values, details=details, notes=frames.notes)


def _completeness(ctx: FamilyContext) -> FamilyPlan:
    values, details = completeness.from_frames(ctx.once(_outcome_frames))
    return FamilyPlan(values=values, details=details)


FAMILIES: tuple[Family, ...] = (
    Family(
        name="access", title="Access", plan=_access, sheets=access_sheets, console=family_table,
        unit=RecordUnit.PEOPLE,  # detail frames per measure: the catalogue's `detail`
    ),
    Family(
        name="activity", title="Activity (this month)", plan=activity.family_plan, sheets=activity_sheets,
        console=family_table, record_rules=activity.record_rules,
    ),
    Family(
        name="outcomes", title="Outcomes (referrals closed this month)", plan=_outcomes, sheets=outcomes_sheets,
        console=family_table, unit=RecordUnit.REFERRALS, detail="outcomes_referrals",
    ),
    Family(
        name="completeness", title="Outcome completeness (recon's own)", plan=_completeness,
        sheets=None,  # on the Outcomes sheet, beside the cohort
        console=family_table, unit=RecordUnit.REFERRALS, detail="outcomes_referrals",
    ),
    Family(
        name="waits", title="Waiting times (four-week waits; CYP referral to first contact)", plan=waits.plan,
        sheets=None,  # the waiting-list and Waits sheets come with the pack's waits work (issue 12 item 4)
        console=family_table, unit=RecordUnit.REFERRALS, detail="waits_referrals",  # MHS13x: waits_first_contact
    ),
)


def family(name: str) -> Family:
    """The registered family called ``name`` (KeyError when none is)."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(name)


def check_catalog(cat: Catalog) -> Catalog:
    """Every catalogue family is registered and every registered family has measures (RulesError)."""
    names = [f.name for f in FAMILIES]
    for m in cat.measures:
        if m.family not in names:
            raise RulesError(
                f"measures.toml: {m.id} has family {m.family!r}, which is not one of {', '.join(names)} "
                "(the families of recon/register.py)"
            )
    empty = [n for n in names if not cat.family(n)]
    if empty:
        raise RulesError(f"measures.toml: no measure of the registered family {', '.join(empty)}")
    return cat


__all__ = ["FAMILIES", "Family", "check_catalog", "family"]
